"""The Uyumsoft-family simulator spoken to with raw SOAP over HTTP, written from the published WSDL/XSDs:
what a real client would see. Every answer with a body (HTTP 200) is validated against the XSDs by the
test's own loader (:mod:`integration_hub_tests.connectors.uyumsoft.contract`)."""

from __future__ import annotations

import base64
import math
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from lxml import etree

from integration_hub.simulators import crs
from integration_hub.simulators.server import running
from integration_hub.simulators.uyumsoft import UyumsoftSimulator, create_app
from integration_hub_tests.connectors.uyumsoft.contract import DIRECTORY, body_element, errors, soap_actions

NS = "http://tempuri.org/"
PATH = "/Services/Integration"  # Integration.wsdl soap:address
START = date(2025, 1, 1)
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
TOKEN_PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
NIL = ' xmlns:i="http://www.w3.org/2001/XMLSchema-instance" i:nil="true"'
INVALID_SECURITY = ("a:InvalidSecurity", "An error occurred when verifying security for the message.")


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def security(username: str, password: str, *, timestamp: str | None = "now", kind: str = "PasswordText") -> str:
    """A ``wsse:Security`` header; ``timestamp`` ``now``/``expired``/``future`` or ``None`` for none."""
    now = datetime.now(UTC)
    created = {"now": now, "expired": now - timedelta(hours=1), "future": now + timedelta(hours=1)}.get(timestamp)
    stamp = (
        f'<u:Timestamp u:Id="_0"><u:Created>{_stamp(created)}</u:Created>'
        f"<u:Expires>{_stamp(created + timedelta(minutes=5))}</u:Expires></u:Timestamp>"
        if created is not None
        else ""
    )
    return (
        f'<o:Security xmlns:o="{WSSE}" xmlns:u="{WSU}" s:mustUnderstand="1">{stamp}<o:UsernameToken>'
        f'<o:Username>{username}</o:Username><o:Password Type="{TOKEN_PROFILE}#{kind}">{password}</o:Password>'
        "</o:UsernameToken></o:Security>"
    )


def list_query(
    direction: str, first: str | None = None, last: str | None = None, *, index: int = 0, size: int = 25, **more
) -> str:
    """An ``Inbox``/``OutboxInvoiceListQueryModel`` with every required element, nil where unset."""

    def value(name: str, text: str | None) -> str:
        return f"<{name}>{text}</{name}>" if text is not None else f"<{name}{NIL}/>"

    attrs = f'PageIndex="{index}" PageSize="{size}"'
    if direction == "in":
        attrs += f' OnlyNewestInvoices="{more.get("only_newest", "false")}"'
    ids = "".join(f"<InvoiceIds>{i}</InvoiceIds>" for i in more.get("ids", ()))
    body = (
        value("ExecutionStartDate", first)
        + value("ExecutionEndDate", last)
        + value("CreateStartDate", None)
        + value("CreateEndDate", None)
        + value("Status", None)
        + ids
        + value("SortColumn", more.get("sort", "CreateDate"))
        + value("SortMode", "Ascending")
        + value("IsArchived", None)
        + (value("Scenario", None) if direction == "out" else "")
    )
    return f"<query {attrs}>{body}</query>"


def data_query(direction: str, ids: list[str], *, index: int = 0, size: int = 50, set_taken: str = "false") -> str:
    """An ``InboxInvoiceQueryModel`` / ``InvoiceQueryModel`` naming ETTNs, one ``InvoiceIds`` each."""
    attrs = f'PageIndex="{index}" PageSize="{size}"'
    if direction == "in":
        attrs += f' SetTaken="{set_taken}" OnlyNewestInvoices="false"'
    ids_xml = "".join(f"<InvoiceIds>{i}</InvoiceIds>" for i in ids)
    return f"<query {attrs}><ExecutionStartDate{NIL}/><ExecutionEndDate{NIL}/>{ids_xml}</query>"


