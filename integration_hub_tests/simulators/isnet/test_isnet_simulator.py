"""The İşNet simulator over real HTTP: WCF dispatch and DataContract order, identity by VKN, paging quirks."""

from __future__ import annotations

import base64
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
import pytest
from lxml import etree

from integration_hub.connectors.base import DateWindow
from integration_hub.connectors.efatura.soap import SOAP11_NS, envelope, find_fault, parse_xml
from integration_hub.simulators.isnet import SERVICE_PATH, TEST_VKN, IsnetSimulator, create_app
from integration_hub.simulators.server import running

TEM = "http://tempuri.org/"
MODEL = "http://schemas.datacontract.org/2004/07/EInvoice.Service.Model"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ACTION = "http://tempuri.org/IInvoiceService/"
VKN = TEST_VKN
START = date(2025, 1, 1)
WALLED = "5555555555"

Member = tuple[str, object]  # (name, text | list of members); written in the order given


@pytest.fixture(scope="module")
def served():
    sim = IsnetSimulator(seed=5, start=START, days=90, per_day=(1, 3), walled={WALLED: frozenset({"10.1.2.3"})})
    with running(sim.app) as base:
        yield sim, base


def _members(parent: etree._Element, members: list[Member], ns: str = MODEL) -> None:
    for name, value in members:
        element = etree.SubElement(parent, etree.QName(ns, name))
        if isinstance(value, list):
            _members(element, value, ns)
        elif value is None:
            element.set(etree.QName(XSI, "nil"), "true")
        else:
            element.text = str(value)


def _search_request(
    *,
    first="2025-02-01T00:00:00",
    last="2025-02-28T23:59:59",
    page=1,
    size=100,
    xml=True,
    direction="Incoming",
    vkn=VKN,
    extra: list[Member] | None = None,
) -> list[Member]:
    members: list[Member] = [
        ("CompanyTaxCode", vkn),
        *(extra or []),
        ("InvoiceDirection", direction),
        ("MaxInvoiceDate", last),
        ("MinInvoiceDate", first),
        ("PagingRequest", [("PageNumber", page), ("RecordsPerPage", size)]),
        (
            "ResultSet",
            [
                ("IsAdditionalTaxIncluded", "false"),
                ("IsArchiveIncluded", "true"),
                ("IsInvoiceDetailIncluded", "false"),
                ("IsXMLIncluded", "true" if xml else "false"),
            ],
        ),
    ]
    return sorted(members, key=lambda m: m[0])


def _call(base: str, members: list[Member] | None, operation: str = "SearchInvoice", action: str | None = None):
    body = etree.Element(etree.QName(TEM, operation), nsmap={"tem": TEM, "ein": MODEL})
    if members is not None:
        _members(etree.SubElement(body, etree.QName(TEM, "request")), members)
    return httpx.post(
        base + SERVICE_PATH,
        content=envelope(body),
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action or ACTION + operation}"'},
    )


def _result(response: httpx.Response, operation: str = "SearchInvoice") -> etree._Element:
    assert response.status_code == 200, response.text[:400]
    body = parse_xml(response.content, "t").find(f"{{{SOAP11_NS}}}Body")
    return body.find(f"{{{TEM}}}{operation}Response/{{{TEM}}}{operation}Result")


def _m(element: etree._Element, path: str) -> str:
    return element.findtext("/".join(f"{{{MODEL}}}{p}" for p in path.split("/"))) or ""


def _invoices(result: etree._Element) -> list[etree._Element]:
    return result.findall(f"{{{MODEL}}}Invoices/{{{MODEL}}}Invoice")


