"""The EDM simulator over HTTP on 127.0.0.1, spoken to with hand-built raw SOAP envelopes.

The wire forms below are written here from EDM's contract as the svcutil-generated client of its WSDL
records it (Cihandar/EfaturaPortal@8d2c9018f3719ad9ac2b68e1d844cbbf6c2a8c61:EfaturaPortal/Connected
Services/EdmEfatura/Reference.cs), independently of the simulator's tables and of the connector: the
body element in ``http://tempuri.org/``, SOAPAction = its bare name, every member unqualified, in ``Order``.
"""

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
from datetime import date, datetime, timedelta

import httpx
import pytest
import xmlschema
from lxml import etree

from integration_hub.simulators.edm import EdmAccount, EdmSimulator, create_app
from integration_hub.simulators.edm.mailbox import TURKEY
from integration_hub.simulators.server import running

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
TEMPURI = "http://tempuri.org/"
PATH = "/EFaturaEDM/EFaturaEDM.svc"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
XS_NS = "http://www.w3.org/2001/XMLSchema"
SESSION_FAULT = "Aktif session bulunamadı."
# Reference.cs class INVOICEHEADER, members by Order (the ones an answer may carry).
INVOICE_HEADER_ORDER = (
    "SENDER",
    "RECEIVER",
    "SUPPLIER",
    "CUSTOMER",
    "ISSUE_DATE",
    "PAYABLE_AMOUNT",
    "FROM",
    "TO",
    "PROFILEID",
    "STATUS",
    "STATUS_DESCRIPTION",
    "GIB_STATUS_CODE",
    "GIB_STATUS_DESCRIPTION",
    "RESPONSE_CODE",
    "RESPONSE_DESCRIPTION",
    "FILENAME",
    "HASH",
    "CDATE",
    "ENVELOPE_IDENTIFIER",
    "INTERNETSALES",
    "EARCHIVE",
    "INTERNETSALESDETAILS",
    "INVOICESERIAL_REQUESTED",
    "EXPORT_GTB_REFNO",
    "EXPORT_GTB_GCB_TESCILNO",
    "EXPORT_GTB_FIILI_IHRACAT_TARIHI",
    "INVOICE_TYPE",
    "INVOICE_SEND_TYPE",
    "EARCHIVE_REPORT_UUID",
    "EARCHIVE_REPORT_SENDDATE",
    "EARCHIVE_REPORT_STATUS",
    "EARCHIVE_REPORT_STATUSDESC",
    "CANCEL_EARCHIVE_REPORT_UUID",
    "CANCEL_EARCHIVE_REPORT_SENDDATE",
    "CANCEL_EARCHIVE_REPORT_STATUSDESC",
    "CANCEL_EARCHIVE_REPORT_STATUS",
    "ERP_REFERENCE",
    "DIRECTION",
    "ISACTIVE",
    "MOBILE",
    "MARKED",
)

ACME = EdmAccount("acme", "acme.edm", "s3cret-Pa55", "1234567803", "ACME Enerji A.Ş.")
GLOBEX = EdmAccount("globex", "globex.edm", "other-Pa55", "9876543210", "Globex Ltd.")


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


# -- raw requests ---------------------------------------------------------------------------------------------


def el(name: str, *content: object, ns: str | None = None, **attrs: object) -> etree._Element:
    """An element, unqualified unless ``ns`` is given; ``content`` is child elements or one text."""
    element = etree.Element(f"{{{ns}}}{name}" if ns else name, {k: str(v) for k, v in attrs.items()})
    for item in content:
        if isinstance(item, etree._Element):
            element.append(item)
        else:
            element.text = str(item)
    return element


def request_header(session_id: str = "0", compressed: str = "N") -> etree._Element:
    # REQUEST_HEADERType: SESSION_ID 0, CLIENT_TXN_ID 1, COMPRESSED 11.
    return el(
        "REQUEST_HEADER", el("SESSION_ID", session_id), el("CLIENT_TXN_ID", "txn-1"), el("COMPRESSED", compressed)
    )