def strings(name: str, values: list[str]) -> str:
    """An ``ArrayOfString`` parameter (operation parameters typed ``string[]``)."""
    return f"<{name}>" + "".join(f"<string>{v}</string>" for v in values) + f"</{name}>"


class Client:
    """Raw SOAP against one served simulator; validates every HTTP 200 answer against the XSDs."""

    def __init__(self, sim: UyumsoftSimulator, base: str, slug: str = "company-1") -> None:
        self.sim = sim
        self.url = base + PATH
        account = sim.accounts[slug]
        self.username, self.password = account.username, account.password

    def post(
        self,
        operation: str,
        inner: str = "",
        *,
        header: str | None = None,
        password: str | None = None,
        action: str | None = None,
    ) -> tuple[int, etree._Element]:
        if header is None:
            header = security(self.username, password or self.password)
        envelope = (
            f'<s:Envelope xmlns:s="{SOAP11}"><s:Header>{header}</s:Header><s:Body>'
            f'<{operation} xmlns="{NS}">{inner}</{operation}></s:Body></s:Envelope>'
        )
        response = httpx.post(
            self.url,
            content=envelope.encode(),
            headers={
                "Content-Type": "text/xml; charset=utf-8",
                "SOAPAction": f'"{action or soap_actions().get(operation, NS + "IIntegration/" + operation)}"',
            },
        )
        if response.status_code == 200:
            assert errors(body_element(response.content)) == [], f"{operation} answer is not XSD-valid"
        return response.status_code, etree.fromstring(response.content)


def _result(root: etree._Element, operation: str) -> etree._Element:
    return root.find(f"{{{SOAP11}}}Body/{{{NS}}}{operation}Response/{{{NS}}}{operation}Result")


def _value(root: etree._Element, operation: str) -> etree._Element | None:
    return _result(root, operation).find(f"{{{NS}}}Value")


def _fault(root: etree._Element) -> tuple[str, str]:
    fault = root.find(f"{{{SOAP11}}}Body/{{{SOAP11}}}Fault")
    return fault.findtext("faultcode"), fault.findtext("faultstring")


def _rows(value: etree._Element) -> list[etree._Element]:
    return value.findall(f"{{{NS}}}Items")


def _field(row: etree._Element, name: str) -> str | None:
    return row.findtext(f"{{{NS}}}{name}")


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


def test_metadata_is_the_published_wsdl_and_xsds_at_this_address(served) -> None:
    sim, base = served
    before = len(sim.calls)
    published = "https://efatura-test.uyumsoft.com.tr/Services/Integration"
    wsdl = httpx.get(base + PATH + "?wsdl")
    assert wsdl.status_code == 200 and wsdl.headers["content-type"].startswith("text/xml")
    assert wsdl.content == (DIRECTORY / "Integration.wsdl").read_bytes().replace(
        published.encode(), (base + PATH).encode()
    )
    xsd = httpx.get(base + PATH + "?xsd=xsd0")
    assert xsd.content == (DIRECTORY / "Integration2.xsd").read_bytes().replace(
        published.encode(), (base + PATH).encode()
    )
    assert f'schemaLocation="{base}{PATH}?xsd=xsd1"'.encode() in xsd.content
    assert len(sim.calls) == before  # metadata requests are not operations


def test_the_security_policy_is_enforced_as_wcf_does(served) -> None:
    sim, base = served
    client = Client(sim, base)
    user, password = client.username, client.password
    before = len(sim.calls)
    refused = {
        "no header": "",
        "no timestamp": security(user, password, timestamp=None),
        "expired timestamp": security(user, password, timestamp="expired"),
        "timestamp from the future": security(user, password, timestamp="future"),
        "password digest": security(user, password, kind="PasswordDigest"),
    }
    for case, header in refused.items():
        status, root = client.post("WhoAmI", header=header)
        assert (status, _fault(root)) == (500, INVALID_SECURITY), case
        code = root.find(f"{{{SOAP11}}}Body/{{{SOAP11}}}Fault/faultcode")
        assert code.nsmap["a"] == WSSE

    status, root = client.post("GetInboxInvoiceList", list_query("in"), password="wrong")
    assert (status, _fault(root)) == (500, ("s:Client", "Bu sisteme erişmek için gerekli yetkiniz yok"))

    status, root = client.post("WhoAmI")
    value = _value(root, "WhoAmI")
    assert status == 200 and value.findtext(f"{{{NS}}}Customer/{{{NS}}}VkTckNo") == sim.accounts["company-1"].vkn
    assert value.findtext(f"{{{NS}}}User/{{{NS}}}Username") == user
    assert [c.outcome for c in sim.calls[before:]] == ["fault: a:InvalidSecurity"] * 5 + ["fault: s:Client", "ok"]


