"""A connector written for the tests: deterministic records, a real Test Connection rule, failure knobs.

It implements the same protocol as the provider connectors, so the control plane and the Dagster layer
are exercised exactly as with a real provider (the provider connectors themselves are tested against
their simulators over HTTP).

Knobs: ``FAIL_ON`` (days whose page fails: collecting a window containing one raises after yielding the
earlier days' records), setting ``per_day`` (records per day, default 3). The credential is valid when it starts with
``GOOD`` or ``eyJGOOD`` (for any secret field of the integration it stands in for).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from integration_hub.connectors.base import (
    CollectStats,
    ConnectionTestResult,
    ConnectorConfig,
    DateWindow,
    Record,
    TransientError,
)

CALLS: list[tuple[str, str]] = []
FAIL_ON: set[date] = set()  # days whose page "fails after its retries" (set by a test, cleared by the fixture)
FAIL_FOR: dict[str, Exception] = {}  # company -> what its collection raises (set by a test, cleared by the fixture)


class FakeConnector:
    def __init__(self, config: ConnectorConfig) -> None:
        self.config = config
        self.stats = CollectStats()

    def streams(self) -> tuple[str, ...]:
        return ("items",)

    def test_connection(self) -> ConnectionTestResult:
        CALLS.append(("test", self.config.company))
        # "eyJGOOD...": a Karbon Access Key must look like a JWT to pass the catalog's validation first.
        bad = [name for name, value in self.config.secrets.items() if not value.removeprefix("eyJ").startswith("GOOD")]
        if bad or not self.config.secrets:
            return ConnectionTestResult(False, f"the provider rejected {', '.join(bad) or 'the credentials'}")
        return ConnectionTestResult(True, "authenticated as test account")

    def collect(self, stream: str, window: DateWindow) -> Iterator[Record]:
        CALLS.append(("collect", f"{self.config.company}:{window}"))
        per_day = int(self.config.setting("per_day", 3))
        self.stats.requests += 1
        if self.config.company in FAIL_FOR:
            raise FAIL_FOR[self.config.company]
        for day in window.days():
            if day in FAIL_ON:
                raise TransientError(f"fake provider: page for {day} failed after 5 attempts")
            for index in range(per_day):
                key = hashlib.sha1(f"{self.config.company}:{day}:{index}".encode()).hexdigest()[:12]  # noqa: S324
                yield Record(
                    record_type="item",
                    external_key=key,
                    record_date=day,
                    amount=Decimal(index) + Decimal("0.10"),
                    currency="TRY",
                    quantity=Decimal(1),
                    unit="C62",
                    counterparty="Test Supplier",
                    description=f"item {index} of {day}",
                    payload={"index": index, "day": day.isoformat()},
                )
        self.stats.pages += 1
        self.stats.add_reported("item", per_day * window.num_days)

    def close(self) -> None:
        pass


def build(config: ConnectorConfig) -> FakeConnector:
    return FakeConnector(config)
