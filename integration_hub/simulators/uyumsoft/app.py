"""The Uyumsoft-family ``Integration`` simulator: a Starlette app speaking the published contract.

``create_app(...)`` builds a :class:`UyumsoftSimulator` (accounts, mailboxes, call log, fault knobs) and
the app serving it at the WSDL's address path (``/Services/Integration``), with the real metadata files at
``?wsdl`` and ``?xsd=xsd0``… . ``app.state.simulator`` is the simulator; ``app.state.mailbox`` and
``app.state.calls`` are shortcuts to its mailboxes and call log.

How a request is handled, in the order a WCF host handles it (the contract: :mod:`.contract`):

1. the security header against the binding's policy (:mod:`.security`): no header, no ``wsu:Timestamp``,
   an expired one or a ``#PasswordDigest`` → fault ``a:InvalidSecurity``;
2. dispatch by SOAPAction: an action the WSDL does not have, or one whose input element is not the body
   element → WCF ``a:ActionNotSupported`` (also for a WSDL operation this simulator does not implement);
3. the body element validated strictly against the XSDs → WCF ``a:DeserializationFailed`` naming the error;
4. the user and password (reported for Uyumsoft, ``efatura.md`` §1.1 S-U4): wrong → fault ``s:Client``
   "Bu sisteme erişmek için gerekli yetkiniz yok" (or, with ``unauthorized_as="result"``, HTTP 200
   ``IsSucceded="false" Message="Unauthorized"``, S-U1's fixtures);
5. the operation, answering an XSD-valid ``<OpResponse>`` (:mod:`.answers`); application failures are
   HTTP 200 ``IsSucceded="false"`` with a message.

Served operations: ``TestConnection``, ``WhoAmI``, ``GetUserAliasses``, ``Get{Inbox,Outbox}InvoiceList``,
``Get{Inbox,Outbox}InvoicesData`` (unless ``bulk_data=False``), ``Get{Inbox,Outbox}InvoiceData``,
``Query{Inbox,Outbox}InvoiceStatus`` and ``SetInvoicesTaken`` (state-changing, so a collector that calls
it is caught; ``SetTaken="true"`` on the inbox bulk query is caught the same way).

CRS flavor (``flavor="crs"``, ``efatura.md`` §1.2): also accepts ``<tem:userInfo Username=".."
Password=".."/>`` as the body's first element instead of the WS-Security header. That element is *not*
in the WSDL (it is another Uyumsoft-family deployment's, Bien Teknoloji's, per S-U2); it is taken off
before the rest of the body is validated. An empty listing comes back with ``IsSucceded="true"`` and no
``Value`` (observed on CRS, S-C1; the XSD allows it: ``Value`` is ``minOccurs="0"``).

Fault injection: ``fail_rate`` answers that share of requests with a bare HTTP 503 (no SOAP fault), and
``simulator.fail_next(n)`` makes exactly the next *n* requests fail that way (for deterministic tests).
"""

from __future__ import annotations

import copy
import hmac
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from integration_hub.simulators.efatura.common import SimulatorState
from integration_hub.simulators.efatura.documents import GeneratedInvoice, generate_mailbox
from integration_hub.simulators.efatura.soap import (
    XML_CONTENT_TYPE,
    SoapClientError,
    SoapRequest,
    client_fault,
    fault_response,
    read_soap_request,
    soap_response,
    wcf_action_not_supported,
    wcf_deserialization_failed,
)
from integration_hub.simulators.uyumsoft.answers import Writer
from integration_hub.simulators.uyumsoft.contract import Contract, load_contract
from integration_hub.simulators.uyumsoft.mailbox import Account, Mailbox, account_from_credentials, generated_accounts
from integration_hub.simulators.uyumsoft.security import (
    Credentials,
    SecurityRefused,
    header_credentials,
    invalid_security,
)

