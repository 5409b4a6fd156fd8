"""The Uyumsoft-family simulator spoken to with raw SOAP over HTTP: what a real client would see."""

from __future__ import annotations

import base64
import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import httpx
import pytest
from lxml import etree

from integration_hub.connectors.base import DateWindow
from integration_hub.connectors.efatura.soap import SOAP11_NS, WSSE_NS, envelope, q, sub, ws_security_header
from integration_hub.connectors.uyumsoft.settings import ACTION_PREFIX, NAMESPACE, SERVICE_PATH
from integration_hub.simulators import crs
from integration_hub.simulators.server import running
from integration_hub.simulators.uyumsoft import UyumsoftSimulator, create_app
from integration_hub.simulators.uyumsoft.app import ARRAYS_NS

NS = NAMESPACE
START = date(2025, 1, 1)
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
SOAP_BINDING_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
PASSWORD_DIGEST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"

Build = Callable[[etree._Element], None]


class Client:
    """Raw SOAP against one served simulator."""

    def __init__(self, sim: UyumsoftSimulator, base: str, slug: str = "company-1") -> None:
        self.sim = sim
        self.url = base + SERVICE_PATH
        account = sim.accounts[slug]
        self.username, self.password = account.username, account.password

    def post(
        self,
        operation: str,
        build: Build | None = None,
        *,
        security: bool | str = True,
        password: str | None = None,
        action: str | None = None,
    ) -> tuple[int, etree._Element]:
        element = etree.Element(q(NS, operation), nsmap={"tem": NS})
        if build is not None:
            build(element)
        headers = []
        if security:
            block = ws_security_header(self.username, password or self.password)
            if security == "digest":
                block.find(f".//{{{WSSE_NS}}}Password").set("Type", PASSWORD_DIGEST)
            headers.append(block)
        response = httpx.post(
            self.url,
            content=envelope(element, headers),
            headers={
                "Content-Type": "text/xml; charset=utf-8",
                "SOAPAction": f'"{action or ACTION_PREFIX + operation}"',
            },
        )
        return response.status_code, etree.fromstring(response.content)


def _result(root: etree._Element, operation: str) -> etree._Element:
    return root.find(f"{{{SOAP11_NS}}}Body/{{{NS}}}{operation}Response/{{{NS}}}{operation}Result")


def _fault(root: etree._Element) -> tuple[str, str, dict]:
    fault = root.find(f"{{{SOAP11_NS}}}Body/{{{SOAP11_NS}}}Fault")
    code = fault.find("faultcode")
    return code.text, fault.findtext("faultstring"), dict(code.nsmap)


def _query(first: str | None = None, last: str | None = None, **attrs: object) -> Build:
    def build(operation: etree._Element) -> None:
        query = sub(operation, NS, "query", **{k: str(v) for k, v in attrs.items()})
        if first:
            sub(query, NS, "ExecutionStartDate", first)
        if last:
            sub(query, NS, "ExecutionEndDate", last)

    return build


def _ids_query(ids: list[str], namespace: str = NS, **attrs: object) -> Build:
    def build(operation: etree._Element) -> None:
        query = sub(operation, NS, "query", **{k: str(v) for k, v in attrs.items()})
        array = sub(query, NS, "InvoiceIds")
        for value in ids:
            sub(array, namespace, "string", value)

    return build


@pytest.fixture(scope="module")
def served():
    app = create_app(seed=4, companies=2, start=START, days=40, per_day=(1, 5), page_size_max=25)
    with running(app) as base:
        yield app.state.simulator, base


@pytest.fixture(scope="module")
def served_crs():
    app = crs.create_app(seed=4, companies=1, start=START, days=40, per_day=(1, 5))
    with running(app) as base:
        yield app.state.simulator, base