def test_unauthorized_can_also_come_back_as_an_application_failure() -> None:
    app = create_app(seed=4, companies=1, start=START, days=3, unauthorized_as="result")
    with running(app) as base:
        status, root = Client(app.state.simulator, base).post("TestConnection", password="nope")
        result = _result(root, "TestConnection")
        assert status == 200 and (result.get("IsSucceded"), result.get("Message")) == ("false", "Unauthorized")


def test_dispatch_by_soap_action_answers_action_not_supported(served) -> None:
    sim, base = served
    client = Client(sim, base)
    cases = [
        ("WhoAmI", "http://tempuri.org/IIntegration/NoSuchOperation"),  # not in the WSDL
        ("WhoAmI", soap_actions()["TestConnection"]),  # an action whose body element is another
        ("WhoAmI", "http://tempuri.org/WhoAmI"),  # the right name under the wrong prefix
    ]
    for operation, action in cases:
        status, root = client.post(operation, action=action)
        code, text = _fault(root)
        assert (status, code) == (500, "a:ActionNotSupported") and f"Action '{action}'" in text
        assert "ContractFilter" in text


@pytest.mark.parametrize(
    ("case", "operation", "inner"),
    [
        ("CreateStartDate left out", "GetInboxInvoiceList", list_query("in").replace(f"<CreateStartDate{NIL}/>", "")),
        (
            "Scenario left out of the outbox query",
            "GetOutboxInvoiceList",
            list_query("out").replace(f"<Scenario{NIL}/>", ""),
        ),
        ("a date that is no xs:dateTime", "GetInboxInvoiceList", list_query("in", "yesterday")),
        ("SortColumn outside its enumeration", "GetOutboxInvoiceList", list_query("out", sort="Amount")),
        (
            "the required OnlyNewestInvoices attribute missing",
            "GetInboxInvoiceList",
            list_query("in").replace(' OnlyNewestInvoices="false"', ""),
        ),
        (
            "InvoiceIds wrapped as an ArrayOfString",
            "GetOutboxInvoicesData",
            '<query PageIndex="0" PageSize="5"><ExecutionStartDate'
            + NIL
            + "/><ExecutionEndDate"
            + NIL
            + "/><InvoiceIds><string>x</string></InvoiceIds></query>",
        ),
        (
            "ArrayOfString items in WCF's Arrays namespace",
            "QueryOutboxInvoiceStatus",
            '<invoiceIds><string xmlns="http://schemas.microsoft.com/2003/10/Serialization/Arrays">x</string></invoiceIds>',
        ),
        ("an element the operation does not have", "WhoAmI", "<query/>"),
    ],
)
def test_a_body_the_xsd_refuses_is_a_deserialization_fault(served, case, operation, inner) -> None:
    sim, base = served
    status, root = Client(sim, base).post(operation, inner)
    code, text = _fault(root)
    assert (status, code) == (500, "a:DeserializationFailed"), case
    assert f"deserialize parameter {NS}:{operation}" in text
    assert sim.calls[-1].outcome == "fault: a:DeserializationFailed"


