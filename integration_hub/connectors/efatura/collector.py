"""What the five e-invoice connectors have in common: one ``invoices`` stream, both directions,
UBL-TR parsing, de-duplication by ETTN, and the environment → base URL rule.

A provider subclass only says how to *fetch* documents for a direction and a date window, using the
fewest requests its API allows (bulk downloads, documents inline in list pages, several ETTNs per
download call); this base turns every document into inventory records.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping

from integration_hub.connectors.base import (
    CollectStats,
    ConfigurationError,
    ConnectionTestResult,
    ConnectorConfig,
    ConnectorError,
    DateWindow,
    Record,
)
from integration_hub.connectors.efatura.records import Direction, invoice_records
from integration_hub.connectors.efatura.ubl import parse_documents

DIRECTIONS: tuple[Direction, ...] = ("in", "out")
STREAM = "invoices"


def resolve_base_url(config: ConnectorConfig, environments: Mapping[str, str], provider: str) -> str:
    """``base_url`` when set (simulators, private deployments), else the URL of ``environment``."""
    explicit = config.setting("base_url")
    if explicit:
        url = str(explicit).rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"{provider}: base_url must start with http:// or https://")
        return url
    environment = config.setting("environment", "production")
    try:
        return environments[environment].rstrip("/")
    except KeyError:
        choices = ", ".join(sorted(environments))
        raise ConfigurationError(f"{provider}: unknown environment '{environment}' (choose {choices})") from None


class EInvoiceConnector(ABC):
    """Base of every e-invoice connector: ``collect("invoices", window)`` over both directions."""

    provider: str = "e-invoice"

    def __init__(self, config: ConnectorConfig) -> None:
        self.config = config
        self.stats = CollectStats()

    def streams(self) -> tuple[str, ...]:
        return (STREAM,)

    @abstractmethod
    def fetch_documents(self, direction: Direction, window: DateWindow) -> Iterator[bytes]:
        """Yield the UBL-TR documents (raw, base64, zip of several, or gzip — parsing unwraps) of every
        invoice of ``direction`` issued inside ``window``, paging through the provider with as few requests as it
        allows. Never calls a state-changing operation."""

    @abstractmethod
    def test_connection(self) -> ConnectionTestResult: ...

    def collect(self, stream: str, window: DateWindow) -> Iterator[Record]:
        if stream != STREAM:
            raise ConnectorError(f"{self.provider}: unknown stream '{stream}' (only '{STREAM}')")
        for direction in DIRECTIONS:
            seen: set[str] = set()
            for document in self.fetch_documents(direction, window):
                for invoice in parse_documents(document):
                    if invoice.ettn in seen or invoice.issue_date not in window:
                        continue
                    seen.add(invoice.ettn)
                    yield from invoice_records(invoice, direction)

    def close(self) -> None:  # noqa: B027 - subclasses with open clients override it
        """Release network resources."""
