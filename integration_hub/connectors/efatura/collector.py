"""What the five e-invoice connectors have in common: one ``invoices`` stream, both directions,
UBL-TR parsing, de-duplication by ETTN, the environment → service URL rule, the settings every provider
validates the same way (VKN) and the wiring of its SOAP client.

A provider subclass only says how to *fetch* documents for a direction and a date window, using the
fewest requests its API allows (bulk downloads, documents inline in list pages, several ETTNs per
download call); this base turns every document into inventory records.

A provider that lists first and downloads named ETTNs afterwards (QNB, the Uyumsoft family) yields each
download as a :class:`Download`: the base then proves that the documents hold exactly the invoices asked
for. Without that proof a download answering one invoice twice would lose the other one silently behind
the ETTN de-duplication; with it, and batches cut from the distinct listing, the invoices collected for a
direction are exactly the ones listed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from urllib.parse import urlsplit

from integration_hub.connectors.base import (
    CollectStats,
    ConfigurationError,
    ConnectionTestResult,
    ConnectorConfig,
    ConnectorError,
    DateWindow,
    ProviderError,
    Record,
    rate_setting,
)
from integration_hub.connectors.efatura.provider import ProviderClient
from integration_hub.connectors.efatura.records import Direction, invoice_records
from integration_hub.connectors.efatura.soap import SoapClient
from integration_hub.connectors.efatura.ubl import Invoice, canonical_ettn, parse_documents
from integration_hub.connectors.http import RetryPolicy, checked_service_url, shared_bucket

DIRECTIONS: tuple[Direction, ...] = ("in", "out")
STREAM = "invoices"


def resolve_base_url(config: ConnectorConfig, environments: Mapping[str, str], provider: str) -> str:
    """``base_url`` when set (simulators, private deployments), else the URL of ``environment``. Either
    must pass :func:`~integration_hub.connectors.http.checked_service_url`: every e-invoice service gets
    the password in clear inside the envelope, so plain ``http://`` is only allowed to loopback."""
    explicit = config.setting("base_url")
    if explicit:
        return checked_service_url(str(explicit), provider)
    environment = config.setting("environment", "production")
    try:
        url = environments[environment]
    except KeyError:
        choices = ", ".join(sorted(environments))
        raise ConfigurationError(f"{provider}: unknown environment '{environment}' (choose {choices})") from None
    return checked_service_url(url, provider)


def resolve_service_url(
    config: ConnectorConfig, environments: Mapping[str, str], service_path: str, provider: str
) -> str:
    """The full SOAP endpoint: the environment's URL, or ``base_url`` with ``service_path`` appended when
    it is a bare origin (``http://127.0.0.1:8403``, how simulators are addressed); a ``base_url`` that
    already has a path is used verbatim (private deployments). The URL is checked by :func:`resolve_base_url`."""
    url = resolve_base_url(config, environments, provider)
    if urlsplit(url).path in ("", "/"):
        url = url.rstrip("/") + service_path
    return url


def vkn_setting(config: ConnectorConfig, provider: str) -> str:
    """The ``vkn`` setting: a 10-digit VKN or an 11-digit TCKN, the identity a provider acts for."""
    vkn = str(config.setting("vkn", "")).strip()
    if not (vkn.isdigit() and len(vkn) in (10, 11)):
        raise ConfigurationError(f"{provider}: the 'vkn' setting must be a 10-digit VKN or 11-digit TCKN")
    return vkn


def batches(items: Iterator[str], size: int) -> Iterator[list[str]]:
    """Consecutive lists of up to ``size`` items: download batches that span list pages."""
    while batch := list(islice(items, size)):
        yield batch


def ettn_key(ettn: str) -> str:
    """An ETTN in the parser's canonical form (:func:`~.ubl.canonical_ettn`), so that a listing's ``A1B2…``
    and a document's ``a1b2…`` compare equal; a non-UUID is only stripped and lower-cased."""
    try:
        return canonical_ettn(ettn)
    except ValueError:
        return ettn.strip().lower()


@dataclass(frozen=True, slots=True)
class Download:
    """The answer of one download call for ETTNs the provider listed first.

    ``what`` names the call in errors (``"qnb_esolutions gelenBelgeleriIndir zip"``), ``ettns`` are the
    ETTNs asked for, ``documents`` what came back (each raw, base64, zip or gzip).
    """

    what: str
    ettns: Sequence[str]
    documents: Sequence[bytes]


def checked_invoices(download: Download) -> list[Invoice]:
    """The invoices of ``download``, which must be exactly one per ETTN asked for (case-insensitively):
    a missing, repeated or unasked-for invoice is a :class:`ProviderError` naming an example."""
    invoices = [invoice for document in download.documents for invoice in parse_documents(document)]
    asked = {ettn_key(ettn) for ettn in download.ettns}
    held = Counter(invoice.ettn for invoice in invoices)  # already canonical
    problems = [
        f"{label} e.g. {examples[0]}"
        for label, examples in (
            ("missing", [ettn for ettn in download.ettns if ettn_key(ettn) not in held]),
            ("unexpected", sorted(set(held) - asked)),
            ("repeated", sorted(ettn for ettn, count in held.items() if count > 1)),
        )
        if examples
    ]
    if problems:
        raise ProviderError(
            f"{download.what} for {len(asked)} ETTN(s) held {len(invoices)} invoice(s), {', '.join(problems)}"
        )
    return invoices


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
    fixed_action: str | None = None  # one SOAPAction for every operation, where the WSDL declares it so
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
            fixed_action=self.fixed_action,
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
    def fetch_documents(self, direction: Direction, window: DateWindow) -> Iterator[bytes | Download]:
        """Yield the UBL-TR documents (raw, base64, zip of several, or gzip — parsing unwraps) of every
        invoice of ``direction`` issued inside ``window``, paging through the provider with as few requests as it
        allows; documents downloaded for listed ETTNs come as one :class:`Download` per call, so that
        :meth:`collect` checks them against the ETTNs asked for. Never calls a state-changing operation."""

    @abstractmethod
    def test_connection(self) -> ConnectionTestResult: ...

    def collect(self, stream: str, window: DateWindow) -> Iterator[Record]:
        if stream != STREAM:
            raise ConnectorError(f"{self.provider}: unknown stream '{stream}' (only '{STREAM}')")
        for direction in DIRECTIONS:
            seen: set[str] = set()
            for fetched in self.fetch_documents(direction, window):
                invoices: Iterable[Invoice] = (
                    checked_invoices(fetched) if isinstance(fetched, Download) else parse_documents(fetched)
                )
                for invoice in invoices:
                    if invoice.ettn in seen:
                        continue
                    seen.add(invoice.ettn)
                    if invoice.issue_date not in window:
                        self.stats.skipped_out_of_window += 1  # another partition's invoice: counted, not kept
                        continue
                    yield from invoice_records(invoice, direction)

    def close(self) -> None:
        """Release network resources (and end the provider session, where there is one)."""
        self.client.close()
