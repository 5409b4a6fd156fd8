"""The Starlette app of the EDM simulator: ``EFaturaEDM.svc`` over SOAP 1.1, plus ``?wsdl``.

A request goes through what WCF does before EDM's code sees it, all from :mod:`.contract` (the
svcutil-generated client of EDM's WSDL), never from our connector:

1. the dispatcher picks the operation by SOAPAction, which must be the bare request name
   (``LoginRequest``); any other action, a prefixed one included, gets ``a:ActionNotSupported``;
2. the formatter expects the body element of that operation (``{http://tempuri.org/}LoginRequest``) and
   binds its members as XmlSerializer does (:func:`~integration_hub.simulators.efatura.binding.bind`, members
   unqualified, read forwards): qualified or out-of-order members are not seen, a value of the wrong type is
   ``a:DeserializationFailed``;
3. EDM's code then works on what was bound: a missing ``REQUEST_HEADER``/``USER_NAME``/``DIRECTION`` is
   its error, an unknown or expired ``SESSION_ID`` is "Aktif session bulunamadı" (the text EDM's clients
   match on, ``efatura.md`` §1.3).

EDM's own errors are HTTP 500 SOAP faults with a ``REQUEST_ERRORType`` detail and the short description as
the reason (``efatura.md`` §1.3). Error codes and every text but the session one are not public [I].
``GetInvoice`` filters, sorts by ``CDATE`` and caps at ``LIMIT`` as :mod:`.mailbox` describes.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from integration_hub.simulators.edm.contract import NAMESPACE, OPERATIONS, REQUEST_ERROR, SERVICE_PATHS
from integration_hub.simulators.edm.mailbox import DIRECTION_CODES, EARCHIVE_PROFILE, Entry, Search
from integration_hub.simulators.edm.simulator import EdmSimulator, SimCall, parse_moment
from integration_hub.simulators.edm.wsdl import render_wsdl
from integration_hub.simulators.efatura.binding import TEXT, Bound, InvalidValue, Type, bind, write
from integration_hub.simulators.efatura.documents import zip_documents
from integration_hub.simulators.efatura.soap import (
    SoapClientError,
    client_fault,
    fault_response,
    q,
    read_soap_request,
    soap_response,
    wcf_action_not_supported,
    wcf_deserialization_failed,
)

__all__ = ["SERVICE_PATHS", "create_app"]

DEFAULT_LIMIT = 100  # LIMIT when the search key has none (EDM guide, efatura.md §1.3)
CONTENT_LIMIT = 100  # invoices per answer with content (izibiz documents 100 for its sibling API) [I]
HEADER_LIMIT = 25_000  # headers-only answers (izibiz documents 25 000) [I]

# (ERROR_CODE, ERROR_SHORT_DES, ERROR_LONG_DES). Only the session text is verbatim from public clients.
SESSION_NOT_FOUND = (2005, "Aktif session bulunamadı.", "Oturum süresi dolmuş ya da oturum kapatılmış.")
LOGIN_FAILED = (2001, "Kullanıcı adı veya şifre hatalı.", "Kullanıcı doğrulanamadı.")  # [I]
MISSING_PARAMETER = (2009, "Zorunlu alan eksik: {field}", "{field} alanı gönderilmedi.")  # [I]
BAD_PARAMETER = (2010, "Geçersiz parametre: {field}", "{field} alanının değeri geçersiz: '{value}'")  # [I]


class EdmFault(Exception):
    """Raised by a handler; rendered as a ``REQUEST_ERRORType`` fault."""

    def __init__(self, template: tuple[int, str, str], **values: object) -> None:
        self.code = template[0]
        self.short = template[1].format(**values)
        self.long = template[2].format(**values)
        super().__init__(self.short)


@dataclass
class Outcome:
    """A handler's answer (the members of the operation's response type) and what the call log keeps."""

    values: dict[str, Any]
    account: str | None
    params: dict[str, Any] = field(default_factory=dict)
    returned: int = 0


def _required(bound: Bound, name: str) -> str:
    value = bound.text(name)
    if not value:
        raise EdmFault(MISSING_PARAMETER, field=name)
    return value


class Service:
    """Authenticates and runs one bound request against the simulator state."""

    def __init__(self, sim: EdmSimulator) -> None:
        self.sim = sim
        self.handlers: dict[str, Callable[[Bound, dict[str, str]], Outcome]] = {
            "Login": self.login,
            "Logout": self.logout,
            "GetInvoice": self.get_invoice,
            "MarkInvoice": self.mark_invoice,
        }

    def request_return(self, header: dict[str, str]) -> dict[str, Any]:
        return {
            "INTL_TXN_ID": self.sim.next_txn_id(),
            "CLIENT_TXN_ID": header.get("CLIENT_TXN_ID"),
            "RETURN_CODE": 0,
        }

    def _account(self, header: dict[str, str]) -> str:
        account = self.sim.session_account(header.get("SESSION_ID", ""))
        if account is None:
            raise EdmFault(SESSION_NOT_FOUND)
        return account

    # -- operations -----------------------------------------------------------------------------------

    def login(self, request: Bound, header: dict[str, str]) -> Outcome:
        username, password = _required(request, "USER_NAME"), _required(request, "PASSWORD")
        session_id = self.sim.login(username, password)
        if session_id is None:
            raise EdmFault(LOGIN_FAILED)
        values = {"REQUEST_RETURN": self.request_return(header), "SESSION_ID": session_id}
        return Outcome(values, self.sim.session_account(session_id), {"USER_NAME": username})

    def logout(self, request: Bound, header: dict[str, str]) -> Outcome:
        account = self._account(header)
        self.sim.logout(header["SESSION_ID"])
        return Outcome({"REQUEST_RETURN": self.request_return(header)}, account)

    def get_invoice(self, request: Bound, header: dict[str, str]) -> Outcome:
        account = self._account(header)
        key = request.child("INVOICE_SEARCH_KEY")
        if key is None:
            raise EdmFault(MISSING_PARAMETER, field="INVOICE_SEARCH_KEY")
        params: dict[str, Any] = key.summary()
        # Reference.cs: [DefaultValueAttribute("N")] on GetInvoiceRequest.HEADER_ONLY, so XmlSerializer leaves the
        # member out when it is "N": an absent HEADER_ONLY asks for the content.
        header_only = (request.text("HEADER_ONLY") or "N").upper() != "N"
        params["HEADER_ONLY"] = "Y" if header_only else "N"
        # ALL (every view at once) is not modelled: the simulator answers the UBL for it [I].
        content_type = request.text("INVOICE_CONTENT_TYPE") or "XML"
        rows = self.sim.mailboxes[account].search(_search(params, header_only))
        zipped = header.get("COMPRESSED", "").upper() == "Y"
        items = [_invoice(entry, None if header_only else content_type, zipped) for entry in rows]
        return Outcome({"INVOICE": items}, account, params, len(rows))

    def mark_invoice(self, request: Bound, header: dict[str, str]) -> Outcome:
        """State-changing: sets the read mark that ``READ_INCLUDED=false`` filters on. Recorded like any call."""
        account = self._account(header)
        mark = request.child("MARK")
        if mark is None or "value" not in mark.attributes:
            raise EdmFault(MISSING_PARAMETER, field="MARK/@value")
        invoices = mark.children("INVOICE")
        uuids = [i.attributes["UUID"] for i in invoices if i.attributes.get("UUID")]
        numbers = [i.attributes["ID"] for i in invoices if i.attributes.get("ID")]
        value = mark.attributes["value"]
        found = self.sim.mailboxes[account].mark(uuids, numbers, value == "READ")
        params = {"value": value, "UUID": uuids, "ID": numbers}
        return Outcome({"REQUEST_RETURN": self.request_return(header)}, account, params, found)


def _invoice(entry: Entry, content_type: str | None, zipped: bool) -> dict[str, Any]:
    """One ``INVOICE`` of a ``GetInvoice`` answer; ``CONTENT`` only when ``content_type`` is given."""
    invoice = entry.invoice
    incoming = invoice.direction == "in"
    earchive = invoice.profile_id == EARCHIVE_PROFILE
    header = {
        "SENDER": invoice.supplier_vkn,
        "RECEIVER": invoice.customer_vkn,
        "SUPPLIER": invoice.supplier_name,
        "CUSTOMER": invoice.customer_name,
        "ISSUE_DATE": invoice.issue_date.isoformat(),
        "PAYABLE_AMOUNT": {TEXT: f"{invoice.payable:.2f}", "currencyID": invoice.currency},
        "FROM": "" if earchive else f"urn:mail:defaultgb@{invoice.supplier_vkn}.edm.com.tr",
        "TO": "" if earchive else f"urn:mail:defaultpk@{invoice.customer_vkn}.edm.com.tr",
        "PROFILEID": invoice.profile_id,
        "STATUS": "RECEIVE - SUCCEED" if incoming else "SEND - SUCCEED",
        "STATUS_DESCRIPTION": "SUCCEED",
        "GIB_STATUS_CODE": 1300,
        "GIB_STATUS_DESCRIPTION": "BAŞARIYLA TAMAMLANDI",
        "RESPONSE_CODE": "ACCEPT" if invoice.profile_id == "TICARIFATURA" else "",
        "CDATE": entry.cdate.isoformat(),
        "ENVELOPE_IDENTIFIER": "" if earchive else f"{entry.trxid:08d}-edm-envelope",
        "EARCHIVE": "true" if earchive else "false",
        "INVOICE_TYPE": invoice.type_code,
        "DIRECTION": "IN" if incoming else "OUT",
        "MARKED": "true" if entry.marked else "false",
    }
    # EDM echoes the ETTN in the sender's case; the generator's senders write it upper-case.
    values: dict[str, Any] = {"TRXID": entry.trxid, "UUID": invoice.ettn.upper(), "ID": invoice.number}
    values["HEADER"] = header
    if content_type is not None:
        data = _content(entry, content_type)
        if zipped:
            data = zip_documents([(f"{invoice.ettn.upper()}.{content_type.lower()}", data)])
        values["CONTENT"] = base64.b64encode(data).decode("ascii")
    return values


def _content(entry: Entry, content_type: str) -> bytes:
    if content_type == "PDF":
        return b"%PDF-1.4\n% simulated EDM view of " + entry.invoice.number.encode() + b"\n%%EOF\n"
    if content_type == "HTML":
        return f"<html><body><h1>{entry.invoice.number}</h1></body></html>".encode()
    return entry.invoice.xml


def _search(params: dict[str, str], header_only: bool) -> Search:
    """EDM's checks of a bound ``INVOICE_SEARCH_KEY`` (types were checked while binding)."""
    direction = params.get("DIRECTION", "")
    if not direction:
        raise EdmFault(MISSING_PARAMETER, field="DIRECTION")
    if direction.upper() not in DIRECTION_CODES:
        raise EdmFault(BAD_PARAMETER, field="DIRECTION", value=direction)
    limit = int(params.get("LIMIT") or DEFAULT_LIMIT)
    if limit < 1:
        raise EdmFault(BAD_PARAMETER, field="LIMIT", value=limit)

    def day(name: str) -> date | None:
        value = params.get(name, "")
        return date.fromisoformat(value[:10]) if value else None

    def moment(name: str) -> Any:
        value = params.get(name, "")
        if not value:
            return None
        try:
            return parse_moment(value)
        except ValueError:
            raise EdmFault(BAD_PARAMETER, field=name, value=value) from None

    return Search(
        direction=direction.upper(),
        limit=min(limit, HEADER_LIMIT if header_only else CONTENT_LIMIT),
        start=day("START_DATE"),
        end=day("END_DATE"),
        created_from=moment("CR_START_DATE"),
        created_to=moment("CR_END_DATE"),
        uuid=params.get("UUID") or None,
        number=params.get("ID") or None,
        read_included=params.get("READ_INCLUDED") in ("true", "1"),
    )