def test_listing_pages_with_inclusive_datetime_bounds(served) -> None:
    sim, base = served
    client = Client(sim, base)
    window = [date(2025, 1, 5) + timedelta(days=d) for d in range(30)]
    wanted = sim.invoices("company-1", "in", window)
    first, last = "2025-01-05T00:00:00", "2025-02-03T23:59:59"
    pages = math.ceil(len(wanted) / 25)
    assert pages >= 2

    seen: list[str] = []
    for index in range(pages + 1):
        status, root = client.post("GetInboxInvoiceList", list_query("in", first, last, index=index, size=500))
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
        rows = _rows(value)
        if index == pages:
            assert rows == []  # past the end: no Items at all
        seen.extend(_field(row, "InvoiceId") for row in rows)
    assert sorted(seen) == sorted(i.ettn for i in wanted)

    # A date-only end (midnight) loses the last day's invoices issued after 00:00:00.
    status, root = client.post("GetInboxInvoiceList", list_query("in", first, "2025-02-03T00:00:00"))
    total = int(_value(root, "GetInboxInvoiceList").get("TotalCount"))
    mailbox = sim.mailboxes["company-1"]
    later = [
        i for i in wanted if i.issue_date == date(2025, 2, 3) and mailbox.execution_date(i).time() > datetime.min.time()
    ]
    assert later and total == len(wanted) - len(later)


def test_list_rows_carry_the_platform_fields_as_child_elements(served) -> None:
    sim, base = served
    client = Client(sim, base)
    statuses = set()
    for direction, operation in (("in", "GetInboxInvoiceList"), ("out", "GetOutboxInvoiceList")):
        status, root = client.post(operation, list_query(direction))
        rows = _rows(_value(root, operation))
        assert status == 200 and len(rows) == 25
        for row in rows:
            assert row.attrib == {}  # fields are elements, never attributes
            invoice = sim.mailboxes["company-1"].find(direction, _field(row, "InvoiceId"))
            assert invoice is not None and _field(row, "DocumentId") == invoice.number and len(invoice.number) == 16
            assert _field(row, "PayableAmount") == str(invoice.payable)
            assert _field(row, "TargetTcknVkn") == (invoice.supplier_vkn if direction == "in" else invoice.customer_vkn)
            statuses.add(_field(row, "Status"))
        assert (_field(rows[0], "IsNew") is not None) == (direction == "in")
        assert (_field(rows[0], "Scenario") is not None) == (direction == "out")
    assert "WaitingForAprovement" in statuses


def test_documents_single_and_bulk(served) -> None:
    sim, base = served
    client = Client(sim, base)
    outgoing = [i for i in sim.mailboxes["company-1"].invoices if i.direction == "out"]
    invoice = outgoing[0]

    status, root = client.post("GetOutboxInvoiceData", f"<invoiceId>{invoice.ettn.upper()}</invoiceId>")
    value = _value(root, "GetOutboxInvoiceData")
    assert status == 200 and value.get("InvoiceId") == invoice.ettn
    assert base64.b64decode(value.findtext(f"{{{NS}}}Data")) == invoice.xml

    status, root = client.post("GetInboxInvoiceData", f"<invoiceId>{invoice.ettn}</invoiceId>")
    result = _result(root, "GetInboxInvoiceData")  # an outgoing ETTN is unknown in the inbox
    assert status == 200 and result.get("IsSucceded") == "false" and invoice.ettn in result.get("Message")

    ids = [i.ettn for i in outgoing[:30]]
    status, root = client.post("GetOutboxInvoicesData", data_query("out", ids, index=1, size=30))
    value = _value(root, "GetOutboxInvoicesData")
    assert (value.get("TotalCount"), value.get("TotalPages"), value.get("PageSize")) == ("30", "2", "25")
    items = _rows(value)
    by_id = {i.ettn: i for i in outgoing}
    assert len(items) == 5
    assert all(base64.b64decode(item.findtext(f"{{{NS}}}Data")) == by_id[item.get("InvoiceId")].xml for item in items)


