"""The Karbon connector against the Karbon simulator over HTTP: exact pillars, request budgets, failures."""

from __future__ import annotations

import math
import time
from datetime import date

import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from integration_hub.connectors.base import (
    AuthenticationError,
    ConfigurationError,
    ConnectorConfig,
    ConnectorError,
    DateWindow,
    ProviderError,
    TransientError,
)
from integration_hub.connectors.http import TokenBucket
from integration_hub.connectors.karbon import KarbonConnector
from integration_hub.simulators.server import running
from integration_hub_tests.support.karbon_sim import WINDOW_90, connector, contract_breaches, karbon_server


def day_of(value: str) -> date:
    return date.fromisoformat(value[:10])


def in_window(value: str, window: DateWindow = WINDOW_90) -> bool:
    return day_of(value) in window


def pages(count: int, size: int = 100) -> int:
    return max(1, math.ceil(count / size))


@pytest.fixture(scope="module")
def server():
    with karbon_server() as (sim, url):
        yield sim, url


@pytest.fixture()
def firm(server):
    """The first firm, with the simulator's log cleared; afterwards, every request the connector sent and every
    answer it got must have kept KarbonAPI.json (the simulator checks both)."""
    sim, _ = server
    sim.log.clear()
    sim.violations.clear()
    yield sim.firms[0]
    assert contract_breaches(sim) == []


def collect(server, firm, stream, window=WINDOW_90):
    _, url = server
    karbon = connector(url, firm)
    records = list(karbon.collect(stream, window))
    karbon.close()
    return records, karbon.stats


def keys(records, record_type):
    found = [r.external_key for r in records if r.record_type == record_type]
    assert len(found) == len(set(found)), f"duplicate {record_type} keys"
    return set(found)


def requests_to(server, path):
    sim, _ = server
    return len(sim.requests_to(path, "firm-1"))


def test_time_entries_of_a_90_day_window_in_two_pages(server, firm):
    records, stats = collect(server, firm, "time")
    expected = [t for t in firm.time_entries if in_window(t["Date"])]
    assert len(expected) > 1000  # the window really needs a second page
    assert keys(records, "time_entry") == {t["IndividualTimeEntryKey"] for t in expected}
    assert stats.reported_counts == {"time_entry": len(expected)}
    assert all(r.record_date in WINDOW_90 and r.unit == "min" for r in records)
    assert requests_to(server, "IndividualTimeEntries") == stats.requests == pages(len(expected), 1000)
    first = next(r for r in records if r.external_key == expected[0]["IndividualTimeEntryKey"])
    assert first.quantity == expected[0]["Minutes"] and str(first.amount) == str(expected[0]["TotalCost"])


def test_work_items_by_start_date(server, firm):
    records, stats = collect(server, firm, "work")
    expected = {w["WorkItemKey"] for w in firm.work_items if in_window(w["StartDate"])}
    assert len(expected) > 100
    assert keys(records, "work_item") == expected
    assert stats.reported_counts == {"work_item": len(expected)}
    assert stats.requests == pages(len(expected))


def test_contacts_stop_paging_below_the_window(server, firm):
    records, stats = collect(server, firm, "contacts")
    contacts = {c["ContactKey"] for c in firm.contacts if in_window(c["LastModifiedDateTime"])}
    organizations = {o["OrganizationKey"] for o in firm.organizations if in_window(o["LastModifiedDateTime"])}
    groups = {g["ClientGroupKey"] for g in firm.client_groups if in_window(g["LastModifiedDateTime"])}
    changed = contacts | organizations
    assert keys(records, "contact") == contacts
    assert keys(records, "organization") == organizations
    assert keys(records, "client_group") == groups
    assert keys(records, "custom_field_values") == changed
    assert keys(records, "business_card") == {
        card["BusinessCardKey"] for key in changed for card in firm.business_cards[key]
    }
    # Ordered by change: pages stop at the first row older than the window instead of scanning everything.
    newer_contacts = sum(1 for c in firm.contacts if day_of(c["LastModifiedDateTime"]) >= WINDOW_90.start)
    newer_orgs = sum(1 for o in firm.organizations if day_of(o["LastModifiedDateTime"]) >= WINDOW_90.start)
    contact_list_calls = sum(1 for r in server[0].requests_to("Contacts", "firm-1") if r.path == "/v3/Contacts")
    assert contact_list_calls <= pages(newer_contacts + 1)
    listing = pages(newer_contacts + 1) + pages(newer_orgs + 1) + pages(len(firm.client_groups))
    assert stats.requests <= listing + 2 * len(changed)


