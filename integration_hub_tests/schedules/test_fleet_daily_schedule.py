"""The fleet layout's daily schedule: ⌈companies ÷ HUB_COMPANIES_PER_RUN⌉ runs over yesterday plus the lookback,
the companies in run config (back-off respected), companies whose every stream backs off left out and counted."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pytest

from integration_hub.backfills import shard_companies
from integration_hub.connectors.base import DateWindow
from integration_hub.jobs import RANGE_END_TAG, RANGE_START_TAG
from integration_hub.resources.shard import shard_run_config
from integration_hub.schedules.daily import make_daily_schedule
from integration_hub.service import ConnectionService
from integration_hub.settings import CollectionConfig
from integration_hub.store import Store, coverage
from integration_hub_tests.support.dagster_helpers import connect, hub_resource

CONFIG = CollectionConfig(partitioning="fleet", lookback_days=3, companies_per_run=3, partitions_start="2024-01-01")
TICK = datetime(2024, 1, 11, 2, 0, tzinfo=UTC)  # yesterday = 2024-01-10


@pytest.fixture()
def instance():
    with dg.instance_for_test() as test_instance:
        yield test_instance


def _tick(instance, hub, config: CollectionConfig = CONFIG, integration: str = "uyumsoft", when: datetime = TICK):
    schedule = make_daily_schedule(integration, config)
    with dg.build_schedule_context(instance=instance, scheduled_execution_time=when, resources={"hub": hub}) as context:
        return schedule.evaluate_tick(context)


def _fail(store: Store, company: str, stream: str, at: datetime, integration: str = "uyumsoft") -> None:
    with store.engine.begin() as conn:
        coverage.record_failed(
            conn,
            company=company,
            integration_id=integration,
            stream=stream,
            window=DateWindow.single_day(date(2024, 1, 9)),
            error="fake provider: page failed after 5 attempts",
            error_kind="transient",
            run_id="r1",
            now=at,
        )


def _connect_karbon(store: Store, company: str) -> None:
    values = {"application_id": "550e8400-e29b-41d4-a716-446655440000", "access_key": "eyJa.b.c"}
    ConnectionService(store, today=lambda: date(2026, 11, 22)).connect(
        company, "karbon", {**values, "start_date": "2024-01-01"}, by="tester", skip_test=True
    )


def test_one_run_per_shard_of_companies_over_yesterday_and_the_lookback(
    store: Store, hub_settings, fake_connectors, instance
) -> None:
    names = [f"co{index:02d}" for index in range(7)]
    for company in names:
        connect(store, company=company)
    connect(store, company="late", start_date="2024-01-09")  # its window is clipped by the asset, not here
    connect(store, company="future", start_date="2024-01-11")  # nothing to collect yet
    connect(store, company="paused")
    ConnectionService(store).pause("paused", "uyumsoft", by="tester")

    result = _tick(instance, hub_resource(hub_settings))
    collecting = sorted([*names, "late"])
    assert len(result.run_requests) == math.ceil(len(collecting) / CONFIG.companies_per_run) == 3
    assert [shard_companies(r.run_config) for r in result.run_requests] == [
        collecting[0:3],
        collecting[3:6],
        collecting[6:8],
    ]
    assert [r.tags["hub/shard"] for r in result.run_requests] == ["1/3", "2/3", "3/3"]
    assert [r.run_key for r in result.run_requests] == [f"uyumsoft:daily:2024-01-10:{i}/3" for i in (1, 2, 3)]
    for request in result.run_requests:
        assert (request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]) == ("2024-01-07", "2024-01-10")
        assert request.tags["hub/trigger"] == "schedule" and request.tags["hub/integration"] == "uyumsoft"
        assert request.job_name == "collect_uyumsoft" and not request.asset_selection
        assert request.run_config == shard_run_config(shard_companies(request.run_config), respect_backoff=True)
        assert "hub/credential" not in request.tags


def test_the_lookback_never_reaches_before_partitions_start(store: Store, hub_settings, fake_connectors, instance):
    connect(store, company="acme")
    config = CollectionConfig(partitioning="fleet", lookback_days=3, partitions_start="2024-01-09")
    (request,) = _tick(instance, hub_resource(hub_settings), config).run_requests
    assert request.tags[RANGE_START_TAG] == "2024-01-09"


def test_companies_whose_streams_all_back_off_are_left_out_and_counted_in_the_log(
    store: Store, hub_settings, fake_connectors, instance, capsys
) -> None:
    for company in ("acme", "globex", "initech"):
        _connect_karbon(store, company)
    _fail(store, "globex", "work", TICK - timedelta(minutes=5), "karbon")  # one stream backs off: still collected
    for stream in ("tenant", "work", "contacts", "time", "ar", "content_items", "accounting"):
        _fail(store, "initech", stream, TICK - timedelta(minutes=5), "karbon")  # every stream backs off
    result = _tick(instance, hub_resource(hub_settings), integration="karbon")
    assert [shard_companies(r.run_config) for r in result.run_requests] == [["acme", "globex"]]
    logged = capsys.readouterr().err
    assert "backing off after failures, not collected now: 1 compan(y/ies) (initech)" in logged
    assert "1 more collected without their streams that back off" in logged


def test_when_every_company_backs_off_the_tick_says_so(store: Store, hub_settings, fake_connectors, instance) -> None:
    connect(store, company="acme")
    _fail(store, "acme", "invoices", TICK - timedelta(minutes=1))
    held = _tick(instance, hub_resource(hub_settings))
    assert held.run_requests == []
    assert "every collecting uyumsoft connection is backing off (1 companies)" in (held.skip_message or "")
    # Once the back-off is over the company is collected again.
    later = _tick(instance, hub_resource(hub_settings), when=TICK + timedelta(hours=1))
    assert [shard_companies(r.run_config) for r in later.run_requests] == [["acme"]]


def test_no_collecting_connection_skips(store: Store, hub_settings, instance) -> None:
    result = _tick(instance, hub_resource(hub_settings))
    assert result.run_requests == [] and "no collecting uyumsoft connections" in (result.skip_message or "")