def post(
    base: str,
    operation: str,
    *members: etree._Element,
    session_id: str = "0",
    action: str | None = None,
    header: etree._Element | None = None,
    body: etree._Element | None = None,
) -> httpx.Response:
    """``<operation>Request`` in tempuri with REQUEST_HEADER then ``members``; SOAPAction its bare name."""
    if body is None:
        body = el(f"{operation}Request", header if header is not None else request_header(session_id), *members)
        body.tag = f"{{{TEMPURI}}}{operation}Request"
    env = el("Envelope", el("Body", body, ns=SOAP11), ns=SOAP11)
    return httpx.post(
        base + PATH,
        content=etree.tostring(env, xml_declaration=True, encoding="utf-8"),
        headers={
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": f'"{operation + "Request" if action is None else action}"',
        },
    )


def credentials(account: EdmAccount = ACME) -> tuple[etree._Element, etree._Element]:
    return el("USER_NAME", account.username), el("PASSWORD", account.password)  # LoginRequest order


def answer(response: httpx.Response) -> etree._Element:
    return etree.fromstring(response.content).find(f"{{{SOAP11}}}Body")[0]


def find(element: etree._Element, name: str) -> etree._Element:
    """The *unqualified* child ``name`` (the contract's form for every member)."""
    found = element.find(name)
    assert found is not None, f"{name} missing (or qualified) under {element.tag}"
    return found


def login(base: str, account: EdmAccount = ACME) -> str:
    response = post(base, "Login", *credentials(account))
    assert response.status_code == 200, response.text
    return find(answer(response), "SESSION_ID").text


def search_key(**members: object) -> etree._Element:
    """INVOICE_SEARCH_KEY with ``members`` in the order given (callers pass the contract's order)."""
    return el("INVOICE_SEARCH_KEY", *(el(name, value) for name, value in members.items()))


def get_invoice(base: str, session_id: str, header_only: str | None = "N", **members: object) -> httpx.Response:
    extra = [el("HEADER_ONLY", header_only)] if header_only is not None else []
    return post(base, "GetInvoice", search_key(**members), *extra, session_id=session_id)


def invoices(response: httpx.Response) -> list[etree._Element]:
    assert response.status_code == 200, response.text
    result = answer(response)
    assert result.tag == f"{{{TEMPURI}}}GetInvoiceResponse"
    assert all(child.tag == "INVOICE" for child in result)  # INVOICE[] only, unqualified
    return list(result)


def fault(response: httpx.Response) -> tuple[str, str, list[tuple[str, str]]]:
    """``(faultcode, faultstring, [(detail member, text)…])`` of a SOAP 1.1 fault (HTTP 500)."""
    assert response.status_code == 500, response.text
    element = answer(response)
    assert element.tag == f"{{{SOAP11}}}Fault"
    detail = element.find("detail")
    fields = [(child.tag, child.text or "") for child in detail[0]] if detail is not None else []
    return element.findtext("faultcode"), element.findtext("faultstring"), fields


def edm_error(response: httpx.Response) -> str:
    """EDM's own error: the reason, after checking the REQUEST_ERRORType detail carries it unqualified."""
    code, reason, fields = fault(response)
    assert code == "s:Client" and dict(fields)["ERROR_SHORT_DES"] == reason
    return reason


# -- the contract's front door: SOAPAction, body element, form, order, types ---------------------------------


@pytest.mark.parametrize(
    "action",
    ["http://tempuri.org/EFaturaEDMPort/LoginRequest", "http://tempuri.org/LoginRequest", "Login", ""],
)
def test_any_soap_action_but_the_bare_request_name_is_action_not_supported(served, action) -> None:
    sim, base = served
    mark = len(sim.calls)
    code, reason, _ = fault(post(base, "Login", *credentials(), action=action))
    assert code == "a:ActionNotSupported" and f"Action '{action}'" in reason
    assert [(c.operation, c.fault) for c in sim.calls[mark:]] == [("Login", "ActionNotSupported")]
    assert post(base, "Login", *credentials()).status_code == 200  # the same body with the bare action