class Unreadable(Exception):
    """WCF cannot deserialize the message: the wrong body element, or a value not of its member's type."""


def _read(body: etree._Element, request: Type) -> Bound:
    """The request body as XmlSerializer binds it, or :class:`Unreadable` in the words of WCF's formatter."""
    if body.tag != q(NAMESPACE, request.name):
        found = etree.QName(body)
        raise Unreadable(
            f"Expecting element '{request.name}' from namespace '{NAMESPACE}'. Encountered "
            f"'Element' with name '{found.localname}', namespace '{found.namespace or ''}'."
        )
    try:
        return bind(body, request)
    except InvalidValue as exc:
        member = exc.member
        if member.choices:
            text = f"Instance validation error: '{exc.value}' is not a valid value for {member.type}."
            raise Unreadable(text) from None
        raise Unreadable(
            f"There is an error in XML document: '{exc.value}' is not a valid {member.type} for {member.name}."
        ) from None


def _answer(response: Type, values: dict[str, Any]) -> etree._Element:
    """The response body element: qualified, its members unqualified in ``Order``.

    The namespace gets a prefix: lxml never writes ``xmlns=""``, so under a default namespace the
    unqualified members would read back as qualified.
    """
    element = etree.Element(q(NAMESPACE, response.name), nsmap={"tns": NAMESPACE})
    write(element, values, response)
    return element


