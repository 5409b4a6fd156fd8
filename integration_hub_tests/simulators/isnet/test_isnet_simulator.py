"""The İşNet simulator over real HTTP with hand-built requests: WCF dispatch, DataContract order and
namespace, identity by VKN, paging quirks, and both readings where the public sources disagree."""

from __future__ import annotations

import base64
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

import httpx
import pytest
from lxml import etree

from integration_hub.connectors.base import DateWindow
from integration_hub.simulators.efatura.soap import SOAP11_NS
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


def _post(base: str, body: etree._Element, action: str) -> httpx.Response:
    envelope = etree.Element(etree.QName(SOAP11_NS, "Envelope"), nsmap={"s": SOAP11_NS})
    etree.SubElement(envelope, etree.QName(SOAP11_NS, "Body")).append(body)
    return httpx.post(
        base + SERVICE_PATH,
        content=etree.tostring(envelope, xml_declaration=True, encoding="utf-8"),
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{action}"'},
    )


def _call(base: str, members: list[Member] | None, operation: str = "SearchInvoice", action: str | None = None):
    body = etree.Element(etree.QName(TEM, operation), nsmap={"tem": TEM, "ein": MODEL})
    if members is not None:
        _members(etree.SubElement(body, etree.QName(TEM, "request")), members)
    return _post(base, body, ACTION + operation if action is None else action)


def _body(response: httpx.Response) -> etree._Element:
    return etree.fromstring(response.content).find(f"{{{SOAP11_NS}}}Body")


def _result(response: httpx.Response, operation: str = "SearchInvoice") -> etree._Element:
    assert response.status_code == 200, response.text[:400]
    return _body(response).find(f"{{{TEM}}}{operation}Response/{{{TEM}}}{operation}Result")


def _fault(response: httpx.Response) -> tuple[int, str, str]:
    """(HTTP status, faultcode, faultstring) of a SOAP 1.1 fault answer."""
    fault = _body(response).find(f"{{{SOAP11_NS}}}Fault")
    return response.status_code, fault.findtext("faultcode"), fault.findtext("faultstring")


def _m(element: etree._Element, path: str) -> str:
    return element.findtext("/".join(f"{{{MODEL}}}{p}" for p in path.split("/"))) or ""


def _invoices(result: etree._Element) -> list[etree._Element]:
    return result.findall(f"{{{MODEL}}}Invoices/{{{MODEL}}}Invoice")