def test_wsdl_lists_the_operations_with_their_soap_actions(served) -> None:
    sim, base = served
    before = len(sim.calls)
    response = httpx.get(base + SERVICE_PATH + "?wsdl")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/xml")
    wsdl = etree.fromstring(response.content)
    actions = {
        op.get("name"): op.find(f"{{{SOAP_BINDING_NS}}}operation").get("soapAction")
        for op in wsdl.iterfind(f"{{{WSDL_NS}}}binding/{{{WSDL_NS}}}operation")
    }
    assert {
        "GetInboxInvoiceList",
        "GetOutboxInvoiceList",
        "GetInboxInvoiceData",
        "GetInboxInvoicesData",
        "WhoAmI",
    } <= set(actions)
    assert all(action == f"http://tempuri.org/IIntegration/{name}" for name, action in actions.items())
    address = wsdl.find(f".//{{{SOAP_BINDING_NS}}}address").get("location")
    assert address == base + SERVICE_PATH
    assert len(sim.calls) == before  # metadata requests are not operations


def test_security_faults_reproduce_the_platform(served) -> None:
    sim, base = served
    client = Client(sim, base)
    before = len(sim.calls)

    status, root = client.post("WhoAmI", security=False)
    assert status == 500
    code, text, nsmap = _fault(root)
    assert (code, text) == ("a:InvalidSecurity", "An error occurred when verifying security for the message.")
    assert nsmap["a"] == WSSE_NS

    status, root = client.post("WhoAmI", security="digest")
    assert status == 500 and _fault(root)[0] == "a:InvalidSecurity"

    status, root = client.post("GetInboxInvoiceList", _query(PageIndex=0, PageSize=10), password="wrong")
    assert status == 500 and _fault(root)[:2] == ("s:Client", "Bu sisteme erişmek için gerekli yetkiniz yok")

    status, root = client.post("WhoAmI")
    value = _result(root, "WhoAmI").find(f"{{{NS}}}Value")
    assert status == 200 and value.find(f"{{{NS}}}Customer").get("VkTckNo") == sim.accounts["company-1"].vkn
    outcomes = [(c.operation, c.outcome) for c in sim.calls[before:]]
    assert outcomes == [
        ("WhoAmI", "fault: a:InvalidSecurity"),
        ("WhoAmI", "fault: a:InvalidSecurity"),
        ("GetInboxInvoiceList", "fault: s:Client"),
        ("WhoAmI", "ok"),
    ]


def test_unauthorized_can_also_come_back_as_an_application_failure() -> None:
    app = create_app(seed=4, companies=1, start=START, days=3, unauthorized_as="result")
    with running(app) as base:
        status, root = Client(app.state.simulator, base).post("TestConnection", password="nope")
        result = _result(root, "TestConnection")
        assert status == 200 and (result.get("IsSucceded"), result.get("Message")) == ("false", "Unauthorized")


def test_listing_pages_with_inclusive_datetime_bounds(served) -> None:
    sim, base = served
    client = Client(sim, base)
    window = DateWindow(date(2025, 1, 5), date(2025, 2, 4))
    wanted = sim.invoices("company-1", "in", window)
    first, last = "2025-01-05T00:00:00", "2025-02-03T23:59:59"
    pages = math.ceil(len(wanted) / 25)
    assert pages >= 2

    seen: list[str] = []
    for index in range(pages + 1):
        status, root = client.post("GetInboxInvoiceList", _query(first, last, PageIndex=index, PageSize=500))
        result = _result(root, "GetInboxInvoiceList")
        assert status == 200 and result.get("IsSucceded") == "true" and result.get("Message") == ""
        value = result.find(f"{{{NS}}}Value")
        # PageSize 500 is clamped to the service maximum (25 here) and said so in the answer.
        assert {k: value.get(k) for k in ("PageIndex", "PageSize", "TotalCount", "TotalPages")} == {
            "PageIndex": str(index),
            "PageSize": "25",
            "TotalCount": str(len(wanted)),
            "TotalPages": str(pages),
        }
        items = value.find(f"{{{NS}}}Items")
        if index == pages:
            assert items is None  # past the end: no Items element at all
            continue
        rows = list(items)
        assert all(etree.QName(row).localname == "InboxInvoiceListItem" for row in rows)
        seen.extend(row.get("InvoiceId") for row in rows)
    assert sorted(seen) == sorted(i.ettn for i in wanted)

    # A date-only end (midnight) loses the last day's invoices issued after 00:00:00.
    status, root = client.post("GetInboxInvoiceList", _query(first, "2025-02-03T00:00:00", PageSize=25))
    total = int(_result(root, "GetInboxInvoiceList").find(f"{{{NS}}}Value").get("TotalCount"))
    mailbox = sim.mailboxes["company-1"]
    later = [
        i for i in wanted if i.issue_date == date(2025, 2, 3) and mailbox.execution_date(i).time() > datetime.min.time()
    ]
    assert later and total == len(wanted) - len(later)