def _edm_fault(fault: EdmFault, header: dict[str, str], txn_id: int) -> Response:
    detail = etree.Element(q(NAMESPACE, REQUEST_ERROR.name), nsmap={"tns": NAMESPACE})
    values = {
        "INTL_TXN_ID": txn_id,
        "CLIENT_TXN_ID": header.get("CLIENT_TXN_ID"),
        "ERROR_CODE": fault.code,
        "ERROR_SHORT_DES": fault.short,
        "ERROR_LONG_DES": fault.long,
    }
    write(detail, values, REQUEST_ERROR)
    return fault_response("s:Client", fault.short, detail)


def create_app(sim: EdmSimulator | None = None, **options: Any) -> Starlette:
    """The app serving ``sim`` (or a new :class:`EdmSimulator` built from ``options``).

    ``app.state.sim`` is the simulator, ``app.state.mailbox`` its mailboxes by account slug and
    ``app.state.calls`` the call log (a live list of :class:`SimCall`).
    """
    simulator = sim if sim is not None else EdmSimulator(**options)
    service = Service(simulator)

    async def endpoint(request: Request) -> Response:
        if request.method == "GET":
            query = request.url.query.lower()
            if query in ("wsdl", "singlewsdl"):
                location = str(request.url.replace(query="")).rstrip("?")
                return Response(render_wsdl(location), media_type="text/xml; charset=utf-8")
            return PlainTextResponse("EFaturaEDM Service (simulated). Append ?wsdl for the contract.")
        try:
            soap = await read_soap_request(request)
        except SoapClientError as exc:
            simulator.record(SimCall("?", None, 500, str(exc)))
            return client_fault(f"Bad request: {exc}")
        injected = simulator.injected_failure()
        if injected is not None:
            simulator.record(SimCall(soap.operation.removesuffix("Request"), None, injected, "injected"))
            return PlainTextResponse("Service Unavailable", status_code=injected)

        operation = OPERATIONS.get(soap.soap_action)
        if operation is None:
            simulator.record(SimCall(soap.operation.removesuffix("Request"), None, 500, "ActionNotSupported"))
            return wcf_action_not_supported(soap.soap_action)
        try:
            bound = _read(soap.operation_element, operation.request)
        except Unreadable as exc:
            simulator.record(SimCall(operation.name, None, 500, "DeserializationFailed"))
            return wcf_deserialization_failed(operation.request.name, NAMESPACE, str(exc))

        header_element = bound.child("REQUEST_HEADER")
        header = header_element.summary() if header_element is not None else {}
        try:
            if header_element is None:
                raise EdmFault(MISSING_PARAMETER, field="REQUEST_HEADER")
            outcome = service.handlers[operation.name](bound, header)
        except EdmFault as fault:
            account = simulator.session_account(header.get("SESSION_ID", "")) if operation.name != "Login" else None
            simulator.record(SimCall(operation.name, account, 500, fault.short, header))
            return _edm_fault(fault, header, simulator.next_txn_id())
        simulator.record(SimCall(operation.name, outcome.account, 200, None, header, outcome.params, outcome.returned))
        return soap_response(_answer(operation.response, outcome.values))

    routes = [Route(path, endpoint, methods=["GET", "POST"]) for path in SERVICE_PATHS]
    app = Starlette(routes=routes)
    app.state.sim = simulator
    app.state.mailbox = simulator.mailboxes
    app.state.calls = simulator.calls
    return app
