"""EDM's session login and its one read operation, ``GetInvoice``, over hand-built SOAP envelopes.

Session rules (EDM developer guide, ``efatura.md`` §1.3): ``Login(USER_NAME, PASSWORD)`` returns a GUID
``SESSION_ID``; every later request carries it in ``REQUEST_HEADER`` together with a fresh
``CLIENT_TXN_ID`` and the caller's identification. When a session times out EDM answers any call with
the fault "Aktif session bulunamadı"; the client then logs in again **once** and repeats that call. A
second "no session" right after a fresh login is a broken contract, not something to loop on.

Paging rules (the guide's own recommendation, §5.5): ``GetInvoice`` answers at most ``LIMIT`` invoices
ordered by their creation time ``CDATE`` (one-second precision). The client sends the same issue-date
range and ``LIMIT`` each time; a full page is followed by another with ``CR_START_DATE`` = the page's last
``CDATE``. Re-asking from that *same* second (not +1 s) is what keeps invoices that share the boundary
second but did not fit on the page; the price is re-reading the ones that did, which are dropped by UUID.
A page shorter than ``LIMIT`` ends the listing.

With ``HEADER_ONLY=N`` each invoice's UBL comes inline as base64 ``CONTENT``, so a window costs one
request per page of up to ``LIMIT`` documents, never one per document.

Wire form (EDM's generated client, see :mod:`.settings`): the body element ``<Op>Request`` is in
``http://tempuri.org/`` and is also the SOAPAction; every member under it is unqualified and written in the
contract's ``Order``, because the service's XmlSerializer reads members forwards and does not see one that
is qualified or out of order.
"""

from __future__ import annotations

import contextlib
import socket
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from lxml import etree

from integration_hub.connectors.base import AuthenticationError, ConnectorError, ProviderError
from integration_hub.connectors.edm import settings
from integration_hub.connectors.efatura.provider import ProviderClient, child, child_text, decode_base64, is_element
from integration_hub.connectors.efatura.soap import WCF_DISPATCHER_FAULT_CODES, SoapClient, SoapFault, q, unqualified

PROVIDER = "edm"
NS = settings.NAMESPACE
# What WCF puts in faultstring when a typed fault is thrown without a reason; the detail says more then.
_WCF_NO_REASON = "the creator of this fault did not specify a reason"


@dataclass(frozen=True, slots=True)
class EdmInvoice:
    """One ``INVOICE`` of a ``GetInvoice`` answer: its identity, creation second and decoded content."""

    uuid: str
    cdate: datetime
    content: bytes | None

    @property
    def key(self) -> str:
        """The UUID in canonical form (EDM echoes whatever case the sender used)."""
        return self.uuid.strip().lower()