def test_list_rows_carry_the_platform_fields_and_spellings(served) -> None:
    sim, base = served
    client = Client(sim, base)
    statuses = set()
    for direction, operation in (("in", "GetInboxInvoiceList"), ("out", "GetOutboxInvoiceList")):
        status, root = client.post(operation, _query(PageSize=25, PageIndex=0))
        assert status == 200
        rows = list(_result(root, operation).find(f"{{{NS}}}Value/{{{NS}}}Items"))
        for row in rows:
            invoice = sim.mailboxes["company-1"].find(direction, row.get("InvoiceId"))
            assert invoice is not None and row.get("DocumentId") == invoice.number and len(invoice.number) == 16
            assert row.get("PayableAmount") == str(invoice.payable)
            assert row.get("TargetTcknVkn") == (invoice.supplier_vkn if direction == "in" else invoice.customer_vkn)
            statuses.add(row.get("Status"))
        assert ("IsNew" in rows[0].attrib) == (direction == "in")
        assert ("Scenario" in rows[0].attrib) == (direction == "out")
    assert "WaitingForAprovement" in statuses


def test_documents_single_and_bulk(served) -> None:
    sim, base = served
    client = Client(sim, base)
    invoice = next(i for i in sim.mailboxes["company-1"].invoices if i.direction == "out")

    status, root = client.post("GetOutboxInvoiceData", lambda op: sub(op, NS, "invoiceId", invoice.ettn.upper()))
    value = _result(root, "GetOutboxInvoiceData").find(f"{{{NS}}}Value")
    assert status == 200 and base64.b64decode(value.findtext(f"{{{NS}}}Data")) == invoice.xml

    status, root = client.post("GetInboxInvoiceData", lambda op: sub(op, NS, "invoiceId", invoice.ettn))
    result = _result(root, "GetInboxInvoiceData")  # an outgoing ETTN is unknown in the inbox
    assert status == 200 and result.get("IsSucceded") == "false" and invoice.ettn in result.get("Message")

    ids = [i.ettn for i in sim.mailboxes["company-1"].invoices if i.direction == "out"][:30]
    status, root = client.post("GetOutboxInvoicesData", _ids_query(ids, PageIndex=1, PageSize=30))
    value = _result(root, "GetOutboxInvoicesData").find(f"{{{NS}}}Value")
    assert (value.get("TotalCount"), value.get("TotalPages"), value.get("PageSize")) == ("30", "2", "25")
    items = list(value.find(f"{{{NS}}}Items"))
    assert len(items) == 5 and all(etree.QName(item).localname == "InvoiceData" for item in items)
    by_id = {i.ettn: i for i in sim.mailboxes["company-1"].invoices}
    assert all(base64.b64decode(item.findtext(f"{{{NS}}}Data")) == by_id[item.get("InvoiceId")].xml for item in items)


def test_state_changes_are_recorded_and_visible(served) -> None:
    sim, base = served
    client = Client(sim, base, slug="company-2")
    earlier = len(sim.state_changes())
    ids = [i.ettn for i in sim.mailboxes["company-2"].invoices if i.direction == "in"][:3]

    def newest() -> int:
        _, root = client.post("GetInboxInvoiceList", _query(PageSize=25, OnlyNewestInvoices="true"))
        return int(_result(root, "GetInboxInvoiceList").find(f"{{{NS}}}Value").get("TotalCount"))

    unread = newest()
    status, _ = client.post("GetInboxInvoicesData", _ids_query(ids[:1], PageSize=10, SetTaken="true"))
    assert status == 200 and newest() == unread - 1

    def taken(op: etree._Element) -> None:
        array = sub(op, NS, "invoices")
        for value in ids[1:]:
            sub(array, NS, "string", value)

    status, root = client.post("SetInvoicesTaken", taken)
    assert status == 200 and newest() == unread - 3
    assert [c.operation for c in sim.state_changes()[earlier:]] == ["GetInboxInvoicesData", "SetInvoicesTaken"]

    status, root = client.post("SendInvoice")  # not offered here, but a collector calling it is still caught
    assert status == 500 and _fault(root)[0] == "a:ActionNotSupported"
    assert sim.state_changes()[-1].operation == "SendInvoice"