def test_a_body_that_is_not_the_actions_request_element_cannot_be_deserialized(served) -> None:
    _, base = served
    body = el("LoginRequest", request_header(), *credentials(), ns="urn:not-tempuri")
    code, reason, _ = fault(post(base, "Login", body=body))
    assert code == "a:DeserializationFailed" and "'LoginRequest' from namespace 'http://tempuri.org/'" in reason
    code, _, _ = fault(post(base, "Login", *credentials(), action="GetInvoiceRequest"))
    assert code == "a:DeserializationFailed"  # a LoginRequest body under GetInvoice's action


def test_a_qualified_member_is_not_seen_by_the_service(served) -> None:
    sim, base = served
    qualified_user = el("USER_NAME", ACME.username, ns=TEMPURI)
    assert edm_error(post(base, "Login", qualified_user, el("PASSWORD", ACME.password))) == (
        "Zorunlu alan eksik: USER_NAME"
    )
    qualified_header = el("REQUEST_HEADER", el("SESSION_ID", "0"), ns=TEMPURI)
    assert edm_error(post(base, "Login", *credentials(), header=qualified_header)) == (
        "Zorunlu alan eksik: REQUEST_HEADER"
    )
    session_id = login(base)
    qualified_direction = el("INVOICE_SEARCH_KEY", el("LIMIT", 5), el("DIRECTION", "IN", ns=TEMPURI))
    assert edm_error(post(base, "GetInvoice", qualified_direction, session_id=session_id)) == (
        "Zorunlu alan eksik: DIRECTION"
    )
    assert (sim.calls[-1].operation, sim.calls[-1].status) == ("GetInvoice", 500)


def test_members_out_of_order_are_not_bound(served) -> None:
    sim, base = served
    session_id = login(base)
    entries = [e for e in sim.mailboxes["acme"].entries if e.invoice.direction == "in"]
    moment = entries[10].cdate.isoformat()
    # CR_START_DATE (Order 11) before READ_INCLUDED (7) and DIRECTION (8): those two are skipped.
    wrong = get_invoice(base, session_id, LIMIT=5, CR_START_DATE=moment, READ_INCLUDED="true", DIRECTION="IN")
    assert edm_error(wrong) == "Zorunlu alan eksik: DIRECTION"
    right = invoices(get_invoice(base, session_id, LIMIT=5, READ_INCLUDED="true", DIRECTION="IN", CR_START_DATE=moment))
    assert [r.get("UUID").lower() for r in right] == [e.uuid for e in entries if e.cdate >= entries[10].cdate][:5]
    # LIMIT (0) after DIRECTION (8) is not seen either: the service answers its default page instead of 3.
    assert len(invoices(get_invoice(base, session_id, DIRECTION="IN", LIMIT=3))) == 100


def test_qualified_read_included_silently_hides_invoices_marked_read() -> None:
    sim = EdmSimulator(seed=2, accounts=[ACME], start=date(2025, 1, 1), days=5, per_day=(2, 3))
    with running(create_app(sim)) as base:
        session_id = login(base)
        everything = invoices(get_invoice(base, session_id, "Y", READ_INCLUDED="true", DIRECTION="IN"))
        sim.mailboxes["acme"].mark([everything[0].get("UUID")], [], True)
        key = el("INVOICE_SEARCH_KEY", el("READ_INCLUDED", "true", ns=TEMPURI), el("DIRECTION", "IN"))
        seen = invoices(post(base, "GetInvoice", key, el("HEADER_ONLY", "Y"), session_id=session_id))
        assert len(seen) == len(everything) - 1


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("LIMIT", "many"),
        ("CR_START_DATE", "yesterday"),
        ("START_DATE", "2025-01-05T00:00:00"),
        ("READ_INCLUDED", "yes"),
    ],
)
def test_a_value_of_the_wrong_type_is_a_deserialization_fault(served, member, value) -> None:
    _, base = served
    session_id = login(base)
    members = {"LIMIT": 5, "START_DATE": "2025-01-05", "READ_INCLUDED": "true", "DIRECTION": "IN"}
    members[member] = value
    order = ["LIMIT", "START_DATE", "READ_INCLUDED", "DIRECTION", "CR_START_DATE"]
    ordered = {name: members[name] for name in order if name in members}
    code, reason, _ = fault(get_invoice(base, session_id, **ordered))
    assert code == "a:DeserializationFailed" and f"'{value}'" in reason