def test_search_pages_are_one_based_with_paging_response(served) -> None:
    sim, base = served
    expected = sim.invoices("c1", "in", DateWindow(date(2025, 2, 1), date(2025, 3, 1)))
    first = _result(_call(base, _search_request(size=10)))
    assert _m(first, "Result") == "Success"
    total = len(expected)
    assert (_m(first, "PagingResponse/TotalRecords"), _m(first, "PagingResponse/CurrentPage")) == (str(total), "1")
    assert _m(first, "PagingResponse/TotalPages") == str(-(-total // 10))
    seen = []
    for page in range(1, -(-total // 10) + 1):
        seen += [_m(i, "ETTN") for i in _invoices(_result(_call(base, _search_request(size=10, page=page))))]
    assert sorted(seen) == sorted(i.ettn.upper() for i in expected)
    beyond = _result(_call(base, _search_request(size=10, page=99)))
    assert _invoices(beyond) == [] and _m(beyond, "PagingResponse/CurrentPage") == "99"


def test_invoice_xml_is_base64_ubl_and_incoming_seller_is_the_receiver(served) -> None:
    sim, base = served
    invoice = _invoices(_result(_call(base, _search_request(size=1))))[0]
    incoming = next(i for i in sim.mailbox("c1") if i.ettn.upper() == _m(invoice, "ETTN"))
    assert incoming.direction == "in" and base64.b64decode(_m(invoice, "InvoiceXml")) == incoming.xml
    assert _m(invoice, "Receiver/ReceiverTaxCode") == incoming.supplier_vkn  # the seller, for an incoming invoice
    assert _m(invoice, "Receiver/ReceiverName") == incoming.supplier_name
    assert _m(invoice, "TotalPayableAmount") == f"{incoming.payable:.2f}"
    outgoing = _invoices(_result(_call(base, _search_request(size=1, direction="Outgoing"))))[0]
    sold = next(i for i in sim.mailbox("c1") if i.ettn.upper() == _m(outgoing, "ETTN"))
    assert sold.direction == "out" and _m(outgoing, "Receiver/ReceiverTaxCode") == sold.customer_vkn
    no_xml = _invoices(_result(_call(base, _search_request(size=1, xml=False))))[0]
    assert no_xml.find(f"{{{MODEL}}}InvoiceXml") is None


def test_invoice_details_only_when_asked(served) -> None:
    sim, base = served
    members = [m for m in _search_request(size=1) if m[0] != "ResultSet"]
    members.append(("ResultSet", [("IsArchiveIncluded", "true"), ("IsInvoiceDetailIncluded", "true")]))
    invoice = _invoices(_result(_call(base, members)))[0]
    generated = next(i for i in sim.mailbox("c1") if i.ettn.upper() == _m(invoice, "ETTN"))
    details = invoice.findall(f"{{{MODEL}}}InvoiceDetails/{{{MODEL}}}InvoiceDetail")
    first_line = generated.spec.lines[0]
    assert len(details) == generated.line_count and _m(details[0], "Product/ProductName") == first_line.name
    assert _m(details[0], "LineExtensionAmount") == f"{first_line.line_extension_amount:.2f}"
    assert invoice.find(f"{{{MODEL}}}InvoiceXml") is None


def test_out_of_order_members_are_silently_ignored_like_wcf(served) -> None:
    sim, base = served
    ordered = _search_request(size=100)
    swapped = [m for m in ordered if m[0] not in ("MaxInvoiceDate", "MinInvoiceDate")]
    index = next(i for i, m in enumerate(swapped) if m[0] == "PagingRequest")
    swapped[index:index] = [("MinInvoiceDate", "2025-02-01T00:00:00"), ("MaxInvoiceDate", "2025-02-28T23:59:59")]
    good = int(_m(_result(_call(base, ordered)), "PagingResponse/TotalRecords"))
    loose = int(_m(_result(_call(base, swapped)), "PagingResponse/TotalRecords"))
    everything_after = [i for i in sim.mailbox("c1") if i.direction == "in" and i.issue_date >= date(2025, 2, 1)]
    assert good < loose and loose == len(everything_after)  # the upper bound was lost, without an error
    call = sim.calls_to("SearchInvoice")[-1]
    assert call.ignored == ["MaxInvoiceDate"] and "MaxInvoiceDate" not in call.params


def test_members_in_a_foreign_namespace_are_ignored(served) -> None:
    _sim, base = served
    body = etree.Element(etree.QName(TEM, "SearchInvoice"))
    _members(etree.SubElement(body, etree.QName(TEM, "request")), _search_request(), ns=TEM)
    response = httpx.post(
        base + SERVICE_PATH,
        content=envelope(body),
        headers={"Content-Type": "text/xml", "SOAPAction": f'"{ACTION}SearchInvoice"'},
    )
    result = _result(response)
    assert _m(result, "Result") == "Failed" and "firma bulunamadı" in _m(result, "ErrorMessage")


def test_empty_ettn_returns_the_first_invoice_of_the_account(served) -> None:
    sim, base = served
    result = _result(_call(base, _search_request(first="2025-03-01T00:00:00", extra=[("ETTN", "")])))
    invoices = _invoices(result)
    first = next(i for i in sim.mailbox("c1") if i.direction == "in")
    assert [_m(i, "ETTN") for i in invoices] == [first.ettn.upper()]
    assert first.issue_date < date(2025, 3, 1)  # the date filter was ignored
    nil = _result(_call(base, _search_request(extra=[("ETTN", None)])))  # i:nil is "no filter", not empty
    expected = sim.invoices("c1", "in", DateWindow(date(2025, 2, 1), date(2025, 3, 1)))
    assert _m(nil, "PagingResponse/TotalRecords") == str(len(expected)) and len(expected) > 1


def test_unknown_vkn_and_unwhitelisted_ip_fail_with_result_failed(served) -> None:
    _sim, base = served
    unknown = _result(_call(base, _search_request(vkn="1111111111")))
    assert (_m(unknown, "Result"), _m(unknown, "ErrorMessage")) == (
        "Failed",
        "1111111111 vergi numaralı firma bulunamadı.",
    )
    assert _invoices(unknown) == []
    walled = _result(_call(base, _search_request(vkn=WALLED)))
    assert _m(walled, "Result") == "Failed" and "127.0.0.1 IP adresinin" in _m(walled, "ErrorMessage")


def test_paging_is_mandatory_and_page_size_is_clamped() -> None:
    sim = IsnetSimulator(seed=2, start=START, days=90, per_day=(1, 3), max_page_size=15)
    with running(sim.app) as base:
        no_paging = [m for m in _search_request() if m[0] != "PagingRequest"]
        result = _result(_call(base, no_paging))
        assert (_m(result, "Result"), _m(result, "ErrorMessage")) == ("Failed", "Sayfalama isteği zorunludur.")
        zero = _result(_call(base, _search_request(page=0)))
        assert _m(zero, "Result") == "Failed"
        clamped = _result(_call(base, _search_request(size=500)))
        total = int(_m(clamped, "PagingResponse/TotalRecords"))
        assert len(_invoices(clamped)) == 15 and _m(clamped, "PagingResponse/TotalPages") == str(-(-total // 15))


def test_archived_invoices_need_is_archive_included(served) -> None:
    sim, base = served
    window = DateWindow(date(2025, 1, 1), date(2025, 4, 1))
    expected = sim.invoices("c1", "in", window)
    archived = [i for i in expected if sim.is_archived(i)]
    assert archived
    members = _search_request(first="2025-01-01T00:00:00", last="2025-03-31T23:59:59")
    members = [m for m in members if m[0] != "ResultSet"] + [("ResultSet", [("IsXMLIncluded", "false")])]
    hidden = int(_m(_result(_call(base, members)), "PagingResponse/TotalRecords"))
    assert hidden == len(expected) - len(archived)


def test_wcf_faults_for_wrong_action_body_and_values(served) -> None:
    _sim, base = served
    wrong = _call(base, _search_request(), action="http://tempuri.org/IInvoiceService/Nope")
    assert wrong.status_code == 500 and find_fault(parse_xml(wrong.content, "t")).code == "a:ActionNotSupported"
    bad_enum = _call(base, _search_request(direction="incoming"))
    fault = find_fault(parse_xml(bad_enum.content, "t"))
    assert bad_enum.status_code == 500 and fault.code == "a:DeserializationFailed" and "incoming" in fault.message
    bad_date = _call(base, _search_request(first="01.02.2025"))
    assert find_fault(parse_xml(bad_date.content, "t")).code == "a:DeserializationFailed"


def test_viewer_links_are_http_port_80(served) -> None:
    sim, base = served
    incoming = next(i for i in sim.mailbox("c1") if i.direction == "in")
    members = [("CompanyTaxCode", VKN), ("Ettn", incoming.ettn), ("InvoiceDirection", "Incoming")]
    result = _result(_call(base, members, operation="GetDocumentViewerLink"), "GetDocumentViewerLink")
    assert _m(result, "PdfUrl").startswith("http://") and ":80/" in _m(result, "PdfUrl")
    assert _m(result, "HtmlUrl").startswith("http://") and incoming.ettn in _m(result, "HtmlUrl")


def test_state_changing_operations_are_implemented_and_recorded(served) -> None:
    sim, base = served
    result = _result(_call(base, [("CompanyTaxCode", VKN)], operation="SendInvoiceReply"), "SendInvoiceReply")
    assert _m(result, "Result") == "Success"
    assert "SendInvoiceReply" in sim.STATE_CHANGING_OPERATIONS and sim.calls_to("SendInvoiceReply")


def test_fault_injection_answers_the_queued_bare_statuses_then_recovers() -> None:
    sim = IsnetSimulator(seed=2, start=START, days=2, per_day=(0, 1))
    with running(sim.app) as base:
        sim.fail_next(1)
        sim.fail_next(1, status=500)
        responses = [_call(base, _search_request()) for _ in range(3)]
    assert [r.status_code for r in responses] == [503, 500, 200] and b"Envelope" not in responses[0].content
    assert [(c.operation, c.status) for c in sim.calls] == [("SearchInvoice", s) for s in (503, 500, 200)]
    always = IsnetSimulator(seed=2, start=START, days=2, per_day=(0, 1), fail_rate=1.0)
    with running(always.app) as base:
        assert _call(base, _search_request()).status_code == 503


def test_companies_vkns_and_the_app_state() -> None:
    sim = create_app(seed=4, companies=2, vkns=["2222222222"], start=START, days=3).state.simulator
    vkns = [c.vkn for c in sim.companies.values()]
    assert vkns[0] == TEST_VKN and vkns[2] == "2222222222" and len(set(vkns)) == 3
    again = IsnetSimulator(seed=4, companies=2, vkns=["2222222222"], start=START, days=3)
    assert [i.ettn for i in again.mailbox("c3")] == [i.ettn for i in sim.mailbox("c3")]


def test_simulate_cli_serves_and_prints_the_vkn() -> None:
    port = _free_port()
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("integration-hub")),
            "simulate",
            "isnet",
            "--port",
            str(port),
            "--days",
            "5",
            "--companies",
            "2",
            "--vkn",
            "2222222222",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [process.stdout.readline().strip() for _ in range(4)]
        assert [line.split()[:2] for line in lines[:3:2]] == [
            ["company=c1", f"vkn={VKN}"],
            ["company=c3", "vkn=2222222222"],
        ]
        assert lines[3] == f"serving İşNet InvoiceService on http://127.0.0.1:{port}{SERVICE_PATH}"
        deadline = time.monotonic() + 20
        while True:
            try:
                response = _call(f"http://127.0.0.1:{port}", _search_request(vkn="2222222222"))
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None
                time.sleep(0.1)
        assert _m(_result(response), "Result") == "Success"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
