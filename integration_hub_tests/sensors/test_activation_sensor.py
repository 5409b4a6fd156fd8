"""The activation sensor: a new connection yields its partition and one asset backfill from its start date
(split into ranged runs by the BackfillPolicy); pause stops requests; resume continues where the hub's coverage
says collection stopped; an earlier start date fills the gap; ticks never repeat work."""

from __future__ import annotations

from datetime import date

import dagster as dg
import pytest

from integration_hub.assets.factory import build_stream_asset
from integration_hub.assets.partitions import companies_partitions_name
from integration_hub.assets.streams import streams_of
from integration_hub.backfills import backfill_request_days, ranged_runs
from integration_hub.jobs import RANGE_END_TAG, RANGE_START_TAG
from integration_hub.sensors.activation import make_activation_sensor
from integration_hub.service import ConnectionService
from integration_hub.settings import CollectionConfig
from integration_hub.store import Store
from integration_hub_tests.support.dagster_helpers import connect, hub_resource, materialize_range

CONFIG = CollectionConfig(max_days_per_run=4, max_retries=0, retry_delay_seconds=0)
TODAY = date(2024, 1, 11)  # yesterday = 2024-01-10


@pytest.fixture()
def instance():
    with dg.instance_for_test() as test_instance:
        yield test_instance


@pytest.fixture()
def asset() -> dg.AssetsDefinition:
    return build_stream_asset(streams_of("uyumsoft")[0], CONFIG)


@pytest.fixture()
def sensor(asset) -> dg.SensorDefinition:
    return make_activation_sensor("uyumsoft", streams_of("uyumsoft"), CONFIG, today=lambda: TODAY)


@pytest.fixture()
def defs(asset, sensor, hub_settings) -> dg.Definitions:
    return dg.Definitions(
        assets=[asset], sensors=[sensor], resources={"hub": hub_resource(hub_settings)}, executor=dg.in_process_executor
    )


def _tick(sensor, instance, hub, cursor):
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"hub": hub}) as context:
        result = sensor(context)
    if isinstance(result, dg.SensorResult):
        for request in result.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def _days(result) -> list[list[str]]:
    """Per backfill requested, its days (``acme|YYYY-MM-DD``)."""
    return [[f"{company}|{day}" for company, day in backfill_request_days(r)] for r in result.run_requests]


def _ranges(result, defs, instance) -> list[tuple[str, str]]:
    """The ranged runs the backfill daemon makes of each requested backfill."""
    graph = defs.get_repository_def().asset_graph
    return [
        (run.tags[RANGE_START_TAG], run.tags[RANGE_END_TAG])
        for request in result.run_requests
        for run in ranged_runs(request.asset_graph_subset, graph, instance)
    ]


def test_new_connection_adds_partition_and_requests_one_backfill_split_into_ranged_runs(
    store: Store, hub_settings, fake_connectors, sensor, defs, instance
) -> None:
    connect(store)
    hub = hub_resource(hub_settings)
    result = _tick(sensor, instance, hub, None)
    assert isinstance(result, dg.SensorResult)
    assert [list(r.partition_keys) for r in result.dynamic_partitions_requests] == [["acme"]]
    assert len(result.run_requests) == 1  # one backfill for the connection, not a pile of runs
    request = result.run_requests[0]
    assert request.requires_backfill_daemon()
    assert _days(result) == [[f"acme|2024-01-{d:02d}" for d in range(1, 11)]]
    assert _ranges(result, defs, instance) == [
        ("acme|2024-01-01", "acme|2024-01-04"),
        ("acme|2024-01-05", "acme|2024-01-08"),
        ("acme|2024-01-09", "acme|2024-01-10"),
    ]
    assert request.tags["hub/credential"] == "uyumsoft.acme"
    assert request.tags["hub/company"] == "acme" and request.tags["hub/trigger"] == "activation"
    assert request.tags["hub/backfill_title"] == "uyumsoft acme 2024-01-01..2024-01-10 (10 days, activation)"
    assert RANGE_START_TAG not in request.tags and RANGE_END_TAG not in request.tags
    assert "GOOD-pw" not in str(request.tags) and request.run_config in ({}, None)
    # The real tick validation: the backfill's assets are the sensor's asset selection.
    with dg.build_sensor_context(
        instance=instance, resources={"hub": hub}, definitions=defs, cursor=None
    ) as context:
        assert len(sensor.evaluate_tick(context).run_requests) == 1
    # The next tick starts from the cursor: nothing new, nothing requested again.
    again = _tick(sensor, instance, hub, result.cursor)
    assert isinstance(again, dg.SkipReason)
    assert companies_partitions_name("uyumsoft") == "uyumsoft_companies"
    assert instance.get_dynamic_partitions("uyumsoft_companies") == ["acme"]


