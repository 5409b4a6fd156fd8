"""The fleet layout's retry sensor: once a failed stream's back-off is over it requests exactly the failed days (from
hub_coverage), for the failing streams only, in shards; never a kind that is not retried, never a paused connection,
never after HUB_MAX_RETRIES failures in a row, and never the same attempt twice (its run key stays the same while
nothing new is recorded)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pytest

from integration_hub.assets.streams import streams_of
from integration_hub.backfills import shard_companies
from integration_hub.connectors.base import DateWindow
from integration_hub.jobs import RANGE_END_TAG, RANGE_START_TAG
from integration_hub.resources.shard import shard_run_config
from integration_hub.sensors.retry import make_retry_sensor
from integration_hub.service import ConnectionService
from integration_hub.settings import CollectionConfig
from integration_hub.store import Store, coverage, schema
from integration_hub_tests.support.dagster_helpers import connect, hub_resource

CONFIG = CollectionConfig(
    partitioning="fleet", partitions_start="2024-01-01", max_days_per_run=4, companies_per_run=2, max_retries=2
)
NOW = datetime(2024, 1, 11, 12, 0, tzinfo=UTC)
INVOICES = dg.AssetKey(["efatura", "uyumsoft"])


@pytest.fixture()
def instance():
    with dg.instance_for_test() as test_instance:
        yield test_instance


def _sensor(integration: str = "uyumsoft", config: CollectionConfig = CONFIG, now: datetime = NOW):
    return make_retry_sensor(integration, streams_of(integration), config, now=lambda: now)


def _tick(sensor, instance, hub, cursor: str | None = None) -> dg.SensorResult:
    with dg.build_sensor_context(instance=instance, resources={"hub": hub}, cursor=cursor) as context:
        return sensor(context)


def _fail(
    store: Store,
    company: str,
    first: int,
    last: int,
    *,
    at: datetime = NOW - timedelta(hours=1),
    stream: str = "invoices",
    integration: str = "uyumsoft",
    kind: str = "transient",
) -> None:
    with store.engine.begin() as conn:
        coverage.record_failed(
            conn,
            company=company,
            integration_id=integration,
            stream=stream,
            window=DateWindow.inclusive(date(2024, 1, first), date(2024, 1, last)),
            error="fake provider: page failed after 5 attempts",
            error_kind=kind,
            run_id="shard-run",
            now=at,
        )


def _collected(store: Store, company: str, first: int, last: int, at: datetime) -> None:
    with store.engine.begin() as conn:
        coverage.record_collected(
            conn,
            company=company,
            integration_id="uyumsoft",
            stream="invoices",
            rows_per_day={date(2024, 1, d): 3 for d in range(first, last + 1)},
            run_id="ok-run",
            now=at,
        )


def _runs(result) -> list[tuple[str, str, list[str], list[dg.AssetKey]]]:
    return [
        (r.tags[RANGE_START_TAG], r.tags[RANGE_END_TAG], shard_companies(r.run_config), list(r.asset_selection))
        for r in result.run_requests
    ]


def test_requests_exactly_the_failed_days_of_streams_due_for_a_retry(
    store: Store, hub_settings, fake_connectors, instance
) -> None:
    for company in ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot"):
        connect(store, company=company)
    # alpha: a day collected before that failed on re-collection, and two days never collected, in two blocks.
    _collected(store, "alpha", 3, 3, NOW - timedelta(days=1))
    _fail(store, "alpha", 3, 4)
    _fail(store, "alpha", 9, 9)
    _collected(store, "alpha", 5, 8, NOW - timedelta(minutes=30))  # collected fine: no retry of these days
    _fail(store, "bravo", 9, 9, at=NOW - timedelta(minutes=5))  # backing off until 12:10: not yet
    _fail(store, "charlie", 9, 9, kind="credentials")  # not a kind retries heal
    _fail(store, "delta", 9, 9)
    ConnectionService(store).pause("delta", "uyumsoft", by="tester")  # paused: nothing is collected
    _fail(store, "echo", 10, 10)
    # foxtrot failed two days ago and succeeded on another window since: left to the schedule's lookback.
    _fail(store, "foxtrot", 2, 2, at=NOW - timedelta(days=2))
    _collected(store, "foxtrot", 5, 5, NOW - timedelta(days=1))

    result = _tick(_sensor(), instance, hub_resource(hub_settings))
    assert isinstance(result, dg.SensorResult)
    assert _runs(result) == [
        ("2024-01-03", "2024-01-04", ["alpha"], [INVOICES]),
        ("2024-01-09", "2024-01-10", ["alpha", "echo"], [INVOICES]),
    ]
    request = result.run_requests[0]
    assert request.job_name == "collect_uyumsoft"
    assert request.run_config == shard_run_config(["alpha"])
    assert request.tags["hub/trigger"] == "retry" and request.tags["hub/shard"] == "1/1"


def test_retries_stop_after_max_retries_and_an_unchanged_attempt_keeps_its_run_key(
    store: Store, hub_settings, fake_connectors, instance
) -> None:
    connect(store, company="alpha")
    hub = hub_resource(hub_settings)
    _fail(store, "alpha", 9, 9, at=NOW - timedelta(hours=2))
    first = _tick(_sensor(), instance, hub)
    # Nothing recorded since (the retry is queued or running): the same key, which Dagster does not launch twice.
    assert [r.run_key for r in _tick(_sensor(), instance, hub).run_requests] == [first.run_requests[0].run_key]
    _fail(store, "alpha", 9, 9, at=NOW - timedelta(hours=1))  # the retry failed: a second failure in a row
    second = _tick(_sensor(), instance, hub)
    assert _runs(second) == [("2024-01-09", "2024-01-09", ["alpha"], [INVOICES])]
    assert second.run_requests[0].run_key != first.run_requests[0].run_key
    _fail(store, "alpha", 9, 9, at=NOW - timedelta(hours=3))  # third failure > HUB_MAX_RETRIES=2: given up
    assert not _tick(_sensor(now=NOW + timedelta(days=1)), instance, hub).run_requests
    # HUB_MAX_RETRIES=0 means no retries at all.
    connect(store, company="bravo")
    _fail(store, "bravo", 9, 9)
    no_retries = CollectionConfig(partitioning="fleet", partitions_start="2024-01-01", max_retries=0)
    assert not _tick(_sensor(config=no_retries), instance, hub).run_requests


def test_only_the_failing_streams_are_selected_per_group_of_companies(
    store: Store, hub_settings, fake_connectors, instance
) -> None:
    values = {"application_id": "550e8400-e29b-41d4-a716-446655440000", "access_key": "eyJa.b.c"}
    for company in ("alpha", "bravo"):
        ConnectionService(store, today=lambda: date(2026, 11, 22)).connect(
            company, "karbon", {**values, "start_date": "2024-01-01"}, by="tester", skip_test=True
        )
    for stream in ("work", "time"):
        _fail(store, "alpha", 9, 9, stream=stream, integration="karbon")
    _fail(store, "bravo", 9, 9, stream="work", integration="karbon")
    result = _tick(_sensor("karbon"), instance, hub_resource(hub_settings))
    work, time = dg.AssetKey(["karbon", "work"]), dg.AssetKey(["karbon", "time"])
    assert _runs(result) == [
        ("2024-01-09", "2024-01-09", ["alpha"], [time, work]),
        ("2024-01-09", "2024-01-09", ["bravo"], [work]),
    ]


def test_the_cursor_limits_a_tick_to_what_became_due_since_the_last_one(
    store: Store, hub_settings, fake_connectors, instance
) -> None:
    connect(store, company="alpha")
    connect(store, company="bravo")
    hub = hub_resource(hub_settings)
    now = datetime.now(UTC) - timedelta(hours=2)  # ticks in the past: the edit below is stamped by the real clock
    with store.engine.begin() as conn:  # connected before all of it
        conn.execute(schema.connections.update().values(updated_at=now - timedelta(days=1)))

    def tick(minutes: int, cursor: str | None) -> dg.SensorResult:
        return _tick(_sensor(now=now + timedelta(minutes=minutes)), instance, hub, cursor)

    _fail(store, "alpha", 9, 9, at=now - timedelta(hours=1))  # due 15 minutes later
    first = tick(0, None)  # no cursor yet: everything due
    assert [shard_companies(r.run_config) for r in first.run_requests] == [["alpha"]]
    assert not tick(5, first.cursor).run_requests  # requested already
    _fail(store, "alpha", 9, 9, at=now + timedelta(minutes=10))  # the retry failed: due 30 minutes later
    waiting = tick(20, first.cursor)
    assert not waiting.run_requests
    due = tick(45, waiting.cursor)
    assert _runs(due) == [("2024-01-09", "2024-01-09", ["alpha"], [INVOICES])]
    # bravo failed hours ago and was due then; a person's edit clears its back-off and makes it due again at once.
    _fail(store, "bravo", 9, 9, at=now - timedelta(hours=6))
    quiet = tick(50, due.cursor)
    assert not quiet.run_requests
    ConnectionService(store).edit("bravo", "uyumsoft", {"password": "GOOD-new"}, by="tester")
    edited = _tick(_sensor(now=datetime.now(UTC) + timedelta(seconds=1)), instance, hub, quiet.cursor)
    assert [shard_companies(r.run_config) for r in edited.run_requests] == [["bravo"]]