def test_an_unknown_content_type_is_not_an_enum_value(served) -> None:
    _, base = served
    session_id = login(base)
    response = post(
        base,
        "GetInvoice",
        search_key(LIMIT=1, DIRECTION="IN"),
        el("INVOICE_CONTENT_TYPE", "DOCX"),
        session_id=session_id,
    )
    code, reason, _ = fault(response)
    assert code == "a:DeserializationFailed" and "INVOICE_CONTENT_TYPE" in reason


def test_wsdl_describes_the_contract_and_its_schema_refuses_what_the_service_does_not_read(served) -> None:
    _, base = served
    response = httpx.get(base + PATH + "?wsdl")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/xml")
    wsdl = etree.fromstring(response.content)
    assert wsdl.get("targetNamespace") == TEMPURI
    soap_ns = "http://schemas.xmlsoap.org/wsdl/soap/"
    actions = {op.getparent().get("name"): op.get("soapAction") for op in wsdl.iter(f"{{{soap_ns}}}operation")}
    assert actions == {op: f"{op}Request" for op in ("Login", "Logout", "GetInvoice", "MarkInvoice")}
    assert next(wsdl.iter(f"{{{soap_ns}}}address")).get("location") == base + PATH

    schema = xmlschema.XMLSchema(etree.tostring(wsdl.find(f"{{{WSDL_NS}}}types/{{{XS_NS}}}schema")).decode())
    assert schema.element_form_default == "unqualified"

    def body(*key_members: etree._Element) -> etree._Element:
        element = el("GetInvoiceRequest", request_header(), el("INVOICE_SEARCH_KEY", *key_members), ns=TEMPURI)
        element.append(el("HEADER_ONLY", "N"))
        return element

    contract_order = [el("LIMIT", 100), el("START_DATE", "2025-01-01"), el("READ_INCLUDED", "true")]
    contract_order += [el("DIRECTION", "IN"), el("CR_START_DATE", "2025-01-02T10:00:00+03:00")]
    assert schema.is_valid(body(*contract_order))
    swapped = [*contract_order[:2], contract_order[4], contract_order[2], contract_order[3]]
    assert not schema.is_valid(body(*[etree.fromstring(etree.tostring(m)) for m in swapped]))
    assert not schema.is_valid(body(el("LIMIT", 100), el("DIRECTION", "IN", ns=TEMPURI)))
    assert httpx.get(base + "/EFaturaEDM21ea/EFaturaEDM.svc?singleWsdl").status_code == 200


# -- sessions ---------------------------------------------------------------------------------------------------


def test_login_with_bad_credentials_is_a_request_error_fault(served) -> None:
    sim, base = served
    mark = len(sim.calls)
    code, reason, fields = fault(post(base, "Login", el("USER_NAME", ACME.username), el("PASSWORD", "wrong-password")))
    assert (code, reason) == ("s:Client", "Kullanıcı adı veya şifre hatalı.")
    # REQUEST_ERRORType, unqualified, in Order: INTL_TXN_ID, CLIENT_TXN_ID, ERROR_CODE, ERROR_SHORT_DES, ...
    assert [name for name, _ in fields] == [
        "INTL_TXN_ID",
        "CLIENT_TXN_ID",
        "ERROR_CODE",
        "ERROR_SHORT_DES",
        "ERROR_LONG_DES",
    ]
    assert dict(fields)["CLIENT_TXN_ID"] == "txn-1" and dict(fields)["ERROR_SHORT_DES"] == reason
    call = sim.calls[mark]
    assert (call.operation, call.status, call.account) == ("Login", 500, None)
    assert "wrong-password" not in repr(call) and ACME.password not in repr(sim.accounts)


