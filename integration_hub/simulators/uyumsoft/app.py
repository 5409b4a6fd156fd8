"""The Uyumsoft-family ``Integration`` simulator: a Starlette app speaking the platform's SOAP 1.1.

``create_app(...)`` builds a :class:`UyumsoftSimulator` (accounts, mailboxes, call log, fault knobs) and
the app serving it at ``/Services/Integration`` (``?wsdl`` for the WSDL). ``app.state.simulator`` is the
simulator; ``app.state.mailbox`` and ``app.state.calls`` are shortcuts to its mailboxes and call log.

Reproduced from public material (``efatura.md`` §1.1, §1.2, §4):

* WS-Security ``UsernameToken`` with ``#PasswordText`` on every call; no header or ``#PasswordDigest``
  → HTTP 500 fault ``a:InvalidSecurity`` "An error occurred when verifying security for the message.";
  wrong user or password → fault ``s:Client`` "Bu sisteme erişmek için gerekli yetkiniz yok" (or, with
  ``unauthorized_as="result"``, HTTP 200 ``IsSucceded="false" Message="Unauthorized"``);
* the platform's spellings: ``IsSucceded``, ``WaitingForAprovement``, ``ComercialInvoice``, ``GetUserAliasses``;
* paging attributes ``PageIndex`` (0-based) / ``PageSize`` on ``query``, ``Value`` attributes
  ``PageIndex, PageSize, TotalCount, TotalPages``, ``Items`` omitted on an empty page, page sizes
  clamped to ``page_size_max``; ``ExecutionStartDate/EndDate`` and ``CreateStartDate/EndDate`` filters
  with inclusive datetime bounds; ``Scenario``, ``Status``, ``InvoiceIds``, ``InvoiceNumbers``, sorting;
* base64 UBL from ``Get{Inbox,Outbox}InvoiceData`` and the paged bulk ``Get{Inbox,Outbox}InvoicesData``
  (whose ``SetTaken="true"`` marks inbox invoices taken — a state change the call log exposes);
* unknown operations or a SOAPAction that does not match the body → WCF ``a:ActionNotSupported``.

CRS flavor (``flavor="crs"``): also accepts ``<tem:userInfo Username=".." Password=".."/>`` body auth;
``ArrayOfString`` items count only in the service namespace (WCF ``…/Serialization/Arrays`` items
silently match nothing); ``GetOutboxInvoice`` finds invoices by ETTN only; an empty listing comes back
with ``IsSucceded="true"`` and no ``Value`` at all.

Fault injection: ``fail_rate`` answers that share of requests with a bare HTTP 503 (no SOAP fault), and
``simulator.fail_next(n)`` makes exactly the next *n* requests fail that way (for deterministic tests).
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from integration_hub.connectors.base import DateWindow
from integration_hub.connectors.efatura.soap import PASSWORD_TEXT, SOAP11_NS, WSSE_NS, parse_xml, q
from integration_hub.connectors.uyumsoft.settings import ACTION_PREFIX, NAMESPACE, SERVICE_PATH
from integration_hub.simulators.efatura.common import SimulatorState
from integration_hub.simulators.efatura.documents import GeneratedInvoice, b64, generate_mailbox
from integration_hub.simulators.efatura.soap import (
    XML_CONTENT_TYPE,
    SoapRequest,
    fault_response,
    read_soap_request,
    soap_response,
)
from integration_hub.simulators.uyumsoft.mailbox import (
    INVOICE_TYPES,
    STATUS_CODES,
    TIP_TYPES,
    Account,
    Mailbox,
    account_from_credentials,
    generated_accounts,
)
from integration_hub.simulators.uyumsoft.wsdl import render_wsdl

NS = NAMESPACE
ARRAYS_NS = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"
ADDRESSING_NONE_NS = "http://schemas.microsoft.com/ws/2005/05/addressing/none"
DISPATCHER_NS = "http://schemas.microsoft.com/net/2005/12/windowscommunicationfoundation/dispatcher"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

INVALID_SECURITY = "An error occurred when verifying security for the message."
NO_PERMISSION = "Bu sisteme erişmek için gerekli yetkiniz yok"
UNAUTHORIZED = "Unauthorized"
NOT_FOUND = "{key} numaralı fatura bulunamadı."  # [I]
QUERY_REQUIRED = "query parametresi boş olamaz."  # [I]
DEFAULT_PAGE_SIZE = 20  # the SDK's default when PageSize is absent

FLAVORS = ("uyumsoft", "crs")
UNAUTHORIZED_STYLES = ("fault", "result")
BULK_OPERATIONS = frozenset({"GetInboxInvoicesData", "GetOutboxInvoicesData"})
# Operations that change the mailbox or send something. Only SetInvoicesTaken is implemented (and the
# SetTaken="true" flag of the inbox bulk call); the rest answer ActionNotSupported but are still recorded.
STATE_CHANGING_OPERATIONS = frozenset(
    {
        "SetInvoicesTaken",
        "SendInvoice",
        "SaveAsDraft",
        "SendDraft",
        "CancelDraft",
        "CompressedSendInvoice",
        "CompressedSaveAsDraft",
        "CancelEArchiveInvoice",
        "RecoverEArchiveCancel",
        "ChangeInvoiceArchiveStatus",
        "SendDocumentResponse",
        "MoveToDraft",
    }
)


@dataclass(frozen=True)
class SimCall:
    """One request the simulator answered: what tests assert on (never a password)."""

    operation: str
    username: str | None
    status: int
    outcome: str  # "ok", "failed: <Message>", "fault: <code>", "injected"
    params: dict[str, Any] = field(default_factory=dict)


class Failure(Exception):
    """An application-level failure: HTTP 200 with ``IsSucceded="false" Message=..``."""


class Deserialization(Exception):
    """A value WCF cannot deserialize: fault ``a:DeserializationFailed``."""


class UyumsoftSimulator(SimulatorState[SimCall]):
    """Accounts, mailboxes, the call log and the fault knobs (from :class:`SimulatorState`) behind the app."""

    STATE_CHANGING_OPERATIONS = STATE_CHANGING_OPERATIONS

    def __init__(
        self,
        *,
        seed: int = 1,
        companies: int = 1,
        start: date | None = None,
        days: int = 90,
        credentials: Iterable[str] = (),
        per_day: tuple[int, int] = (0, 4),
        page_size_max: int = 100,
        fail_rate: float = 0.0,
        flavor: str = "uyumsoft",
        bulk_data: bool = True,
        unauthorized_as: str = "fault",
    ) -> None:
        if flavor not in FLAVORS:
            raise ValueError(f"flavor must be one of {', '.join(FLAVORS)}")
        if unauthorized_as not in UNAUTHORIZED_STYLES:
            raise ValueError(f"unauthorized_as must be one of {', '.join(UNAUTHORIZED_STYLES)}")
        if page_size_max < 1 or days < 1 or not 0.0 <= fail_rate <= 1.0:
            raise ValueError("page_size_max and days must be positive, fail_rate within 0..1")
        super().__init__(seed=seed, fail_rate=fail_rate)
        self.flavor = flavor
        self.page_size_max = page_size_max
        self.bulk_data = bulk_data
        self.unauthorized_as = unauthorized_as
        self.start = start or date.today() - timedelta(days=days - 1)
        self.days = days
        accounts = generated_accounts(companies, seed) + [account_from_credentials(c, seed) for c in credentials]
        if len({a.username for a in accounts}) != len(accounts) or len({a.slug for a in accounts}) != len(accounts):
            raise ValueError("two accounts share a username or slug")
        self.accounts: dict[str, Account] = {account.slug: account for account in accounts}
        self.mailboxes: dict[str, Mailbox] = {
            account.slug: Mailbox(
                account, generate_mailbox(seed + index, account.vkn, account.name, self.start, days, per_day)
            )
            for index, account in enumerate(accounts)
        }

    # -- for tests and the CLI ----------------------------------------------------------------------------

    def invoices(self, slug: str, direction: str, window: DateWindow) -> list[GeneratedInvoice]:
        """The invoices of account ``slug`` in ``direction`` (``in``/``out``) issued inside ``window``."""
        return [i for i in self.mailboxes[slug].invoices if i.direction == direction and i.issue_date in window]

    def operations(self) -> list[str]:
        """Operation names in call order."""
        return [call.operation for call in self.calls]

    def state_changes(self) -> list[SimCall]:
        """Calls that changed (or tried to change) a mailbox: state-changing operations, ``SetTaken``."""
        return [c for c in self.calls if c.operation in STATE_CHANGING_OPERATIONS or c.params.get("SetTaken")]

    def account_for(self, username: str | None) -> Account | None:
        return next((a for a in self.accounts.values() if a.username == username), None)


# -- request reading ----------------------------------------------------------------------------------------


def _child(parent: etree._Element | None, name: str) -> etree._Element | None:
    """A child in the service namespace (WCF's XmlSerializer ignores elements in any other namespace)."""
    return parent.find(q(NS, name)) if parent is not None else None


def _text(parent: etree._Element | None, name: str) -> str | None:
    element = _child(parent, name)
    return element.text.strip() if element is not None and element.text and element.text.strip() else None


def _datetime(parent: etree._Element, name: str) -> datetime | None:
    value = _text(parent, name)
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=None)
    except ValueError:
        raise Deserialization(f"The value '{value}' of {name} cannot be parsed as the type 'DateTime'.") from None


