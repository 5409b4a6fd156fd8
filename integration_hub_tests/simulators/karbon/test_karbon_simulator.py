"""The Karbon simulator speaks Karbon's protocol: auth, OData rules, paging, limits, gzip, webhooks."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from integration_hub_tests.support.karbon_sim import END, headers, karbon_server


@pytest.fixture(scope="module")
def server():
    with karbon_server() as (sim, url):
        yield sim, url


def get(url: str, firm, path: str, **params: str) -> httpx.Response:
    return httpx.get(url + path, params=params, headers=headers(firm))


def error_message(response: httpx.Response) -> str:
    return response.json()["error"]["message"]


def test_both_headers_are_required_and_not_interchangeable(server):
    sim, url = server
    firm = sim.firms[0]
    assert httpx.get(url + "/v3/Users").status_code == 401
    only_bearer = httpx.get(url + "/v3/Users", headers={"Authorization": f"Bearer {firm.application_id}"})
    assert only_bearer.status_code == 401 and error_message(only_bearer) == "JWT not present."
    swapped = httpx.get(
        url + "/v3/Users", headers={"Authorization": f"Bearer {firm.access_key}", "AccessKey": firm.application_id}
    )
    assert swapped.status_code == 401
    other_firm = httpx.get(
        url + "/v3/Users",
        headers={"Authorization": f"Bearer {firm.application_id}", "AccessKey": sim.firms[1].access_key},
    )
    assert other_firm.status_code == 401
    assert get(url, firm, "/v3/Users").status_code == 200


def test_each_firm_sees_only_its_own_data(server):
    sim, url = server
    first, second = sim.firms
    keys_first = {row["ContactKey"] for row in get(url, first, "/v3/Contacts", **{"$top": "100"}).json()["value"]}
    keys_second = {row["ContactKey"] for row in get(url, second, "/v3/Contacts", **{"$top": "100"}).json()["value"]}
    assert keys_first and keys_second and not keys_first & keys_second


def test_paging_follows_next_links_to_the_exact_total(server):
    sim, url = server
    firm = sim.firms[0]
    seen: list[str] = []
    response = get(url, firm, "/v3/Contacts", **{"$orderby": "FullName"})
    body = response.json()
    assert body["@odata.count"] == len(firm.contacts)
    assert body["@odata.context"].endswith("/v3/$metadata#Contacts/KarbonService.ContactSummaryDTO")
    while True:
        assert len(body["value"]) <= 100
        assert all(row["@odata.type"] == "#KarbonService.ContactSummaryDTO" for row in body["value"])
        seen += [row["ContactKey"] for row in body["value"]]
        link = body.get("@odata.nextLink")
        if not link:
            break
        assert link.startswith(url + "/v3/Contacts?") and "$skip=" in link and "$orderby=FullName" in link
        body = httpx.get(link, headers=headers(firm)).json()
    assert sorted(seen) == sorted(c["ContactKey"] for c in firm.contacts)
    assert len(seen) == len(set(seen))
    names = [next(c["FullName"] for c in firm.contacts if c["ContactKey"] == key) for key in seen]
    assert names == sorted(names)


def test_time_entries_page_by_1000_and_count_only_when_asked(server):
    sim, url = server
    firm = sim.firms[0]
    without = get(url, firm, "/v3/IndividualTimeEntries").json()
    assert "@odata.count" not in without and len(without["value"]) == 1000
    with_count = get(url, firm, "/v3/IndividualTimeEntries", **{"$count": "true", "$top": "1000"}).json()
    assert with_count["@odata.count"] == len(firm.time_entries)
    assert "$count=true" in with_count["@odata.nextLink"] and "$skip=1000" in with_count["@odata.nextLink"]
    too_many = get(url, firm, "/v3/IndividualTimeEntries", **{"$top": "1001"})
    assert too_many.status_code == 400 and "The limit of '1000' for Top query" in error_message(too_many)


def test_date_range_filter_matches_the_data(server):
    sim, url = server
    firm = sim.firms[0]
    body = get(
        url,
        firm,
        "/v3/IndividualTimeEntries",
        **{"$filter": "Date ge 2026-09-01T00:00:00Z and Date lt 2026-09-08T00:00:00Z", "$count": "true"},
    ).json()
    expected = [t for t in firm.time_entries if "2026-09-01" <= t["Date"][:10] < "2026-09-08"]
    assert body["@odata.count"] == len(expected) and len(body["value"]) == len(expected)
    by_year = get(
        url,
        firm,
        "/v3/IndividualTimeEntries",
        **{"$filter": "year(Date) eq 2026 and month(Date) eq 9", "$count": "true"},
    ).json()
    assert by_year["@odata.count"] == sum(1 for t in firm.time_entries if t["Date"].startswith("2026-09"))


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        (
            "/v3/Contacts",
            {"$filter": "LastModifiedDateTime ge 2026-01-01"},
            "Could not find a property named 'LastModifiedDateTime' on type 'KarbonService.ContactSummaryDTO'.",
        ),
        ("/v3/WorkItems", {"$filter": "StartDate gt 2026-01-01"}, "Logical operator 'gt' is not allowed."),
        ("/v3/Contacts", {"$filter": "FullName eq 'A' or FullName eq 'B'"}, "Logical operator 'or' is not allowed."),
        ("/v3/WorkItems", {"$orderby": "Title"}, "The property 'Title' cannot be used in the $orderby query option."),
        ("/v3/Contacts", {"$select": "FullName"}, "Query option 'Select' is not allowed."),
        ("/v3/Invoices", {"$expand": "LineItems"}, "Query option 'Expand' is not allowed."),
        ("/v3/Payments", {"$filter": "PaymentDate ge 2026-01-01"}, "Query option 'Filter' is not allowed."),
        (
            "/v3/Contacts",
            {"$top": "130"},
            "The limit of '100' for Top query has been exceeded. The value from the incoming request is '130'.",
        ),
    ],
)
def test_odata_whitelists_answer_karbons_400s(server, path, params, message):
    sim, url = server
    response = get(url, sim.firms[0], path, **params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "4002"
    assert error_message(response).startswith(message)


def test_primary_status_filter_only_matches_the_spaced_form(server):
    sim, url = server
    firm = sim.firms[0]
    spaced = get(url, firm, "/v3/WorkItems", **{"$filter": "PrimaryStatus eq 'In Progress'"}).json()
    expected = sum(1 for w in firm.work_items if w["PrimaryStatus"] == "In Progress")
    assert spaced["@odata.count"] == expected > 0
    unspaced = get(url, firm, "/v3/WorkItems", **{"$filter": "PrimaryStatus eq 'InProgress'"})
    assert unspaced.status_code == 200 and unspaced.json()["value"] == []
    key = next(w["WorkItemKey"] for w in firm.work_items if w["PrimaryStatus"] == "In Progress")
    assert get(url, firm, f"/v3/WorkItems/{key}").json()["PrimaryStatus"] == "InProgress"


def test_not_found_shapes(server):
    sim, url = server
    firm = sim.firms[0]
    route = get(url, firm, "/v3/NoSuchThing")
    assert route.status_code == 404 and "No HTTP resource was found" in error_message(route)
    work = get(url, firm, "/v3/WorkItems/ABCDEFGHIJKL")
    assert work.status_code == 404 and work.json() == {
        "error": {"code": "4004", "message": "No Work Item found for provided key"}
    }
    bad_guid = get(url, firm, "/v3/IndividualTimeEntries/not-a-guid")
    assert bad_guid.status_code == 400 and error_message(bad_guid) == "Provided key must be a valid GUID."


def test_gzip_is_used_when_accepted(server):
    sim, url = server
    firm = sim.firms[0]
    raw = httpx.Client(headers={**headers(firm), "Accept-Encoding": "gzip"})
    with raw.stream("GET", url + "/v3/WorkItems") as response:
        compressed = b"".join(response.iter_raw())
        assert response.headers["content-encoding"] == "gzip"
    assert len(gzip.decompress(compressed)) > 3 * len(compressed)


def test_rate_limit_answers_429_with_retry_after():
    with karbon_server(companies=1, days=10, rate_limit=5, rate_window=2.0) as (sim, url):
        firm = sim.firms[0]
        statuses = [get(url, firm, "/v3/Roles").status_code for _ in range(7)]
        assert statuses == [200] * 5 + [429] * 2
        limited = get(url, firm, "/v3/Roles")
        assert limited.status_code == 429
        assert limited.json()["statusCode"] == "429"
        wait = int(limited.headers["Retry-After"])
        assert 1 <= wait <= 2
        assert f"Try again in {wait} seconds." in limited.json()["message"]
        time.sleep(wait + 0.05)
        assert get(url, firm, "/v3/Roles").status_code == 200


def test_webhook_subscriptions_follow_karbons_rules(server):
    sim, url = server
    firm = sim.firms[1]
    client = httpx.Client(base_url=url, headers=headers(firm))
    insecure = client.post(
        "/v3/WebhookSubscriptions", json={"TargetUrl": "http://example.com/h", "WebhookType": "Contact"}
    )
    assert insecure.status_code == 400 and error_message(insecure) == "Target URL must begin with https://"
    weak = client.post(
        "/v3/WebhookSubscriptions",
        json={"TargetUrl": "https://example.com/h", "WebhookType": "Contact", "SigningKey": "short"},
    )
    assert weak.status_code == 400
    created = client.post(
        "/v3/WebhookSubscriptions",
        json={"TargetUrl": "https://example.com/h", "WebhookType": "Contact", "SigningKey": "A" * 20},
    )
    assert created.status_code == 201
    assert created.headers["Location"] == "https://api.karbonhq.com/v3/WebhookSubscriptions('https://example.com/h')"
    again = client.post(
        "/v3/WebhookSubscriptions", json={"TargetUrl": "https://example.com/h", "WebhookType": "Contact"}
    )
    assert again.status_code == 400
    assert client.get("/v3/WebhookSubscriptions/Contact").json()["TargetUrl"] == "https://example.com/h"
    missing = client.get("/v3/WebhookSubscriptions/Work")
    assert missing.status_code == 404 and error_message(missing) == "No existing webhook subscription for Work"
    assert client.delete("/v3/WebhookSubscriptions/Contact").status_code == 204
    assert client.get("/v3/WebhookSubscriptions/Contact").status_code == 404


def test_injected_failures_are_answered_then_cleared(server):
    sim, url = server
    firm = sim.firms[0]
    sim.fail_next(2)
    assert [get(url, firm, "/v3/Teams").status_code for _ in range(3)] == [503, 503, 200]


def test_cli_prints_one_credential_line_per_firm_and_serves():
    port = 18765 + os.getpid() % 1000
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "integration-hub"),
            "simulate",
            "karbon",
            "--port",
            str(port),
            "--companies",
            "3",
            "--days",
            "5",
            "--end",
            END.isoformat(),
            "--credentials",
            "11111111-2222-3333-4444-555555555555:eyJa.eyJb.c",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [process.stdout.readline().strip() for _ in range(4)]
        firms = [line for line in lines if line.startswith("firm=")]
        assert len(firms) == 3
        assert all(" application_id=" in line and " access_key=eyJ" in line for line in firms)
        deadline = time.monotonic() + 15
        while True:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/v3/TenantSettings",
                    headers={
                        "Authorization": "Bearer 11111111-2222-3333-4444-555555555555",
                        "AccessKey": "eyJa.eyJb.c",
                    },
                )
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert response.status_code == 200 and response.json()["TenantKey"]
    finally:
        process.terminate()
        process.wait(timeout=10)