class SessionExpired(ProviderError):
    """EDM no longer knows the session ("Aktif session bulunamadı"); handled inside :class:`EdmClient`."""


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a Turkish message (``İ``/``ı`` → ``i``) for matching."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ı", "i").replace("İ", "I"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def format_cdate(moment: datetime) -> str:
    """``CR_START_DATE`` in the form ``CDATE`` came in (xs:dateTime, offset kept when EDM sent one)."""
    return moment.isoformat()


class EdmClient(ProviderClient):
    """One EDM portal user: a session opened on first use, re-opened once on expiry, closed by :meth:`logout`.

    ``soap`` posts to ``EFaturaEDM.svc`` (SOAPAction = the request element's name). Faults are mapped per
    operation in :meth:`_send` (a refused ``Login`` is an authentication error, the same text elsewhere
    is not), so :meth:`classify_fault` is left as the base's pass-through.
    """

    def __init__(
        self,
        soap: SoapClient,
        *,
        username: str,
        password: str,
        limit: int = settings.LIMIT,
        header_limit: int = settings.HEADER_LIMIT,
        hostname: str | None = None,
    ) -> None:
        if limit < 1 or header_limit < 1:
            raise ValueError("limit and header_limit must be positive")
        super().__init__(soap, password=password)
        self.username = username
        self.limit = limit
        self.header_limit = header_limit
        self.hostname = hostname or socket.gethostname()
        self.session_id: str | None = None
        self.logins = 0

    def __repr__(self) -> str:
        return f"EdmClient(endpoint={self.endpoint!r}, username={self.username!r})"

    # -- faults ---------------------------------------------------------------------------------------

    def _describe(self, fault: SoapFault) -> str:
        """EDM's ``ERROR_SHORT_DES`` (sent as the fault reason), else the flattened detail; never the password."""
        text = fault.message
        if not text or fold(text).startswith(_WCF_NO_REASON):
            text = fault.detail or fault.code or "no description"
        return self.scrub(text)

    def _map_fault(self, operation: str, fault: SoapFault) -> ConnectorError:
        if settings.SESSION_EXPIRED_MARKER in fold(f"{fault.message} {fault.detail}"):
            return SessionExpired(f"{PROVIDER}: {operation}: the session is no longer active")
        description = self._describe(fault)
        if fault.local_code in WCF_DISPATCHER_FAULT_CODES:
            return ProviderError(
                f"{PROVIDER}: {operation}: the service could not read the request ({fault.local_code}: a contract "
                f"mismatch, not the credentials): {description}"
            )
        if operation == settings.LOGIN:
            return AuthenticationError(
                f"{PROVIDER}: login refused — check the username '{self.username}' and its password ({description})"
            )
        return ProviderError(f"{PROVIDER}: {operation} failed: {description}")

    # -- envelopes ------------------------------------------------------------------------------------

    def _request_header(self, parent: etree._Element, session_id: str) -> None:
        """``REQUEST_HEADER`` (member 0 of every request, from base class ``REQUEST``), its members in
        ``REQUEST_HEADERType`` order: SESSION_ID 0, CLIENT_TXN_ID 1, ACTION_DATE 4, APPLICATION_NAME 7,
        HOSTNAME 8, CHANNEL_NAME 9, COMPRESSED 11. A new ``CLIENT_TXN_ID`` for every request."""
        header = unqualified(parent, "REQUEST_HEADER")
        unqualified(header, "SESSION_ID", session_id)
        unqualified(header, "CLIENT_TXN_ID", str(uuid.uuid4()))
        unqualified(header, "ACTION_DATE", datetime.now().astimezone().isoformat(timespec="seconds"))
        unqualified(header, "APPLICATION_NAME", settings.APPLICATION_NAME)
        unqualified(header, "HOSTNAME", self.hostname)
        unqualified(header, "CHANNEL_NAME", settings.CHANNEL_NAME)
        unqualified(header, "COMPRESSED", "N")  # plain base64 UBL, not a zip per document

    def _send(self, operation: str, session_id: str, fill: Callable[[etree._Element], None]) -> etree._Element:
        """Post ``<operation>Request`` (the body element's name and the SOAPAction, see :mod:`.settings`)."""
        name = operation + settings.REQUEST_SUFFIX
        body = etree.Element(q(NS, name), nsmap={"tem": NS})
        self._request_header(body, session_id)
        fill(body)
        try:
            return self.soap.call(name, body)
        except SoapFault as fault:
            raise self._map_fault(operation, fault) from None

    # -- session --------------------------------------------------------------------------------------

    def login(self) -> None:
        """Open a session. A refused login raises :class:`AuthenticationError` and is never retried."""

        def fill(body: etree._Element) -> None:
            unqualified(body, "USER_NAME", self.username)  # LoginRequest: USER_NAME 0, PASSWORD 1
            unqualified(body, "PASSWORD", self._password)

        response = self._send(settings.LOGIN, settings.LOGIN_SESSION_ID, fill)
        session_id = child_text(response, "SESSION_ID")
        if not session_id:
            raise ProviderError(f"{PROVIDER}: Login answered without a SESSION_ID")
        self.session_id = session_id
        self.logins += 1

    def logout(self) -> None:
        """Close the session if one is open. Best effort: an expired session or an unreachable service
        must not hide the outcome of the work that came before."""
        session_id, self.session_id = self.session_id, None
        if session_id is None:
            return
        with contextlib.suppress(ConnectorError):
            self._send(settings.LOGOUT, session_id, lambda body: None)

    def call(self, operation: str, fill: Callable[[etree._Element], None]) -> etree._Element:
        """Send ``operation`` in the current session (logging in first if needed); on an expired session
        log in again once and repeat the call."""
        if self.session_id is None:
            self.login()
        assert self.session_id is not None
        try:
            return self._send(operation, self.session_id, fill)
        except SessionExpired:
            self.session_id = None
        self.login()
        assert self.session_id is not None
        try:
            return self._send(operation, self.session_id, fill)
        except SessionExpired:
            self.session_id = None  # dead too: nothing to log out of
            raise ProviderError(
                f"{PROVIDER}: {operation}: the session was reported inactive again right after a fresh login"
            ) from None

    # -- GetInvoice -----------------------------------------------------------------------------------

    def get_invoices(
        self,
        direction: str,
        *,
        first: date | None = None,
        last: date | None = None,
        created_from: datetime | None = None,
        invoice_uuid: str | None = None,
        limit: int | None = None,
        header_only: bool = False,
    ) -> list[EdmInvoice]:
        """One ``GetInvoice`` call: invoices of ``direction`` (``IN``/``OUT``) issued ``first``..``last``
        (inclusive) and created at or after ``created_from``, oldest ``CDATE`` first, at most ``limit``.

        ``READ_INCLUDED=true`` so that invoices another program marked as read are listed too.
        """
        size = limit or self.limit

        def fill(body: etree._Element) -> None:
            # GetInvoiceRequest: INVOICE_SEARCH_KEY 0, HEADER_ONLY 1; the key's members in their Order
            # (LIMIT 0, UUID 2, START_DATE 5, END_DATE 6, READ_INCLUDED 7, DIRECTION 8, CR_START_DATE 11).
            key = unqualified(body, "INVOICE_SEARCH_KEY")
            unqualified(key, "LIMIT", size)
            if invoice_uuid:
                unqualified(key, "UUID", invoice_uuid)
            if first is not None and last is not None:
                unqualified(key, "START_DATE", first.isoformat())
                unqualified(key, "END_DATE", last.isoformat())
            unqualified(key, "READ_INCLUDED", "true")
            unqualified(key, "DIRECTION", direction)
            if created_from is not None:
                unqualified(key, "CR_START_DATE", format_cdate(created_from))
            unqualified(body, "HEADER_ONLY", "Y" if header_only else "N")

        response = self.call(settings.GET_INVOICE, fill)
        self.stats.pages += 1
        items = [self._invoice(element, header_only) for element in response if is_element(element, "INVOICE")]
        if len(items) > size:
            raise ProviderError(f"{PROVIDER}: GetInvoice returned {len(items)} invoices for LIMIT {size}")
        return items

    def _invoice(self, element: etree._Element, header_only: bool) -> EdmInvoice:
        invoice_uuid = (element.get("UUID") or "").strip()
        if not invoice_uuid:
            raise ProviderError(f"{PROVIDER}: GetInvoice returned an INVOICE without a UUID attribute")
        raw_cdate = child_text(child(element, "HEADER"), "CDATE")
        try:
            cdate = datetime.fromisoformat(raw_cdate)
        except ValueError:
            raise ProviderError(
                f"{PROVIDER}: GetInvoice returned invoice {invoice_uuid} with an unreadable CDATE '{raw_cdate}'"
            ) from None
        content = None
        if not header_only:
            encoded = child_text(element, "CONTENT")
            if not encoded:
                raise ProviderError(f"{PROVIDER}: GetInvoice returned invoice {invoice_uuid} without CONTENT")
            content = decode_base64(
                encoded, f"{PROVIDER}: GetInvoice returned CONTENT that is not base64 for invoice {invoice_uuid}"
            )
        return EdmInvoice(uuid=invoice_uuid, cdate=cdate, content=content)

    def invoices(self, direction: str, first: date, last: date) -> Iterator[EdmInvoice]:
        """Every invoice of ``direction`` issued ``first``..``last``, each once, following the ``CDATE``
        keyset (see the module docstring)."""
        seen: set[str] = set()
        cursor: datetime | None = None
        while True:
            page = self.get_invoices(direction, first=first, last=last, created_from=cursor)
            fresh = False
            for invoice in page:
                if invoice.key not in seen:
                    seen.add(invoice.key)
                    fresh = True
                    yield invoice
            if len(page) < self.limit:
                return
            top = max(invoice.cdate for invoice in page)
            if cursor is not None and top < cursor:
                raise ProviderError(
                    f"{PROVIDER}: GetInvoice ignored CR_START_DATE {format_cdate(cursor)} (newest CDATE {top})"
                )
            if fresh:
                cursor = top
                continue
            # A full page of invoices we already have: every one of them was created in the cursor second
            # (anything newer would be new to us). Asking from that second again would return this same
            # page forever, so we step past it by one second. Before stepping, list that one second's
            # headers (no content, a much larger limit) and fetch any invoice of it we have not seen by its
            # UUID, so that more than LIMIT invoices created in one second cannot be skipped silently.
            yield from self._rest_of_second(direction, first, last, top, seen)
            cursor = top + timedelta(seconds=1)

    def _rest_of_second(
        self, direction: str, first: date, last: date, second: datetime, seen: set[str]
    ) -> Iterator[EdmInvoice]:
        headers = self.get_invoices(
            direction, first=first, last=last, created_from=second, limit=self.header_limit, header_only=True
        )
        if len(headers) >= self.header_limit and all(item.cdate == second for item in headers):
            raise ProviderError(
                f"{PROVIDER}: more than {self.header_limit} {direction} invoices share CDATE "
                f"{format_cdate(second)}; GetInvoice cannot page past them"
            )
        for header in headers:
            if header.cdate != second or header.key in seen:
                continue
            found = self.get_invoices(direction, invoice_uuid=header.uuid, limit=1)
            if len(found) != 1 or found[0].key != header.key:
                raise ProviderError(f"{PROVIDER}: GetInvoice by UUID did not return invoice {header.uuid}")
            seen.add(header.key)
            yield found[0]

    def close(self) -> None:
        try:
            self.logout()
        finally:
            super().close()
