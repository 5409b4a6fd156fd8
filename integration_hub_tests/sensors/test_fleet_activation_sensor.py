"""The fleet layout's activation sensor: new activations become day-range runs over blocks of HUB_MAX_DAYS_PER_RUN
days aligned on HUB_PARTITIONS_START, one per shard of HUB_COMPANIES_PER_RUN companies named in run config; the
missing days come from the hub's coverage; the cursor and unfinished runs prevent double requests; paused and
disconnected connections get nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from integration_hub.assets.streams import streams_of
from integration_hub.backfills import shard_companies
from integration_hub.jobs import RANGE_END_TAG, RANGE_START_TAG
from integration_hub.resources.shard import shard_run_config
from integration_hub.sensors.activation import make_activation_sensor
from integration_hub.service import ConnectionService
from integration_hub.settings import CollectionConfig
from integration_hub.store import Store, coverage
from integration_hub_tests.support.dagster_helpers import connect, hub_resource

CONFIG = CollectionConfig(partitioning="fleet", partitions_start="2024-01-01", max_days_per_run=4, companies_per_run=2)
TODAY = date(2024, 1, 11)  # yesterday = 2024-01-10; blocks 01-01..04, 01-05..08, 01-09..12


@pytest.fixture()
def instance():
    with dg.instance_for_test() as test_instance:
        yield test_instance


@pytest.fixture()
def sensor() -> dg.SensorDefinition:
    return make_activation_sensor("uyumsoft", streams_of("uyumsoft"), CONFIG, today=lambda: TODAY)


def _tick(sensor, instance, hub, cursor=None):
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"hub": hub}) as context:
        return sensor(context)


def _runs(result) -> list[tuple[str, str, str, list[str]]]:
    """Per requested run: (first day, last day, shard, companies)."""
    return [
        (r.tags[RANGE_START_TAG], r.tags[RANGE_END_TAG], r.tags["hub/shard"], shard_companies(r.run_config))
        for r in result.run_requests
    ]


def _collected(store: Store, company: str, first: int, last: int) -> None:
    """Coverage as a successful collection of uyumsoft invoices for 2024-01-first..last writes it."""
    with store.engine.begin() as conn:
        coverage.record_collected(
            conn,
            company=company,
            integration_id="uyumsoft",
            stream="invoices",
            rows_per_day={date(2024, 1, d): 3 for d in range(first, last + 1)},
            run_id="earlier",
            now=datetime(2024, 1, 10, tzinfo=UTC),
        )


def test_activations_become_aligned_blocks_in_shards_of_companies_with_their_missing_days(
    store: Store, hub_settings, fake_connectors, sensor, instance
) -> None:
    for company in ("alpha", "bravo"):
        connect(store, company=company)
    connect(store, company="charlie", start_date="2024-01-03")
    connect(store, company="delta", start_date="2024-01-06")
    connect(store, company="echo")
    connect(store, company="foxtrot")
    svc = ConnectionService(store)
    svc.pause("echo", "uyumsoft", by="tester")
    svc.disconnect("foxtrot", "uyumsoft", by="tester")
    _collected(store, "alpha", 1, 4)  # alpha's first block is already in the hub's coverage

    result = _tick(sensor, instance, hub_resource(hub_settings))
    assert isinstance(result, dg.SensorResult)
    assert _runs(result) == [
        ("2024-01-01", "2024-01-04", "1/1", ["bravo", "charlie"]),
        ("2024-01-05", "2024-01-08", "1/2", ["alpha", "bravo"]),
        ("2024-01-05", "2024-01-08", "2/2", ["charlie", "delta"]),
        ("2024-01-09", "2024-01-10", "1/2", ["alpha", "bravo"]),
        ("2024-01-09", "2024-01-10", "2/2", ["charlie", "delta"]),
    ]
    assert not result.dynamic_partitions_requests  # no company partitions in the fleet layout
    first = result.run_requests[0]
    assert first.job_name == "collect_uyumsoft"
    assert first.run_config == shard_run_config(["bravo", "charlie"])
    assert first.tags["hub/integration"] == "uyumsoft" and first.tags["hub/trigger"] == "activation"
    assert "hub/credential" not in first.tags and "GOOD-pw" not in str([r.tags for r in result.run_requests])
    keys = [r.run_key for r in result.run_requests]
    assert len(set(keys)) == len(keys)
    # The same tick evaluated again (a daemon retrying it) asks for the same runs under the same keys.
    assert [r.run_key for r in _tick(sensor, instance, hub_resource(hub_settings)).run_requests] == keys


def test_the_cursor_prevents_double_requests_and_a_resume_continues_from_coverage(
    store: Store, hub_settings, fake_connectors, sensor, instance
) -> None:
    connect(store, company="alpha", start_date="2024-01-05")
    hub = hub_resource(hub_settings)
    first = _tick(sensor, instance, hub)
    assert _runs(first) == [
        ("2024-01-05", "2024-01-08", "1/1", ["alpha"]),
        ("2024-01-09", "2024-01-10", "1/1", ["alpha"]),
    ]
    again = _tick(sensor, instance, hub, first.cursor)
    assert isinstance(again, dg.SkipReason)
    _collected(store, "alpha", 5, 7)
    svc = ConnectionService(store)
    svc.pause("alpha", "uyumsoft", by="tester")
    assert isinstance(_tick(sensor, instance, hub, first.cursor), dg.SkipReason)  # a pause is no activation
    svc.resume("alpha", "uyumsoft", by="tester")
    resumed = _tick(sensor, instance, hub, first.cursor)
    assert _runs(resumed) == [
        ("2024-01-08", "2024-01-08", "1/1", ["alpha"]),
        ("2024-01-09", "2024-01-10", "1/1", ["alpha"]),
    ]
    # A later activation is new work: its run keys differ from the first tick's even for the same days.
    assert not {r.run_key for r in resumed.run_requests} & {r.run_key for r in first.run_requests}


def test_days_of_queued_or_running_fleet_runs_are_not_requested_again(
    store: Store, hub_settings, fake_connectors, sensor, instance
) -> None:
    connect(store, company="alpha", start_date="2024-01-06")
    hub = hub_resource(hub_settings)
    first = _tick(sensor, instance, hub)
    statuses = (dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTED)
    for request, status in zip(first.run_requests, statuses, strict=True):
        create_run_for_test(
            instance, job_name="collect_uyumsoft", tags=request.tags, run_config=request.run_config, status=status
        )
    ConnectionService(store).edit("alpha", "uyumsoft", {"start_date": "2024-01-03"}, by="tester")
    result = _tick(sensor, instance, hub, first.cursor)
    assert _runs(result) == [
        ("2024-01-03", "2024-01-04", "1/1", ["alpha"]),
        ("2024-01-05", "2024-01-05", "1/1", ["alpha"]),
    ]


def test_companies_beyond_the_shard_size_get_more_runs_of_the_same_block(
    store: Store, hub_settings, fake_connectors, sensor, instance
) -> None:
    names = [f"co{index:02d}" for index in range(5)]
    for company in names:
        connect(store, company=company, start_date="2024-01-09")
    result = _tick(sensor, instance, hub_resource(hub_settings))
    assert _runs(result) == [
        ("2024-01-09", "2024-01-10", "1/3", names[0:2]),
        ("2024-01-09", "2024-01-10", "2/3", names[2:4]),
        ("2024-01-09", "2024-01-10", "3/3", names[4:5]),
    ]


def test_days_of_an_unfinished_company_backfill_are_not_requested_again(
    store: Store, hub_settings, fake_connectors, sensor, instance
) -> None:
    """A fleet company backfill (``integration-hub collect`` on a deployment) names its company in run config."""
    import time

    from integration_hub.backfills import BackfillPlan

    connect(store, company="alpha", start_date="2024-01-05")
    connect(store, company="bravo", start_date="2024-01-05")
    days = tuple(date(2024, 1, d) for d in (5, 6, 7, 8))
    plan = BackfillPlan("uyumsoft", "alpha", days, "cli", fleet_start=CONFIG.partitions_start)
    keys = [spec.asset_key for spec in streams_of("uyumsoft")]
    instance.add_backfill(plan.backfill("inflight", keys, instance, time.time()))
    result = _tick(sensor, instance, hub_resource(hub_settings))
    assert _runs(result) == [
        ("2024-01-05", "2024-01-08", "1/1", ["bravo"]),
        ("2024-01-09", "2024-01-10", "1/1", ["alpha", "bravo"]),
    ]
