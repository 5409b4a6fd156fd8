"""The EDM simulator over HTTP on 127.0.0.1, spoken to with raw SOAP envelopes."""

from __future__ import annotations

import base64
import io
import os
import socket
import subprocess
import sys
import time
import uuid
import zipfile
from collections import Counter
from datetime import date, datetime

import httpx
import pytest
from lxml import etree

from integration_hub.connectors.base import DateWindow
from integration_hub.connectors.edm import settings
from integration_hub.connectors.efatura.soap import SOAP11_NS, envelope, q, sub
from integration_hub.simulators.edm import EdmAccount, EdmSimulator, create_app
from integration_hub.simulators.edm.mailbox import TURKEY
from integration_hub.simulators.edm.wsdl import INVOICE_HEADER_FIELDS
from integration_hub.simulators.server import running

NS = settings.NAMESPACE
ACME = EdmAccount("acme", "acme.edm", "s3cret-Pa55", "1234567803", "ACME Enerji A.Ş.")
GLOBEX = EdmAccount("globex", "globex.edm", "other-Pa55", "9876543210", "Globex Ltd.")
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def served():
    sim = EdmSimulator(seed=5, accounts=[ACME, GLOBEX], start=date(2025, 1, 1), days=30, per_day=(2, 6))
    with running(create_app(sim)) as base:
        yield sim, base


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _find(element: etree._Element, name: str) -> etree._Element:
    return next(child for child in element if _local(child) == name)


def post(
    base: str,
    operation: str,
    session_id: str = "0",
    fill=None,
    action: str | None = None,
    compressed: str = "N",
) -> httpx.Response:
    body = etree.Element(q(NS, f"{operation}Request"), nsmap={"tem": NS})
    header = sub(body, NS, "REQUEST_HEADER")
    sub(header, NS, "SESSION_ID", session_id)
    sub(header, NS, "CLIENT_TXN_ID", "txn-" + operation)
    sub(header, NS, "COMPRESSED", compressed)
    if fill is not None:
        fill(body)
    return httpx.post(
        base + settings.SERVICE_PATH,
        content=envelope(body),
        headers={
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": f'"{action if action is not None else settings.ACTION_PREFIX + operation}"',
        },
    )


def answer(response: httpx.Response) -> etree._Element:
    root = etree.fromstring(response.content)
    return root.find(q(SOAP11_NS, "Body"))[0]


def login(base: str, account: EdmAccount = ACME) -> str:
    def fill(body):
        sub(body, NS, "USER_NAME", account.username)
        sub(body, NS, "PASSWORD", account.password)

    response = post(base, "Login", fill=fill)
    assert response.status_code == 200
    return _find(answer(response), "SESSION_ID").text


def get_invoice(base: str, session_id: str, header_only: str | None = "N", **search: str) -> httpx.Response:
    def fill(body):
        key = sub(body, NS, "INVOICE_SEARCH_KEY")
        for name, value in search.items():
            sub(key, NS, name, value)
        if header_only is not None:
            sub(body, NS, "HEADER_ONLY", header_only)

    return post(base, "GetInvoice", session_id, fill)


def invoices(response: httpx.Response) -> list[etree._Element]:
    assert response.status_code == 200, response.text
    return [child for child in answer(response) if _local(child) == "INVOICE"]


def fault(response: httpx.Response) -> tuple[str, dict[str, str]]:
    assert response.status_code == 500
    element = answer(response)
    assert element.tag == q(SOAP11_NS, "Fault")
    detail = element.find("detail")
    fields = {_local(c): c.text or "" for c in detail[0]} if detail is not None and len(detail) else {}
    return element.findtext("faultstring"), fields


def test_wsdl_describes_the_operations_and_the_address(served) -> None:
    _, base = served
    response = httpx.get(base + settings.SERVICE_PATH + "?wsdl")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/xml")
    wsdl = etree.fromstring(response.content)
    assert wsdl.get("targetNamespace") == NS
    port_ops = {
        op.get("name") for op in wsdl.iter(q(WSDL_NS, "operation")) if op.getparent().tag == q(WSDL_NS, "portType")
    }
    assert port_ops == {"Login", "Logout", "GetInvoice", "GetInvoiceStatus", "MarkInvoice"}
    soap_ns = "http://schemas.xmlsoap.org/wsdl/soap/"
    actions = {op.get("soapAction") for op in wsdl.iter(q(soap_ns, "operation"))}
    assert actions == {settings.ACTION_PREFIX + op for op in port_ops}
    assert next(wsdl.iter(q(soap_ns, "address"))).get("location") == base + settings.SERVICE_PATH
    assert httpx.get(base + "/EFaturaEDM21ea/EFaturaEDM.svc?singleWsdl").status_code == 200