def test_contract_mismatches_are_wcf_faults(served) -> None:
    sim, base = served
    client = Client(sim, base)
    status, root = client.post("WhoAmI", action="http://tempuri.org/IIntegration/TestConnection")
    assert status == 500 and _fault(root)[0] == "a:ActionNotSupported" and "ContractFilter" in _fault(root)[1]
    status, root = client.post("GetInboxInvoiceList", _query("yesterday", PageSize=5))
    assert status == 500 and _fault(root)[0] == "a:DeserializationFailed"
    status, root = client.post("GetInboxInvoiceList")
    assert status == 200 and _result(root, "GetInboxInvoiceList").get("IsSucceded") == "false"


def test_injected_failures_are_bare_http_errors_with_the_queued_status(served) -> None:
    sim, base = served
    client = Client(sim, base)
    before = len(sim.calls)
    sim.fail_next(1)
    sim.fail_next(1, status=500)
    for expected in (503, 500):
        response = httpx.post(
            client.url,
            content=envelope(etree.Element(q(NS, "WhoAmI")), [ws_security_header(client.username, client.password)]),
            headers={"SOAPAction": f'"{ACTION_PREFIX}WhoAmI"', "Content-Type": "text/xml"},
        )
        assert response.status_code == expected and b"Fault" not in response.content
    assert client.post("WhoAmI")[0] == 200
    assert [c.outcome for c in sim.calls[before:]] == ["injected", "injected", "ok"]


def test_without_bulk_data_the_bulk_operation_is_not_offered() -> None:
    app = create_app(seed=4, companies=1, start=START, days=3, bulk_data=False)
    with running(app) as base:
        status, root = Client(app.state.simulator, base).post("GetInboxInvoicesData", _ids_query(["x"]))
        assert status == 500 and _fault(root)[0] == "a:ActionNotSupported"
        assert "GetInboxInvoicesData" not in httpx.get(base + SERVICE_PATH + "?wsdl").text


def test_uyumsoft_accepts_wcf_array_items_crs_silently_ignores_them(served, served_crs) -> None:
    for (sim, base), found_in_arrays_ns in ((served, True), (served_crs, False)):
        client = Client(sim, base)
        ids = [i.ettn for i in sim.mailboxes["company-1"].invoices if i.direction == "out"][:4]

        def status_query(namespace: str, ids: list[str] = ids) -> Build:
            def build(op: etree._Element) -> None:
                array = sub(op, NS, "invoiceIds")
                for value in ids:
                    sub(array, namespace, "string", value)

            return build

        for namespace, found in ((NS, True), (ARRAYS_NS, found_in_arrays_ns)):
            status, root = client.post("QueryOutboxInvoiceStatus", status_query(namespace))
            result = _result(root, "QueryOutboxInvoiceStatus")
            assert status == 200 and result.get("IsSucceded") == "true"  # never an error, even when ignored
            assert len(list(result.find(f"{{{NS}}}Value"))) == (4 if found else 0)

            status, root = client.post("GetOutboxInvoicesData", _ids_query(ids, namespace, PageSize=10))
            value = _result(root, "GetOutboxInvoicesData").find(f"{{{NS}}}Value")
            count = 0 if value is None else int(value.get("TotalCount"))
            assert count == (4 if found else 0)


