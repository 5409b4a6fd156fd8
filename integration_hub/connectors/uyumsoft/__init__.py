"""Uyumsoft connector: incoming and outgoing e-Fatura / e-Arşiv invoices from the ``Integration`` service.

Public entry: :func:`build_uyumsoft` (the ``CONNECTORS`` factory) and :class:`UyumsoftConnector`, which
CRS Soft reuses at its own address (:mod:`integration_hub.connectors.crs_soft`).

Settings: ``username``, ``environment`` (``test``/``production``), ``base_url`` (wins over
``environment``; a bare origin gets ``/Services/Integration`` appended), ``start_date``; optional
``auth_style`` (``ws_security`` default, ``user_info``) and ``requests_per_minute``. Secret: ``password``.

How a window is fetched, per direction:

1. ``Get{Inbox,Outbox}InvoiceList`` pages (100 rows, 0-based ``PageIndex``) with
   ``ExecutionStartDate``/``ExecutionEndDate`` spanning the *whole* window — one listing pass, not one
   per day — sorted by creation time ascending so that invoices arriving meanwhile cannot shift a page.
   The first page's ``TotalCount`` is reported as the provider's own count.
2. The listed ETTNs, in batches of 50 spanning list pages, are downloaded with the platform's bulk call
   ``Get{Inbox,Outbox}InvoicesData(query{InvoiceIds})``: one request per 50 documents instead of one
   ``Get…InvoiceData`` per invoice. Why list first instead of paging the bulk call by date: the listing
   is the platform's well-trodden date filter (every public client uses it), it gives ``TotalCount``
   cheaply, and asking the bulk call for named ETTNs lets us prove the answer complete — a document
   missing from it (a deployment answering a query it misreads with an empty page) is a loud :class:`ProviderError`,
   never a quietly short partition. A deployment without the bulk call (WCF ``ActionNotSupported``)
   falls back to ``Get…InvoiceData`` per invoice for the rest of the run.

Requests for *n* incoming and *m* outgoing invoices: ``max(1, ceil(n/100)) + ceil(n/50)`` +
``max(1, ceil(m/100)) + ceil(m/50)`` (plus one failed probe and *n + m* single downloads on a
deployment without the bulk call).

Never called: ``SetInvoicesTaken``, ``GetInboxInvoices(SetTaken=true)`` or any other state-changing
operation; the inbox bulk query says ``SetTaken="false"`` explicitly.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from integration_hub.connectors.base import (
    ConfigurationError,
    ConnectionTestResult,
    ConnectorConfig,
    ConnectorError,
    DateWindow,
    ProviderError,
    required_setting,
)
from integration_hub.connectors.efatura.collector import (
    Direction,
    Download,
    EInvoiceConnector,
    batches,
)
from integration_hub.connectors.http import RetryPolicy
from integration_hub.connectors.uyumsoft import settings
from integration_hub.connectors.uyumsoft.client import (
    OperationNotSupported,
    Page,
    UyumsoftClient,
    follow_pages,
    list_row_id,
)

__all__ = ["OperationNotSupported", "UyumsoftClient", "UyumsoftConnector", "build_uyumsoft"]


class UyumsoftConnector(EInvoiceConnector):
    """Collects the ``invoices`` stream (both directions) for one account of a Uyumsoft-family service."""

    provider = "uyumsoft"
    label = "Uyumsoft"
    environments: Mapping[str, str] = settings.ENVIRONMENTS
    service_path = settings.SERVICE_PATH
    action_prefix = settings.ACTION_PREFIX
    requests_per_minute = settings.REQUESTS_PER_MINUTE
    default_auth_style = "ws_security"
    client: UyumsoftClient

    def __init__(
        self,
        config: ConnectorConfig,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 120.0,
        list_page_size: int = settings.LIST_PAGE_SIZE,
        document_batch: int = settings.DOCUMENT_BATCH,
    ) -> None:
        super().__init__(config)
        username = required_setting(config, "username", self.provider)
        try:
            password = config.secret("password")
        except ConfigurationError as exc:
            raise ConfigurationError(f"{self.provider}: {exc}") from None
        auth_style = str(config.setting("auth_style", self.default_auth_style))
        if auth_style not in settings.AUTH_STYLES:
            raise ConfigurationError(
                f"{self.provider}: auth_style '{auth_style}' is not one of {', '.join(settings.AUTH_STYLES)}"
            )
        if list_page_size < 1 or document_batch < 1:
            raise ConfigurationError(f"{self.provider}: page size and document batch must be at least 1")
        self.list_page_size = list_page_size
        self.document_batch = document_batch
        self.bulk_download = True
        soap = self.soap_client(account=username, retry=retry, timeout=timeout)
        self.client = UyumsoftClient(soap, username=username, password=password, auth_style=auth_style)

    def test_connection(self) -> ConnectionTestResult:
        """``WhoAmI``: proves the credentials (and the auth style) without touching any invoice."""
        try:
            who = self.client.who_am_i()
        except ConnectorError as exc:
            return ConnectionTestResult(False, str(exc))
        company = ", ".join(part for part in (who["name"], f"VKN {who['vkn']}" if who["vkn"] else "") if part)
        suffix = f" for {company}" if company else ""
        return ConnectionTestResult(
            True, f"Connected to {self.label} as '{who['username'] or self.client.username}'{suffix}"
        )

    def fetch_documents(self, direction: Direction, window: DateWindow) -> Iterator[Download]:
        for batch in batches(self._listed_ids(direction, window), self.document_batch):
            yield from self._download(direction, batch)

    def _listed_ids(self, direction: Direction, window: DateWindow) -> Iterator[str]:
        """The ETTNs the listing reports for the window, each once, page by page (see
        :func:`~.client.follow_pages` for when paging stops)."""
        what = f"{self.provider} {settings.LIST_OPERATION[direction]}"

        def fetch(page_index: int) -> Page:
            page = self.client.list_page(direction, window.start, window.last, page_index, self.list_page_size)
            self.stats.pages += 1
            if page_index == 0:
                self.stats.add_reported("invoice", page.total_count)  # None (not sent): no total at all
            return page

        for item in follow_pages(fetch, self.list_page_size, what, list_row_id):
            yield self.client.listed(item, what).invoice_id

    def _download(self, direction: Direction, ids: list[str]) -> Iterator[Download]:
        """The documents of ``ids``: one bulk call, or one call per invoice without the bulk operation. Each
        answer goes to the collector as a :class:`Download`, which checks the documents themselves (not only
        the ``InvoiceId`` labels checked here) are exactly the invoices asked for."""
        if self.bulk_download:
            try:
                documents = {
                    invoice_id.lower(): data for invoice_id, data in self.client.documents_by_ids(direction, ids)
                }
            except OperationNotSupported:
                self.bulk_download = False  # this deployment has no bulk call: one document per request
            else:
                missing = [invoice_id for invoice_id in ids if invoice_id.lower() not in documents]
                if missing:
                    raise ProviderError(
                        f"{self.provider}: {settings.BULK_DATA_OPERATION[direction]} returned {len(ids) - len(missing)}"
                        f" of {len(ids)} requested documents (missing e.g. {missing[0]})"
                    )
                operation = settings.BULK_DATA_OPERATION[direction]
                yield Download(f"{self.provider}: {operation}", ids, [documents[i.lower()] for i in ids])
                return
        operation = settings.DATA_OPERATION[direction]
        for invoice_id in ids:
            yield Download(f"{self.provider}: {operation}", [invoice_id], [self.client.document(direction, invoice_id)])


def build_uyumsoft(config: ConnectorConfig) -> UyumsoftConnector:
    """``CONNECTORS`` factory for ``uyumsoft``."""
    return UyumsoftConnector(config)