def test_login_with_bad_credentials_is_a_request_error_fault(served) -> None:
    sim, base = served
    mark = len(sim.calls)

    def fill(body):
        sub(body, NS, "USER_NAME", ACME.username)
        sub(body, NS, "PASSWORD", "wrong-password")

    reason, detail = fault(post(base, "Login", fill=fill))
    assert reason == detail["ERROR_SHORT_DES"] == "Kullanıcı adı veya şifre hatalı."
    assert detail["ERROR_CODE"] == "2001" and detail["ERROR_LONG_DES"] and detail["CLIENT_TXN_ID"] == "txn-Login"
    call = sim.calls[mark]
    assert (call.operation, call.status, call.account) == ("Login", 500, None)
    assert "wrong-password" not in repr(call) and ACME.password not in repr(sim.accounts)


def test_login_returns_a_guid_session_that_every_call_must_carry(served) -> None:
    _, base = served
    response = post(
        base, "Login", fill=lambda b: (sub(b, NS, "USER_NAME", ACME.username), sub(b, NS, "PASSWORD", ACME.password))
    )
    result = answer(response)
    assert _local(result) == "LoginResponse"
    session_id = _find(result, "SESSION_ID").text
    assert str(uuid.UUID(session_id)) == session_id
    request_return = _find(result, "REQUEST_RETURN")
    assert (
        _find(request_return, "RETURN_CODE").text == "0" and _find(request_return, "CLIENT_TXN_ID").text == "txn-Login"
    )

    for session in ("0", "", str(uuid.uuid4())):
        reason, detail = fault(get_invoice(base, session, DIRECTION="IN"))
        assert reason == detail["ERROR_SHORT_DES"] == "Aktif session bulunamadı."
    assert len(invoices(get_invoice(base, session_id, DIRECTION="IN", LIMIT="1"))) == 1

    assert post(base, "Logout", session_id).status_code == 200
    assert fault(get_invoice(base, session_id, DIRECTION="IN"))[0] == "Aktif session bulunamadı."


def test_sessions_expire_after_their_ttl_and_on_demand() -> None:
    clock = Clock()
    sim = EdmSimulator(seed=1, accounts=[ACME], start=date(2025, 1, 1), days=3, session_ttl=60, clock=clock)
    with running(create_app(sim)) as base:
        first = login(base)
        clock.now += 59
        assert get_invoice(base, first, DIRECTION="IN").status_code == 200
        clock.now += 1
        assert fault(get_invoice(base, first, DIRECTION="IN"))[0] == "Aktif session bulunamadı."
        second, third = login(base), login(base)
        assert sim.expire_sessions() == 2
        for session_id in (second, third):
            assert fault(get_invoice(base, session_id, DIRECTION="IN"))[0] == "Aktif session bulunamadı."