def test_crs_accepts_user_info_body_auth_uyumsoft_does_not(served, served_crs) -> None:
    for (sim, base), accepted in ((served_crs, True), (served, False)):
        client = Client(sim, base)

        def build(op: etree._Element, client: Client = client) -> None:
            sub(op, NS, "userInfo", Username=client.username, Password=client.password)
            sub(op, NS, "query", PageIndex="0", PageSize="5")

        status, root = client.post("GetOutboxInvoiceList", build, security=False)
        if accepted:
            assert status == 200 and _result(root, "GetOutboxInvoiceList").get("IsSucceded") == "true"
            assert sim.calls[-1].params["auth"] == "user_info"
        else:
            assert status == 500 and _fault(root)[0] == "a:InvalidSecurity"


def test_crs_get_outbox_invoice_takes_the_ettn_only(served, served_crs) -> None:
    for (sim, base), by_number in ((served, True), (served_crs, False)):
        client = Client(sim, base)
        invoice = next(i for i in sim.mailboxes["company-1"].invoices if i.direction == "out")
        for key, found in ((invoice.ettn, True), (invoice.number, by_number)):
            _, root = client.post("GetOutboxInvoice", lambda op, key=key: sub(op, NS, "invoiceId", key))
            result = _result(root, "GetOutboxInvoice")
            assert result.get("IsSucceded") == ("true" if found else "false")
            if found:
                ubl = result.find(f"{{{NS}}}Value/{{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}}Invoice")
                assert ubl is not None


def test_empty_listing_crs_has_no_value_uyumsoft_has_no_items(served, served_crs) -> None:
    for (sim, base), has_value in ((served, True), (served_crs, False)):
        _, root = Client(sim, base).post(
            "GetInboxInvoiceList", _query("2020-01-01T00:00:00", "2020-01-31T23:59:59", PageSize=10)
        )
        value = _result(root, "GetInboxInvoiceList").find(f"{{{NS}}}Value")
        if has_value:
            assert value.get("TotalCount") == "0" and value.get("TotalPages") == "0" and len(value) == 0
        else:
            assert value is None


def test_user_aliases_keeps_its_spelling(served_crs) -> None:
    sim, base = served_crs
    client = Client(sim, base)
    vkn = sim.accounts["company-1"].vkn
    _, root = client.post("GetUserAliasses", lambda op: sub(op, NS, "vknTckn", vkn))
    alias = _result(root, "GetUserAliasses").find(f"{{{NS}}}Value/{{{NS}}}ReceiverboxAliases")
    assert alias is not None and vkn in alias.get("Alias")
    _, root = client.post("GetUserAliasses", lambda op: sub(op, NS, "vknTckn", "1111111111"))
    result = _result(root, "GetUserAliasses")
    assert result.get("IsSucceded") == "true" and len(result) == 0  # not an e-Fatura user: no Value


@pytest.mark.parametrize("name", ["uyumsoft", "crs"])
def test_cli_prints_the_accounts_and_serves(name: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = Path(sys.executable).with_name("integration-hub")
    command = (
        [str(script)] if script.exists() else [sys.executable, "-c", "from integration_hub.cli import main; main()"]
    )
    process = subprocess.Popen(
        [
            *command,
            "simulate",
            name,
            "--port",
            str(port),
            "--days",
            "5",
            "--companies",
            "1",
            "--credentials",
            "demo:Demo-Pa55",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines = [process.stdout.readline().strip() for _ in range(3)]
        assert lines[0].startswith("account=company-1 username=company1.ws password=")
        assert lines[1].startswith("account=demo username=demo password=Demo-Pa55 vkn=")
        assert lines[2] == f"serving {name} Integration service on http://127.0.0.1:{port}{SERVICE_PATH}"
        deadline = 50
        while True:
            try:
                body = httpx.post(
                    f"http://127.0.0.1:{port}{SERVICE_PATH}",
                    content=envelope(etree.Element(q(NS, "WhoAmI")), [ws_security_header("demo", "Demo-Pa55")]),
                    headers={"SOAPAction": f'"{ACTION_PREFIX}WhoAmI"', "Content-Type": "text/xml"},
                )
                break
            except httpx.ConnectError:
                deadline -= 1
                assert deadline, "simulator did not start listening"
                time.sleep(0.1)
        assert body.status_code == 200 and b'Username="demo"' in body.content
    finally:
        process.terminate()
        process.wait(timeout=10)
