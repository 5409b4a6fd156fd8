"""Helpers for tests that talk to the Karbon simulator over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from integration_hub.connectors.base import ConnectorConfig, DateWindow
from integration_hub.connectors.http import RetryPolicy, TokenBucket
from integration_hub.connectors.karbon import KarbonConnector
from integration_hub.simulators.karbon import KarbonSimulator, SimulatorConfig, create_app
from integration_hub.simulators.karbon.data import Firm
from integration_hub.simulators.server import running

END = date(2026, 11, 1)  # the simulated history ends the day before
WINDOW_90 = DateWindow(date(2026, 8, 2), date(2026, 10, 31))
FAST_RETRY = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05)


@contextmanager
def karbon_server(**overrides: Any) -> Iterator[tuple[KarbonSimulator, str]]:
    """The simulator on 127.0.0.1, checking every request and every answer against KarbonAPI.json."""
    settings = {"end": END, "days": 120, "rate_limit": 1_000_000, "validate_responses": True, **overrides}
    config = SimulatorConfig(**settings)
    sim = KarbonSimulator(config)
    with running(create_app(sim)) as url:
        yield sim, url


def contract_breaches(sim: KarbonSimulator) -> list[str]:
    """What the simulator saw break the Karbon contract, one line each (empty when all was kept)."""
    return [str(violation) for violation in sim.violations]


def headers(firm: Firm) -> dict[str, str]:
    return {"Authorization": f"Bearer {firm.application_id}", "AccessKey": firm.access_key}


def connector(
    url: str,
    firm: Firm,
    *,
    access_key: str | None = None,
    rate: float = 1_000_000,
    bucket: TokenBucket | None = None,
    retry: RetryPolicy = FAST_RETRY,
) -> KarbonConnector:
    config = ConnectorConfig(
        {"application_id": firm.application_id, "base_url": url, "requests_per_minute": rate},
        {"access_key": access_key or firm.access_key},
        company="acme",
    )
    return KarbonConnector(config, retry=retry, bucket=bucket or TokenBucket(rate, 60.0))