def test_login_returns_a_guid_session_that_every_call_must_carry(served) -> None:
    _, base = served
    result = answer(post(base, "Login", *credentials()))
    assert result.tag == f"{{{TEMPURI}}}LoginResponse"
    assert [child.tag for child in result] == ["REQUEST_RETURN", "SESSION_ID"]  # LoginResponse order, unqualified
    session_id = result.findtext("SESSION_ID")
    assert str(uuid.UUID(session_id)) == session_id
    assert [c.tag for c in find(result, "REQUEST_RETURN")] == ["INTL_TXN_ID", "CLIENT_TXN_ID", "RETURN_CODE"]
    assert result.findtext("REQUEST_RETURN/RETURN_CODE") == "0"
    assert result.findtext("REQUEST_RETURN/CLIENT_TXN_ID") == "txn-1"

    for session in ("0", "", str(uuid.uuid4())):
        assert edm_error(get_invoice(base, session, DIRECTION="IN")) == SESSION_FAULT
    assert len(invoices(get_invoice(base, session_id, LIMIT=1, DIRECTION="IN"))) == 1

    logout = post(base, "Logout", session_id=session_id)
    assert logout.status_code == 200 and answer(logout).tag == f"{{{TEMPURI}}}LogoutResponse"
    assert edm_error(get_invoice(base, session_id, DIRECTION="IN")) == SESSION_FAULT


def test_sessions_expire_after_their_ttl_and_on_demand() -> None:
    clock = Clock()
    sim = EdmSimulator(seed=1, accounts=[ACME], start=date(2025, 1, 1), days=3, session_ttl=60, clock=clock)
    with running(create_app(sim)) as base:
        first = login(base)
        clock.now += 59
        assert get_invoice(base, first, DIRECTION="IN").status_code == 200
        clock.now += 1
        assert edm_error(get_invoice(base, first, DIRECTION="IN")) == SESSION_FAULT
        second, third = login(base), login(base)
        assert sim.expire_sessions() == 2
        for session_id in (second, third):
            assert edm_error(get_invoice(base, session_id, DIRECTION="IN")) == SESSION_FAULT


# -- GetInvoice -------------------------------------------------------------------------------------------------