def test_search_pages_are_one_based_with_paging_response(served) -> None:
    sim, base = served
    expected = sim.invoices("c1", "in", DateWindow(date(2025, 2, 1), date(2025, 3, 1)))
    first = _result(_call(base, _search_request(size=10)))
    assert (_m(first, "Result"), _m(first, "ErrorMessage")) == ("Success", "")
    total = len(expected)
    assert (_m(first, "PagingResponse/TotalNumberOfRecords"), _m(first, "PagingResponse/PageNumber")) == (
        str(total),
        "1",
    )
    assert _m(first, "PagingResponse/TotalNumberOfPages") == str(-(-total // 10))
    seen = []
    for page in range(1, -(-total // 10) + 1):
        seen += [_m(i, "ETTN") for i in _invoices(_result(_call(base, _search_request(size=10, page=page))))]
    assert sorted(seen) == sorted(i.ettn.upper() for i in expected)
    beyond = _result(_call(base, _search_request(size=10, page=99)))
    assert _invoices(beyond) == [] and _m(beyond, "PagingResponse/PageNumber") == "99"


def test_invoice_xml_is_base64_ubl_and_incoming_seller_is_the_receiver(served) -> None:
    sim, base = served
    invoice = _invoices(_result(_call(base, _search_request(size=1))))[0]
    incoming = next(i for i in sim.mailbox("c1") if i.ettn.upper() == _m(invoice, "ETTN"))
    assert incoming.direction == "in" and base64.b64decode(_m(invoice, "InvoiceXml")) == incoming.xml
    assert _m(invoice, "Receiver/ReceiverTaxCode") == incoming.supplier_vkn  # the seller, for an incoming invoice
    assert _m(invoice, "Receiver/ReceiverName") == incoming.supplier_name
    assert _m(invoice, "TotalPayableAmount") == f"{incoming.payable:.2f}"
    assert _m(invoice, "TotalVATAmount") == f"{incoming.spec.tax_amount:.2f}"
    assert _m(invoice, "InvoiceDate") == datetime.combine(incoming.issue_date, incoming.spec.issue_time).isoformat()
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
    assert (_m(details[0], "VATRate"), _m(details[0], "Quantity")) == (
        str(first_line.tax_percent),
        str(first_line.quantity),
    )
    assert invoice.find(f"{{{MODEL}}}InvoiceXml") is None


def test_out_of_order_members_are_silently_ignored_like_wcf(served) -> None:
    sim, base = served
    ordered = _search_request(size=100)
    swapped = [m for m in ordered if m[0] not in ("MaxInvoiceDate", "MinInvoiceDate")]
    index = next(i for i, m in enumerate(swapped) if m[0] == "PagingRequest")
    swapped[index:index] = [("MinInvoiceDate", "2025-02-01T00:00:00"), ("MaxInvoiceDate", "2025-02-28T23:59:59")]
    good = int(_m(_result(_call(base, ordered)), "PagingResponse/TotalNumberOfRecords"))
    loose = int(_m(_result(_call(base, swapped)), "PagingResponse/TotalNumberOfRecords"))
    everything_after = [i for i in sim.mailbox("c1") if i.direction == "in" and i.issue_date >= date(2025, 2, 1)]
    assert good < loose and loose == len(everything_after)  # the upper bound was lost, without an error
    call = sim.calls_to("SearchInvoice")[-1]
    assert call.ignored == ["MaxInvoiceDate"] and "MaxInvoiceDate" not in call.params


@pytest.mark.parametrize("namespace", [TEM, None], ids=["tempuri", "unqualified"])
def test_members_outside_the_datacontract_namespace_are_skipped(served, namespace) -> None:
    sim, base = served
    body = etree.Element(etree.QName(TEM, "SearchInvoice"))
    _members(etree.SubElement(body, etree.QName(TEM, "request")), _search_request(), ns=namespace)
    result = _result(_post(base, body, ACTION + "SearchInvoice"))
    assert _m(result, "Result") == "Failed" and "firma bulunamadı" in _m(result, "ErrorMessage")
    call = sim.calls_to("SearchInvoice")[-1]
    assert call.params == {} and call.ignored[:2] == ["CompanyTaxCode", "InvoiceDirection"]


def test_one_unqualified_member_is_lost_without_an_error(served) -> None:
    sim, base = served
    body = etree.Element(etree.QName(TEM, "SearchInvoice"))
    request = etree.SubElement(body, etree.QName(TEM, "request"))
    _members(request, [m for m in _search_request() if m[0] != "PagingRequest"][:4])
    etree.SubElement(request, "PagingRequest")  # no namespace: not the member
    result = _result(_post(base, body, ACTION + "SearchInvoice"))
    assert (_m(result, "Result"), _m(result, "ErrorMessage")) == ("Failed", "Sayfalama isteği zorunludur.")
    assert sim.calls_to("SearchInvoice")[-1].ignored == ["PagingRequest"]


def test_empty_ettn_returns_the_first_invoice_of_the_account(served) -> None:
    sim, base = served
    result = _result(_call(base, _search_request(first="2025-03-01T00:00:00", extra=[("Ettn", "")])))
    invoices = _invoices(result)
    first = next(i for i in sim.mailbox("c1") if i.direction == "in")
    assert [_m(i, "ETTN") for i in invoices] == [first.ettn.upper()]
    assert first.issue_date < date(2025, 3, 1)  # the date filter was ignored
    nil = _result(_call(base, _search_request(extra=[("Ettn", None)])))  # i:nil is "no filter", not empty
    expected = sim.invoices("c1", "in", DateWindow(date(2025, 2, 1), date(2025, 3, 1)))
    assert _m(nil, "PagingResponse/TotalNumberOfRecords") == str(len(expected)) and len(expected) > 1
    # NetteFatura-API's hand-written "ETTN" is no member of the WSDL's request: skipped, the range applies
    upper = _result(_call(base, _search_request(extra=[("ETTN", "")])))
    assert _m(upper, "PagingResponse/TotalNumberOfRecords") == str(len(expected))
    assert sim.calls_to("SearchInvoice")[-1].ignored == ["ETTN"]


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
        total = int(_m(clamped, "PagingResponse/TotalNumberOfRecords"))
        assert len(_invoices(clamped)) == 15
        assert _m(clamped, "PagingResponse/TotalNumberOfPages") == str(-(-total // 15))


def test_archived_invoices_need_is_archive_included(served) -> None:
    sim, base = served
    window = DateWindow(date(2025, 1, 1), date(2025, 4, 1))
    expected = sim.invoices("c1", "in", window)
    archived = [i for i in expected if sim.is_archived(i)]
    assert archived
    members = _search_request(first="2025-01-01T00:00:00", last="2025-03-31T23:59:59")
    members = [m for m in members if m[0] != "ResultSet"] + [("ResultSet", [("IsXMLIncluded", "false")])]
    hidden = int(_m(_result(_call(base, members)), "PagingResponse/TotalNumberOfRecords"))
    assert hidden == len(expected) - len(archived)


@pytest.mark.parametrize(
    "action",
    ["http://tempuri.org/IInvoiceService/Nope", "SearchInvoice", "http://tempuri.org/SearchInvoice", ""],
)
def test_an_action_no_operation_has_is_action_not_supported(served, action) -> None:
    sim, base = served
    status, code, message = _fault(_call(base, _search_request(), action=action))
    assert (status, code) == (500, "a:ActionNotSupported") and f"Action '{action}'" in message
    assert sim.calls[-1].outcome == "ActionNotSupported"


def test_a_body_or_value_the_serializer_cannot_read_is_deserialization_failed(served) -> None:
    _sim, base = served
    wrong_body = etree.Element(etree.QName(MODEL, "SearchInvoice"))  # the wrapper outside tempuri.org
    status, code, message = _fault(_post(base, wrong_body, ACTION + "SearchInvoice"))
    assert (status, code) == (500, "a:DeserializationFailed") and "OperationFormatter" in message
    for members, value in (
        (_search_request(direction="incoming"), "incoming"),
        (_search_request(first="01.02.2025"), "01.02.2025"),
        (_search_request(page="bir"), "bir"),
        ([*_search_request()[:-1], ("ResultSet", [("IsXMLIncluded", "yes")])], "yes"),
    ):
        status, code, message = _fault(_call(base, members))
        assert (status, code) == (500, "a:DeserializationFailed") and f"'{value}'" in message


def test_unreadable_and_hostile_xml_are_a_bare_400(served) -> None:
    _sim, base = served
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    for content in (b"<s:Envelope", bomb):
        response = httpx.post(base + SERVICE_PATH, content=content, headers={"SOAPAction": ACTION + "SearchInvoice"})
        assert response.status_code == 400 and b"aaaa" not in response.content


def test_bare_dates_are_read_as_midnight_which_the_datetime_reading_tells_apart() -> None:
    """NetteFatura's samples send bare dates; the WSDL types them xs:dateTime. A bare MaxInvoiceDate is
    the last day's 00:00: in the "datetime" reading the invoices issued later that day are not found,
    in the "date" reading they are; date-times up to 23:59:59 find them in both."""
    window = DateWindow(date(2025, 2, 1), date(2025, 2, 11))  # 1..10 February
    totals: dict[str, dict[str, int]] = {}
    for dates in ("datetime", "date"):
        sim = IsnetSimulator(seed=5, start=START, days=90, per_day=(1, 3), dates=dates)
        with running(sim.app) as base:
            totals[dates] = {
                kind: int(
                    _m(
                        _result(_call(base, _search_request(first=first, last=last))),
                        "PagingResponse/TotalNumberOfRecords",
                    )
                )
                for kind, first, last in (
                    ("bare", "2025-02-01", "2025-02-10"),
                    ("datetime", "2025-02-01T00:00:00", "2025-02-10T23:59:59"),
                )
            }
    inside = sim.invoices("c1", "in", window)
    last_day = [i for i in inside if i.issue_date == window.last]
    assert last_day and totals["date"] == {"bare": len(inside), "datetime": len(inside)}
    assert totals["datetime"] == {"bare": len(inside) - len(last_day), "datetime": len(inside)}


def test_the_nettefatura_answer_model_nests_result_and_renames_paging() -> None:
    sim = IsnetSimulator(seed=5, start=START, days=30, per_day=(1, 3), answer_model="nettefatura")
    with running(sim.app) as base:
        ok = _result(_call(base, _search_request(first="2025-01-01T00:00:00", last="2025-01-31T23:59:59", size=5)))
        failed = _result(_call(base, _search_request(vkn="1111111111")))
    assert (_m(ok, "Result/IsSuccess"), _m(ok, "PagingResponse/CurrentPage")) == ("true", "1")
    total = len(sim.invoices("c1", "in", DateWindow(date(2025, 1, 1), date(2025, 1, 31))))
    assert _m(ok, "PagingResponse/TotalRecords") == str(total) and len(_invoices(ok)) == 5
    assert (_m(failed, "Result/IsSuccess"), _m(failed, "Result/ErrorMessage")) == (
        "false",
        "1111111111 vergi numaralı firma bulunamadı.",
    )
    assert failed.find(f"{{{MODEL}}}ErrorMessage") is None  # not a sibling in this reading


def test_viewer_links_are_http_port_80(served) -> None:
    sim, base = served
    incoming = next(i for i in sim.mailbox("c1") if i.direction == "in")
    members = [("CompanyTaxCode", VKN), ("Ettn", incoming.ettn), ("InvoiceDirection", "Incoming")]
    result = _result(_call(base, members, operation="GetDocumentViewerLink"), "GetDocumentViewerLink")
    assert _m(result, "Result") == "Success"
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
