"""SOAP client for the Uyumsoft-family ``Integration`` service (Uyumsoft itself, CRS Soft, ...).

Only the read operations the collector needs are built: the two listings, the bulk and the single
document download and ``WhoAmI``. Every request goes through
:class:`~integration_hub.connectors.efatura.soap.SoapClient` (shared envelopes, hardened parsing,
retries of 5xx without a fault through the shared HTTP transport).

The contract is Uyumsoft's published WSDL and XSDs (``shared/efatura-contracts/uyumsoft/``; the types
are in ``Integration2.xsd``, ``?xsd=xsd0``). What it fixes, and this module follows:

* queries: paging and flags are *required attributes* (``PageIndex`` 0-based, ``PageSize``;
  ``OnlyNewestInvoices``, ``SetTaken`` on the inbox models), filters are child elements in the XSD's
  sequence order. Elements with ``minOccurs="1" nillable="true"`` are always sent, as ``xsi:nil`` when we
  do not filter on them; repeated simple elements (``InvoiceIds``) occur once per value;
* answers: ``<OpResult IsSucceded=".." Message="..">`` (the platform's spelling) with ``Value``
  (``minOccurs="0"``: an answer without it is an empty page). A paged ``Value`` carries
  ``PageIndex PageSize TotalCount TotalPages`` attributes and one ``Items`` element *per row*: a list row
  (``InvoiceListItemBase``) has its fields as child elements, a document (``InvoiceData``) has
  ``InvoiceId`` as an attribute and ``Data`` (base64) as a child;
* security: the binding's policy wants a ``wsu:Timestamp`` beside the ``UsernameToken``
  (:data:`~.settings.TIMESTAMP_LIFETIME`).

Failures come three ways: a fault ``a:InvalidSecurity`` (missing/unsupported security header), a fault
``s:Client`` "Bu sisteme erişmek için gerekli yetkiniz yok" (user or password refused), or HTTP 200 with
``IsSucceded="false" Message="Unauthorized"`` (``efatura.md`` §1.1); all three are
:class:`AuthenticationError` and never retried. Other faults and failures are :class:`ProviderError`.

``auth_style="user_info"`` sends ``<tem:userInfo Username=".." Password=".."/>`` as the first body
element instead of the WS-Security header. That element is *not* in Uyumsoft's WSDL: it is another
Uyumsoft-family deployment's (Bien Teknoloji, ``efatura.md`` §1.2 / S-U2), kept as an opt-in.

No state-changing operation is ever built here: the inbox bulk query always carries
``SetTaken="false"`` and ``OnlyNewestInvoices="false"`` so that reading never marks an invoice taken.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from lxml import etree

from integration_hub.connectors.base import AuthenticationError, ProviderError
from integration_hub.connectors.efatura.provider import ProviderClient, child, child_text, decode_base64, is_element
from integration_hub.connectors.efatura.soap import (
    WS_SECURITY_FAULT_CODES,
    XSI_NS,
    SoapClient,
    SoapFault,
    nil,
    sub,
    ws_security_header,
)
from integration_hub.connectors.uyumsoft import settings

NS = settings.NAMESPACE


class OperationNotSupported(ProviderError):
    """The deployment does not offer an operation (WCF ``ActionNotSupported`` / ContractFilter mismatch)."""


@dataclass(frozen=True)
class ListedInvoice:
    """One row of ``Get{Inbox,Outbox}InvoiceList``: the ETTN plus what we log about it."""

    invoice_id: str
    document_id: str
    status: str


@dataclass(frozen=True)
class Page:
    """One page of a paged answer. ``total_count``/``total_pages`` are ``None`` when the service did not
    say (an answer without ``Value`` is a definite empty page: count 0)."""

    items: list[etree._Element]
    total_count: int | None
    total_pages: int | None


def list_row_id(item: etree._Element) -> str:
    """The ETTN of a list row (``InvoiceListItemBase``: ``InvoiceId`` is a child element)."""
    return child_text(item, "InvoiceId")


def document_id(item: etree._Element) -> str:
    """The ETTN of a document (``InvoiceData``: ``InvoiceId`` is an attribute)."""
    return (item.get("InvoiceId") or "").strip()


def follow_pages(
    fetch: Callable[[int], Page],
    page_size: int,
    what: str,
    key: Callable[[etree._Element], str],
    *,
    limit: int | None = None,
) -> Iterator[etree._Element]:
    """The items of pages ``fetch(0)``, ``fetch(1)``, …, each ``key(item)`` (its ETTN) once, case-insensitively.

    When to stop: an empty page always ends; else trust ``TotalPages`` when the service sends it; else,
    with ``TotalCount`` (of the first page), stop once that many invoices came — which caps the pages at
    ``TotalCount`` / page size and still works when the service clamps the page size; with neither, a page
    shorter than ``page_size`` is the last. ``limit`` ends it once that many came (a download cannot hold
    more invoices than were asked for). A page that would be followed by another but adds no new
    ``InvoiceId`` means the service ignores ``PageIndex``: a :class:`ProviderError` instead of asking for
    the same page forever.
    """
    seen: set[str] = set()
    total: int | None = None
    index = 0
    while True:
        page = fetch(index)
        if index == 0:
            total = page.total_count
        fresh = 0
        for item in page.items:
            ettn = key(item).lower()
            if ettn and ettn in seen:
                continue
            seen.add(ettn)
            fresh += 1
            yield item  # an item without InvoiceId is yielded for the caller to reject
        index += 1
        if not page.items or (limit is not None and len(seen) >= limit):
            return
        if page.total_pages is not None:
            more = index < page.total_pages
        elif total is not None:
            more = len(seen) < total
        else:
            more = len(page.items) >= page_size
        if not more:
            return
        if not fresh:
            raise ProviderError(
                f"{what}: page {index - 1} holds only invoices of earlier pages; the service seems to ignore "
                "PageIndex, stopping instead of asking again"
            )


def _int(value: str | None, what: str) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        raise ProviderError(f"{what}: '{value}' is not a number") from None


class UyumsoftClient(ProviderClient):
    """One account on one Uyumsoft-family endpoint; ``soap`` carries the provider name (``uyumsoft``,
    ``crs_soft``) and posts with :data:`~.settings.ACTION_PREFIX`."""

    def __init__(self, soap: SoapClient, *, username: str, password: str, auth_style: str = "ws_security") -> None:
        if auth_style not in settings.AUTH_STYLES:
            raise ValueError(f"auth_style must be one of {', '.join(settings.AUTH_STYLES)}")
        super().__init__(soap, password=password)
        self.username = username
        self.auth_style = auth_style

    def __repr__(self) -> str:
        return f"UyumsoftClient(endpoint={self.endpoint!r}, username={self.username!r}, auth_style={self.auth_style!r})"

    # -- operations ------------------------------------------------------------------------------------

    def list_page(self, direction: str, first: date, last: date, page_index: int, page_size: int) -> Page:
        """One page of invoice metadata whose invoice date (``ExecutionDate``) lies in ``first``..``last``
        (both included: the end is sent as the last second of ``last``).

        ``InboxInvoiceListQueryModel`` / ``OutboxInvoiceListQueryModel``: the ``InvoiceListQueryModel``
        sequence, every ``minOccurs="1"`` element present. ``IsArchived`` is sent ``xsi:nil`` — open point:
        no public source says whether ``false`` would hide archived invoices, and nil is the nullable's "no
        filter"; the same for ``Status`` and, on the outbox, ``Scenario`` (both e-Fatura and e-Arşiv)."""
        name = settings.LIST_OPERATION[direction]
        operation = self._operation(name)
        attrs = {"PageIndex": str(page_index), "PageSize": str(page_size)}
        if direction == "in":
            attrs["OnlyNewestInvoices"] = "false"
        query = sub(operation, NS, "query", **attrs)
        sub(query, NS, "ExecutionStartDate", f"{first.isoformat()}T00:00:00")
        sub(query, NS, "ExecutionEndDate", f"{last.isoformat()}{settings.END_OF_DAY}")
        nil(query, NS, "CreateStartDate")
        nil(query, NS, "CreateEndDate")
        nil(query, NS, "Status")
        sub(query, NS, "SortColumn", settings.SORT_COLUMN)
        sub(query, NS, "SortMode", settings.SORT_MODE)
        nil(query, NS, "IsArchived")
        if direction == "out":
            nil(query, NS, "Scenario")
        return self._page(name, self._call(name, operation))

    @staticmethod
    def listed(item: etree._Element, what: str) -> ListedInvoice:
        """One ``Items`` row of a listing (its fields are child elements)."""
        invoice_id = list_row_id(item)
        if not invoice_id:
            raise ProviderError(f"{what}: a listed invoice has no InvoiceId")
        return ListedInvoice(invoice_id, child_text(item, "DocumentId"), child_text(item, "Status"))

    def documents_by_ids(self, direction: str, ids: list[str]) -> Iterator[tuple[str, bytes]]:
        """``(ETTN, UBL XML)`` for the given ETTNs with ``Get{Inbox,Outbox}InvoicesData``, one call per
        page of the answer (normally one call: ``PageSize`` is the batch size).

        ``InboxInvoiceQueryModel`` / ``InvoiceQueryModel``: the execution dates are required but nillable
        (nil: the ETTNs alone select), then one ``InvoiceIds`` element per ETTN. The XSD makes
        ``InvoiceIds`` a repeated ``xs:string``, not an ``ArrayOfString``; an earlier version of this client
        wrapped the ids in ``<InvoiceIds><string>…`` on the claim that CRS needs ``ArrayOfString`` items in
        its own namespace — that claim had no source for this parameter, and the contract refuses it."""
        name = settings.BULK_DATA_OPERATION[direction]

        def fetch(page_index: int) -> Page:
            operation = self._operation(name)
            attrs = {"PageIndex": str(page_index), "PageSize": str(len(ids))}
            if direction == "in":
                attrs.update(SetTaken="false", OnlyNewestInvoices="false")
            query = sub(operation, NS, "query", **attrs)
            nil(query, NS, "ExecutionStartDate")
            nil(query, NS, "ExecutionEndDate")
            for invoice_id in ids:
                sub(query, NS, "InvoiceIds", invoice_id)
            page = self._page(name, self._call(name, operation))
            self.stats.pages += 1
            return page

        for item in follow_pages(fetch, len(ids), f"{self.provider} {name}", document_id, limit=len(ids)):
            yield self._invoice_data(item, name)

    def document(self, direction: str, invoice_id: str) -> bytes:
        """The UBL XML of one invoice with ``Get{Inbox,Outbox}InvoiceData(invoiceId)``."""
        name = settings.DATA_OPERATION[direction]
        operation = self._operation(name)
        sub(operation, NS, "invoiceId", invoice_id)
        value = child(self._call(name, operation), "Value")
        if value is None:
            raise ProviderError(f"{self.provider} {name}: no document returned for invoice {invoice_id}")
        returned_id, data = self._invoice_data(value, name, default_id=invoice_id)
        if returned_id.lower() != invoice_id.lower():
            raise ProviderError(f"{self.provider} {name}: asked for invoice {invoice_id}, got {returned_id}")
        return data

    def who_am_i(self) -> dict[str, str]:
        """``{"username", "vkn", "name"}`` of the authenticated user's company (no side effects), from
        ``WhoAmIInfo``: ``User/Username``, ``Customer/VkTckNo``, ``Customer/Name`` (child elements)."""
        result = self._call(settings.WHO_AM_I, self._operation(settings.WHO_AM_I))
        value = child(result, "Value")
        user, customer = child(value, "User"), child(value, "Customer")
        return {
            "username": child_text(user, "Username"),
            "vkn": child_text(customer, "VkTckNo"),
            "name": child_text(customer, "Name"),
        }

    # -- envelope building and reading ------------------------------------------------------------------

    def _operation(self, name: str) -> etree._Element:
        operation = etree.Element(etree.QName(NS, name), nsmap={"tem": NS, "xsi": XSI_NS})
        if self.auth_style == "user_info":
            sub(operation, NS, "userInfo", Username=self.username, Password=self._password)
        return operation

    def _call(self, name: str, operation: etree._Element) -> etree._Element:
        """Send ``operation``; return its ``<NameResult>`` after checking ``IsSucceded``."""
        headers = (
            [ws_security_header(self.username, self._password, timestamp=settings.TIMESTAMP_LIFETIME)]
            if self.auth_style == "ws_security"
            else []
        )
        response = self.soap.call(name, operation, headers)
        result = child(response, f"{name}Result")
        if result is None:
            raise ProviderError(f"{self.provider} {name}: the response has no {name}Result")
        if (result.get("IsSucceded") or "").strip().lower() == "false":
            message = self._clean(result.get("Message") or "")
            if any(text in message.lower() for text in settings.UNAUTHORIZED_MESSAGES):
                raise AuthenticationError(self._auth_message(message))
            raise ProviderError(f"{self.provider} {name} failed: {message or 'IsSucceded=false without a message'}")
        return result

    def _page(self, name: str, result: etree._Element) -> Page:
        """A ``PagedResponseOf…``: every ``Items`` child of ``Value`` is one row."""
        what = f"{self.provider} {name}"
        value = child(result, "Value")
        if value is None:  # Value is minOccurs="0" (CRS sends none for an empty listing)
            return Page([], 0, 0)
        return Page(
            items=[element for element in value if is_element(element, "Items")],
            total_count=_int(value.get("TotalCount"), what),
            total_pages=_int(value.get("TotalPages"), what),
        )

    def _invoice_data(self, element: etree._Element, name: str, default_id: str = "") -> tuple[str, bytes]:
        """``(InvoiceId, decoded Data)`` from an ``InvoiceData`` (``InvoiceId`` attribute, base64 ``Data``)."""
        invoice_id = document_id(element) or default_id
        encoded = child_text(element, "Data")
        if not invoice_id or not encoded:
            raise ProviderError(f"{self.provider} {name}: an InvoiceData item lacks its InvoiceId or Data")
        data = decode_base64(encoded, f"{self.provider} {name}: Data of invoice {invoice_id} is not base64")
        if not data:
            raise ProviderError(f"{self.provider} {name}: invoice {invoice_id} has an empty document")
        return invoice_id, data

    # -- errors ----------------------------------------------------------------------------------------

    def _clean(self, text: str) -> str:
        """One line, and never the password even if a server echoes it."""
        return self.scrub(" ".join(text.split()))

    def _auth_message(self, reason: str) -> str:
        return f"{self.provider}: username '{self.username}' or its password was rejected ({reason})"

    def classify_fault(self, fault: SoapFault) -> Exception | None:
        code = fault.local_code
        text = self._clean(f"{fault.message} {fault.detail}")
        if code in WS_SECURITY_FAULT_CODES:
            if self.auth_style == "user_info":
                return AuthenticationError(
                    f"{self.provider}: the service refused the userInfo credentials of '{self.username}' and asks "
                    "for a WS-Security header; set auth_style to 'ws_security'"
                )
            return AuthenticationError(self._auth_message(f"{fault.code}: {self._clean(fault.message)}"))
        if settings.NO_PERMISSION_TEXT in text.lower() or (
            "AuthorizedServiceMethodAttribute" in text and "Object reference not set" in text
        ):
            return AuthenticationError(self._auth_message(self._clean(fault.message)))
        if code == "ActionNotSupported" or "ContractFilter" in text:
            return OperationNotSupported(f"{self.provider}: {self._clean(fault.message)}")
        return ProviderError(f"{self.provider}: SOAP fault {fault.code}: {self._clean(fault.message)}")