def test_state_changes_are_recorded_and_visible(served) -> None:
    sim, base = served
    client = Client(sim, base, slug="company-2")
    earlier = len(sim.state_changes())
    ids = [i.ettn for i in sim.mailboxes["company-2"].invoices if i.direction == "in"][:3]

    def newest() -> int:
        _, root = client.post("GetInboxInvoiceList", list_query("in", only_newest="true"))
        return int(_value(root, "GetInboxInvoiceList").get("TotalCount"))

    unread = newest()
    status, _ = client.post("GetInboxInvoicesData", data_query("in", ids[:1], set_taken="true"))
    assert status == 200 and newest() == unread - 1
    status, _ = client.post("SetInvoicesTaken", strings("invoices", ids[1:]))
    assert status == 200 and newest() == unread - 3
    assert [c.operation for c in sim.state_changes()[earlier:]] == ["GetInboxInvoicesData", "SetInvoicesTaken"]

    status, root = client.post("SendInvoice")  # in the WSDL, not offered here, but a caller is still caught
    assert status == 500 and _fault(root)[0] == "a:ActionNotSupported"
    assert sim.state_changes()[-1].operation == "SendInvoice"


def test_every_served_operation_answers_xsd_valid_success_and_failure(served) -> None:
    """Each operation the simulator implements, once succeeding and once failing at application level
    (``IsSucceded="false"``); :class:`Client` validates every answer against the XSDs."""
    sim, base = served
    client = Client(sim, base)
    mailbox = sim.mailboxes["company-1"]
    ettn = {d: next(i.ettn for i in mailbox.invoices if i.direction == d) for d in ("in", "out")}
    success = {
        "TestConnection": "",
        "WhoAmI": "",
        "GetUserAliasses": f"<vknTckn>{sim.accounts['company-1'].vkn}</vknTckn>",
        "SetInvoicesTaken": strings("invoices", []),
        **{f"Get{b}InvoiceList": list_query(d) for d, b in (("in", "Inbox"), ("out", "Outbox"))},
        **{f"Get{b}InvoicesData": data_query(d, [ettn[d]]) for d, b in (("in", "Inbox"), ("out", "Outbox"))},
        **{f"Get{b}InvoiceData": f"<invoiceId>{ettn[d]}</invoiceId>" for d, b in (("in", "Inbox"), ("out", "Outbox"))},
        **{f"Query{b}InvoiceStatus": strings("invoiceIds", [ettn[d]]) for d, b in (("in", "Inbox"), ("out", "Outbox"))},
    }
    for operation, inner in success.items():
        status, root = client.post(operation, inner)
        assert status == 200 and _result(root, operation).get("IsSucceded") == "true", operation
    failing = {
        "GetInboxInvoiceList": "",  # no query at all
        "GetOutboxInvoicesData": "",
        "GetInboxInvoiceData": "<invoiceId>no-such-invoice</invoiceId>",
        "GetOutboxInvoiceData": "<invoiceId>no-such-invoice</invoiceId>",
    }
    for operation, inner in failing.items():
        status, root = client.post(operation, inner)
        assert status == 200 and _result(root, operation).get("IsSucceded") == "false", operation
    app = create_app(seed=4, companies=1, start=START, days=3, unauthorized_as="result")
    with running(app) as other:
        refused = Client(app.state.simulator, other)
        for operation, inner in success.items():  # Unauthorized as a failed Response of every operation
            status, root = refused.post(operation, inner, password="wrong")
            assert status == 200 and _result(root, operation).get("Message") == "Unauthorized", operation


def test_injected_failures_are_bare_http_errors_with_the_queued_status(served) -> None:
    sim, base = served
    client = Client(sim, base)
    before = len(sim.calls)
    sim.fail_next(1)
    sim.fail_next(1, status=500)
    for expected in (503, 500):
        response = httpx.post(
            client.url,
            content=(
                f'<s:Envelope xmlns:s="{SOAP11}"><s:Header>{security(client.username, client.password)}</s:Header>'
                f'<s:Body><WhoAmI xmlns="{NS}"/></s:Body></s:Envelope>'
            ).encode(),
            headers={"SOAPAction": f'"{soap_actions()["WhoAmI"]}"', "Content-Type": "text/xml"},
        )
        assert response.status_code == expected and b"Fault" not in response.content
    assert client.post("WhoAmI")[0] == 200
    assert [c.outcome for c in sim.calls[before:]] == ["injected", "injected", "ok"]


