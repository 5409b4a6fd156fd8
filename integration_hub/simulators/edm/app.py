"""The Starlette app of the EDM simulator: ``EFaturaEDM.svc`` over SOAP 1.1, plus ``?wsdl``.

Faithful to what public material shows (``efatura.md`` §1.3, §4): ``<Op>Request`` bodies in
``http://tempuri.org/`` that start with ``REQUEST_HEADER``; ``Login`` returns a GUID ``SESSION_ID`` that
every other call must carry; every failure is an HTTP 500 SOAP fault whose detail is a
``REQUEST_ERRORType`` (``ERROR_CODE``, ``ERROR_SHORT_DES``, ``ERROR_LONG_DES``) and whose reason is the
short description; an unknown or expired session gives "Aktif session bulunamadı". ``GetInvoice`` filters,
sorts by ``CDATE`` and caps at ``LIMIT`` as :mod:`.mailbox` describes. Like WCF, a SOAPAction that does
not match the body's operation is refused with ``a:ActionNotSupported``.

Error codes and all fault texts except the session one are not public; they are marked *[I]*.
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

from integration_hub.connectors.edm import settings
from integration_hub.simulators.edm.mailbox import DIRECTION_CODES, EARCHIVE_PROFILE, Entry, Search
from integration_hub.simulators.edm.simulator import EdmSimulator, SimCall, parse_moment
from integration_hub.simulators.edm.wsdl import render_wsdl
from integration_hub.simulators.efatura.documents import zip_documents
from integration_hub.simulators.efatura.soap import fault_response, read_soap_request, soap_response

NS = settings.NAMESPACE
SERVICE_PATHS = (settings.SERVICE_PATH, "/EFaturaEDM21ea/EFaturaEDM.svc")
CONTENT_LIMIT = 100  # invoices per answer with content (izibiz documents 100; EDM's default) [I]
HEADER_LIMIT = 25_000  # headers-only answers (izibiz documents 25 000) [I]

# (ERROR_CODE, ERROR_SHORT_DES, ERROR_LONG_DES). Only the session text is verbatim from public clients.
SESSION_NOT_FOUND = (2005, "Aktif session bulunamadı.", "Oturum süresi dolmuş ya da oturum kapatılmış.")
LOGIN_FAILED = (2001, "Kullanıcı adı veya şifre hatalı.", "Kullanıcı doğrulanamadı.")  # [I]
BAD_PARAMETER = (2010, "Geçersiz parametre: {field}", "{field} alanının değeri geçersiz: '{value}'")  # [I]
INVOICE_NOT_FOUND = (2020, "Fatura bulunamadı.", "Aranan fatura sistemde bulunamadı.")  # [I]


class EdmFault(Exception):
    """Raised by a handler; rendered as a ``REQUEST_ERRORType`` fault."""

    def __init__(self, template: tuple[int, str, str], **values: object) -> None:
        self.code = template[0]
        self.short = template[1].format(**values)
        self.long = template[2].format(**values)
        super().__init__(self.short)


@dataclass
class Outcome:
    """A handler's answer and what the call log keeps of the request."""

    element: etree._Element
    account: str | None
    params: dict[str, Any] = field(default_factory=dict)
    returned: int = 0


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _child(parent: etree._Element | None, name: str) -> etree._Element | None:
    if parent is None:
        return None
    for child in parent:
        if isinstance(child.tag, str) and _local(child) == name:
            return child
    return None


def _text(parent: etree._Element | None, name: str) -> str:
    child = _child(parent, name)
    return (child.text or "").strip() if child is not None else ""


def _el(parent: etree._Element | None, name: str, text: object | None = None, **attrs: str) -> etree._Element:
    tag = etree.QName(NS, name)
    element = etree.Element(tag, attrs, nsmap={None: NS}) if parent is None else etree.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = str(text)
    return element


