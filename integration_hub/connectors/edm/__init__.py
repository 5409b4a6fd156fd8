"""EDM Bilişim connector: incoming and outgoing e-Fatura / e-Arşiv invoices from ``EFaturaEDM.svc``.

Public entry: :func:`build_edm` (the ``CONNECTORS`` factory) and :class:`EdmConnector`.

Settings: ``username``, ``environment`` (``test``/``production``), ``base_url`` (wins over
``environment``; a bare origin gets :data:`~.settings.SERVICE_PATH` appended), ``start_date``; optional
``requests_per_minute``. Secret: ``password``.

Requests for a window holding *n* incoming and *m* outgoing invoices: 1 ``Login`` + about
``n / LIMIT + 1`` plus ``m / LIMIT + 1`` ``GetInvoice`` pages (each re-reads the invoices of its boundary
second, see :mod:`.client`) + 1 ``Logout``; one more ``Login`` per session that expires mid-window.

Never called: ``MarkInvoice`` or any other state-changing operation. ``READ_INCLUDED=true`` makes the
listing independent of what other programs marked as read, so re-collecting a window is idempotent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from integration_hub.connectors.base import (
    ConfigurationError,
    ConnectionTestResult,
    ConnectorConfig,
    ConnectorError,
    DateWindow,
    required_setting,
)
from integration_hub.connectors.edm import settings
from integration_hub.connectors.edm.client import PROVIDER, EdmClient, EdmInvoice
from integration_hub.connectors.efatura.collector import (
    Direction,
    EInvoiceConnector,
)
from integration_hub.connectors.http import RetryPolicy

__all__ = ["EdmClient", "EdmConnector", "EdmInvoice", "build_edm"]


class EdmConnector(EInvoiceConnector):
    """Collects the ``invoices`` stream (both directions) for one EDM portal user."""

    provider = PROVIDER
    environments: Mapping[str, str] = settings.ENVIRONMENTS
    service_path = settings.SERVICE_PATH
    requests_per_minute = settings.REQUESTS_PER_MINUTE
    client: EdmClient

    def __init__(
        self,
        config: ConnectorConfig,
        *,
        limit: int = settings.LIMIT,
        retry: RetryPolicy | None = None,
        timeout: float = 120.0,
    ) -> None:
        super().__init__(config)
        username = required_setting(config, "username", PROVIDER)
        if limit < 1:
            raise ConfigurationError(f"{PROVIDER}: limit must be at least 1")
        password = config.secret("password")
        soap = self.soap_client(account=username, retry=retry, timeout=timeout)
        self.client = EdmClient(soap, username=username, password=password, limit=limit)

    def test_connection(self) -> ConnectionTestResult:
        """``Login`` then ``Logout``: proves the endpoint and the credentials without reading anything."""
        try:
            self.client.login()
        except ConnectorError as exc:
            return ConnectionTestResult(False, str(exc))
        self.client.logout()
        return ConnectionTestResult(True, f"Connected to EDM Bilişim as '{self.client.username}'")

    def fetch_documents(self, direction: Direction, window: DateWindow) -> Iterator[bytes]:
        for invoice in self.client.invoices(settings.DIRECTIONS[direction], window.start, window.last):
            assert invoice.content is not None  # listed with HEADER_ONLY=N
            yield invoice.content


def build_edm(config: ConnectorConfig) -> EdmConnector:
    """``CONNECTORS`` factory for ``edm``."""
    return EdmConnector(config)
