"""The four read-only connectorService operations the collector needs, over hand-built SOAP envelopes.

Why WS-Security and not ``userService.wsLogin``: QNB accepts a plain-text ``UsernameToken`` on every
call, which makes each request self-contained (no session cookie to expire mid-window, no login call to
pay for).

Paging rules this client implements:

* incoming (``gelenBelgeleriListeleExt``) is a cursor, not pages: every incoming document has a portal
  sequence number ``belgeSiraNo``; a call returns at most 100 documents with a number strictly greater
  than ``sonAlinanBelgeSiraNumarasi``. We start at ``0`` with the window as ``faturaTarihiBaslangic/Bitis``
  (so a window never scans the account's history) and continue from the largest number seen until a
  call returns fewer than 100;
* outgoing (``gidenBelgeleriListele``) is one date-range call with no paging. Its cap is not published,
  so a response holding :data:`~.settings.OUTGOING_LIST_CAP` rows is treated as truncated and the range
  is split in two;
* documents come from ``gelenBelgeleriIndir`` / ``gidenBelgeleriIndirEttn`` with *several* ETTNs per
  call, as one base64 zip holding one UBL file per ETTN.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from lxml import etree

from integration_hub.connectors.base import AuthenticationError, ProviderError
from integration_hub.connectors.efatura.provider import ProviderClient, child_text, decode_base64, is_element
from integration_hub.connectors.efatura.soap import (
    WS_SECURITY_FAULT_CODES,
    SoapClient,
    SoapFault,
    unqualified,
    ws_security_header,
)
from integration_hub.connectors.qnb_esolutions import settings

PROVIDER = "qnb_esolutions"


@dataclass(frozen=True, slots=True)
class ListedDocument:
    """One row of a listing: enough to download the document and to move the cursor."""

    ettn: str
    sequence: int | None = None  # belgeSiraNo (incoming only)


def _rows(response: etree._Element) -> Iterator[etree._Element]:
    """The ``<return>`` items of a JAX-WS list answer."""
    return (item for item in response if is_element(item, "return"))


def fault_code(fault: SoapFault) -> str:
    """``EF0003`` from a ``[EF0003] ...`` faultstring or from ``faultcode`` (``EF0003``, ``S:EF0003``)."""
    message = fault.message
    if message.startswith("[") and "]" in message:
        return message[1 : message.index("]")]
    return fault.local_code


class QnbClient(ProviderClient):
    """One QNB account (username + password) acting for one company VKN."""

    def __init__(
        self,
        soap: SoapClient,
        *,
        username: str,
        password: str,
        vkn: str,
        outgoing_cap: int = settings.OUTGOING_LIST_CAP,
    ) -> None:
        super().__init__(soap, password=password)
        self.username = username
        self.vkn = vkn
        self.outgoing_cap = outgoing_cap

    def __repr__(self) -> str:
        return f"QnbClient(endpoint={self.endpoint!r}, username={self.username!r}, vkn={self.vkn!r})"

    # -- faults ---------------------------------------------------------------------------------------

    def classify_fault(self, fault: SoapFault) -> Exception:
        """Faults are answers, never retried; credential problems become :class:`AuthenticationError`."""
        code = fault_code(fault)
        message = self.scrub(fault.message)[:300]
        if code == settings.FAULT_UNVERIFIED:
            return AuthenticationError(
                f"{PROVIDER}: account '{self.username}' is not verified yet; complete the financial seal / "
                f"e-signature verification on the QNB portal ({message})"
            )
        if code == settings.FAULT_VKN_NOT_AUTHORISED:
            return AuthenticationError(
                f"{PROVIDER}: user '{self.username}' may not act for VKN {self.vkn}; check the 'vkn' setting "
                f"({message})"
            )
        lowered = message.lower()
        if (
            code == settings.FAULT_LOGIN_FAILED
            or fault.local_code in WS_SECURITY_FAULT_CODES
            or any(marker in lowered for marker in settings.AUTH_FAILURE_MARKERS)
        ):
            return AuthenticationError(
                f"{PROVIDER}: QNB rejected the username '{self.username}' or its password; check both ({message})"
            )
        return ProviderError(f"{PROVIDER}: service fault {code or fault.code}: {message}")

    # -- raw operations -------------------------------------------------------------------------------

    def _call(self, operation: str, build: Callable[[etree._Element], None]) -> etree._Element:
        """``build`` adds the members unqualified (JAXB binds them by unqualified name only), in the order of
        the WSDL's ``xs:sequence`` as efinans-php's generated types record it (alphabetical inside
        ``parametreler``, parameter order inside a wrapper)."""
        body = etree.Element(etree.QName(settings.NAMESPACE, operation), nsmap={"ser": settings.NAMESPACE})
        build(body)
        return self.soap.call(operation, body, [ws_security_header(self.username, self._password)])

    def list_incoming(self, after: int, first: date, last: date) -> list[ListedDocument]:
        """One ``gelenBelgeleriListeleExt`` call: up to 100 incoming invoices issued ``first``..``last``
        (inclusive) with ``belgeSiraNo > after``, in sequence order. Only the issue-date filters go with the
        cursor: QNB's docs forbid combining it with arrival-date, approval (``onayDurum``), branch or label
        filters, and in cursor mode every approval state is listed (pending commercial invoices included)."""

        def build(body: etree._Element) -> None:
            params = unqualified(body, "parametreler")
            unqualified(params, "belgeTuru", settings.DOCUMENT_TYPE)
            unqualified(params, "faturaTarihiBaslangic", first.strftime(settings.DATE_FORMAT))
            unqualified(params, "faturaTarihiBitis", last.strftime(settings.DATE_FORMAT))
            unqualified(params, "sonAlinanBelgeSiraNumarasi", str(after))
            unqualified(params, "vergiTcKimlikNo", self.vkn)

        response = self._call(settings.LIST_INCOMING, build)
        self.stats.pages += 1
        items = []
        for row in _rows(response):
            raw_sequence = child_text(row, "belgeSiraNo")
            ettn = child_text(row, "ettn")
            if not ettn or not raw_sequence.isdigit():
                raise ProviderError(f"{PROVIDER}: {settings.LIST_INCOMING} returned a row without ettn/belgeSiraNo")
            items.append(ListedDocument(ettn=ettn, sequence=int(raw_sequence)))
        return items

    def list_outgoing(self, first: date, last: date) -> list[ListedDocument]:
        """One ``gidenBelgeleriListele`` call: outgoing invoices issued ``first``..``last`` (inclusive).
        Only the document-date bounds are sent: a send-date bound would drop invoices sent after the window."""

        def build(body: etree._Element) -> None:
            params = unqualified(body, "parametreler")
            unqualified(params, "baslangicBelgeTarihi", first.strftime(settings.DATE_FORMAT))
            unqualified(params, "belgeTuru", settings.DOCUMENT_TYPE)
            unqualified(params, "bitisBelgeTarihi", last.strftime(settings.DATE_FORMAT))
            unqualified(params, "vkn", self.vkn)

        response = self._call(settings.LIST_OUTGOING, build)
        self.stats.pages += 1
        items = []
        for row in _rows(response):
            ettn = child_text(row, "ettn")
            if not ettn:
                raise ProviderError(f"{PROVIDER}: {settings.LIST_OUTGOING} returned a row without ettn")
            items.append(ListedDocument(ettn=ettn))
        return items

    def download(self, direction: str, ettns: Sequence[str]) -> bytes:
        """The zip (decoded from base64) holding the UBL of every ETTN in ``ettns``: one call."""
        incoming = direction == "in"
        operation = settings.DOWNLOAD_INCOMING if incoming else settings.DOWNLOAD_OUTGOING
        list_field = "ettnler" if incoming else "belgeEttnListesi"

        def build(body: etree._Element) -> None:
            unqualified(body, "vergiTcKimlikNo", self.vkn)
            # One element per ETTN: the WSDL's member is maxOccurs="unbounded" (a svcutil client of it passes
            # string[]; efinans-php's generator types lists as scalars, so it cannot tell). Never comma-joined:
            # the service reads one joined value as one unknown ETTN.
            for ettn in ettns:
                unqualified(body, list_field, ettn)
            unqualified(body, "belgeTuru", settings.DOCUMENT_TYPE)
            unqualified(body, "belgeFormati", settings.DOCUMENT_FORMAT)

        response = self._call(operation, build)
        encoded = child_text(response, "return")
        if not encoded:
            raise ProviderError(f"{PROVIDER}: {operation} returned no content for {len(ettns)} ETTN(s)")
        return decode_base64(encoded, f"{PROVIDER}: {operation} returned content that is not base64")

    # -- paging -----------------------------------------------------------------------------------------

    def incoming_documents(self, first: date, last: date) -> Iterator[ListedDocument]:
        """Every incoming invoice issued ``first``..``last``, following the ``belgeSiraNo`` cursor."""
        cursor = 0
        while True:
            page = self.list_incoming(cursor, first, last)
            yield from page
            if len(page) < settings.INCOMING_PAGE_SIZE:
                return
            largest = max(item.sequence or 0 for item in page)
            if largest <= cursor:
                raise ProviderError(
                    f"{PROVIDER}: {settings.LIST_INCOMING} did not advance past belgeSiraNo {cursor}; stopping"
                )
            cursor = largest

    def outgoing_documents(self, first: date, last: date) -> Iterator[ListedDocument]:
        """Every outgoing invoice issued ``first``..``last``; a range whose answer reaches the cap is
        split in halves and re-asked (a single capped day is an error: we cannot see past it)."""
        page = self.list_outgoing(first, last)
        if len(page) < self.outgoing_cap:
            yield from page
            return
        if first == last:
            raise ProviderError(
                f"{PROVIDER}: {settings.LIST_OUTGOING} returned {len(page)} rows for {first}, the assumed cap; "
                "some invoices of that day may be missing"
            )
        middle = first + timedelta(days=(last - first).days // 2)
        yield from self.outgoing_documents(first, middle)
        yield from self.outgoing_documents(middle + timedelta(days=1), last)