class Service:
    """Authenticates and runs one operation against the simulator state."""

    def __init__(self, sim: EdmSimulator) -> None:
        self.sim = sim
        self.handlers: dict[str, Callable[[etree._Element, dict[str, str]], Outcome]] = {
            "Login": self.login,
            "Logout": self.logout,
            "GetInvoice": self.get_invoice,
            "GetInvoiceStatus": self.get_invoice_status,
            "MarkInvoice": self.mark_invoice,
        }

    # -- helpers --------------------------------------------------------------------------------------

    def _response(self, operation: str, header: dict[str, str]) -> etree._Element:
        response = _el(None, f"{operation}Response")
        ret = _el(response, "REQUEST_RETURN")
        _el(ret, "INTL_TXN_ID", self.sim.next_txn_id())
        _el(ret, "CLIENT_TXN_ID", header.get("CLIENT_TXN_ID", ""))
        _el(ret, "RETURN_CODE", 0)
        return response

    def _account(self, header: dict[str, str]) -> str:
        account = self.sim.session_account(header.get("SESSION_ID", ""))
        if account is None:
            raise EdmFault(SESSION_NOT_FOUND)
        return account

    # -- operations -----------------------------------------------------------------------------------

    def login(self, request: etree._Element, header: dict[str, str]) -> Outcome:
        username = _text(request, "USER_NAME")
        session_id = self.sim.login(username, _text(request, "PASSWORD"))
        if session_id is None:
            raise EdmFault(LOGIN_FAILED)
        response = self._response("Login", header)
        _el(response, "SESSION_ID", session_id)
        return Outcome(response, self.sim.session_account(session_id), {"USER_NAME": username})

    def logout(self, request: etree._Element, header: dict[str, str]) -> Outcome:
        account = self._account(header)
        self.sim.logout(header["SESSION_ID"])
        return Outcome(self._response("Logout", header), account)

    def get_invoice(self, request: etree._Element, header: dict[str, str]) -> Outcome:
        account = self._account(header)
        key_element = _child(request, "INVOICE_SEARCH_KEY")
        if key_element is None:
            raise EdmFault(BAD_PARAMETER, field="INVOICE_SEARCH_KEY", value="")
        params = {_local(c): (c.text or "").strip() for c in key_element if isinstance(c.tag, str)}
        header_only = _text(request, "HEADER_ONLY").upper() != "N"
        params["HEADER_ONLY"] = "Y" if header_only else "N"
        content_type = (_text(request, "INVOICE_CONTENT_TYPE") or "XML").upper()
        search = _search(params, header_only)
        rows = self.sim.mailboxes[account].search(search)
        response = self._response("GetInvoice", header)
        compressed = header.get("COMPRESSED", "").upper() == "Y"
        for entry in rows:
            self._render_invoice(response, entry, None if header_only else content_type, compressed)
        return Outcome(response, account, params, len(rows))

    def _render_invoice(self, parent: etree._Element, entry: Entry, content_type: str | None, zipped: bool) -> None:
        invoice = entry.invoice
        incoming = invoice.direction == "in"
        earchive = invoice.profile_id == EARCHIVE_PROFILE
        # XmlSerializer attributes; EDM echoes the ETTN in the sender's (here: upper) case.
        element = _el(parent, "INVOICE", ID=invoice.number, UUID=invoice.ettn.upper(), TRXID=str(entry.trxid))
        head = _el(element, "HEADER")
        _el(head, "SENDER", invoice.supplier_vkn)
        _el(head, "RECEIVER", invoice.customer_vkn)
        _el(head, "SUPPLIER", invoice.supplier_name)
        _el(head, "CUSTOMER", invoice.customer_name)
        _el(head, "ISSUE_DATE", invoice.issue_date.isoformat())
        _el(head, "PAYABLE_AMOUNT", f"{invoice.payable:.2f}", currencyID=invoice.currency)
        _el(head, "FROM", "" if earchive else f"urn:mail:defaultgb@{invoice.supplier_vkn}.edm.com.tr")
        _el(head, "TO", "" if earchive else f"urn:mail:defaultpk@{invoice.customer_vkn}.edm.com.tr")
        _el(head, "PROFILEID", invoice.profile_id)
        _el(head, "INVOICE_TYPE", invoice.type_code)
        status = "RECEIVE - SUCCEED" if incoming else "SEND - SUCCEED"
        _el(head, "STATUS", status)
        _el(head, "STATUS_DESCRIPTION", "SUCCEED")
        _el(head, "GIB_STATUS_CODE", 1300)
        _el(head, "GIB_STATUS_DESCRIPTION", "BAŞARIYLA TAMAMLANDI")
        _el(head, "RESPONSE_CODE", "ACCEPT" if invoice.profile_id == "TICARIFATURA" else "")
        _el(head, "CDATE", entry.cdate.isoformat())
        _el(head, "ENVELOPE_IDENTIFIER", "" if earchive else f"{entry.trxid:08d}-edm-envelope")
        _el(head, "EARCHIVE", "true" if earchive else "false")
        _el(head, "DIRECTION", "IN" if incoming else "OUT")
        _el(head, "MARKED", "true" if entry.marked else "false")
        if content_type is None:
            return
        data = _content(entry, content_type)
        if zipped:
            data = zip_documents([(f"{invoice.ettn.upper()}.{content_type.lower()}", data)])
        _el(element, "CONTENT", base64.b64encode(data).decode("ascii"))

    def get_invoice_status(self, request: etree._Element, header: dict[str, str]) -> Outcome:
        account = self._account(header)
        wanted = _child(request, "INVOICE")
        uuid_value = (wanted.get("UUID") or "").strip() if wanted is not None else ""
        number = (wanted.get("ID") or "").strip() if wanted is not None else ""
        entry = next(
            (
                e
                for e in self.sim.mailboxes[account].entries
                if (uuid_value and e.uuid == uuid_value.lower()) or (number and e.invoice.number == number)
            ),
            None,
        )
        if entry is None:
            raise EdmFault(INVOICE_NOT_FOUND)
        response = self._response("GetInvoiceStatus", header)
        status = _el(response, "INVOICE_STATUS", ID=entry.invoice.number, UUID=entry.invoice.ettn.upper())
        _el(status, "STATUS", "RECEIVE - SUCCEED" if entry.invoice.direction == "in" else "SEND - SUCCEED")
        _el(status, "STATUS_DESCRIPTION", "SUCCEED")
        _el(status, "GIB_STATUS_CODE", 1300)
        _el(status, "GIB_STATUS_DESCRIPTION", "BAŞARIYLA TAMAMLANDI")
        _el(status, "CDATE", entry.cdate.isoformat())
        return Outcome(response, account, {"UUID": uuid_value, "ID": number}, 1)

    def mark_invoice(self, request: etree._Element, header: dict[str, str]) -> Outcome:
        """State-changing: sets the read mark that ``READ_INCLUDED=false`` filters on. Recorded like any call."""
        account = self._account(header)
        mark = _child(request, "MARK")
        if mark is None:
            raise EdmFault(BAD_PARAMETER, field="MARK", value="")
        raw_value = (mark.get("value") or "").strip().lower()
        if raw_value not in ("true", "false", "read", "unread"):
            raise EdmFault(BAD_PARAMETER, field="MARK/@value", value=raw_value)
        invoices = [c for c in mark if isinstance(c.tag, str) and _local(c) == "INVOICE"]
        uuids = [c.get("UUID", "") for c in invoices if c.get("UUID")]
        numbers = [c.get("ID", "") for c in invoices if c.get("ID")]
        found = self.sim.mailboxes[account].mark(uuids, numbers, raw_value in ("true", "read"))
        params = {"value": raw_value, "UUID": uuids, "ID": numbers}
        return Outcome(self._response("MarkInvoice", header), account, params, found)


