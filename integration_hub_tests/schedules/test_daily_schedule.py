"""The daily schedule: yesterday plus the lookback, for connected and not paused companies only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from integration_hub.jobs import RANGE_END_TAG, RANGE_START_TAG
from integration_hub.schedules.daily import make_daily_schedule
from integration_hub.service import ConnectionService
from integration_hub.settings import CollectionConfig
from integration_hub.store import Store
from integration_hub_tests.support.dagster_helpers import connect, hub_resource

CONFIG = CollectionConfig(lookback_days=3)


@pytest.fixture()
def instance():
    with dg.instance_for_test() as test_instance:
        yield test_instance


def _tick(instance, hub, when: datetime):
    schedule = make_daily_schedule("uyumsoft", CONFIG)
    with dg.build_schedule_context(instance=instance, scheduled_execution_time=when, resources={"hub": hub}) as context:
        return schedule.evaluate_tick(context)


def test_schedule_requests_yesterday_plus_lookback_for_active_companies_only(
    store: Store, hub_settings, fake_connectors, instance
) -> None:
    for company in ("acme", "globex", "initech"):
        connect(store, company=company)
    connect(store, company="late", start_date="2024-01-09")
    instance.add_dynamic_partitions("uyumsoft_companies", ["acme", "globex", "initech", "late"])
    svc = ConnectionService(store)
    svc.pause("globex", "uyumsoft", by="tester")
    svc.disconnect("initech", "uyumsoft", by="tester")
    connect(store, company="newco")  # connected, but the sensor has not added its partition yet

    result = _tick(instance, hub_resource(hub_settings), datetime(2024, 1, 11, 2, 0, tzinfo=UTC))
    requests = {r.tags["hub/company"]: r for r in result.run_requests}
    assert sorted(requests) == ["acme", "late"]
    assert (requests["acme"].tags[RANGE_START_TAG], requests["acme"].tags[RANGE_END_TAG]) == (
        "acme|2024-01-07",
        "acme|2024-01-10",
    )
    # The lookback never reaches before the connection's start date.
    assert requests["late"].tags[RANGE_START_TAG] == "late|2024-01-09"
    assert requests["acme"].run_key == "uyumsoft:acme:daily:2024-01-10"
    assert all(r.job_name == "collect_uyumsoft" for r in result.run_requests)


def test_schedule_with_no_collecting_connection_skips(store: Store, hub_settings, instance) -> None:
    result = _tick(instance, hub_resource(hub_settings), datetime(2024, 1, 11, 2, 0, tzinfo=UTC))
    assert result.run_requests == []
    assert "no collecting uyumsoft connections" in (result.skip_message or "")


def test_schedule_runs_at_two_utc_by_default() -> None:
    schedule = make_daily_schedule("karbon", CollectionConfig())
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "UTC"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def _fail_once(store: Store, company: str, stream: str, when: datetime) -> None:
    """A failed collection as the asset records it: coverage + health with its back-off."""
    from datetime import date

    from integration_hub.connectors.base import DateWindow
    from integration_hub.store import coverage

    with store.engine.begin() as conn:
        coverage.record_failed(
            conn,
            company=company,
            integration_id="uyumsoft",
            stream=stream,
            window=DateWindow.single_day(date(2024, 1, 9)),
            error="fake provider: page failed after 5 attempts",
            error_kind="transient",
            run_id="r1",
            now=when,
        )


def test_schedule_skips_connections_whose_stream_health_backs_off_and_logs_it(
    store: Store, hub_settings, fake_connectors, instance, capsys
) -> None:
    for company in ("acme", "globex"):
        connect(store, company=company)
    instance.add_dynamic_partitions("uyumsoft_companies", ["acme", "globex"])
    tick_at = datetime(2024, 1, 11, 2, 0, tzinfo=UTC)
    _fail_once(store, "globex", "invoices", tick_at - timedelta(minutes=5))  # failed 01:55, next attempt 02:10
    _fail_once(store, "acme", "invoices", tick_at - timedelta(hours=1))  # back-off over by 02:00: retried
    result = _tick(instance, hub_resource(hub_settings), tick_at)
    assert [r.tags["hub/company"] for r in result.run_requests] == ["acme"]
    logged = capsys.readouterr().err
    assert "backing off after failures, not collected now: globex (invoices until 2024-01-11 02:10 UTC)" in logged
    # When every collecting connection backs off, the tick says so instead of "no connections".
    _fail_once(store, "acme", "invoices", tick_at - timedelta(minutes=1))
    held = _tick(instance, hub_resource(hub_settings), tick_at)
    assert held.run_requests == []
    assert "every collecting uyumsoft connection is backing off" in (held.skip_message or "")
