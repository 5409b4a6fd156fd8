"""The collected assets, materialized in-process on both databases with the connector written for the
tests: ranged windows, idempotent re-runs, failures that keep the previous rows, metadata and checks."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import dagster as dg
import pytest
from sqlalchemy import select

from integration_hub.assets.factory import COUNT_CHECK, GAPS_CHECK, build_stream_asset
from integration_hub.assets.streams import STREAMS, streams_of
from integration_hub.connectors.base import DateWindow
from integration_hub.service import ConnectionService
from integration_hub.settings import CollectionConfig
from integration_hub.store import Store, coverage, inventory, schema
from integration_hub.store import activity as activity_log
from integration_hub_tests.support import fake_connector
from integration_hub_tests.support.dagster_helpers import connect, hub_resource, materialize_range

JAN_1, JAN_5 = date(2024, 1, 1), date(2024, 1, 5)
TEST_CONFIG = CollectionConfig(max_retries=2, retry_delay_seconds=0)


@pytest.fixture()
def asset() -> dg.AssetsDefinition:
    return build_stream_asset(streams_of("uyumsoft")[0], TEST_CONFIG)


@pytest.fixture()
def instance():
    with dg.instance_for_test() as test_instance:
        yield test_instance


def _rows(store: Store) -> list[tuple]:
    t = schema.inventory
    with store.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(t.c.partition_date, t.c.external_key, t.c.amount, t.c.run_id).order_by(
                    t.c.partition_date, t.c.external_key
                )
            )
        ]


def _sync_attempts(store: Store) -> list[tuple[str, str]]:
    with store.engine.connect() as conn:
        return [(e.status, e.details) for e in activity_log.query(conn, actions=["Sync Attempt"], newest_first=False)]


def test_every_stream_is_an_asset_partitioned_by_company_and_day() -> None:
    keys = {spec.asset_key.to_user_string() for spec in STREAMS}
    assert keys == {
        *(f"efatura/{p}" for p in ("edm", "qnb_esolutions", "crs_soft", "isnet", "uyumsoft")),
        *(f"karbon/{p}" for p in ("tenant", "work", "contacts", "time", "ar", "content_items", "accounting")),
    }
    built = build_stream_asset(streams_of("karbon")[1], CollectionConfig())
    spec = built.specs_by_key[built.key]
    assert spec.group_name == "karbon"
    assert spec.kinds >= {"rest"}
    assert spec.owners == ["team:data-engineering"]
    assert built.backfill_policy == dg.BackfillPolicy.multi_run(92)
    assert built.partitions_def.partitions_defs[0].name == "company"  # type: ignore[union-attr]
    assert {c.name for c in built.check_specs} == {GAPS_CHECK, COUNT_CHECK}


def test_ranged_run_collects_the_window_once_and_writes_every_day(
    store: Store, hub_settings, fake_connectors, asset, instance
) -> None:
    connect(store)
    result = materialize_range(asset, instance, hub_resource(hub_settings), "acme", JAN_1, JAN_5)
    assert result.success
    # One collect() call for the whole 5-day window, not one per day.
    assert [c for c in fake_connectors if c[0] == "collect"] == [("collect", "acme:2024-01-01..2024-01-05")]
    rows = _rows(store)
    assert len(rows) == 15
    assert {r[0] for r in rows} == {date(2024, 1, d) for d in range(1, 6)}
    materialization = result.asset_materializations_for_node(asset.op.name)
    assert len(materialization) == 5  # one event per partition of the range
    metadata = materialization[0].metadata
    assert metadata["run_rows"].value == 15
    assert (metadata["run_days"].value, metadata["run_empty_days"].value) == (5, 0)
    assert metadata["run_requests"].value == 1
    assert metadata["run_skipped_out_of_window"].value == 0
    assert "Test Supplier" in metadata["run_preview"].value
    assert "GOOD-pw" not in str(metadata)
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {GAPS_CHECK: True, COUNT_CHECK: True}
    ((status, details),) = _sync_attempts(store)
    assert status == "Success" and details.startswith("invoices 2024-01-01..2024-01-05: 15 rows in 1 requests")


def test_a_snapshot_stream_records_the_last_day_and_keeps_earlier_snapshots(
    store: Store, hub_settings, fake_connectors, instance
) -> None:
    snapshot = build_stream_asset(replace(streams_of("uyumsoft")[0], snapshot=True), TEST_CONFIG)
    connect(store)
    hub = hub_resource(hub_settings)
    first = materialize_range(snapshot, instance, hub, "acme", JAN_1, date(2024, 1, 3))
    assert first.success
    assert {r[0] for r in _rows(store)} == {date(2024, 1, 3)}
    # Days between snapshots are not gaps: a snapshot stream records only each run's last day.
    assert {e.check_name: e.passed for e in first.get_asset_check_evaluations()}[GAPS_CHECK]
    assert materialize_range(snapshot, instance, hub, "acme", date(2024, 1, 2), date(2024, 1, 4)).success
    # The second run's window covers Jan 3, but only its last day is replaced: Jan 3's snapshot stays.
    assert {r[0] for r in _rows(store)} == {date(2024, 1, 3), date(2024, 1, 4)}
    assert [c for c in fake_connectors if c[0] == "collect"] == [
        ("collect", "acme:2024-01-03..2024-01-03"),
        ("collect", "acme:2024-01-04..2024-01-04"),
    ]


def test_rematerializing_gives_the_same_rows_without_duplicates(
    store: Store, hub_settings, fake_connectors, asset, instance
) -> None:
    connect(store)
    hub = hub_resource(hub_settings)
    first = materialize_range(asset, instance, hub, "acme", JAN_1, JAN_5)
    again = materialize_range(asset, instance, hub, "acme", date(2024, 1, 3), JAN_5)
    rows = _rows(store)
    assert len(rows) == 15
    assert [(r[0], r[1], r[2]) for r in rows] == [(r[0], r[1], r[2]) for r in _rows(store)]
    run_ids = {r[0]: r[3] for r in rows}
    assert run_ids[date(2024, 1, 2)] == first.run_id
    assert run_ids[date(2024, 1, 4)] == again.run_id


def test_failure_midway_keeps_previous_rows_and_logs_the_attempt(
    store: Store, hub_settings, fake_connectors, asset, instance
) -> None:
    connect(store)
    hub = hub_resource(hub_settings)
    materialize_range(asset, instance, hub, "acme", JAN_1, JAN_5)
    before = _rows(store)
    fake_connector.FAIL_ON.add(date(2024, 1, 4))
    result = materialize_range(asset, instance, hub, "acme", JAN_1, JAN_5, raise_on_error=False)
    assert not result.success
    assert _rows(store) == before  # days 1-3 were yielded before the failure, and still nothing changed
    statuses = _sync_attempts(store)
    # Transient failure: retried by the RetryPolicy (2 retries), every attempt logged, none wrote anything.
    assert [s for s, _ in statuses] == ["Success", "Error", "Error", "Error"]
    assert "page for 2024-01-04 failed" in statuses[-1][1] and "previous rows kept" in statuses[-1][1]


def test_paused_connection_is_refused_without_touching_rows(
    store: Store, hub_settings, fake_connectors, asset, instance
) -> None:
    connect(store)
    hub = hub_resource(hub_settings)
    materialize_range(asset, instance, hub, "acme", JAN_1, JAN_1)
    ConnectionService(store).pause("acme", "uyumsoft", by="tester")
    result = materialize_range(asset, instance, hub, "acme", JAN_1, JAN_5, raise_on_error=False)
    assert not result.success
    assert len(_rows(store)) == 3
    attempts = _sync_attempts(store)
    assert [s for s, _ in attempts] == ["Success", "Error"]  # refused: not retried
    assert "is paused" in attempts[-1][1]


def test_count_check_fails_when_the_provider_total_disagrees(
    store: Store, hub_settings, fake_connectors, asset, instance, monkeypatch
) -> None:
    connect(store)
    original = fake_connector.FakeConnector.collect

    def short_by_one(self, stream, window):
        records = list(original(self, stream, window))
        yield from records[:-1]  # the provider said N but delivered N-1

    monkeypatch.setattr(fake_connector.FakeConnector, "collect", short_by_one)
    result = materialize_range(asset, instance, hub_resource(hub_settings), "acme", JAN_1, JAN_1)
    evaluation = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not evaluation[COUNT_CHECK].passed
    assert evaluation[COUNT_CHECK].metadata["mismatches"].value == {"item": {"reported": 3, "written": 2}}
    assert evaluation[GAPS_CHECK].passed
    with store.engine.connect() as conn:
        assert inventory.count_window(
            conn, company="acme", integration_id="uyumsoft", stream="invoices", window=DateWindow.single_day(JAN_1)
        ) == {"item": 2}


def _coverage(store: Store, company: str = "acme") -> dict[date, tuple[str, int]]:
    with store.engine.connect() as conn:
        days = coverage.days(conn, company=company, integration_id="uyumsoft", stream="invoices")
    return {d.day: (d.status, d.rows) for d in days}


def test_each_day_partition_carries_its_own_row_count_and_empty_days_are_recorded(
    store: Store, hub_settings, fake_connectors, asset, instance
) -> None:
    connect(store)
    original = fake_connector.FakeConnector.collect

    def quiet_on_the_third(self, stream, window):  # Jan 3 has no invoices at all
        yield from (r for r in original(self, stream, window) if r.record_date != date(2024, 1, 3))

    fake_connector.FakeConnector.collect = quiet_on_the_third  # type: ignore[method-assign]
    try:
        result = materialize_range(asset, instance, hub_resource(hub_settings), "acme", JAN_1, JAN_5)
    finally:
        fake_connector.FakeConnector.collect = original  # type: ignore[method-assign]
    per_day = {
        m.partition: (m.metadata["dagster/row_count"].value, m.metadata["run_rows"].value)
        for m in result.asset_materializations_for_node(asset.op.name)
    }
    assert per_day == {f"acme|2024-01-0{d}": (0 if d == 3 else 3, 12) for d in range(1, 6)}
    # Collected-and-empty is recorded as such, in the same transaction as the rows.
    assert _coverage(store) == {date(2024, 1, d): ("collected", 0 if d == 3 else 3) for d in range(1, 6)}


def test_a_failed_window_is_recorded_as_failed_days_and_a_backed_off_stream(
    store: Store, hub_settings, fake_connectors, asset, instance
) -> None:
    connect(store)
    hub = hub_resource(hub_settings)
    assert materialize_range(asset, instance, hub, "acme", JAN_1, date(2024, 1, 2)).success
    fake_connector.FAIL_ON.add(date(2024, 1, 4))
    assert not materialize_range(asset, instance, hub, "acme", JAN_1, JAN_5, raise_on_error=False).success
    days = _coverage(store)
    assert days[date(2024, 1, 1)] == days[date(2024, 1, 2)] == ("collected", 3)  # earlier success kept
    assert days[date(2024, 1, 3)] == days[date(2024, 1, 5)] == ("failed", 0)
    (health,) = hub.stream_health("acme", "uyumsoft")
    assert health.failing and health.error_kind == "transient"
    assert health.consecutive_failures == 3  # the first attempt and its two retries
    assert "page for 2024-01-04 failed" in (health.last_error or "")
    assert health.next_attempt_at is not None and health.next_attempt_at > health.last_attempt_at
    assert health.last_collected_day == date(2024, 1, 2)

    fake_connector.FAIL_ON.clear()
    assert materialize_range(asset, instance, hub, "acme", JAN_1, JAN_5).success
    (healed,) = hub.stream_health("acme", "uyumsoft")
    assert not healed.failing and healed.consecutive_failures == 0 and healed.next_attempt_at is None
    assert set(_coverage(store).values()) == {("collected", 3)}


def test_days_before_the_start_date_are_skipped_not_materialized(
    store: Store, hub_settings, fake_connectors, asset, instance
) -> None:
    connect(store, start_date="2024-01-10")
    hub = hub_resource(hub_settings)
    before = materialize_range(asset, instance, hub, "acme", JAN_1, JAN_5)
    assert before.success
    assert before.asset_materializations_for_node(asset.op.name) == []
    assert instance.get_materialized_partitions(asset.key) == set()
    assert [c for c in fake_connectors if c[0] == "collect"] == []  # the provider was not called
    skipped = {e.check_name: e for e in before.get_asset_check_evaluations()}
    assert skipped[COUNT_CHECK].passed and "before the connection's start date 2024-01-10" in (
        skipped[COUNT_CHECK].description or ""
    )
    mixed = materialize_range(asset, instance, hub, "acme", date(2024, 1, 8), date(2024, 1, 12), raise_on_error=False)
    assert not mixed.success
    assert instance.get_materialized_partitions(asset.key) == set()
    (failure,) = [e for e in mixed.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "2024-01-08..2024-01-09 is before the connection's start date 2024-01-10" in str(
        failure.step_failure_data.user_failure_data.description  # type: ignore[union-attr]
    )
    assert _coverage(store) == {}


def test_the_gaps_check_finds_days_since_the_start_that_were_never_collected(
    store: Store, hub_settings, fake_connectors, asset, instance
) -> None:
    connect(store)
    hub = hub_resource(hub_settings)
    assert materialize_range(asset, instance, hub, "acme", JAN_1, date(2024, 1, 2)).success
    later = materialize_range(asset, instance, hub, "acme", date(2024, 1, 6), date(2024, 1, 7))
    evaluation = {e.check_name: e for e in later.get_asset_check_evaluations()}
    assert not evaluation[GAPS_CHECK].passed
    assert evaluation[GAPS_CHECK].metadata["gaps"].value == {"acme": ["2024-01-03..2024-01-05"]}
    assert evaluation[GAPS_CHECK].metadata["gap_days"].value == 3