def _content(entry: Entry, content_type: str) -> bytes:
    if content_type == "PDF":
        return b"%PDF-1.4\n% simulated EDM view of " + entry.invoice.number.encode() + b"\n%%EOF\n"
    if content_type == "HTML":
        return f"<html><body><h1>{entry.invoice.number}</h1></body></html>".encode()
    return entry.invoice.xml


def _flag(value: str) -> bool:
    return value.strip().lower() in ("true", "1", "y")


def _search(params: dict[str, str], header_only: bool) -> Search:
    """Validate an ``INVOICE_SEARCH_KEY``. Dates are xs:date (issue) and xs:dateTime (creation)."""
    direction = params.get("DIRECTION", "").upper()
    if direction not in DIRECTION_CODES:
        raise EdmFault(BAD_PARAMETER, field="DIRECTION", value=params.get("DIRECTION", ""))
    raw_limit = params.get("LIMIT", "") or str(settings.LIMIT)
    if not raw_limit.isdigit() or int(raw_limit) < 1:
        raise EdmFault(BAD_PARAMETER, field="LIMIT", value=raw_limit)
    limit = min(int(raw_limit), HEADER_LIMIT if header_only else CONTENT_LIMIT)

    def day(name: str) -> date | None:
        value = params.get(name, "")
        if not value:
            return None
        try:
            return parse_moment(value).date()
        except ValueError:
            raise EdmFault(BAD_PARAMETER, field=name, value=value) from None

    def moment(name: str) -> Any:
        value = params.get(name, "")
        if not value:
            return None
        try:
            return parse_moment(value)
        except ValueError:
            raise EdmFault(BAD_PARAMETER, field=name, value=value) from None

    return Search(
        direction=direction,
        limit=limit,
        start=day("START_DATE"),
        end=day("END_DATE"),
        created_from=moment("CR_START_DATE"),
        created_to=moment("CR_END_DATE"),
        uuid=params.get("UUID") or None,
        number=params.get("ID") or None,
        read_included=_flag(params.get("READ_INCLUDED", "")),
    )