def test_a_short_window_reads_only_the_newest_page(server, firm):
    window = DateWindow(date(2026, 10, 25), date(2026, 11, 1))
    records, _ = collect(server, firm, "contacts", window)
    changed = [c for c in firm.contacts if in_window(c["LastModifiedDateTime"], window)]
    assert keys(records, "contact") == {c["ContactKey"] for c in changed}
    contact_list_calls = sum(1 for r in server[0].requests_to("Contacts", "firm-1") if r.path == "/v3/Contacts")
    assert contact_list_calls == 1 < pages(len(firm.contacts))


def test_ar_invoices_with_lines_and_payments(server, firm):
    records, stats = collect(server, firm, "ar")
    invoices = [i for i in firm.invoices if in_window(i["InvoiceDate"])]
    assert len(invoices) > 100
    assert keys(records, "invoice") == {i["InvoiceKey"] for i in invoices}
    assert keys(records, "invoice_line") == {
        line["LineItemKey"] for i in invoices for line in firm.invoice_lines[i["InvoiceKey"]]
    }
    assert keys(records, "payment") == {p["PaymentKey"] for p in firm.payments if in_window(p["PaymentDate"])}
    newer = sum(1 for i in firm.invoices if day_of(i["InvoiceDate"]) >= WINDOW_90.start)
    budget = pages(newer + 1) + len(invoices) + pages(len(firm.payments))
    assert stats.requests <= budget
    invoice = next(r for r in records if r.record_type == "invoice")
    source = next(i for i in invoices if i["InvoiceKey"] == invoice.external_key)
    assert invoice.currency == firm.currency and str(invoice.amount) == str(source["InvoiceTotal"])


def test_tenant_snapshot_lands_on_the_last_day(server, firm):
    records, stats = collect(server, firm, "tenant")
    assert {r.record_date for r in records} == {WINDOW_90.last}
    assert keys(records, "user") == {u["Id"] for u in firm.users}
    assert keys(records, "role") == {r["Key"] for r in firm.roles}
    assert keys(records, "team") == {t["TeamKey"] for t in firm.teams}
    assert keys(records, "custom_field") == {c["Key"] for c in firm.custom_fields}
    assert keys(records, "tenant_settings") == {firm.tenant_key}
    assert stats.requests == 5


def test_content_items_are_the_files_created_in_the_window(server, firm):
    records, _ = collect(server, firm, "content_items")
    expected = {f["FileContextKey"] for files in firm.files.values() for f in files if in_window(f["DateCreated"])}
    assert expected and keys(records, "file") == expected
    changed = sum(1 for c in firm.contacts + firm.organizations if in_window(c["LastModifiedDateTime"]))
    work = sum(1 for w in firm.work_items if in_window(w["StartDate"]))
    assert requests_to(server, "FileList") == changed + work


def test_accounting_details_of_changed_clients(server, firm):
    records, _ = collect(server, firm, "accounting")
    changed = {c["ContactKey"] for c in firm.contacts if in_window(c["LastModifiedDateTime"])}
    changed |= {o["OrganizationKey"] for o in firm.organizations if in_window(o["LastModifiedDateTime"])}
    assert keys(records, "accounting_detail") == changed
    organization = next(r for r in records if r.payload["ClientType"] == "Organization")
    assert organization.payload["LegalName"] and organization.currency == firm.currency


