"""İşNet ``SearchInvoice`` over hand-built SOAP envelopes, with the DataContract rules WCF imposes.

WCF's DataContractSerializer reads members in a fixed order (ordinal-alphabetical for İşNet's
contracts) and silently *skips* an element that arrives after the member it belongs to: a request with
``MinInvoiceDate`` before ``MaxInvoiceDate`` loses its upper bound without any error. So every
DataContract element here is written by :func:`data_contract`, which sorts the members ordinally;
the order is a property of the code, not of each call site.

Identity is the company VKN (``CompanyTaxCode``) plus, in production, İşNet's IP whitelist: there is
no username or password. An unknown or unwhitelisted VKN is reported as a failed answer (HTTP 200),
which we turn into an :class:`AuthenticationError` naming the setting.

How an answer says "failed", and how it names its paging numbers, is an open point (see
:func:`outcome` and :func:`paging_numbers`): the WSDL-generated types and two clients that read real
answers say one thing, NetteFatura-API's hand-written types another. We read both, and an answer that
says neither success nor failure is an error rather than an empty success.

We ask for ``IsXMLIncluded=true`` so every page carries the UBL documents inline: listing *is*
downloading, one request per 100 invoices. We never send the ``Ettn`` filter: an empty one makes
İşNet return the account's first invoice instead of the date range (DOLIBARR).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time

from lxml import etree

from integration_hub.connectors.base import AuthenticationError, ProviderError
from integration_hub.connectors.efatura.provider import ProviderClient, child, child_text, decode_base64
from integration_hub.connectors.efatura.soap import SoapClient, SoapFault, sub
from integration_hub.connectors.isnet import settings

PROVIDER = "isnet"
Value = str | int | bool | Mapping[str, "Value"]


def data_contract(parent: etree._Element, members: Mapping[str, Value]) -> None:
    """Append ``members`` to ``parent`` as DataContract elements in WCF's (ordinal) member order;
    nested mappings become nested contracts, booleans ``true``/``false``."""
    for name in sorted(members):
        value = members[name]
        if isinstance(value, Mapping):
            data_contract(sub(parent, settings.MODEL_NAMESPACE, name), value)
        elif isinstance(value, bool):
            sub(parent, settings.MODEL_NAMESPACE, name, "true" if value else "false")
        else:
            sub(parent, settings.MODEL_NAMESPACE, name, value)


@dataclass(frozen=True, slots=True)
class Outcome:
    """Whether an answer reports success, and its error message when not."""

    ok: bool
    message: str


def outcome(result: etree._Element) -> Outcome | None:
    """The success flag of an ``<Op>Result``, in either reading; ``None`` when it carries neither.

    * WSDL_TYPES:SearchInvoiceResult.ts (and DOLIBARR reading real answers, NETTE's go-live tool matching
      ``<a:Result>Success``): ``Result`` is the ResultType enum ``Success``/``Failed`` and ``ErrorMessage``
      is its sibling;
    * NETTE:src/types/common.types.ts (hand-written): ``Result`` is an object ``{IsSuccess, ErrorMessage}``.
    """
    flag = child(result, "Result")
    if flag is None:
        return None
    if child(flag, "IsSuccess") is not None:
        return Outcome(child_text(flag, "IsSuccess").lower() == "true", child_text(flag, "ErrorMessage"))
    status = (flag.text or "").strip()
    if status not in ("Success", "Failed"):
        return None
    return Outcome(status == "Success", child_text(result, "ErrorMessage"))


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One ``SearchInvoice`` answer: the documents of this page and the service's paging numbers, each
    ``None`` when the answer did not carry it (never guessed from the page: a guess would make a
    truncated listing look complete to the count check)."""

    documents: list[tuple[str, bytes]]  # (ETTN, UBL bytes)
    total_records: int | None
    total_pages: int | None
    current_page: int | None


def _int(parent: etree._Element | None, *names: str) -> int | None:
    """The first of ``names`` present in ``parent`` as a number (``None`` when none is)."""
    name = next((name for name in names if child(parent, name) is not None), names[0])
    raw = child_text(parent, name)
    try:
        return int(raw) if raw else None
    except ValueError:
        raise ProviderError(f"{PROVIDER}: PagingResponse.{name} is not a number: {raw[:20]!r}") from None


def paging_numbers(paging: etree._Element | None) -> tuple[int | None, int | None, int | None]:
    """``(total records, total pages, current page)`` of a ``PagingResponse``, in either reading:
    WSDL_TYPES:PagingResponse.ts names them ``TotalNumberOfRecords``, ``TotalNumberOfPages``, ``PageNumber``;
    NETTE:src/types/common.types.ts (hand-written) ``TotalRecords``, ``TotalPages``, ``CurrentPage``."""
    return (
        _int(paging, "TotalNumberOfRecords", "TotalRecords"),
        _int(paging, "TotalNumberOfPages", "TotalPages"),
        _int(paging, "PageNumber", "CurrentPage"),
    )