def _int_attr(element: etree._Element, name: str, default: int) -> int:
    value = element.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise Deserialization(f"The value '{value}' of {name} cannot be parsed as the type 'Int32'.") from None


def _bool_attr(element: etree._Element, name: str) -> bool:
    value = (element.get(name) or "false").strip().lower()
    if value not in ("true", "false", "1", "0"):
        raise Deserialization(f"The value '{value}' of {name} cannot be parsed as the type 'Boolean'.")
    return value in ("true", "1")


# -- response building --------------------------------------------------------------------------------------


def _result(operation: str) -> tuple[etree._Element, etree._Element]:
    """``<OpResponse xmlns=tempuri><OpResult IsSucceded="true" Message=""/>``: (response, result)."""
    response = etree.Element(q(NS, f"{operation}Response"), nsmap={None: NS})
    result = etree.SubElement(response, q(NS, f"{operation}Result"), IsSucceded="true", Message="")
    return response, result


def _sub(parent: etree._Element, name: str, text: str | None = None, **attrs: object) -> etree._Element:
    element = etree.SubElement(parent, q(NS, name), {k: str(v) for k, v in attrs.items()})
    if text is not None:
        element.text = text
    return element


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def wcf_fault(code: str, code_ns: str, message: str) -> Response:
    """A WCF-style fault whose ``faultcode`` prefix is declared on the element itself (``a:InvalidSecurity``)."""
    fault = etree.Element(q(SOAP11_NS, "Fault"))
    etree.SubElement(fault, "faultcode", nsmap={"a": code_ns}).text = f"a:{code}"
    faultstring = etree.SubElement(fault, "faultstring")
    faultstring.set(XML_LANG, "en-US")
    faultstring.text = message
    return soap_response(fault, 500)