NO_PERMISSION = "Bu sisteme erişmek için gerekli yetkiniz yok"
UNAUTHORIZED = "Unauthorized"
NOT_FOUND = "{key} numaralı fatura bulunamadı."  # [I]
QUERY_REQUIRED = "query parametresi boş olamaz."  # [I]

FLAVORS = ("uyumsoft", "crs")
UNAUTHORIZED_STYLES = ("fault", "result")
# WSDL operations that change a mailbox or send something. Only SetInvoicesTaken is implemented (and the
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
        "ChangeInvoiceArchiveStatus",
        "SendDocumentResponse",
        "MoveToDraftStatus",
        "RetrySendInvoices",
        "CloneInvoices",
        "ImportExistingInvoice",
        "QueueInvoiceNotification",
        "SetXsltView",
        "TransferInboxInvoiceToAnotherBranch",
    }
)
BOX = {"in": "Inbox", "out": "Outbox"}


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
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
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
        self.clock = clock
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

    def invoices(self, slug: str, direction: str, window: Container[date]) -> list[GeneratedInvoice]:
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


def service_unavailable(status: int = 503) -> Response:
    """What IIS answers when the application pool is down: HTML, no SOAP fault."""
    return HTMLResponse("<html><body><h1>Service Unavailable</h1></body></html>", status_code=status)


Handler = Callable[[Mailbox, etree._Element, dict[str, Any]], etree._Element]


