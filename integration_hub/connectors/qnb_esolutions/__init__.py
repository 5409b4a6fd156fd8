"""QNB e-Solutions (eFinans) connector: incoming and outgoing e-Fatura from ``connectorService``.

Public entry: :func:`build_qnb_esolutions` (the ``CONNECTORS`` factory) and :class:`QnbConnector`.

Settings: ``username``, ``vkn`` (the company tax number every call acts for), ``environment``
(``test``/``production``), ``base_url`` (wins over ``environment``; a bare origin gets
:data:`~.settings.SERVICE_PATH` appended), ``start_date``; optional ``requests_per_minute`` (default
180, QNB's limit for ERP integrations) and ``download_batch``. Secret: ``password``.

Requests for a window of *n* incoming and *m* outgoing invoices: ``floor(n / 100) + 1`` incoming list
calls + ``ceil(n / 100)`` downloads + 1 outgoing list call (more only if a range reaches the assumed
outgoing cap) + ``ceil(m / 100)`` downloads. Download batches span list pages.

Nothing goes to ``stats.reported_counts``: QNB's listings carry no total, and the number of ETTNs we
listed ourselves is not an independent count (the collector already proves every listed invoice is
downloaded), so the asset's count check honestly says "no totals reported" instead of always agreeing.

Never called: ``belgelerAlindi`` (mark as received) or any other state-changing operation. The
``belgeSiraNo`` cursor is not persisted between runs on purpose: each window is listed from ``0`` with
the window as issue-date filter, which costs no extra request and keeps re-collecting a window idempotent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date

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
    ettn_key,
    vkn_setting,
)
from integration_hub.connectors.efatura.ubl import unwrap_documents
from integration_hub.connectors.http import RetryPolicy
from integration_hub.connectors.qnb_esolutions import settings
from integration_hub.connectors.qnb_esolutions.client import PROVIDER, ListedDocument, QnbClient

__all__ = ["QnbClient", "QnbConnector", "build_qnb_esolutions"]


class QnbConnector(EInvoiceConnector):
    """Collects the ``invoices`` stream (both directions) for one QNB account and company VKN."""

    provider = PROVIDER
    environments: Mapping[str, str] = settings.ENVIRONMENTS
    service_path = settings.SERVICE_PATH
    fixed_action = settings.SOAP_ACTION  # one soapAction for every operation (open point: see settings)
    requests_per_minute = settings.REQUESTS_PER_MINUTE
    client: QnbClient

    def __init__(
        self,
        config: ConnectorConfig,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 120.0,
        outgoing_cap: int = settings.OUTGOING_LIST_CAP,
    ) -> None:
        super().__init__(config)
        username = required_setting(config, "username", PROVIDER)
        vkn = vkn_setting(config, PROVIDER)
        try:
            self.download_batch = int(config.setting("download_batch", settings.DOWNLOAD_BATCH))
        except (TypeError, ValueError):
            raise ConfigurationError(f"{PROVIDER}: download_batch must be a number") from None
        if self.download_batch < 1:
            raise ConfigurationError(f"{PROVIDER}: download_batch must be positive")
        password = config.secret("password")
        soap = self.soap_client(account=username, retry=retry, timeout=timeout)
        self.client = QnbClient(soap, username=username, password=password, vkn=vkn, outgoing_cap=outgoing_cap)

    def test_connection(self) -> ConnectionTestResult:
        """One incoming list call for today: proves the password, the account's verification and the
        right to act for the VKN, without downloading anything."""
        today = date.today()
        try:
            self.client.list_incoming(0, today, today)
        except ConnectorError as exc:
            return ConnectionTestResult(False, str(exc))
        return ConnectionTestResult(
            True, f"Connected to QNB e-Solutions as '{self.client.username}' for VKN {self.client.vkn}"
        )

    def fetch_documents(self, direction: Direction, window: DateWindow) -> Iterator[Download]:
        listed = (
            self.client.incoming_documents(window.start, window.last)
            if direction == "in"
            else self.client.outgoing_documents(window.start, window.last)
        )
        for batch in batches(_distinct(listed), self.download_batch):
            yield self._download(direction, batch)

    def _download(self, direction: Direction, ettns: list[str]) -> Download:
        """One download call for ``ettns``. The zip is opened here (by the UBL layer's hardened unwrapper)
        so that a wrong number of documents fails before any parsing; the collector then checks that the
        documents are exactly the invoices asked for (a zip holding one of them twice has the right count
        but silently loses the other)."""
        documents = unwrap_documents(self.client.download(direction, ettns))
        if len(documents) != len(ettns):
            kind = "incoming" if direction == "in" else "outgoing"
            raise ProviderError(f"{PROVIDER}: asked for {len(ettns)} {kind} document(s), the zip held {len(documents)}")
        operation = settings.DOWNLOAD_INCOMING if direction == "in" else settings.DOWNLOAD_OUTGOING
        return Download(f"{PROVIDER}: {operation} zip", ettns, documents)


def _distinct(listed: Iterator[ListedDocument]) -> Iterator[str]:
    """ETTNs in listing order, each once (compared in canonical form)."""
    seen: set[str] = set()
    for item in listed:
        key = ettn_key(item.ettn)
        if key not in seen:
            seen.add(key)
            yield item.ettn.strip()


def build_qnb_esolutions(config: ConnectorConfig) -> QnbConnector:
    """``CONNECTORS`` factory for ``qnb_esolutions``."""
    return QnbConnector(config)
