"""A tick's SQL statements do not grow with the number of companies: the activation sensor (1 vs many new
activations), the daily schedule and the retry sensor make the same number of statements for 10 companies as for
200, in both layouts, on both databases (counted with SQLAlchemy's ``before_cursor_execute``: the hub's store and
the Dagster instance alike)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from integration_hub.assets.streams import streams_of
from integration_hub.connectors.base import DateWindow
from integration_hub.schedules.daily import make_daily_schedule
from integration_hub.sensors.activation import make_activation_sensor
from integration_hub.sensors.retry import make_retry_sensor
from integration_hub.settings import CollectionConfig
from integration_hub.store import Store, coverage
from integration_hub_tests.support.dagster_helpers import connect, hub_resource

TODAY = date(2024, 1, 11)
NOW = datetime(2024, 1, 11, 2, 0, tzinfo=UTC)
FEW, MANY = 10, 200


def _config(layout: str) -> CollectionConfig:
    return CollectionConfig(
        partitioning=layout, partitions_start="2024-01-01", max_days_per_run=4, companies_per_run=50, max_retries=3
    )


@contextmanager
def _counting() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", count)


def _populate(store: Store, first: int, last: int) -> None:
    """Companies first..last-1, connected; every third one's invoices failed (back-off, retries)."""
    for index in range(first, last):
        company = f"co{index:04d}"
        connect(store, company=company)
        if index % 3 == 0:
            with store.engine.begin() as conn:
                coverage.record_failed(
                    conn,
                    company=company,
                    integration_id="uyumsoft",
                    stream="invoices",
                    window=DateWindow.inclusive(date(2024, 1, 8), date(2024, 1, 9)),
                    error="fake provider: page failed",
                    error_kind="transient",
                    run_id="r",
                    now=NOW - timedelta(minutes=5 if index % 2 else 120),
                )


def _ticks(layout: str) -> dict[str, Callable[[dg.DagsterInstance, dg.ConfigurableResource], object]]:
    config = _config(layout)
    streams = streams_of("uyumsoft")
    activation = make_activation_sensor("uyumsoft", streams, config, today=lambda: TODAY)
    schedule = make_daily_schedule("uyumsoft", config)

    def activation_tick(instance, hub):  # type: ignore[no-untyped-def]
        with dg.build_sensor_context(instance=instance, resources={"hub": hub}) as context:
            return activation(context)

    def schedule_tick(instance, hub):  # type: ignore[no-untyped-def]
        with dg.build_schedule_context(instance=instance, scheduled_execution_time=NOW, resources={"hub": hub}) as c:
            return schedule.evaluate_tick(c)

    ticks = {"activation": activation_tick, "schedule": schedule_tick}
    if config.fleet:
        retry = make_retry_sensor("uyumsoft", streams, config, now=lambda: NOW)

        def retry_tick(instance, hub):  # type: ignore[no-untyped-def]
            with dg.build_sensor_context(instance=instance, resources={"hub": hub}) as context:
                return retry(context)

        ticks["retry"] = retry_tick
    return ticks


@pytest.mark.parametrize("layout", ["company_day", "fleet"])
def test_statements_per_tick_do_not_grow_with_the_company_count(
    store: Store, hub_settings, fake_connectors, layout: str
) -> None:
    hub = hub_resource(hub_settings)
    ticks = _ticks(layout)
    counts: dict[int, dict[str, int]] = {}
    requested: dict[int, dict[str, int]] = {}
    with dg.instance_for_test() as instance:
        for size, (first, last) in ((FEW, (0, FEW)), (MANY, (FEW, MANY))):
            _populate(store, first, last)
            if layout == "company_day":  # the schedule collects companies the sensor has added
                instance.add_dynamic_partitions("uyumsoft_companies", [f"co{i:04d}" for i in range(first, last)])
            for tick in ticks.values():
                tick(instance, hub)  # warm: Dagster's first use of a table, the hub's engine
            counts[size], requested[size] = {}, {}
            for name, tick in ticks.items():
                with _counting() as statements:
                    result = tick(instance, hub)
                counts[size][name] = len(statements)
                requested[size][name] = len(getattr(result, "run_requests", None) or [])
    assert counts[MANY] == counts[FEW], counts
    # The ticks did real work at both sizes (every company activated, scheduled, or retried).
    assert all(requested[FEW][name] > 0 and requested[MANY][name] > 0 for name in ticks), requested
    if layout == "company_day":
        assert requested[MANY]["activation"] == MANY  # one backfill per connection
    else:
        assert requested[MANY]["schedule"] <= -(-MANY // 50)  # ⌈companies ÷ HUB_COMPANIES_PER_RUN⌉ runs