class IntegrationService:
    """Checks a request the way the contract says and runs one operation against the caller's mailbox."""

    def __init__(self, sim: UyumsoftSimulator, contract: Contract) -> None:
        self.sim = sim
        self.contract = contract
        self.ns = contract.namespace
        self.out = Writer(contract.namespace)
        self.handlers: dict[str, Handler] = {
            "TestConnection": lambda mailbox, element, params: self.out.flag("TestConnection", True),
            "WhoAmI": self.who_am_i,
            "GetUserAliasses": self.user_aliases,
            "SetInvoicesTaken": self.set_invoices_taken,
        }
        for direction, box in BOX.items():
            self.handlers[f"Get{box}InvoiceList"] = partial(self.list_invoices, direction)
            self.handlers[f"Get{box}InvoiceData"] = partial(self.invoice_data, direction)
            self.handlers[f"Query{box}InvoiceStatus"] = partial(self.invoice_status, direction)
            if sim.bulk_data:
                self.handlers[f"Get{box}InvoicesData"] = partial(self.invoices_data, direction)
        unknown = set(self.handlers) - set(contract.operations)
        if unknown:  # a handler for an operation the WSDL does not have would be a simulator bug
            raise RuntimeError(f"operations not in the WSDL: {sorted(unknown)}")

    async def endpoint(self, request: Request) -> Response:
        if request.method == "GET":
            return self.metadata(request)
        try:
            soap = await read_soap_request(request)
        except SoapClientError as exc:
            self.sim.record(SimCall("?", None, 500, "fault: s:Client"))
            return client_fault(f"The request could not be read: {exc}")
        operation = soap.operation
        if (status := self.sim.injected_failure()) is not None:
            self.sim.record(SimCall(operation, None, status, "injected"))
            return service_unavailable(status)
        body, user_info = self._body(soap)
        try:
            credentials = user_info or header_credentials(
                soap, requires_timestamp=self.contract.requires_timestamp, now=self.sim.clock()
            )
        except SecurityRefused as exc:
            username = soap.username_token()[0]
            self.sim.record(SimCall(operation, username, 500, "fault: a:InvalidSecurity", {"refused": str(exc)}))
            return invalid_security()
        contract_op = self.contract.by_action.get(soap.soap_action)
        handler = self.handlers.get(operation)
        if (
            contract_op is None
            or contract_op.input_element != operation
            or soap.operation_namespace != self.ns
            or handler is None
        ):
            self.sim.record(SimCall(operation, credentials.username, 500, "fault: a:ActionNotSupported"))
            return wcf_action_not_supported(soap.soap_action)
        errors = self.contract.errors(body)
        if errors:
            refused = {"errors": errors}
            self.sim.record(SimCall(operation, credentials.username, 500, "fault: a:DeserializationFailed", refused))
            return wcf_deserialization_failed(operation, self.ns, errors[0])
        params: dict[str, Any] = {"auth": "user_info" if user_info else "ws_security"}
        refusal = self.authorize(operation, credentials, params)
        if refusal is not None:
            return refusal
        account = self.sim.account_for(credentials.username)
        assert account is not None  # authorize() refused every unknown user
        try:
            response = handler(self.sim.mailboxes[account.slug], body, params)
        except Failure as exc:
            self.sim.record(SimCall(operation, account.username, 200, f"failed: {exc}", params))
            return soap_response(self.out.result(operation, ok=False, message=str(exc))[0])
        self.sim.record(SimCall(operation, account.username, 200, "ok", params))
        return soap_response(response)

    def metadata(self, request: Request) -> Response:
        """``?wsdl`` and ``?xsd=xsdN``: the published files, pointing at this simulator's address."""
        keys = {key.lower(): value for key, value in request.query_params.items()}
        address = str(request.url.replace(query=""))
        name = "wsdl" if "wsdl" in keys else keys.get("xsd")
        if name is not None and (name == "wsdl" or name in self.contract.schema_files):
            return Response(self.contract.document(name, address), media_type=XML_CONTENT_TYPE)
        return HTMLResponse("<html><body><p>Integration Service. Metadata: ?wsdl</p></body></html>")

    # -- authentication ---------------------------------------------------------------------------------

    def _body(self, soap: SoapRequest) -> tuple[etree._Element, Credentials | None]:
        """The operation element to validate and, for the CRS flavor's ``userInfo`` variant (only without a
        security header), the credentials it carries — taken off the body, since the WSDL has no such
        element."""
        element = soap.operation_element
        first = next((child for child in element if isinstance(child.tag, str)), None)
        if (
            self.sim.flavor != "crs"
            or soap.security_header() is not None
            or first is None
            or first.tag != f"{{{self.ns}}}userInfo"
        ):
            return element, None
        body = copy.deepcopy(element)
        body.remove(body[list(element).index(first)])
        return body, Credentials(first.get("Username") or "", first.get("Password") or "")

    def authorize(self, operation: str, credentials: Credentials, params: dict[str, Any]) -> Response | None:
        """``None`` for a known user with the right password, else the refusal the platform answers."""
        account = self.sim.account_for(credentials.username)
        if account is not None and hmac.compare_digest(account.password.encode(), credentials.password.encode()):
            return None
        if self.sim.unauthorized_as == "result":
            self.sim.record(SimCall(operation, credentials.username, 200, f"failed: {UNAUTHORIZED}", params))
            return soap_response(self.out.result(operation, ok=False, message=UNAUTHORIZED)[0])
        self.sim.record(SimCall(operation, credentials.username, 500, "fault: s:Client", params))
        return fault_response("s:Client", NO_PERMISSION)

    # -- request reading (bodies are XSD-valid by now) ----------------------------------------------------

    def _child(self, parent: etree._Element, name: str) -> etree._Element | None:
        return parent.find(f"{{{self.ns}}}{name}")

    def _text(self, parent: etree._Element, name: str) -> str | None:
        """The text of a child; ``None`` when absent or ``xsi:nil`` (the XSD's nillable elements)."""
        element = self._child(parent, name)
        return element.text.strip() if element is not None and element.text and element.text.strip() else None

    def _texts(self, parent: etree._Element, name: str) -> list[str] | None:
        """A repeated simple element (``InvoiceIds``…), ``None`` when it does not occur at all."""
        values = [(e.text or "").strip() for e in parent.iterfind(f"{{{self.ns}}}{name}")]
        return values or None

    def _datetime(self, parent: etree._Element, name: str) -> datetime | None:
        value = self._text(parent, name)
        if value is None:
            return None
        moment = datetime.fromisoformat(value)
        return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment

    def _query(self, element: etree._Element) -> etree._Element:
        query = self._child(element, "query")
        if query is None:  # minOccurs="0" in the XSD; the service cannot do anything without it
            raise Failure(QUERY_REQUIRED)
        return query

    @staticmethod
    def _flag(query: etree._Element, name: str) -> bool:
        return query.get(name) in ("true", "1")

    def _page(
        self, query: etree._Element, rows: list[GeneratedInvoice], params: dict[str, Any]
    ) -> tuple[int, int, list[GeneratedInvoice]]:
        """``(index, clamped size, rows of that page)`` from the query's required paging attributes."""
        index, requested = int(query.get("PageIndex")), int(query.get("PageSize"))
        if index < 0:
            raise Failure("PageIndex 0 veya daha büyük olmalıdır.")
        size = min(max(requested, 1), self.sim.page_size_max)
        params.update(PageIndex=index, PageSize=requested, TotalCount=len(rows))
        return index, size, rows[index * size : (index + 1) * size]

    # -- operations -------------------------------------------------------------------------------------

    def who_am_i(self, mailbox: Mailbox, element: etree._Element, params: dict[str, Any]) -> etree._Element:
        response, result = self.out.result("WhoAmI")
        self.out.who_am_i(result, mailbox.account)
        return response

    def user_aliases(self, mailbox: Mailbox, element: etree._Element, params: dict[str, Any]) -> etree._Element:
        """``GetUserAliasses(vknTckn)``: the receiver box of a known e-Fatura user; an unknown VKN gives
        ``IsSucceded="true"`` with no ``Value`` (observed on CRS, S-C1)."""
        response, result = self.out.result("GetUserAliasses")
        vkn = self._text(element, "vknTckn") or ""
        params["vknTckn"] = vkn
        known = {a.vkn for a in self.sim.accounts.values()} | {
            party
            for box in self.sim.mailboxes.values()
            for i in box.invoices
            for party in (i.supplier_vkn, i.customer_vkn)
        }
        if vkn in known:
            self.out.alias(result, f"urn:mail:defaultpk@{vkn}.com.tr")
        return response

    def list_invoices(
        self, direction: str, mailbox: Mailbox, element: etree._Element, params: dict[str, Any]
    ) -> etree._Element:
        """``InboxInvoiceListQueryModel`` / ``OutboxInvoiceListQueryModel`` → ``PagedResponseOf…ListItem``."""
        operation = f"Get{BOX[direction]}InvoiceList"
        query = self._query(element)
        rows = mailbox.select(
            direction,
            execution=(self._datetime(query, "ExecutionStartDate"), self._datetime(query, "ExecutionEndDate")),
            created=(self._datetime(query, "CreateStartDate"), self._datetime(query, "CreateEndDate")),
            ids=self._texts(query, "InvoiceIds"),
            numbers=self._texts(query, "InvoiceNumbers"),
            scenario=self._text(query, "Scenario") if direction == "out" else None,
            status=self._text(query, "Status"),
            only_newest=direction == "in" and self._flag(query, "OnlyNewestInvoices"),
            sort_column=self._text(query, "SortColumn") or "Default",
            sort_mode=self._text(query, "SortMode") or "Default",
        )
        params.update(
            ExecutionStartDate=self._text(query, "ExecutionStartDate"),
            ExecutionEndDate=self._text(query, "ExecutionEndDate"),
        )
        response, result = self.out.result(operation)
        index, size, page = self._page(query, rows, params)
        if rows or self.sim.flavor != "crs":
            value = self.out.paged(result, index, size, len(rows))
            for invoice in page:
                self.out.list_item(value, mailbox, invoice)
        return response

    def invoices_data(
        self, direction: str, mailbox: Mailbox, element: etree._Element, params: dict[str, Any]
    ) -> etree._Element:
        """Bulk download: ``InboxInvoiceQueryModel`` / ``InvoiceQueryModel`` → ``PagedResponseOfInvoiceData``.
        ``SetTaken="true"`` marks the inbox invoices of the returned page taken (so ``OnlyNewestInvoices``
        stops returning them)."""
        operation = f"Get{BOX[direction]}InvoicesData"
        query = self._query(element)
        set_taken = direction == "in" and self._flag(query, "SetTaken")
        ids = self._texts(query, "InvoiceIds")
        rows = mailbox.select(
            direction,
            execution=(self._datetime(query, "ExecutionStartDate"), self._datetime(query, "ExecutionEndDate")),
            ids=ids,
            numbers=self._texts(query, "InvoiceNumbers"),
            only_newest=direction == "in" and self._flag(query, "OnlyNewestInvoices"),
            sort_column="CreateDate",
            sort_mode="Ascending",
        )
        params.update(SetTaken=set_taken, InvoiceIds=len(ids) if ids is not None else None)
        response, result = self.out.result(operation)
        index, size, page = self._page(query, rows, params)
        if rows or self.sim.flavor != "crs":
            value = self.out.paged(result, index, size, len(rows))
            for invoice in page:
                self.out.invoice_data(value, "Items", invoice)
        if set_taken:
            mailbox.taken.update(invoice.ettn.lower() for invoice in page)
        return response

    def invoice_data(
        self, direction: str, mailbox: Mailbox, element: etree._Element, params: dict[str, Any]
    ) -> etree._Element:
        """``Get{Inbox,Outbox}InvoiceData(invoiceId)`` → ``InvoiceDataResponse`` (``Value`` is ``InvoiceData``)."""
        operation = f"Get{BOX[direction]}InvoiceData"
        key = self._text(element, "invoiceId") or ""
        params["invoiceId"] = key
        invoice = mailbox.find(direction, key)
        if invoice is None:
            raise Failure(NOT_FOUND.format(key=key))
        response, result = self.out.result(operation)
        self.out.invoice_data(result, "Value", invoice)
        return response

    def invoice_status(
        self, direction: str, mailbox: Mailbox, element: etree._Element, params: dict[str, Any]
    ) -> etree._Element:
        """``Query{Inbox,Outbox}InvoiceStatus(invoiceIds: ArrayOfString)`` → ``InvoiceStatusResponse``."""
        operation = f"Query{BOX[direction]}InvoiceStatus"
        array = self._child(element, "invoiceIds")
        ids = (self._texts(array, "string") or []) if array is not None else []
        params["invoiceIds"] = len(ids)
        response, result = self.out.result(operation)
        found = [invoice for key in ids if (invoice := mailbox.find(direction, key)) is not None]
        self.out.statuses(result, mailbox, found)
        return response

    def set_invoices_taken(self, mailbox: Mailbox, element: etree._Element, params: dict[str, Any]) -> etree._Element:
        """State-changing: marks inbox invoices taken. Implemented so that a collector calling it is caught."""
        array = self._child(element, "invoices")
        ids = (self._texts(array, "string") or []) if array is not None else []
        params["invoices"] = len(ids)
        for key in ids:
            invoice = mailbox.find("in", key)
            if invoice is not None:
                mailbox.taken.add(invoice.ettn.lower())
        return self.out.flag("SetInvoicesTaken", True)


def service_path(contract: Contract | None = None) -> str:
    """The path of the WSDL's ``soap:address`` (``/Services/Integration``), where the app serves."""
    return urlsplit((contract or load_contract()).service_address).path


def create_app(**options: Any) -> Starlette:
    """The simulator app; ``options`` are :class:`UyumsoftSimulator`'s keyword arguments."""
    contract = load_contract()
    sim = UyumsoftSimulator(**options)
    service = IntegrationService(sim, contract)
    app = Starlette(routes=[Route(service_path(contract), service.endpoint, methods=["GET", "POST"])])
    app.state.simulator = sim
    app.state.mailbox = sim.mailboxes
    app.state.calls = sim.calls
    return app