def test_get_invoice_filters_by_direction_issue_date_and_creation(served) -> None:
    sim, base = served
    session_id = login(base)
    entries = sim.mailboxes["acme"].entries
    first, last = date(2025, 1, 5), date(2025, 1, 12)

    def expected(predicate, created_from=None):
        return [
            e.invoice.ettn.upper()
            for e in entries
            if predicate(e)
            and first <= e.invoice.issue_date <= last
            and (created_from is None or e.cdate >= created_from)
        ]

    dates = {"START_DATE": first.isoformat(), "END_DATE": last.isoformat()}
    for code, predicate in (
        ("IN", lambda e: e.invoice.direction == "in"),
        ("OUT", lambda e: e.invoice.direction == "out"),
        ("OUT-EINVOICE", lambda e: e.invoice.direction == "out" and e.invoice.profile_id != "EARSIVFATURA"),
        ("OUT-EARCHIVE", lambda e: e.invoice.direction == "out" and e.invoice.profile_id == "EARSIVFATURA"),
    ):
        rows = invoices(get_invoice(base, session_id, **dates, DIRECTION=code))
        assert rows and [r.get("UUID") for r in rows] == expected(predicate), code
    in_rows = expected(lambda e: e.invoice.direction == "in")
    middle = next(e.cdate for e in entries if e.invoice.ettn.upper() == in_rows[len(in_rows) // 2])
    rows = invoices(get_invoice(base, session_id, **dates, DIRECTION="IN", CR_START_DATE=middle.isoformat()))
    assert [r.get("UUID") for r in rows] == expected(lambda e: e.invoice.direction == "in", middle)
    naive = middle.replace(tzinfo=None).isoformat()  # no offset = Turkish time
    same = invoices(get_invoice(base, session_id, **dates, DIRECTION="IN", CR_START_DATE=naive))
    assert [r.get("UUID") for r in same] == [r.get("UUID") for r in rows]


def test_get_invoice_sorts_by_cdate_caps_at_limit_and_has_same_second_ties(served) -> None:
    sim, base = served
    session_id = login(base)
    rows = invoices(get_invoice(base, session_id, DIRECTION="OUT"))
    assert len(rows) == 100  # LIMIT absent: EDM's default page
    cdates = [datetime.fromisoformat(r.findtext("HEADER/CDATE")) for r in rows]
    assert cdates == sorted(cdates) and all(c.utcoffset() == TURKEY.utcoffset(None) for c in cdates)
    assert max(Counter(cdates).values()) >= 3  # several invoices share one CDATE second
    assert len(invoices(get_invoice(base, session_id, LIMIT=7, DIRECTION="OUT"))) == 7
    assert len(invoices(get_invoice(base, session_id, LIMIT=5000, DIRECTION="OUT"))) == 100  # content cap
    headers_only = invoices(get_invoice(base, session_id, "Y", LIMIT=5000, DIRECTION="OUT"))
    assert len(headers_only) == sum(1 for e in sim.mailboxes["acme"].entries if e.invoice.direction == "out")


def test_get_invoice_renders_attributes_header_and_content_in_the_contracts_form(served) -> None:
    sim, base = served
    session_id = login(base)
    by_uuid = {e.invoice.ettn.upper(): e for e in sim.mailboxes["acme"].entries}
    for row in invoices(get_invoice(base, session_id, LIMIT=20, DIRECTION="IN")):
        entry = by_uuid[row.get("UUID")]
        assert row.get("ID") == entry.invoice.number and row.get("TRXID") == str(entry.trxid)
        assert [child.tag for child in row] == ["HEADER", "CONTENT"]
        header = find(row, "HEADER")
        names = [child.tag for child in header]
        assert names == sorted(names, key=INVOICE_HEADER_ORDER.index)  # unqualified, in Order
        assert {"INTERNETSALES", "EARCHIVE"} <= set(names)  # bool members without *Specified: always written
        assert header.findtext("SENDER") == entry.invoice.supplier_vkn
        assert header.findtext("RECEIVER") == ACME.vkn == entry.invoice.customer_vkn
        assert header.findtext("ISSUE_DATE") == entry.invoice.issue_date.isoformat()
        assert find(header, "PAYABLE_AMOUNT").get("currencyID") == entry.invoice.currency
        assert header.findtext("DIRECTION") == "IN"
        assert base64.b64decode(row.findtext("CONTENT")) == entry.invoice.xml
    rows = invoices(get_invoice(base, session_id, "Y", LIMIT=5, DIRECTION="IN"))
    assert len(rows) == 5 and all(row.find("CONTENT") is None for row in rows)
    # Reference.cs gives HEADER_ONLY [DefaultValueAttribute("N")]: EDM's own generated client leaves the member out
    # when it wants the content, so an absent HEADER_ONLY answers with CONTENT.
    rows = invoices(get_invoice(base, session_id, None, LIMIT=5, DIRECTION="IN"))
    assert len(rows) == 5 and all(row.find("CONTENT") is not None for row in rows)


def test_compressed_content_is_a_zip_holding_the_ubl(served) -> None:
    sim, base = served
    session_id = login(base)
    response = post(
        base,
        "GetInvoice",
        search_key(LIMIT=1, DIRECTION="IN"),
        el("HEADER_ONLY", "N"),
        header=request_header(session_id, compressed="Y"),
    )
    row = invoices(response)[0]
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(row.findtext("CONTENT")))) as archive:
        (name,) = archive.namelist()
        assert name == row.get("UUID") + ".xml"
        assert archive.read(name) == sim.mailboxes["acme"].by_uuid[row.get("UUID").lower()].invoice.xml


def test_accounts_only_see_their_own_mailbox(served) -> None:
    sim, base = served
    session_id = login(base, GLOBEX)
    rows = invoices(get_invoice(base, session_id, "Y", LIMIT=1000, DIRECTION="IN"))
    assert {r.get("UUID").lower() for r in rows} == {
        e.uuid for e in sim.mailboxes["globex"].entries if e.invoice.direction == "in"
    }
    assert not {r.get("UUID").lower() for r in rows} & set(sim.mailboxes["acme"].by_uuid)