def test_get_invoice_filters_by_direction_issue_date_and_creation(served) -> None:
    sim, base = served
    session_id = login(base)
    entries = sim.mailboxes["acme"].entries
    window = DateWindow(date(2025, 1, 5), date(2025, 1, 13))

    def expected(predicate, created_from=None):
        return [
            e.invoice.ettn.upper()
            for e in entries
            if predicate(e) and e.invoice.issue_date in window and (created_from is None or e.cdate >= created_from)
        ]

    for code, predicate in (
        ("IN", lambda e: e.invoice.direction == "in"),
        ("OUT", lambda e: e.invoice.direction == "out"),
        ("OUT-EINVOICE", lambda e: e.invoice.direction == "out" and e.invoice.profile_id != "EARSIVFATURA"),
        ("OUT-EARCHIVE", lambda e: e.invoice.direction == "out" and e.invoice.profile_id == "EARSIVFATURA"),
    ):
        rows = invoices(get_invoice(base, session_id, DIRECTION=code, START_DATE="2025-01-05", END_DATE="2025-01-12"))
        assert [r.get("UUID") for r in rows] == expected(predicate), code
        assert rows, code
    in_rows = expected(lambda e: e.invoice.direction == "in")
    middle = next(e.cdate for e in entries if e.invoice.ettn.upper() == in_rows[len(in_rows) // 2])
    rows = invoices(
        get_invoice(
            base,
            session_id,
            DIRECTION="IN",
            START_DATE="2025-01-05",
            END_DATE="2025-01-12",
            CR_START_DATE=middle.isoformat(),
        )
    )
    assert [r.get("UUID") for r in rows] == expected(lambda e: e.invoice.direction == "in", middle)
    naive = middle.replace(tzinfo=None).isoformat()  # no offset = Turkish time
    same = invoices(
        get_invoice(
            base, session_id, DIRECTION="IN", START_DATE="2025-01-05", END_DATE="2025-01-12", CR_START_DATE=naive
        )
    )
    assert [r.get("UUID") for r in same] == [r.get("UUID") for r in rows]


def test_get_invoice_sorts_by_cdate_caps_at_limit_and_has_same_second_ties(served) -> None:
    sim, base = served
    session_id = login(base)
    rows = invoices(get_invoice(base, session_id, DIRECTION="OUT"))
    assert len(rows) == settings.LIMIT  # LIMIT absent: 100
    cdates = [datetime.fromisoformat(_find(_find(r, "HEADER"), "CDATE").text) for r in rows]
    assert cdates == sorted(cdates) and all(c.utcoffset() == TURKEY.utcoffset(None) for c in cdates)
    assert max(Counter(cdates).values()) >= 3  # several invoices share one CDATE second
    assert len(invoices(get_invoice(base, session_id, DIRECTION="OUT", LIMIT="7"))) == 7
    assert len(invoices(get_invoice(base, session_id, DIRECTION="OUT", LIMIT="5000"))) == 100  # content cap
    headers_only = invoices(get_invoice(base, session_id, header_only="Y", DIRECTION="OUT", LIMIT="5000"))
    assert len(headers_only) == sum(1 for e in sim.mailboxes["acme"].entries if e.invoice.direction == "out")


def test_get_invoice_renders_attributes_header_and_content_only_when_asked(served) -> None:
    sim, base = served
    session_id = login(base)
    by_uuid = {e.invoice.ettn.upper(): e for e in sim.mailboxes["acme"].entries}
    for row in invoices(get_invoice(base, session_id, DIRECTION="IN", LIMIT="20")):
        entry = by_uuid[row.get("UUID")]
        assert row.get("ID") == entry.invoice.number and row.get("TRXID") == str(entry.trxid)
        header = _find(row, "HEADER")
        assert [_local(c) for c in header] == list(INVOICE_HEADER_FIELDS)  # the WSDL's order
        assert _find(header, "SENDER").text == entry.invoice.supplier_vkn
        assert _find(header, "RECEIVER").text == ACME.vkn == entry.invoice.customer_vkn
        assert _find(header, "ISSUE_DATE").text == entry.invoice.issue_date.isoformat()
        assert _find(header, "PAYABLE_AMOUNT").get("currencyID") == entry.invoice.currency
        assert _find(header, "DIRECTION").text == "IN"
        assert base64.b64decode(_find(row, "CONTENT").text) == entry.invoice.xml
    for flag in ("Y", None):
        rows = invoices(get_invoice(base, session_id, header_only=flag, DIRECTION="IN", LIMIT="5"))
        assert len(rows) == 5 and all(not any(_local(c) == "CONTENT" for c in r) for r in rows)


def test_compressed_content_is_a_zip_holding_the_ubl(served) -> None:
    sim, base = served
    session_id = login(base)

    def fill(body):
        key = sub(body, NS, "INVOICE_SEARCH_KEY")
        sub(key, NS, "LIMIT", "1")
        sub(key, NS, "DIRECTION", "IN")
        sub(body, NS, "HEADER_ONLY", "N")

    row = invoices(post(base, "GetInvoice", session_id, fill, compressed="Y"))[0]
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(_find(row, "CONTENT").text))) as archive:
        (name,) = archive.namelist()
        assert name == row.get("UUID") + ".xml"
        assert archive.read(name) == sim.mailboxes["acme"].by_uuid[row.get("UUID").lower()].invoice.xml


def test_accounts_only_see_their_own_mailbox(served) -> None:
    sim, base = served
    session_id = login(base, GLOBEX)
    rows = invoices(get_invoice(base, session_id, header_only="Y", DIRECTION="IN", LIMIT="1000"))
    assert {r.get("UUID").lower() for r in rows} == {
        e.uuid for e in sim.mailboxes["globex"].entries if e.invoice.direction == "in"
    }
    assert not {r.get("UUID").lower() for r in rows} & set(sim.mailboxes["acme"].by_uuid)