def test_every_pillar_counts_each_request_and_accounting_stays_within_its_pages(server, firm):
    """Every pillar's request count is what the server saw, with no retry; the accounting pillar needs only
    the list pages plus one GET per changed client (the other pillars' budgets have their own tests)."""
    totals = {}
    for stream in ("tenant", "work", "contacts", "time", "ar", "content_items", "accounting"):
        server[0].log.clear()
        _, stats = collect(server, firm, stream)
        assert stats.retries == 0 and stats.rate_limited == 0
        assert stats.requests == len(server[0].log)
        totals[stream] = stats.requests
    changed = sum(1 for c in firm.contacts + firm.organizations if in_window(c["LastModifiedDateTime"]))
    newer = sum(1 for c in firm.contacts + firm.organizations if day_of(c["LastModifiedDateTime"]) >= WINDOW_90.start)
    assert totals["accounting"] <= changed + pages(newer) + 2 * 2


def test_a_429_burst_waits_retry_after_and_loses_nothing():
    with karbon_server(companies=1, rate_limit=4, rate_window=1.0) as (sim, url):
        firm = sim.firms[0]
        karbon = connector(url, firm)  # the client's own limiter is far above the server's: it must obey 429s
        window = DateWindow(date(2026, 10, 18), date(2026, 11, 1))
        started = time.monotonic()
        records = list(karbon.collect("ar", window))
        elapsed = time.monotonic() - started
        invoices = {i["InvoiceKey"] for i in firm.invoices if in_window(i["InvoiceDate"], window)}
        assert keys(records, "invoice") == invoices
        assert karbon.stats.rate_limited >= 1
        limited = [r for r in sim.log if r.status == 429]
        assert len(limited) == karbon.stats.rate_limited
        served = [r for r in sim.log if r.status == 200]
        assert len(served) == karbon.stats.requests - karbon.stats.rate_limited
        assert elapsed >= len(served) / 4 - 1.5  # the server allowed 4 per second; nothing got through faster
        assert contract_breaches(sim) == []


def test_a_matching_client_rate_never_triggers_429():
    with karbon_server(companies=1, rate_limit=10, rate_window=1.0) as (sim, url):
        firm = sim.firms[0]
        karbon = connector(url, firm, rate=540)  # 9 per second, under the server's 10
        window = DateWindow(date(2026, 10, 25), date(2026, 11, 1))
        records = list(karbon.collect("accounting", window))
        assert records and karbon.stats.rate_limited == 0
        assert not [r for r in sim.log if r.status == 429]
        assert contract_breaches(sim) == []


def test_injected_5xx_are_retried_and_the_result_is_exact(server, firm):
    server[0].fail_next(3)
    records, stats = collect(server, firm, "time")
    assert keys(records, "time_entry") == {
        t["IndividualTimeEntryKey"] for t in firm.time_entries if in_window(t["Date"])
    }
    assert stats.retries == 3 and stats.requests == 3 + 2


def test_a_page_failing_after_its_retries_raises_a_transient_error(server, firm):
    server[0].fail_next(50)
    _, url = server
    karbon = connector(url, firm)
    with pytest.raises(TransientError, match=r"answered HTTP 503 4 times"):
        list(karbon.collect("work", WINDOW_90))
    server[0]._failures.clear()


def test_wrong_access_key_is_an_authentication_error_that_names_the_fix(server, firm):
    _, url = server
    wrong = "eyJhbGciOiJIUzI1NiJ9.eyJ3cm9uZyI6dHJ1ZX0.c2lnbmF0dXJl"
    karbon = connector(url, firm, access_key=wrong)
    with pytest.raises(AuthenticationError) as caught:
        list(karbon.collect("time", WINDOW_90))
    message = str(caught.value)
    assert "application_id" in message and "access_key" in message and "swapping" in message
    assert wrong not in message and firm.application_id not in message
    assert len(server[0].log) == 1  # never retried
    result = connector(url, firm, access_key=wrong).test_connection()
    assert not result.ok and "access_key" in result.message