def action_not_supported(action: str) -> Response:
    return wcf_fault(
        "ActionNotSupported",
        ADDRESSING_NONE_NS,
        f"The message with Action '{action}' cannot be processed at the receiver, due to a ContractFilter "
        "mismatch at the EndpointDispatcher. This may be because of either a contract mismatch (mismatched "
        "Actions between sender and receiver) or a binding/security mismatch between the sender and the receiver.",
    )


def service_unavailable(status: int = 503) -> Response:
    """What IIS answers when the application pool is down: HTML, no SOAP fault."""
    return HTMLResponse("<html><body><h1>Service Unavailable</h1></body></html>", status_code=status)


Handler = Callable[[Mailbox, etree._Element, dict[str, Any]], etree._Element]


class IntegrationService:
    """Authenticates a request and runs one operation against the caller's mailbox."""

    def __init__(self, sim: UyumsoftSimulator) -> None:
        self.sim = sim
        self.handlers: dict[str, Handler] = {
            "TestConnection": self.test_connection,
            "WhoAmI": self.who_am_i,
            "GetUserAliasses": self.user_aliases,
            "SetInvoicesTaken": self.set_invoices_taken,
        }
        for direction, box in (("in", "Inbox"), ("out", "Outbox")):
            self.handlers[f"Get{box}InvoiceList"] = partial(self.list_invoices, direction)
            self.handlers[f"Get{box}InvoiceData"] = partial(self.invoice_data, direction)
            self.handlers[f"Get{box}Invoice"] = partial(self.invoice_info, direction)
            self.handlers[f"Query{box}InvoiceStatus"] = partial(self.invoice_status, direction)
            if sim.bulk_data:
                self.handlers[f"Get{box}InvoicesData"] = partial(self.invoices_data, direction)

    async def endpoint(self, request: Request) -> Response:
        if request.method == "GET":
            if "wsdl" in {key.lower() for key in request.query_params}:
                address = str(request.url.replace(query=""))
                return Response(render_wsdl(self.handlers, address), media_type=XML_CONTENT_TYPE)
            return HTMLResponse("<html><body><p>Integration Service. Metadata: ?wsdl</p></body></html>")
        try:
            soap = await read_soap_request(request)
        except ValueError as exc:
            self.sim.record(SimCall("?", None, 500, "fault: s:Client"))
            return fault_response("s:Client", f"The request could not be read: {exc}")
        operation = soap.operation
        if (status := self.sim.injected_failure()) is not None:
            self.sim.record(SimCall(operation, None, status, "injected"))
            return service_unavailable(status)
        handler = self.handlers.get(operation)
        if handler is None or soap.soap_action != f"{ACTION_PREFIX}{operation}":
            self.sim.record(SimCall(operation, None, 500, "fault: a:ActionNotSupported"))
            return action_not_supported(soap.soap_action)
        username, style, refusal = self.authenticate(soap)
        if refusal is not None:
            return refusal
        account = self.sim.account_for(username)
        if account is None:  # authenticate() refuses every unknown user; kept explicit for type checkers
            return fault_response("s:Client", NO_PERMISSION)
        params: dict[str, Any] = {"auth": style}
        try:
            response = handler(self.sim.mailboxes[account.slug], soap.operation_element, params)
        except Failure as exc:
            response, result = _result(operation)
            result.set("IsSucceded", "false")
            result.set("Message", str(exc))
            self.sim.record(SimCall(operation, username, 200, f"failed: {exc}", params))
            return soap_response(response)
        except Deserialization as exc:
            self.sim.record(SimCall(operation, username, 500, "fault: a:DeserializationFailed", params))
            return wcf_fault(
                "DeserializationFailed",
                DISPATCHER_NS,
                f"The formatter threw an exception while trying to deserialize the message: {exc}",
            )
        self.sim.record(SimCall(operation, username, 200, "ok", params))
        return soap_response(response)

    # -- authentication ---------------------------------------------------------------------------------

    def authenticate(self, soap: SoapRequest) -> tuple[str | None, str, Response | None]:
        """``(username, auth style, None)`` for a good caller, else ``(username or None, style, refusal)``.
        The style (``ws_security``/``user_info``) lands in the call log so tests can see what was sent."""
        has_header = any(block.tag == q(WSSE_NS, "Security") for block in soap.headers)
        username, password, password_type = soap.username_token()
        style = "ws_security"
        if not has_header and self.sim.flavor == "crs":
            user_info = _child(soap.operation_element, "userInfo")
            if user_info is not None:
                username, password, password_type = user_info.get("Username"), user_info.get("Password"), None
                style = "user_info"
        if username is None or password is None or password_type not in (None, PASSWORD_TEXT):
            self.sim.record(SimCall(soap.operation, username, 500, "fault: a:InvalidSecurity"))
            return username, style, wcf_fault("InvalidSecurity", WSSE_NS, INVALID_SECURITY)
        account = self.sim.account_for(username)
        if account is None or not hmac.compare_digest(account.password.encode(), password.encode()):
            if self.sim.unauthorized_as == "result":
                self.sim.record(SimCall(soap.operation, username, 200, f"failed: {UNAUTHORIZED}"))
                response, result = _result(soap.operation)
                result.set("IsSucceded", "false")
                result.set("Message", UNAUTHORIZED)
                return username, style, soap_response(response)
            self.sim.record(SimCall(soap.operation, username, 500, "fault: s:Client"))
            return username, style, fault_response("s:Client", NO_PERMISSION)
        return username, style, None

    # -- helpers ----------------------------------------------------------------------------------------

    def _string_array(self, parent: etree._Element, name: str) -> list[str] | None:
        """An ``ArrayOfString`` parameter; ``None`` when absent. CRS counts only items in its own namespace:
        items in WCF's Arrays namespace are dropped, so the filter silently matches nothing."""
        array = _child(parent, name)
        if array is None:
            return None
        accepted = {NS} if self.sim.flavor == "crs" else {NS, ARRAYS_NS}
        items = [child for child in array if isinstance(child.tag, str) and etree.QName(child).localname == "string"]
        values = [
            (c.text or "").strip() for c in items if etree.QName(c).namespace in accepted and (c.text or "").strip()
        ]
        if items and not values:
            return []
        return values or None

    def _paged(
        self,
        result: etree._Element,
        rows: Sequence[GeneratedInvoice],
        query: etree._Element,
        params: dict[str, Any],
        render: Callable[[etree._Element, GeneratedInvoice], None],
    ) -> list[GeneratedInvoice]:
        """Write ``Value`` (paging attributes, ``Items`` only when the page has rows); return the page."""
        index = _int_attr(query, "PageIndex", 0)
        requested = _int_attr(query, "PageSize", DEFAULT_PAGE_SIZE)
        if index < 0:
            raise Failure("PageIndex 0 veya daha büyük olmalıdır.")
        size = min(max(requested, 1), self.sim.page_size_max)
        params.update(PageIndex=index, PageSize=requested, TotalCount=len(rows))
        if not rows and self.sim.flavor == "crs":
            return []
        page = list(rows[index * size : (index + 1) * size])
        value = _sub(
            result,
            "Value",
            PageIndex=index,
            PageSize=size,
            TotalCount=len(rows),
            TotalPages=math.ceil(len(rows) / size),
        )
        if page:
            items = _sub(value, "Items")
            for invoice in page:
                render(items, invoice)
        return page

    def _query(self, operation_element: etree._Element) -> etree._Element:
        query = _child(operation_element, "query")
        if query is None:
            raise Failure(QUERY_REQUIRED)
        return query

    @staticmethod
    def _data_item(parent: etree._Element, name: str, invoice: GeneratedInvoice) -> None:
        item = _sub(parent, name, InvoiceId=invoice.ettn, LocalDocumentId="")
        _sub(item, "Data", b64(invoice.xml))

    # -- operations -------------------------------------------------------------------------------------

    def test_connection(self, mailbox: Mailbox, element: etree._Element, params: dict[str, Any]) -> etree._Element:
        return _result("TestConnection")[0]

    def who_am_i(self, mailbox: Mailbox, element: etree._Element, params: dict[str, Any]) -> etree._Element:
        response, result = _result("WhoAmI")
        account = mailbox.account
        value = _sub(result, "Value")
        _sub(value, "User", Username=account.username, Name="Entegrasyon", Surname="Kullanıcısı", Email="")
        _sub(value, "Customer", Name=account.name, VkTckNo=account.vkn, TypeEnum="Enterprise", TaxOffice="Simülasyon")
        _sub(value, "Services", HasEInvoice="true", HasEarchive="true", HasEDespatch="false")
        return response

    def user_aliases(self, mailbox: Mailbox, element: etree._Element, params: dict[str, Any]) -> etree._Element:
        """``GetUserAliasses(vknTckn)``: the receiver box of a known e-Fatura user; an unknown VKN gives
        ``IsSucceded="true"`` with no ``Value`` (observed on CRS)."""
        response, result = _result("GetUserAliasses")
        vkn = _text(element, "vknTckn") or ""
        params["vknTckn"] = vkn
        known = {a.vkn for a in self.sim.accounts.values()} | {
            party
            for box in self.sim.mailboxes.values()
            for i in box.invoices
            for party in (i.supplier_vkn, i.customer_vkn)
        }
        if vkn in known:
            value = _sub(result, "Value")
            _sub(value, "ReceiverboxAliases", Alias=f"urn:mail:defaultpk@{vkn}.com.tr")
        return response

    def list_invoices(
        self, direction: str, mailbox: Mailbox, element: etree._Element, params: dict[str, Any]
    ) -> etree._Element:
        operation = "GetInboxInvoiceList" if direction == "in" else "GetOutboxInvoiceList"
        query = self._query(element)
        rows = mailbox.select(
            direction,
            execution=(_datetime(query, "ExecutionStartDate"), _datetime(query, "ExecutionEndDate")),
            created=(_datetime(query, "CreateStartDate"), _datetime(query, "CreateEndDate")),
            ids=self._string_array(query, "InvoiceIds"),
            numbers=self._string_array(query, "InvoiceNumbers"),
            scenario=_text(query, "Scenario") if direction == "out" else None,
            status=_text(query, "Status"),
            only_newest=direction == "in" and _bool_attr(query, "OnlyNewestInvoices"),
            sort_column=_text(query, "SortColumn") or "Default",
            sort_mode=_text(query, "SortMode") or "Default",
        )
        params.update(
            ExecutionStartDate=_text(query, "ExecutionStartDate"), ExecutionEndDate=_text(query, "ExecutionEndDate")
        )
        response, result = _result(operation)
        item_name = "InboxInvoiceListItem" if direction == "in" else "OutboxInvoiceListItem"
        self._paged(
            result, rows, query, params, lambda items, invoice: self._list_item(items, item_name, mailbox, invoice)
        )
        return response

    @staticmethod
    def _list_item(parent: etree._Element, name: str, mailbox: Mailbox, invoice: GeneratedInvoice) -> None:
        status = mailbox.status(invoice)
        kind, kind_code = INVOICE_TYPES.get(invoice.profile_id, ("BaseInvoice", 1))
        tip, tip_code = TIP_TYPES.get(invoice.type_code, ("Sales", 1))
        incoming = invoice.direction == "in"
        attrs: dict[str, object] = {
            "InvoiceId": invoice.ettn,
            "DocumentId": invoice.number,
            "Type": kind,
            "TypeCode": kind_code,
            "TargetTcknVkn": invoice.supplier_vkn if incoming else invoice.customer_vkn,
            "TargetTitle": invoice.supplier_name if incoming else invoice.customer_name,
            "EnvelopeIdentifier": invoice.ettn[::-1],
            "Status": status,
            "StatusCode": STATUS_CODES.get(status, 1300),
            "EnvelopeStatus": "CompletedSuccessfully",
            "EnvelopeStatusCode": 1300,
            "Message": "",
            "CreateDateUtc": _stamp(mailbox.create_date(invoice)),
            "ExecutionDate": _stamp(mailbox.execution_date(invoice)),
            "PayableAmount": invoice.payable,
            "TaxTotal": invoice.tax_total,
            "TaxExclusiveAmount": invoice.tax_exclusive,
            "DocumentCurrencyCode": invoice.currency,
            "IsArchived": "false",
            "InvoiceTipType": tip,
            "InvoiceTipTypeCode": tip_code,
        }
        if incoming:
            attrs.update(IsNew=str(invoice.ettn.lower() not in mailbox.taken).lower(), IsSeen="false")
        else:
            scenario = mailbox.scenario(invoice)
            attrs.update(Scenario=scenario, ScenarioCode=int(scenario == "eArchive"), LocalDocumentId="")
        _sub(parent, name, **attrs)

    def invoices_data(
        self, direction: str, mailbox: Mailbox, element: etree._Element, params: dict[str, Any]
    ) -> etree._Element:
        """Bulk download: the list query model, documents inline. ``SetTaken="true"`` marks the inbox
        invoices of the returned page taken (so ``OnlyNewestInvoices`` stops returning them)."""
        operation = "GetInboxInvoicesData" if direction == "in" else "GetOutboxInvoicesData"
        query = self._query(element)
        set_taken = direction == "in" and _bool_attr(query, "SetTaken")
        ids = self._string_array(query, "InvoiceIds")
        rows = mailbox.select(
            direction,
            execution=(_datetime(query, "ExecutionStartDate"), _datetime(query, "ExecutionEndDate")),
            ids=ids,
            numbers=self._string_array(query, "InvoiceNumbers"),
            only_newest=direction == "in" and _bool_attr(query, "OnlyNewestInvoices"),
            sort_column="CreateDate",
            sort_mode="Ascending",
        )
        params.update(SetTaken=set_taken, InvoiceIds=len(ids) if ids is not None else None)
        response, result = _result(operation)
        page = self._paged(
            result, rows, query, params, lambda items, invoice: self._data_item(items, "InvoiceData", invoice)
        )
        if set_taken:
            mailbox.taken.update(invoice.ettn.lower() for invoice in page)
        return response

    def invoice_data(
        self, direction: str, mailbox: Mailbox, element: etree._Element, params: dict[str, Any]
    ) -> etree._Element:
        operation = "GetInboxInvoiceData" if direction == "in" else "GetOutboxInvoiceData"
        key = _text(element, "invoiceId") or ""
        params["invoiceId"] = key
        invoice = mailbox.find(direction, key)
        if invoice is None:
            raise Failure(NOT_FOUND.format(key=key))
        response, result = _result(operation)
        self._data_item(result, "Value", invoice)
        return response

    def invoice_info(
        self, direction: str, mailbox: Mailbox, element: etree._Element, params: dict[str, Any]
    ) -> etree._Element:
        """``Get{Inbox,Outbox}Invoice(invoiceId)``: the UBL as a typed object. Uyumsoft also finds an
        invoice by its number [I]; CRS's ``GetOutboxInvoice`` accepts the ETTN only (observed)."""
        operation = "GetInboxInvoice" if direction == "in" else "GetOutboxInvoice"
        key = _text(element, "invoiceId") or ""
        params["invoiceId"] = key
        invoice = mailbox.find(direction, key, by_number=self.sim.flavor != "crs")
        if invoice is None:
            raise Failure(NOT_FOUND.format(key=key))
        response, result = _result(operation)
        value = _sub(
            result,
            "Value",
            Scenario=mailbox.scenario(invoice),
            CreateDateUtc=_stamp(mailbox.create_date(invoice)),
            LocalDocumentId="",
        )
        value.append(parse_xml(invoice.xml, "generated invoice"))
        return response

    def invoice_status(
        self, direction: str, mailbox: Mailbox, element: etree._Element, params: dict[str, Any]
    ) -> etree._Element:
        operation = "QueryInboxInvoiceStatus" if direction == "in" else "QueryOutboxInvoiceStatus"
        ids = self._string_array(element, "invoiceIds") or []
        params["invoiceIds"] = len(ids)
        response, result = _result(operation)
        value = _sub(result, "Value")
        for key in ids:
            invoice = mailbox.find(direction, key)
            if invoice is not None:
                status = mailbox.status(invoice)
                _sub(value, "InvoiceStatusInfo", InvoiceId=invoice.ettn, Status=status, StatusCode=STATUS_CODES[status])
        return response

    def set_invoices_taken(self, mailbox: Mailbox, element: etree._Element, params: dict[str, Any]) -> etree._Element:
        """State-changing: marks inbox invoices taken. Implemented so that a collector calling it is caught."""
        ids = self._string_array(element, "invoices") or []
        params["invoices"] = len(ids)
        for key in ids:
            invoice = mailbox.find("in", key)
            if invoice is not None:
                mailbox.taken.add(invoice.ettn.lower())
        return _result("SetInvoicesTaken")[0]


def create_app(**options: Any) -> Starlette:
    """The simulator app; ``options`` are :class:`UyumsoftSimulator`'s keyword arguments."""
    sim = UyumsoftSimulator(**options)
    service = IntegrationService(sim)
    app = Starlette(routes=[Route(SERVICE_PATH, service.endpoint, methods=["GET", "POST"])])
    app.state.simulator = sim
    app.state.mailbox = sim.mailboxes
    app.state.calls = sim.calls
    return app