def test_mark_invoice_hides_marked_invoices_unless_read_included() -> None:
    sim = EdmSimulator(seed=2, accounts=[ACME], start=date(2025, 1, 1), days=5, per_day=(2, 3))
    with running(create_app(sim)) as base:
        session_id = login(base)
        everything = invoices(get_invoice(base, session_id, header_only="Y", DIRECTION="IN"))
        chosen = everything[:2]

        def fill(body):
            mark = sub(body, NS, "MARK", value="true")
            for row in chosen:
                sub(mark, NS, "INVOICE", UUID=row.get("UUID"))

        assert post(base, "MarkInvoice", session_id, fill).status_code == 200
        assert [(c.operation, c.returned) for c in sim.calls_to("MarkInvoice")] == [("MarkInvoice", 2)]
        unread = invoices(get_invoice(base, session_id, header_only="Y", DIRECTION="IN", READ_INCLUDED="false"))
        assert len(unread) == len(everything) - 2
        assert {r.get("UUID") for r in unread}.isdisjoint({r.get("UUID") for r in chosen})
        included = invoices(get_invoice(base, session_id, header_only="Y", DIRECTION="IN", READ_INCLUDED="true"))
        marked = {r.get("UUID") for r in included if _find(_find(r, "HEADER"), "MARKED").text == "true"}
        assert len(included) == len(everything) and marked == {r.get("UUID") for r in chosen}


def test_bad_search_keys_and_actions_are_faults(served) -> None:
    _, base = served
    session_id = login(base)
    reason, detail = fault(get_invoice(base, session_id, DIRECTION="SIDEWAYS"))
    assert reason == "Geçersiz parametre: DIRECTION" and detail["ERROR_CODE"] == "2010"
    assert fault(get_invoice(base, session_id, DIRECTION="IN", LIMIT="-3"))[0] == "Geçersiz parametre: LIMIT"
    assert fault(get_invoice(base, session_id, DIRECTION="IN", CR_START_DATE="yesterday"))[0] == (
        "Geçersiz parametre: CR_START_DATE"
    )
    response = get_invoice(base, session_id, DIRECTION="IN")
    wrong_action = post(base, "GetInvoice", session_id, action=settings.ACTION_PREFIX + "Login")
    assert response.status_code == 200 and wrong_action.status_code == 500
    assert b"ActionNotSupported" in wrong_action.content
    assert b"ActionNotSupported" in post(base, "DeleteEverything", session_id).content


def test_fault_injection_answers_bare_503s() -> None:
    sim = EdmSimulator(seed=1, accounts=[ACME], start=date(2025, 1, 1), days=2)
    with running(create_app(sim)) as base:
        sim.fail_next(2)
        first, second = post(base, "Login"), post(base, "Login")
        assert (first.status_code, second.status_code) == (503, 503)
        assert b"Envelope" not in first.content
        assert login(base)
        sim.fail_rate = 1.0
        assert post(base, "Login").status_code == 503
        assert [c.status for c in sim.calls] == [503, 503, 200, 503]


def test_app_state_exposes_mailbox_and_call_log() -> None:
    app = create_app(seed=4, accounts=[ACME], start=date(2025, 1, 1), days=10)
    assert app.state.mailbox is app.state.sim.mailboxes and app.state.calls is app.state.sim.calls
    window = DateWindow(date(2025, 1, 1), date(2025, 1, 11))
    assert len(app.state.sim.invoices("acme", "in", window)) + len(
        app.state.sim.invoices("acme", "out", window)
    ) == len(app.state.mailbox["acme"].entries)


def test_cli_prints_its_accounts_and_serves() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        sys.executable,
        "-c",
        "import sys; from integration_hub.cli import main; sys.argv = ['integration-hub', *sys.argv[1:]]; main()",
        "simulate",
        "edm",
        "--port",
        str(port),
        "--days",
        "3",
        "--companies",
        "2",
        "--credentials",
        "demo:demo-Pa55",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        lines = [process.stdout.readline().strip() for _ in range(4)]
        assert lines[0].startswith("account=acme username=acme.edm password=")
        assert lines[1].startswith("account=globex username=globex.edm password=")
        assert lines[2] == "account=custom1 username=demo password=demo-Pa55"
        assert lines[3].endswith(f"127.0.0.1:{port}{settings.SERVICE_PATH}")
        for _ in range(100):
            try:
                response = httpx.get(f"http://127.0.0.1:{port}{settings.SERVICE_PATH}?wsdl")
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        assert response.status_code == 200 and b"EFaturaEDMPort" in response.content
        session_id = login(f"http://127.0.0.1:{port}", EdmAccount("custom1", "demo", "demo-Pa55", "", ""))
        assert uuid.UUID(session_id)
    finally:
        process.terminate()
        process.wait(timeout=10)
