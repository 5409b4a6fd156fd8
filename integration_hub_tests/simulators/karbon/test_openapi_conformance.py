"""The Karbon simulator answers to the published spec (``../shared/karbon/KarbonAPI.json``), not to the connector.

Two things are proven here. Every operation the simulator serves answers bodies that validate against the
operation's documented response with openapi-core's own response validation (a second validator besides
the simulator's built-in check), success and documented errors alike. And the simulator's request gate
refuses what the contract refuses, the way Karbon answers it, and records each breach.

The spec contradicts itself in a few places; :func:`documented_contradictions` corrects each with the spec's
own evidence, and the first test proves nothing else in the document is changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_core.testing import MockRequest, MockResponse

from integration_hub.simulators.karbon.contract import (
    CORRECTED_POINTERS,
    SERVER,
    documented_contradictions,
    karbon_contract,
)
from integration_hub.simulators.karbon.endpoints import LIST_ENDPOINTS
from integration_hub_tests.conftest import SHARED
from integration_hub_tests.support.karbon_sim import headers, karbon_server

SPEC_PATH = SHARED / "karbon" / "KarbonAPI.json"
SIMULATOR = Path(__file__).resolve().parents[3] / "integration_hub" / "simulators" / "karbon"


def _pointers(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of a JSON document as (RFC 6901 pointer, value)."""
    if isinstance(value, dict) and value:
        for key, child in value.items():
            yield from _pointers(child, f"{prefix}/{key.replace('~', '~0').replace('/', '~1')}")
    elif isinstance(value, list) and value:
        for index, child in enumerate(value):
            yield from _pointers(child, f"{prefix}/{index}")
    else:
        yield prefix, value


def _changed(before: Any, after: Any) -> set[str]:
    old, new = dict(_pointers(before)), dict(_pointers(after))
    return {pointer for pointer in old.keys() | new.keys() if old.get(pointer, ...) != new.get(pointer, ...)}


def test_the_corrections_change_only_the_documented_contradictions():
    published = json.loads(SPEC_PATH.read_text())
    changed = _changed(published, documented_contradictions(published))
    assert changed, "the corrections changed nothing"
    # Each changed leaf lies under one of the documented pointers, and each documented pointer changed.
    assert {p for p in changed if not any(p == c or p.startswith(f"{c}/") for c in CORRECTED_POINTERS)} == set()
    assert {c for c in CORRECTED_POINTERS if not any(p == c or p.startswith(f"{c}/") for p in changed)} == set()


@pytest.fixture(scope="module")
def server():
    with karbon_server(companies=1, validate_responses=False) as (sim, url):
        yield sim, url


@pytest.fixture()
def sim(server):
    sim, _ = server
    sim.violations.clear()
    return sim


def _validate(method: str, path: str, response: httpx.Response) -> None:
    """openapi-core's response validation of one answer against the operation that served it."""
    karbon_contract().openapi.validate_response(
        MockRequest(SERVER, method, path),
        MockResponse(response.content, response.status_code, content_type="application/json"),
    )


def test_the_spec_lists_every_list_endpoint_the_simulator_serves():
    spec = json.loads(SPEC_PATH.read_text())
    assert {f"/v3/{name}" for name in LIST_ENDPOINTS} <= set(spec["paths"])


@pytest.mark.parametrize("entity_set", sorted(LIST_ENDPOINTS))
def test_list_responses_validate_against_the_spec(server, sim, entity_set):
    _, url = server
    response = httpx.get(f"{url}/v3/{entity_set}", headers=headers(sim.firms[0]))
    assert response.status_code == 200 and response.json()["value"], f"{entity_set} served no rows to validate"
    _validate("get", f"/v3/{entity_set}", response)
    assert sim.violations == []


def _single_entity_requests(firm) -> list[tuple[str, dict[str, str]]]:
    contact = firm.contacts[0]["ContactKey"]
    organization = firm.organizations[0]["OrganizationKey"]
    invoice = next(i["InvoiceKey"] for i in firm.invoices if firm.invoice_payments[i["InvoiceKey"]])
    work_item = firm.work_items[0]["WorkItemKey"]
    return [
        ("/v3/TenantSettings", {}),
        (f"/v3/Contacts/{contact}", {}),
        (f"/v3/Contacts/{contact}", {"$expand": "BusinessCards"}),
        (f"/v3/Organizations/{organization}", {"$expand": "BusinessCards"}),
        (f"/v3/CustomFieldValues/{contact}", {}),
        (f"/v3/Invoices/{invoice}", {"$expand": "LineItems"}),
        (f"/v3/Invoices/{invoice}", {"$expand": "LineItems,Payments,Data"}),
        (f"/v3/WorkItems/{work_item}", {}),
        (f"/v3/IndividualTimeEntries/{firm.time_entries[0]['IndividualTimeEntryKey']}", {}),
        ("/v3/FileList/WorkItem", {"EntityKey": work_item}),
    ]


@pytest.mark.parametrize("index", range(10))
def test_single_entity_responses_validate_against_the_spec(server, sim, index):
    _, url = server
    firm = sim.firms[0]
    path, params = _single_entity_requests(firm)[index]
    response = httpx.get(url + path, headers=headers(firm), params=params)
    assert response.status_code == 200
    _validate("get", path, response)
    assert sim.violations == []


