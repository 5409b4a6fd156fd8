"""The activation sensor: a new connection yields partitions and ranged backfill requests from its start
date; pause stops requests; resume continues where collection stopped; ticks never repeat work."""

from __future__ import annotations

from datetime import date

import dagster as dg
import pytest

from integration_hub.assets.factory import build_stream_asset
from integration_hub.assets.partitions import companies_partitions_name
from integration_hub.assets.streams import streams_of
from integration_hub.jobs import RANGE_END_TAG, RANGE_START_TAG
from integration_hub.sensors.activation import contiguous_chunks, make_activation_sensor
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
    return make_activation_sensor("uyumsoft", [asset.key], CONFIG, today=lambda: TODAY)


def _tick(sensor, instance, hub, cursor):
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"hub": hub}) as context:
        result = sensor(context)
    if isinstance(result, dg.SensorResult):
        for request in result.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    return result


def _ranges(result) -> list[tuple[str, str]]:
    return [(r.tags[RANGE_START_TAG], r.tags[RANGE_END_TAG]) for r in result.run_requests]


def test_new_connection_adds_partition_and_requests_ranged_backfill(
    store: Store, hub_settings, fake_connectors, sensor, instance
) -> None:
    connect(store)
    hub = hub_resource(hub_settings)
    result = _tick(sensor, instance, hub, None)
    assert isinstance(result, dg.SensorResult)
    assert [list(r.partition_keys) for r in result.dynamic_partitions_requests] == [["acme"]]
    assert _ranges(result) == [
        ("acme|2024-01-01", "acme|2024-01-04"),
        ("acme|2024-01-05", "acme|2024-01-08"),
        ("acme|2024-01-09", "acme|2024-01-10"),
    ]
    request = result.run_requests[0]
    assert request.job_name == "collect_uyumsoft"
    assert request.tags["hub/credential"] == "uyumsoft.acme"
    assert "GOOD-pw" not in str(request.tags) and request.run_config in ({}, None)
    assert len({r.run_key for r in result.run_requests}) == 3
    # The next tick starts from the cursor: nothing new, nothing requested again.
    again = _tick(sensor, instance, hub, result.cursor)
    assert isinstance(again, dg.SkipReason)
    assert companies_partitions_name("uyumsoft") == "uyumsoft_companies"
    assert instance.get_dynamic_partitions("uyumsoft_companies") == ["acme"]


def test_pause_stops_requests_and_resume_continues_where_collection_stopped(
    store: Store, hub_settings, fake_connectors, sensor, asset, instance
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
    assert _ranges(resumed) == [("acme|2024-01-05", "acme|2024-01-08"), ("acme|2024-01-09", "acme|2024-01-10")]
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
    store: Store, hub_settings, fake_connectors, sensor, asset, instance
) -> None:
    connect(store, start_date="2024-01-08")
    hub = hub_resource(hub_settings)
    first = _tick(sensor, instance, hub, None)
    assert _ranges(first) == [("acme|2024-01-08", "acme|2024-01-10")]
    materialize_range(asset, instance, hub, "acme", date(2024, 1, 8), date(2024, 1, 10))
    ConnectionService(store).edit("acme", "uyumsoft", {"start_date": "2024-01-06"}, by="tester")
    result = _tick(sensor, instance, hub, first.cursor)
    assert _ranges(result) == [("acme|2024-01-06", "acme|2024-01-07")]


def test_contiguous_chunks() -> None:
    days = [date(2024, 1, d) for d in (1, 2, 3, 5, 6, 7, 8, 9, 20)]
    assert contiguous_chunks(days, 3) == [
        (date(2024, 1, 1), date(2024, 1, 3)),
        (date(2024, 1, 5), date(2024, 1, 7)),
        (date(2024, 1, 8), date(2024, 1, 9)),
        (date(2024, 1, 20), date(2024, 1, 20)),
    ]
    assert contiguous_chunks([], 3) == []