def test_pause_stops_requests_and_resume_continues_where_collection_stopped(
    store: Store, hub_settings, fake_connectors, sensor, asset, defs, instance
) -> None:
    connect(store)
    hub = hub_resource(hub_settings)
    first = _tick(sensor, instance, hub, None)
    materialize_range(asset, instance, hub, "acme", date(2024, 1, 1), date(2024, 1, 4))
    svc = ConnectionService(store)
    svc.pause("acme", "uyumsoft", by="tester")
    paused = _tick(sensor, instance, hub, first.cursor)
    assert isinstance(paused, dg.SkipReason)  # a pause is no activation
    svc.resume("acme", "uyumsoft", by="tester")
    resumed = _tick(sensor, instance, hub, first.cursor)
    assert _ranges(resumed, defs, instance) == [
        ("acme|2024-01-05", "acme|2024-01-08"),
        ("acme|2024-01-09", "acme|2024-01-10"),
    ]
    assert not resumed.dynamic_partitions_requests


def test_connect_then_disconnect_before_the_tick_requests_nothing(
    store: Store, hub_settings, fake_connectors, sensor, instance
) -> None:
    connect(store)
    ConnectionService(store).disconnect("acme", "uyumsoft", by="tester")
    result = _tick(sensor, instance, hub_resource(hub_settings), None)
    assert result.run_requests == []
    assert int(result.cursor) > 0


def test_earlier_start_date_backfills_the_new_gap_only(
    store: Store, hub_settings, fake_connectors, sensor, asset, defs, instance
) -> None:
    connect(store, start_date="2024-01-08")
    hub = hub_resource(hub_settings)
    first = _tick(sensor, instance, hub, None)
    assert _ranges(first, defs, instance) == [("acme|2024-01-08", "acme|2024-01-10")]
    materialize_range(asset, instance, hub, "acme", date(2024, 1, 8), date(2024, 1, 10))
    ConnectionService(store).edit("acme", "uyumsoft", {"start_date": "2024-01-06"}, by="tester")
    result = _tick(sensor, instance, hub, first.cursor)
    assert _ranges(result, defs, instance) == [("acme|2024-01-06", "acme|2024-01-07")]


def test_missing_days_come_from_the_hubs_coverage_not_dagsters_materializations(
    store: Store, hub_settings, fake_connectors, sensor, asset, instance
) -> None:
    """A day whose collection failed is still missing, though Dagster has no record either way; a day collected
    outside Dagster (coverage only) is not requested again."""
    from integration_hub_tests.support import fake_connector

    connect(store, start_date="2024-01-05")
    hub = hub_resource(hub_settings)
    first = _tick(sensor, instance, hub, None)
    fake_connector.FAIL_ON.add(date(2024, 1, 8))
    materialize_range(asset, instance, hub, "acme", date(2024, 1, 5), date(2024, 1, 6))
    failed = materialize_range(asset, instance, hub, "acme", date(2024, 1, 7), date(2024, 1, 8), raise_on_error=False)
    assert not failed.success
    ConnectionService(store).pause("acme", "uyumsoft", by="tester")
    ConnectionService(store).resume("acme", "uyumsoft", by="tester")
    result = _tick(sensor, instance, hub, first.cursor)
    assert _days(result) == [[f"acme|2024-01-{d:02d}" for d in (7, 8, 9, 10)]]