def test_webhook_subscription_answers_validate_against_the_spec(server, sim):
    _, url = server
    client = httpx.Client(base_url=url, headers=headers(sim.firms[0]))
    subscription = {"TargetUrl": "https://hub.example/hook", "WebhookType": "Invoice", "SigningKey": "k" * 16}
    answers = [
        ("post", "/v3/WebhookSubscriptions", client.post("/v3/WebhookSubscriptions", json=subscription), 201),
        ("get", "/v3/WebhookSubscriptions/Invoice", client.get("/v3/WebhookSubscriptions/Invoice"), 200),
        ("delete", "/v3/WebhookSubscriptions/Invoice", client.delete("/v3/WebhookSubscriptions/Invoice"), 204),
        ("get", "/v3/WebhookSubscriptions/Invoice", client.get("/v3/WebhookSubscriptions/Invoice"), 404),
        ("delete", "/v3/WebhookSubscriptions", client.delete("/v3/WebhookSubscriptions"), 204),
    ]
    assert [answer.status_code for *_, answer, _ in answers] == [status for *_, status in answers]
    for method, path, answer, _ in answers:
        if answer.content:
            _validate(method, path, answer)
    assert sim.violations == []


def test_documented_error_answers_validate_against_the_spec(server, sim):
    _, url = server
    firm = sim.firms[0]
    answers = [
        ("/v3/Contacts", httpx.get(f"{url}/v3/Contacts", params={"$top": "130"}, headers=headers(firm)), 400),
        ("/v3/Contacts", httpx.get(f"{url}/v3/Contacts"), 401),
        ("/v3/WorkItems/ABCDEFGHIJKL", httpx.get(f"{url}/v3/WorkItems/ABCDEFGHIJKL", headers=headers(firm)), 404),
        ("/v3/Invoices/ABCDEFGHIJKL", httpx.get(f"{url}/v3/Invoices/ABCDEFGHIJKL", headers=headers(firm)), 404),
    ]
    assert [answer.status_code for _, answer, _ in answers] == [status for *_, status in answers]
    for path, answer, _ in answers:
        _validate("get", path, answer)


def test_a_rate_limited_answer_validates_against_the_spec():
    with karbon_server(companies=1, days=5, rate_limit=1, rate_window=60.0) as (sim, url):
        firm = sim.firms[0]
        assert httpx.get(f"{url}/v3/Roles", headers=headers(firm)).status_code == 200
        limited = httpx.get(f"{url}/v3/Roles", headers=headers(firm))
        assert limited.status_code == 429 and limited.headers["Retry-After"]
        _validate("get", "/v3/Roles", limited)
        assert sim.violations == []


@pytest.mark.parametrize(
    ("path", "params", "drop", "status", "message", "kind"),
    [
        ("/v3/Contacts", {"$top": "10"}, "AccessKey", 401, "JWT not present.", "security"),
        ("/v3/Contacts", {"$top": "10"}, "Authorization", 401, "Authorization has been denied", "security"),
        ("/v3/WorkItems", {"$expand": "Notes"}, None, 400, "Query option 'Expand' is not allowed.", "undeclared"),
        ("/v3/WorkItems", {"$fliter": "Title eq 'x'"}, None, 400, "The query parameter '$fliter'", "undeclared"),
        ("/v3/Payments", {"$orderby": "PaymentDate"}, None, 400, "Query option 'OrderBy'", "undeclared"),
        ("/v3/Invoices/{invoice}", {"$expand": "Lines"}, None, 400, "property named 'Lines'", "parameter"),
        ("/v3/FileList/WorkItem", {}, None, 400, "EntityKey", "parameter"),
        ("/v3/Contacts/Search", {"q": "x"}, None, 400, "The query parameter 'q'", "undeclared"),
        ("/v3/ContentItems", {}, None, 404, "No HTTP resource was found", "path"),
    ],
)
def test_the_gate_refuses_and_records_what_breaks_the_contract(server, sim, path, params, drop, status, message, kind):
    _, url = server
    firm = sim.firms[0]
    sent = {name: value for name, value in headers(firm).items() if name != drop}
    response = httpx.get(url + path.format(invoice=firm.invoices[0]["InvoiceKey"]), params=params, headers=sent)
    assert response.status_code == status
    assert message in response.json()["error"]["message"]
    assert [v.kind for v in sim.violations] == [kind]


def test_a_request_that_keeps_the_contract_records_nothing(server, sim):
    _, url = server
    params = {"$filter": "Date ge 2026-07-01T00:00:00Z", "$orderby": "Date", "$top": "1000", "$count": "true"}
    response = httpx.get(f"{url}/v3/IndividualTimeEntries", params=params, headers=headers(sim.firms[0]))
    assert response.status_code == 200 and sim.violations == []
    next_page = httpx.get(response.json()["@odata.nextLink"], headers=headers(sim.firms[0]))
    assert next_page.status_code == 200 and sim.violations == []


def test_the_simulator_records_an_answer_that_breaks_its_schema(server):
    sim, _ = server
    broken = {"@odata.context": "x", "@odata.count": 1, "value": [{"FullName": "no key"}]}
    found = sim.contract.check_response("GET", "/v3/Contacts", 200, json.dumps(broken).encode())
    assert any("'ContactKey' is a required property" in v.message for v in found)
    with pytest.raises(Exception, match=r"(?i)valid"):
        _validate("get", "/v3/Contacts", httpx.Response(200, json=broken))
