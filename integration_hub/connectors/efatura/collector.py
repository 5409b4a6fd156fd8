"""What the five e-invoice connectors have in common: one ``invoices`` stream, both directions,
UBL-TR parsing, de-duplication by ETTN, the environment → service URL rule, the settings every provider
validates the same way (username, VKN, request rate) and the wiring of its SOAP client.

A provider subclass only says how to *fetch* documents for a direction and a date window, using the
fewest requests its API allows (bulk downloads, documents inline in list pages, several ETTNs per
download call); this base turns every document into inventory records.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from itertools import islice
from urllib.parse import urlsplit

from integration_hub.connectors.base import (
    CollectStats,
    ConfigurationError,
    ConnectionTestResult,
    ConnectorConfig,
    ConnectorError,
    DateWindow,
    Record,
)
from integration_hub.connectors.efatura.provider import ProviderClient
from integration_hub.connectors.efatura.records import Direction, invoice_records
from integration_hub.connectors.efatura.soap import SoapClient
from integration_hub.connectors.efatura.ubl import parse_documents
from integration_hub.connectors.http import RetryPolicy, shared_bucket

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


def resolve_service_url(
    config: ConnectorConfig, environments: Mapping[str, str], service_path: str, provider: str
) -> str:
    """The full SOAP endpoint: the environment's URL, or ``base_url`` with ``service_path`` appended when
    it is a bare origin (``http://127.0.0.1:8403``, how simulators are addressed); a ``base_url`` that
    already has a path is used verbatim (private deployments)."""
    url = resolve_base_url(config, environments, provider)
    if urlsplit(url).path in ("", "/"):
        url = url.rstrip("/") + service_path
    return url


def required_setting(config: ConnectorConfig, name: str, provider: str) -> str:
    """A non-blank text setting (``username``), stripped."""
    value = str(config.setting(name, "")).strip()
    if not value:
        raise ConfigurationError(f"{provider}: the '{name}' setting is required")
    return value


def vkn_setting(config: ConnectorConfig, provider: str) -> str:
    """The ``vkn`` setting: a 10-digit VKN or an 11-digit TCKN, the identity a provider acts for."""
    vkn = str(config.setting("vkn", "")).strip()
    if not (vkn.isdigit() and len(vkn) in (10, 11)):
        raise ConfigurationError(f"{provider}: the 'vkn' setting must be a 10-digit VKN or 11-digit TCKN")
    return vkn


def rate_setting(config: ConnectorConfig, default: float, provider: str) -> float:
    """``requests_per_minute`` (the provider's default when unset): a positive number."""
    try:
        rate = float(config.setting("requests_per_minute", default))
    except (TypeError, ValueError):
        raise ConfigurationError(f"{provider}: requests_per_minute must be a number") from None
    if rate <= 0:
        raise ConfigurationError(f"{provider}: requests_per_minute must be positive")
    return rate


def batches(items: Iterator[str], size: int) -> Iterator[list[str]]:
    """Consecutive lists of up to ``size`` items: download batches that span list pages."""
    while batch := list(islice(items, size)):
        yield batch


class EInvoiceConnector(ABC):
    """Base of every e-invoice connector: ``collect("invoices", window)`` over both directions.

    A subclass names its endpoints (``environments``, ``service_path``), its SOAPAction prefix and its
    default request rate, builds its provider client in ``__init__`` (with :meth:`soap_client`) and
    stores it as ``client``; ``repr`` and :meth:`close` come from here.
    """

    provider: str = "e-invoice"
    environments: Mapping[str, str] = {}
    service_path: str = ""
    action_prefix: str = ""
    requests_per_minute: float = 60.0  # default of the ``requests_per_minute`` setting
    client: ProviderClient

    def __init__(self, config: ConnectorConfig) -> None:
        self.config = config
        self.stats = CollectStats()

    @classmethod
    def service_url(cls, config: ConnectorConfig) -> str:
        """The provider's endpoint for ``config`` (see :func:`resolve_service_url`)."""
        return resolve_service_url(config, cls.environments, cls.service_path, cls.provider)

    def soap_client(self, *, account: str, retry: RetryPolicy | None, timeout: float) -> SoapClient:
        """The SOAP client of this connection: its endpoint, this connector's stats, and a bucket of
        ``requests_per_minute`` shared by every connection of the same ``account`` (a VKN or username)
        in this process."""
        rate = rate_setting(self.config, self.requests_per_minute, self.provider)
        return SoapClient(
            self.service_url(self.config),
            provider=self.provider,
            action_prefix=self.action_prefix,
            stats=self.stats,
            bucket=shared_bucket(self.provider, account, rate),
            retry=retry,
            timeout=timeout,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.client!r})"

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

    def close(self) -> None:
        """Release network resources (and end the provider session, where there is one)."""
        self.client.close()