def _edm_fault(fault: EdmFault, header: dict[str, str], txn_id: int) -> Response:
    detail = _el(None, "REQUEST_ERRORType")
    _el(detail, "ERROR_CODE", fault.code)
    _el(detail, "ERROR_SHORT_DES", fault.short)
    _el(detail, "ERROR_LONG_DES", fault.long)
    _el(detail, "INTL_TXN_ID", txn_id)
    _el(detail, "CLIENT_TXN_ID", header.get("CLIENT_TXN_ID", ""))
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
                location = str(request.url.replace(query=""))
                return Response(render_wsdl(location.rstrip("?")), media_type="text/xml; charset=utf-8")
            return PlainTextResponse("EFaturaEDM Service (simulated). Append ?wsdl for the contract.")
        try:
            soap = await read_soap_request(request)
        except ValueError as exc:
            simulator.record(SimCall("?", None, 500, str(exc)))
            return fault_response("s:Client", f"Bad request: {exc}")
        operation = soap.operation.removesuffix("Request")
        header_element = _child(soap.operation_element, "REQUEST_HEADER")
        header = (
            {_local(c): (c.text or "").strip() for c in header_element if isinstance(c.tag, str)}
            if header_element is not None
            else {}
        )
        injected = simulator.injected_failure()
        if injected is not None:
            simulator.record(SimCall(operation, None, injected, "injected", header))
            return PlainTextResponse("Service Unavailable", status_code=injected)
        handler = service.handlers.get(operation)
        if handler is None or soap.soap_action != f"{settings.ACTION_PREFIX}{operation}":
            simulator.record(SimCall(operation, None, 500, "ActionNotSupported", header))
            return fault_response(
                "a:ActionNotSupported",
                f"The message with Action '{soap.soap_action}' cannot be processed at the receiver, due to a "
                "ContractFilter mismatch at the EndpointDispatcher.",
            )
        try:
            outcome = handler(soap.operation_element, header)
        except EdmFault as fault:
            account = simulator.session_account(header.get("SESSION_ID", "")) if operation != "Login" else None
            simulator.record(SimCall(operation, account, 500, fault.short, header))
            return _edm_fault(fault, header, simulator.next_txn_id())
        simulator.record(SimCall(operation, outcome.account, 200, None, header, outcome.params, outcome.returned))
        return soap_response(outcome.element)

    routes = [Route(path, endpoint, methods=["GET", "POST"]) for path in SERVICE_PATHS]
    app = Starlette(routes=routes)
    app.state.sim = simulator
    app.state.mailbox = simulator.mailboxes
    app.state.calls = simulator.calls
    return app
