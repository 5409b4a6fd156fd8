"""İşNet (NetteFatura) connector: incoming and outgoing e-Fatura from ``InvoiceService.svc``.

Public entry: :func:`build_isnet` (the ``CONNECTORS`` factory) and :class:`IsnetConnector`.

Settings: ``vkn`` (the company tax number: İşNet's only identity, no password), ``environment``
(``test``/``production``), ``base_url`` (wins over ``environment``; a bare origin gets
:data:`~.settings.SERVICE_PATH` appended), ``start_date``; optional ``requests_per_minute``. No secrets.
In production İşNet also whitelists the caller's IP: the hub's egress IP must be registered for the VKN.

Requests for a window of *n* incoming and *m* outgoing invoices: ``max(1, ceil(n / 100))`` +
``max(1, ceil(m / 100))`` ``SearchInvoice`` calls; documents come inline (``IsXMLIncluded``), so there
are no download calls. Nothing state-changing (``SendInvoiceReply``, ``SendInvoice``...) is ever called.
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
)
from integration_hub.connectors.efatura.collector import Direction, EInvoiceConnector, vkn_setting
from integration_hub.connectors.http import RetryPolicy
from integration_hub.connectors.isnet import settings
from integration_hub.connectors.isnet.client import PROVIDER, IsnetClient

__all__ = ["IsnetClient", "IsnetConnector", "build_isnet"]


class IsnetConnector(EInvoiceConnector):
    """Collects the ``invoices`` stream (both directions) for one company VKN."""

    provider = PROVIDER
    environments: Mapping[str, str] = settings.ENVIRONMENTS
    service_path = settings.SERVICE_PATH
    action_prefix = settings.ACTION_PREFIX
    requests_per_minute = settings.REQUESTS_PER_MINUTE
    client: IsnetClient

    def __init__(
        self,
        config: ConnectorConfig,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 120.0,
        records_per_page: int = settings.RECORDS_PER_PAGE,
    ) -> None:
        super().__init__(config)
        vkn = vkn_setting(config, PROVIDER)
        if records_per_page < 1:
            raise ConfigurationError(f"{PROVIDER}: records_per_page must be positive")
        soap = self.soap_client(account=vkn, retry=retry, timeout=timeout)
        self.client = IsnetClient(soap, vkn=vkn, records_per_page=records_per_page)

    def test_connection(self) -> ConnectionTestResult:
        """One tiny search (today, one record, no XML): proves the VKN is known and this IP is allowed."""
        today = date.today()
        try:
            self.client.search("in", today, today, 1, include_xml=False, size=1)
        except ConnectorError as exc:
            return ConnectionTestResult(False, str(exc))
        return ConnectionTestResult(True, f"Connected to İşNet for VKN {self.client.vkn}")

    def fetch_documents(self, direction: Direction, window: DateWindow) -> Iterator[bytes]:
        for _ettn, document in self.client.documents(direction, window.start, window.last):
            yield document


def build_isnet(config: ConnectorConfig) -> IsnetConnector:
    """``CONNECTORS`` factory for ``isnet``."""
    return IsnetConnector(config)