def test_days_of_an_unfinished_backfill_are_not_requested_twice(
    store: Store, hub_settings, fake_connectors, sensor, asset, instance
) -> None:
    import time

    from integration_hub.backfills import BackfillPlan

    connect(store, start_date="2024-01-08")
    hub = hub_resource(hub_settings)
    first = _tick(sensor, instance, hub, None)
    # The daemon turned the request into a backfill that has not finished yet.
    plan = BackfillPlan("uyumsoft", "acme", tuple(date(2024, 1, d) for d in (8, 9, 10)), "activation")
    instance.add_backfill(plan.backfill("inflight", [asset.key], instance, time.time()))
    ConnectionService(store).edit("acme", "uyumsoft", {"start_date": "2024-01-06"}, by="tester")
    result = _tick(sensor, instance, hub, first.cursor)
    assert _days(result) == [["acme|2024-01-06", "acme|2024-01-07"]]



def test_a_connection_starting_today_gets_its_partition_and_no_backfill_yet(
    store: Store, hub_settings, fake_connectors, sensor, instance
) -> None:
    """Nothing is over yet to collect, but the daily schedule collects only companies with a partition."""
    connect(store, start_date=TODAY.isoformat())
    result = _tick(sensor, instance, hub_resource(hub_settings), None)
    assert result.run_requests == []
    assert [list(r.partition_keys) for r in result.dynamic_partitions_requests] == [["acme"]]


def test_one_tick_requests_one_backfill_per_connection_minus_the_days_in_flight_for_each(
    store: Store, hub_settings, fake_connectors, sensor, asset, instance
) -> None:
    import time

    from integration_hub.backfills import BackfillPlan

    for company in ("acme", "globex", "initech"):
        connect(store, company=company, start_date="2024-01-07")
    busy = BackfillPlan("uyumsoft", "globex", (date(2024, 1, 7), date(2024, 1, 8)), "cli")
    instance.add_dynamic_partitions("uyumsoft_companies", ["globex"])
    instance.add_backfill(busy.backfill("inflight", [asset.key], instance, time.time()))
    result = _tick(sensor, instance, hub_resource(hub_settings), None)
    assert _days(result) == [
        [f"acme|2024-01-{d:02d}" for d in (7, 8, 9, 10)],
        ["globex|2024-01-09", "globex|2024-01-10"],
        [f"initech|2024-01-{d:02d}" for d in (7, 8, 9, 10)],
    ]


@pytest.mark.parametrize("snapshot_only", [False, True])
def test_never_collected_companies_get_the_same_missing_days_without_the_coverage_query(
    store: Store, snapshot_only: bool
) -> None:
    """The shortcut for companies without health rows answers what the grouped coverage query answers."""
    from integration_hub.backfills import uncollected
    from integration_hub.connectors.base import DateWindow
    from integration_hub.store import coverage

    streams = [s for s in streams_of("karbon") if s.snapshot or not snapshot_only]
    windows = {
        "acme": DateWindow.inclusive(date(2024, 1, 1), date(2024, 1, 10)),
        "globex": DateWindow.inclusive(date(2024, 1, 7), date(2024, 1, 10)),
    }
    with store.engine.connect() as conn:
        expected = coverage.uncollected(
            conn,
            integration_id="karbon",
            day_streams=[s.stream for s in streams if not s.snapshot],
            snapshot_streams=[s.stream for s in streams if s.snapshot],
            windows=windows,
        )
    assert uncollected(store, "karbon", streams, windows) == expected
    assert expected["globex"] == ([date(2024, 1, 10)] if snapshot_only else list(windows["globex"].days()))


def test_a_backfill_targets_dagsters_own_partition_keys() -> None:
    """The plan writes the keys out as strings; they are the keys Dagster's MultiPartitionKey makes."""
    from integration_hub.assets.partitions import partition_key
    from integration_hub.backfills import BackfillPlan

    days = (date(2024, 1, 1), date(2024, 1, 2))
    subset = BackfillPlan("uyumsoft", "acme", days, "cli").subset([dg.AssetKey(["efatura", "uyumsoft"])])
    keys = {p.partition_key for p in subset.iterate_asset_partitions()}
    assert keys == {str(partition_key("acme", day)) for day in days}