def test_without_bulk_data_the_bulk_operation_is_not_offered() -> None:
    app = create_app(seed=4, companies=1, start=START, days=3, bulk_data=False)
    with running(app) as base:
        status, root = Client(app.state.simulator, base).post("GetInboxInvoicesData", data_query("in", ["x"]))
        assert status == 500 and _fault(root)[0] == "a:ActionNotSupported"


def test_crs_accepts_user_info_body_auth_uyumsoft_does_not(served, served_crs) -> None:
    for (sim, base), accepted in ((served_crs, True), (served, False)):
        client = Client(sim, base)
        user_info = f'<userInfo Username="{client.username}" Password="{client.password}"/>'
        status, root = client.post("GetOutboxInvoiceList", user_info + list_query("out"), header="")
        if accepted:
            assert status == 200 and _result(root, "GetOutboxInvoiceList").get("IsSucceded") == "true"
            assert sim.calls[-1].params["auth"] == "user_info"
        else:
            assert (status, _fault(root)) == (500, INVALID_SECURITY)
        # The rest of the body is still checked against the XSD.
        status, root = client.post("GetOutboxInvoiceList", user_info + "<query/>", header="")
        assert status == 500 and _fault(root)[0] == ("a:DeserializationFailed" if accepted else "a:InvalidSecurity")


def test_empty_listing_crs_has_no_value_uyumsoft_has_no_items(served, served_crs) -> None:
    for (sim, base), has_value in ((served, True), (served_crs, False)):
        _, root = Client(sim, base).post(
            "GetInboxInvoiceList", list_query("in", "2020-01-01T00:00:00", "2020-01-31T23:59:59")
        )
        value = _value(root, "GetInboxInvoiceList")
        if has_value:
            assert value.get("TotalCount") == "0" and value.get("TotalPages") == "0" and len(value) == 0
        else:
            assert value is None


def test_user_aliases_keeps_its_spelling(served_crs) -> None:
    sim, base = served_crs
    client = Client(sim, base)
    vkn = sim.accounts["company-1"].vkn
    _, root = client.post("GetUserAliasses", f"<vknTckn>{vkn}</vknTckn>")
    alias = _value(root, "GetUserAliasses").find(f"{{{NS}}}ReceiverboxAliases")
    assert alias is not None and vkn in alias.get("Alias")
    _, root = client.post("GetUserAliasses", "<vknTckn>1111111111</vknTckn>")
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
    arguments = ["simulate", name, "--port", str(port), "--days", "5", "--companies", "1"]
    process = subprocess.Popen(
        [*command, *arguments, "--credentials", "demo:Demo-Pa55"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines = [process.stdout.readline().strip() for _ in range(3)]
        assert lines[0].startswith("account=company-1 username=company1.ws password=")
        assert lines[1].startswith("account=demo username=demo password=Demo-Pa55 vkn=")
        assert lines[2] == f"serving {name} Integration service on http://127.0.0.1:{port}{PATH}"
        deadline = 50
        while True:
            try:
                body = httpx.post(
                    f"http://127.0.0.1:{port}{PATH}",
                    content=(
                        f'<s:Envelope xmlns:s="{SOAP11}"><s:Header>{security("demo", "Demo-Pa55")}</s:Header>'
                        f'<s:Body><WhoAmI xmlns="{NS}"/></s:Body></s:Envelope>'
                    ).encode(),
                    headers={"SOAPAction": f'"{soap_actions()["WhoAmI"]}"', "Content-Type": "text/xml"},
                )
                break
            except httpx.ConnectError:
                deadline -= 1
                assert deadline, "simulator did not start listening"
                time.sleep(0.1)
        assert body.status_code == 200 and b"<Username>demo</Username>" in body.content
    finally:
        process.terminate()
        process.wait(timeout=10)