def test_test_connection_reports_the_tenant(server, firm):
    _, url = server
    result = connector(url, firm).test_connection()
    assert result.ok and firm.tenant_key in result.message
    assert [r.path for r in server[0].log] == ["/v3/TenantSettings"]


def test_unknown_stream_is_refused(server, firm):
    _, url = server
    with pytest.raises(ConnectorError, match="unknown stream 'invoices'"):
        connector(url, firm).collect("invoices", WINDOW_90)


def _broken_app(body: object) -> Starlette:
    async def endpoint(request):
        if isinstance(body, bytes):
            return Response(body, media_type="application/json")
        return JSONResponse(body)

    return Starlette(routes=[Route("/{path:path}", endpoint)])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"value": [], "@odata.nextLink": "https://elsewhere.example/v3/IndividualTimeEntries?$skip=1000"},
            "refused an @odata.nextLink to another host",
        ),
        (
            {"value": [], "@odata.nextLink": "//elsewhere.example/v3/IndividualTimeEntries?$skip=1000"},
            "refused an @odata.nextLink to another host",
        ),
        (
            {
                "value": [{"IndividualTimeEntryKey": "a" * 32, "Date": "2026-09-01T00:00:00Z"}],
                "@odata.nextLink": "/v3/IndividualTimeEntries?$skip=1",
            },
            "made no progress",
        ),
        (b"<html>maintenance</html>", "expected JSON"),
        ({"unexpected": True}, "returned no 'value' array"),
        ({"value": [{"IndividualTimeEntryKey": "a" * 32, "Date": "not a date"}]}, "field Date is not an ISO-8601 date"),
    ],
)
def test_broken_responses_give_one_line_errors(server, body, message):
    sim, _ = server
    with running(_broken_app(body)) as url:
        karbon = connector(url, sim.firms[0])
        with pytest.raises(ProviderError, match=message) as caught:
            list(karbon.collect("time", WINDOW_90))
        assert "\n" not in str(caught.value)


def test_the_shared_bucket_spaces_requests_at_the_configured_rate(server, firm):
    _, url = server
    bucket = TokenBucket(600, 60.0)  # 10 per second
    karbon = connector(url, firm, bucket=bucket)
    started = time.monotonic()
    list(karbon.collect("tenant", WINDOW_90))
    assert time.monotonic() - started >= (karbon.stats.requests - 1) / 10 - 0.05


def test_a_row_repeated_across_pages_is_written_once(server):
    """$skip paging over live data repeats a row when one is inserted ahead of it between two pages."""
    entry = {"IndividualTimeEntryKey": "a" * 32, "Date": "2026-09-01T00:00:00Z", "Minutes": 30, "TotalCost": 50}
    later = {**entry, "IndividualTimeEntryKey": "b" * 32}

    async def endpoint(request):
        base = str(request.base_url).rstrip("/")
        if "$skip" not in request.query_params:
            return JSONResponse({"value": [entry], "@odata.nextLink": f"{base}/v3/IndividualTimeEntries?$skip=1"})
        return JSONResponse({"value": [entry, later]})

    sim, _ = server
    with running(Starlette(routes=[Route("/{path:path}", endpoint)])) as url:
        records = list(connector(url, sim.firms[0]).collect("time", WINDOW_90))
    assert [r.external_key for r in records] == ["a" * 32, "b" * 32]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"application_id": "  "}, "the 'application_id' setting is required"),
        ({"requests_per_minute": "fast"}, "requests_per_minute must be a number"),
        ({"requests_per_minute": 0}, "requests_per_minute must be positive"),
        ({"base_url": "http://api.example.com"}, "base_url must start with https://"),
    ],
)
def test_unusable_settings_are_a_configuration_error(settings, message):
    config = ConnectorConfig(
        {"application_id": "550e8400-e29b-41d4-a716-446655440000", "base_url": "https://api.karbonhq.com", **settings},
        {"access_key": "eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.c2ln"},
    )
    with pytest.raises(ConfigurationError, match=message):
        KarbonConnector(config)