def test_mark_invoice_hides_marked_invoices_unless_read_included() -> None:
    sim = EdmSimulator(seed=2, accounts=[ACME], start=date(2025, 1, 1), days=5, per_day=(2, 3))
    with running(create_app(sim)) as base:
        session_id = login(base)
        everything = invoices(get_invoice(base, session_id, "Y", DIRECTION="IN"))
        chosen = everything[:2]
        mark = el("MARK", *(el("INVOICE", UUID=row.get("UUID")) for row in chosen), value="READ")
        marked_answer = post(base, "MarkInvoice", mark, session_id=session_id)
        assert marked_answer.status_code == 200 and answer(marked_answer).tag == f"{{{TEMPURI}}}MarkInvoiceResponse"
        assert [(c.operation, c.returned) for c in sim.calls_to("MarkInvoice")] == [("MarkInvoice", 2)]
        unread = invoices(get_invoice(base, session_id, "Y", READ_INCLUDED="false", DIRECTION="IN"))
        assert len(unread) == len(everything) - 2
        assert {r.get("UUID") for r in unread}.isdisjoint({r.get("UUID") for r in chosen})
        included = invoices(get_invoice(base, session_id, "Y", READ_INCLUDED="true", DIRECTION="IN"))
        marked = {r.get("UUID") for r in included if r.findtext("HEADER/MARKED") == "true"}
        assert len(included) == len(everything) and marked == {r.get("UUID") for r in chosen}
        code, _, _ = fault(post(base, "MarkInvoice", el("MARK", value="true"), session_id=session_id))
        assert code == "a:DeserializationFailed"  # MARK/@value is the enum READ|UNREAD


def test_bad_search_values_are_edm_errors(served) -> None:
    _, base = served
    session_id = login(base)
    _, reason, fields = fault(get_invoice(base, session_id, DIRECTION="SIDEWAYS"))
    assert reason == "Geçersiz parametre: DIRECTION" and dict(fields)["ERROR_SHORT_DES"] == reason
    assert edm_error(get_invoice(base, session_id, LIMIT=-3, DIRECTION="IN")) == "Geçersiz parametre: LIMIT"
    assert edm_error(post(base, "GetInvoice", el("HEADER_ONLY", "N"), session_id=session_id)) == (
        "Zorunlu alan eksik: INVOICE_SEARCH_KEY"
    )


# -- knobs, state, CLI -------------------------------------------------------------------------------------------


def test_fault_injection_answers_bare_503s() -> None:
    sim = EdmSimulator(seed=1, accounts=[ACME], start=date(2025, 1, 1), days=2)
    with running(create_app(sim)) as base:
        sim.fail_next(2)
        first, second = post(base, "Login", *credentials()), post(base, "Login", *credentials())
        assert (first.status_code, second.status_code) == (503, 503)
        assert b"Envelope" not in first.content
        assert login(base)
        sim.fail_rate = 1.0
        assert post(base, "Login", *credentials()).status_code == 503
        assert [c.status for c in sim.calls] == [503, 503, 200, 503]


def test_hostile_or_broken_xml_is_a_one_line_client_fault(served) -> None:
    _, base = served
    for content in (b"<not-closed", b'<!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>'):
        response = httpx.post(base + PATH, content=content, headers={"SOAPAction": '"LoginRequest"'})
        code, reason, _ = fault(response)
        assert code == "s:Client" and reason.startswith("Bad request: ") and "\n" not in reason


def test_app_state_exposes_mailbox_and_call_log() -> None:
    app = create_app(seed=4, accounts=[ACME], start=date(2025, 1, 1), days=10)
    assert app.state.mailbox is app.state.sim.mailboxes and app.state.calls is app.state.sim.calls
    window = {date(2025, 1, 1) + timedelta(days=n) for n in range(10)}
    listed = app.state.sim.invoices("acme", "in", window) + app.state.sim.invoices("acme", "out", window)
    assert len(listed) == len(app.state.mailbox["acme"].entries)


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
        assert lines[3].endswith(f"127.0.0.1:{port}{PATH}")
        for _ in range(100):
            try:
                response = httpx.get(f"http://127.0.0.1:{port}{PATH}?wsdl")
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        assert response.status_code == 200 and b"EFaturaEDMPort" in response.content
        session_id = login(f"http://127.0.0.1:{port}", EdmAccount("custom1", "demo", "demo-Pa55", "", ""))
        assert uuid.UUID(session_id)
    finally:
        process.terminate()
        process.wait(timeout=10)