class IsnetClient(ProviderClient):
    """One company VKN at one İşNet InvoiceService endpoint (``soap`` posts with
    :data:`~.settings.ACTION_PREFIX`)."""

    def __init__(self, soap: SoapClient, *, vkn: str, records_per_page: int = settings.RECORDS_PER_PAGE) -> None:
        super().__init__(soap)
        self.vkn = vkn
        self.records_per_page = records_per_page

    def __repr__(self) -> str:
        return f"IsnetClient(endpoint={self.endpoint!r}, vkn={self.vkn!r})"

    def classify_fault(self, fault: SoapFault) -> Exception:
        return ProviderError(f"{PROVIDER}: service fault {fault.code}: {fault.message[:300]}")

    def _failure(self, message: str) -> Exception:
        lowered = message.lower()
        if any(marker in lowered for marker in settings.IDENTITY_FAILURE_MARKERS):
            return AuthenticationError(
                f"{PROVIDER}: İşNet does not accept VKN {self.vkn} from this client ({message}); check the 'vkn' "
                "setting and that İşNet has whitelisted the hub's egress IP for it"
            )
        return ProviderError(f"{PROVIDER}: {settings.SEARCH_INVOICE} failed: {message}")

    def search(
        self, direction: str, first: date, last: date, page: int, *, include_xml: bool = True, size: int | None = None
    ) -> SearchPage:
        """One ``SearchInvoice`` page of invoices of ``direction`` (``in``/``out``) issued ``first``..``last``."""
        operation = etree.Element(
            etree.QName(settings.SERVICE_NAMESPACE, settings.SEARCH_INVOICE),
            nsmap={"tem": settings.SERVICE_NAMESPACE, "ein": settings.MODEL_NAMESPACE},
        )
        request = sub(operation, settings.SERVICE_NAMESPACE, "request")
        data_contract(
            request,
            {
                "CompanyTaxCode": self.vkn,
                "InvoiceDirection": settings.DIRECTIONS[direction],
                # xs:dateTime, the window's whole last day: see settings.DATE_TIME_FORMAT for the open point.
                "MaxInvoiceDate": datetime.combine(last, time(23, 59, 59)).strftime(settings.DATE_TIME_FORMAT),
                "MinInvoiceDate": datetime.combine(first, time.min).strftime(settings.DATE_TIME_FORMAT),
                "PagingRequest": {"PageNumber": page, "RecordsPerPage": size or self.records_per_page},
                "ResultSet": {
                    "IsAdditionalTaxIncluded": False,
                    "IsArchiveIncluded": True,  # invoices archived in the portal are still invoices
                    "IsInvoiceDetailIncluded": False,  # lines come from the UBL itself
                    "IsXMLIncluded": include_xml,
                },
            },
        )
        response = self.soap.call(settings.SEARCH_INVOICE, operation)
        self.stats.pages += 1
        result = child(response, f"{settings.SEARCH_INVOICE}Result")
        if result is None:
            raise ProviderError(f"{PROVIDER}: {settings.SEARCH_INVOICE} answer has no {settings.SEARCH_INVOICE}Result")
        reported = outcome(result)
        if reported is None:
            raise ProviderError(f"{PROVIDER}: {settings.SEARCH_INVOICE} answer says neither Success nor Failed")
        if not reported.ok:
            raise self._failure(reported.message or "no error message")
        documents = []
        invoices = child(result, "Invoices")
        for invoice in invoices if invoices is not None else ():
            ettn = child_text(invoice, "ETTN")
            if not ettn:
                raise ProviderError(f"{PROVIDER}: {settings.SEARCH_INVOICE} returned an invoice without ETTN")
            if include_xml:
                raw = child_text(invoice, "InvoiceXml")
                if not raw:
                    raise ProviderError(f"{PROVIDER}: invoice {ettn} came without InvoiceXml although it was asked for")
                # WSDL_TYPES:Invoice.ts: InvoiceXml is xs:base64Binary.
                documents.append((ettn, decode_base64(raw, f"{PROVIDER}: InvoiceXml of {ettn} is not base64")))
            else:
                documents.append((ettn, b""))
        total_records, total_pages, current_page = paging_numbers(child(result, "PagingResponse"))
        return SearchPage(documents, total_records, total_pages, current_page)

    def documents(self, direction: str, first: date, last: date) -> Iterator[tuple[str, bytes]]:
        """Every invoice of ``direction`` issued ``first``..``last``: pages 1.. until ``TotalPages``.

        Paging is followed strictly, because each way of getting it wrong loses invoices silently: a full
        page without ``PagingResponse`` (more may follow, we cannot tell), an empty page before
        ``TotalPages``, a ``CurrentPage`` other than the one asked for, or a page of invoices already seen
        (a service ignoring ``PageNumber``) are :class:`ProviderError`. A page shorter than asked without
        ``PagingResponse`` is the last one. The service's total of records goes to
        ``stats.reported_counts['invoice']``; an answer without it removes that count for good
        (:meth:`~integration_hub.connectors.base.CollectStats.add_reported` with ``None``).
        """
        what = f"{PROVIDER}: {settings.SEARCH_INVOICE} {settings.DIRECTIONS[direction]}"
        seen: set[str] = set()
        page = 1
        while True:
            result = self.search(direction, first, last, page)
            if page == 1:
                self.stats.add_reported("invoice", result.total_records)
            if result.current_page is not None and result.current_page != page:
                raise ProviderError(f"{what}: asked for page {page}, got page {result.current_page}")
            fresh = [(ettn, data) for ettn, data in result.documents if ettn.strip().lower() not in seen]
            if page > 1 and result.documents and not fresh:
                raise ProviderError(f"{what}: page {page} repeats invoices of earlier pages (PageNumber ignored?)")
            seen.update(ettn.strip().lower() for ettn, _ in fresh)
            yield from fresh
            if result.total_pages is None:
                if len(result.documents) >= self.records_per_page:
                    raise ProviderError(
                        f"{what}: page {page} is full ({len(result.documents)} invoices) but the answer has no "
                        "PagingResponse; cannot tell whether more pages follow"
                    )
                return
            if page >= result.total_pages:
                return
            if not result.documents:
                raise ProviderError(f"{what}: page {page} of {result.total_pages} is empty; later pages would be lost")
            page += 1
