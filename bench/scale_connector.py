"""The scale benchmark's fake provider: e-invoice records of the real shape, and the waits of a rate limit.

It implements the connector protocol (``collect``, ``test_connection``, ``stats``, ``close``) so the hub's whole
path (service, assets, store) runs as with a provider, without a simulator process per company. Each day yields
``invoices_per_day`` invoices with two lines each, as :func:`integration_hub.connectors.efatura.records.invoice_records`
shapes them (``invoice`` keyed ``ETTN:direction``, ``invoice_line`` keyed ``ETTN:direction:line``). A collection
makes one request per ``page_size`` records, and each request waits ``seconds_per_request`` — what a provider's
published rate limit costs a client (Karbon: 120 requests/minute per account is 0.5 s a request), so the overhead
benchmark compares the hub with Dagster alone at the same waits. Valid credentials start with ``GOOD``.

Installed by :func:`install` (``CONNECTORS[integration_id]``) in the benchmark's own processes only.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from decimal import Decimal

from integration_hub.connectors.base import (
    CollectStats,
    ConnectionTestResult,
    ConnectorConfig,
    DateWindow,
    Record,
)

TARGET = "bench.scale_connector:build"


class ScaleConnector:
    def __init__(self, config: ConnectorConfig) -> None:
        self.config = config
        self.stats = CollectStats()
        self.invoices_per_day = int(config.setting("invoices_per_day", 2))
        self.seconds_per_request = float(config.setting("seconds_per_request", 0.0))
        self.page_size = int(config.setting("page_size", 100))

    def streams(self) -> tuple[str, ...]:
        return ("invoices",)

    def test_connection(self) -> ConnectionTestResult:
        good = bool(self.config.secrets) and all(v.startswith("GOOD") for v in self.config.secrets.values())
        return ConnectionTestResult(good, "authenticated" if good else "the provider rejected the credentials")

    def _request(self) -> None:
        self.stats.requests += 1
        self.stats.pages += 1
        if self.seconds_per_request:
            time.sleep(self.seconds_per_request)
            self.stats.waited_seconds += self.seconds_per_request

    def collect(self, stream: str, window: DateWindow) -> Iterator[Record]:
        company = self.config.company
        produced = 0
        self._request()
        for day in window.days():
            for number in range(self.invoices_per_day):
                ettn = hashlib.sha1(f"{company}:{stream}:{day}:{number}".encode()).hexdigest()  # noqa: S324
                direction = "in" if number % 2 else "out"
                key = f"{ettn}:{direction}"
                total = Decimal(100 + number) + Decimal("0.18")
                payload = {
                    "ettn": ettn,
                    "number": f"BNC{day:%Y%m%d}{number:06d}",
                    "issue_date": day.isoformat(),
                    "profile_id": "TICARIFATURA",
                    "type_code": "SATIS",
                    "direction": direction,
                    "currency": "TRY",
                    "payable": str(total),
                    "supplier": {"vkn": "1234567890", "name": "Tedarikçi A.Ş."},
                    "customer": {"vkn": "9876543210", "name": f"{company} Ltd."},
                }
                yield Record(
                    "invoice", key, day, total, "TRY", None, None, "Tedarikçi A.Ş.", "TICARIFATURA SATIS", payload
                )
                for line in (1, 2):
                    yield Record(
                        "invoice_line",
                        f"{key}:{line}",
                        day,
                        Decimal(50 * line),
                        "TRY",
                        Decimal(line),
                        "C62",
                        "Tedarikçi A.Ş.",
                        f"kalem {line}",
                        {**payload, "line_id": str(line), "line_extension": str(50 * line)},
                    )
                produced += 3
                if produced >= self.page_size:  # the next page
                    produced -= self.page_size
                    self._request()
        self.stats.add_reported("invoice", self.invoices_per_day * window.num_days)

    def close(self) -> None:
        pass


def build(config: ConnectorConfig) -> ScaleConnector:
    return ScaleConnector(config)


def install(*integration_ids: str) -> None:
    """Route these integrations to the fake provider in this process (and the runs it executes in process)."""
    from integration_hub import connectors

    for integration_id in integration_ids:
        connectors.CONNECTORS[integration_id] = TARGET
