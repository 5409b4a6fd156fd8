"""QNB e-Solutions (eFinans) connector: incoming and outgoing e-Fatura from ``connectorService``.

Public entry: :func:`build_qnb_esolutions` (the ``CONNECTORS`` factory) and :class:`QnbConnector`.

Settings: ``username``, ``vkn`` (the company tax number every call acts for), ``environment``
(``test``/``production``), ``base_url`` (wins over ``environment``; a bare origin gets
:data:`~.settings.SERVICE_PATH` appended), ``start_date``; optional ``requests_per_minute`` (default
180, QNB's limit for ERP integrations) and ``download_batch``. Secret: ``password``.

Requests for a window of *n* incoming and *m* outgoing invoices: ``floor(n / 100) + 1`` incoming list
calls + ``ceil(n / 100)`` downloads + 1 outgoing list call (more only if a range reaches the assumed
outgoing cap) + ``ceil(m / 100)`` downloads. Download batches span list pages.

Never called: ``belgelerAlindi`` (mark as received) or any other state-changing operation. The
``belgeSiraNo`` cursor is not persisted between runs on purpose: each window is listed from ``0`` with
the window as issue-date filter, which costs no extra request and keeps re-collecting a window idempotent.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from itertools import islice
from urllib.parse import urlsplit

from integration_hub.connectors.base import (
    ConfigurationError,
    ConnectionTestResult,
    ConnectorConfig,
    ConnectorError,
    DateWindow,
    ProviderError,
)
from integration_hub.connectors.efatura.collector import Direction, EInvoiceConnector, resolve_base_url
from integration_hub.connectors.efatura.ubl import unwrap_documents
from integration_hub.connectors.http import RetryPolicy, shared_bucket
from integration_hub.connectors.qnb_esolutions import settings
from integration_hub.connectors.qnb_esolutions.client import PROVIDER, ListedDocument, QnbClient

__all__ = ["QnbClient", "QnbConnector", "build_qnb_esolutions", "service_url"]


def service_url(config: ConnectorConfig) -> str:
    """The connectorService endpoint for ``config`` (environment URL, or ``base_url`` + standard path)."""
    url = resolve_base_url(config, settings.ENVIRONMENTS, PROVIDER)
    if urlsplit(url).path in ("", "/"):
        url = url.rstrip("/") + settings.SERVICE_PATH
    return url


class QnbConnector(EInvoiceConnector):
    """Collects the ``invoices`` stream (both directions) for one QNB account and company VKN."""

    provider = PROVIDER

    def __init__(
        self,
        config: ConnectorConfig,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 120.0,
        outgoing_cap: int = settings.OUTGOING_LIST_CAP,
    ) -> None:
        super().__init__(config)
        username = str(config.setting("username", "")).strip()
        vkn = str(config.setting("vkn", "")).strip()
        if not username:
            raise ConfigurationError(f"{PROVIDER}: the 'username' setting is required")
        if not (vkn.isdigit() and len(vkn) in (10, 11)):
            raise ConfigurationError(f"{PROVIDER}: the 'vkn' setting must be a 10-digit VKN or 11-digit TCKN")
        try:
            self.download_batch = int(config.setting("download_batch", settings.DOWNLOAD_BATCH))
            rate = float(config.setting("requests_per_minute", settings.REQUESTS_PER_MINUTE))
        except (TypeError, ValueError):
            raise ConfigurationError(f"{PROVIDER}: download_batch and requests_per_minute must be numbers") from None
        if self.download_batch < 1 or rate <= 0:
            raise ConfigurationError(f"{PROVIDER}: download_batch and requests_per_minute must be positive")
        password = config.secret("password")
        self.client = QnbClient(
            service_url(config),
            username=username,
            password=password,
            vkn=vkn,
            stats=self.stats,
            bucket=shared_bucket(PROVIDER, username, rate),
            retry=retry,
            timeout=timeout,
            outgoing_cap=outgoing_cap,
        )

    def __repr__(self) -> str:
        return f"QnbConnector({self.client!r})"

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

    def fetch_documents(self, direction: Direction, window: DateWindow) -> Iterator[bytes]:
        listed = (
            self.client.incoming_documents(window.start, window.last)
            if direction == "in"
            else self.client.outgoing_documents(window.start, window.last)
        )
        seen: set[str] = set()
        for batch in _batches(_distinct(listed, seen), self.download_batch):
            yield from self._download(direction, batch)
        self.stats.add_reported("invoice", len(seen))

    def _download(self, direction: Direction, ettns: list[str]) -> list[bytes]:
        """One download call for ``ettns``. The zip is opened here (by the UBL layer's hardened unwrapper)
        rather than by the parser so that it must hold exactly one document per ETTN asked for: otherwise an
        invoice would silently go missing."""
        documents = unwrap_documents(self.client.download(direction, ettns))
        if len(documents) != len(ettns):
            kind = "incoming" if direction == "in" else "outgoing"
            raise ProviderError(f"{PROVIDER}: asked for {len(ettns)} {kind} document(s), the zip held {len(documents)}")
        return documents

    def close(self) -> None:
        self.client.close()


def _distinct(listed: Iterator[ListedDocument], seen: set[str]) -> Iterator[str]:
    """ETTNs in listing order, each once (case-insensitively); ``seen`` collects them for the count."""
    for item in listed:
        key = item.ettn.strip().lower()
        if key not in seen:
            seen.add(key)
            yield item.ettn.strip()


def _batches(ettns: Iterator[str], size: int) -> Iterator[list[str]]:
    while batch := list(islice(ettns, size)):
        yield batch


def build_qnb_esolutions(config: ConnectorConfig) -> QnbConnector:
    """``CONNECTORS`` factory for ``qnb_esolutions``."""
    return QnbConnector(config)
