"""The fleet layout's assets (``HUB_PARTITIONING=fleet``), materialized in process on both databases: a run is a
day range for a shard of companies; each company gets its own window (clipped to its start date) and its own error
handling, so one company's failure fails neither the run nor the others and is recorded, shown and retried."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pytest
from sqlalchemy import func, select

from integration_hub.assets.factory import COMPANIES_CHECK, COUNT_CHECK, GAPS_CHECK, build_stream_asset
from integration_hub.assets.streams import streams_of
from integration_hub.connectors.base import AuthenticationError, TransientError
from integration_hub.resources.hub import HubResource
from integration_hub.service import ConnectionService
from integration_hub.settings import CollectionConfig
from integration_hub.store import Store, coverage, schema
from integration_hub_tests.support import fake_connector
from integration_hub_tests.support.dagster_helpers import connect, hub_resource, materialize_fleet

JAN_1, JAN_5 = date(2024, 1, 1), date(2024, 1, 5)
FLEET = CollectionConfig(partitioning="fleet", max_retries=0, retry_delay_seconds=0)


@pytest.fixture()
def asset() -> dg.AssetsDefinition:
    return build_stream_asset(streams_of("uyumsoft")[0], FLEET)


@pytest.fixture()
def instance():
    with dg.instance_for_test() as test_instance:
        yield test_instance


def _rows_by_company(store: Store) -> dict[str, int]:
    t = schema.inventory
    with store.engine.connect() as conn:
        return dict(conn.execute(select(t.c.company, func.count()).group_by(t.c.company)).all())  # type: ignore[arg-type]


def _collect_calls(calls: list[tuple[str, str]]) -> list[str]:
    return sorted(target for kind, target in calls if kind == "collect")


def test_a_fleet_asset_is_partitioned_by_day_with_a_companies_check() -> None:
    built = build_stream_asset(streams_of("karbon")[1], FLEET)
    assert isinstance(built.partitions_def, dg.DailyPartitionsDefinition)
    assert built.partitions_def.start == datetime(2020, 1, 1, tzinfo=UTC)
    assert {c.name for c in built.check_specs} == {GAPS_CHECK, COUNT_CHECK, COMPANIES_CHECK}
    assert built.backfill_policy == dg.BackfillPolicy.multi_run(92)


def test_one_failing_company_neither_fails_the_shard_nor_the_others(
    store: Store, hub_settings, fake_connectors, asset, instance
) -> None:
    connect(store, "acme")
    connect(store, "bolt", start_date="2024-01-03")  # joined later: collected from its start date only
    connect(store, "crux")
    fake_connector.FAIL_FOR["crux"] = TransientError("fake provider: 503 after 5 attempts")

    result = materialize_fleet([asset], instance, hub_resource(hub_settings), ["acme", "bolt", "crux"], JAN_1, JAN_5)

    assert result.success
    assert _collect_calls(fake_connectors) == [
        "acme:2024-01-01..2024-01-05",
        "bolt:2024-01-03..2024-01-05",
        "crux:2024-01-01..2024-01-05",
    ]
    assert _rows_by_company(store) == {"acme": 15, "bolt": 9}
    # The failure is recorded where health, alerts and retries read it.
    with store.engine.connect() as conn:
        (health,) = coverage.stream_health(conn, pairs=[("crux", "uyumsoft")])
        crux_days = coverage.days(conn, company="crux", integration_id="uyumsoft", stream="invoices")
    assert health.failing and health.error_kind == "transient" and health.next_attempt_at is not None
    assert {d.status for d in crux_days} == {"failed"} and len(crux_days) == 5
    # ... and shown on the run: per-day row counts over the shard, the failure named in metadata and the check.
    materializations = result.asset_materializations_for_node(asset.op.name)
    per_day = {m.partition: m.metadata["dagster/row_count"].value for m in materializations}
    assert per_day == {"2024-01-01": 3, "2024-01-02": 3, "2024-01-03": 6, "2024-01-04": 6, "2024-01-05": 6}
    metadata = materializations[0].metadata
    assert (metadata["run_companies_collected"].value, metadata["run_companies_failed"].value) == (2, 1)
    assert "crux" in metadata["run_failures"].value and "503" in metadata["run_failures"].value
    assert "GOOD-pw" not in str(metadata)
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert not checks[COMPANIES_CHECK].passed and "crux" in (checks[COMPANIES_CHECK].description or "")
    assert checks[COUNT_CHECK].passed
    # bolt's days before its start date are not gaps; crux's failed days are, for crux only.
    assert not checks[GAPS_CHECK].passed
    assert "crux" in (checks[GAPS_CHECK].description or "") and "bolt" not in (checks[GAPS_CHECK].description or "")
    # Each company's verdict in the hub (what alerts read) is its own, never naming another company.
    with store.engine.connect() as conn:
        verdicts = {
            h.company: h.failed_check
            for h in coverage.stream_health(conn, pairs=[(c, "uyumsoft") for c in ("acme", "bolt", "crux")])
        }
    assert verdicts["acme"] is None and verdicts["bolt"] is None
    assert "503" in verdicts["crux"] and "acme" not in verdicts["crux"] and "bolt" not in verdicts["crux"]


def test_the_next_run_heals_the_failed_company_without_touching_the_others(
    store: Store, hub_settings, fake_connectors, asset, instance
) -> None:
    connect(store, "acme")
    connect(store, "crux")
    hub = hub_resource(hub_settings)
    fake_connector.FAIL_FOR["crux"] = AuthenticationError("the provider rejected the credentials")
    assert materialize_fleet([asset], instance, hub, ["acme", "crux"], JAN_1, JAN_5).success
    with store.engine.connect() as conn:
        (health,) = coverage.stream_health(conn, pairs=[("crux", "uyumsoft")])
    assert health.error_kind == "auth" and health.consecutive_failures == 1

    fake_connector.FAIL_FOR.clear()
    retry = materialize_fleet([asset], instance, hub, ["crux"], JAN_1, JAN_5)
    assert retry.success
    assert _rows_by_company(store) == {"acme": 15, "crux": 15}
    with store.engine.connect() as conn:
        (healed,) = coverage.stream_health(conn, pairs=[("crux", "uyumsoft")])
    assert not healed.failing and healed.consecutive_failures == 0
    assert {e.check_name: e.passed for e in retry.get_asset_check_evaluations()} == {
        COUNT_CHECK: True,
        GAPS_CHECK: True,
        COMPANIES_CHECK: True,
    }


def test_a_shard_whose_every_company_fails_fails_the_run_and_writes_nothing(
    store: Store, hub_settings, fake_connectors, asset, instance
) -> None:
    connect(store, "acme")
    connect(store, "bolt")
    for company in ("acme", "bolt"):
        fake_connector.FAIL_FOR[company] = TransientError("fake provider: timed out")
    result = materialize_fleet(
        [asset], instance, hub_resource(hub_settings), ["acme", "bolt"], JAN_1, JAN_5, raise_on_error=False
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    description = failure.step_failure_data.user_failure_data.description
    assert "no company of this uyumsoft shard was collected (2 failed)" in description
    assert _rows_by_company(store) == {}
    assert result.asset_materializations_for_node(asset.op.name) == []


def test_a_fully_failed_shard_is_left_to_the_retry_sensor_not_retried_at_once(
    store: Store, hub_settings, fake_connectors, instance
) -> None:
    retrying = build_stream_asset(streams_of("uyumsoft")[0], CollectionConfig(partitioning="fleet", max_retries=2))
    connect(store, "acme")
    fake_connector.FAIL_FOR["acme"] = TransientError("fake provider: 503")
    result = materialize_fleet(
        [retrying], instance, hub_resource(hub_settings), ["acme"], JAN_1, JAN_5, raise_on_error=False
    )
    assert not result.success
    assert _collect_calls(fake_connectors) == ["acme:2024-01-01..2024-01-05"]  # once: no step retry 30 s later
    with store.engine.connect() as conn:
        (health,) = coverage.stream_health(conn, pairs=[("acme", "uyumsoft")])
    assert health.consecutive_failures == 1 and health.next_attempt_at is not None


def test_a_credential_that_cannot_be_decrypted_fails_that_company_only(
    store: Store, hub_settings, fake_connectors, asset, instance
) -> None:
    from sqlalchemy import update

    for company in ("acme", "bolt", "crux"):
        connect(store, company)
    with store.engine.begin() as conn:  # e.g. a key rotation that lost the key this credential was sealed with
        conn.execute(
            update(schema.connections).where(schema.connections.c.company == "acme").values(secrets="gAAAAbroken")
        )
    result = materialize_fleet([asset], instance, hub_resource(hub_settings), [], JAN_1, JAN_5)
    assert result.success
    assert _rows_by_company(store) == {"bolt": 15, "crux": 15}
    with store.engine.connect() as conn:
        (health,) = coverage.stream_health(conn, pairs=[("acme", "uyumsoft")])
    assert health.failing and health.error_kind == "config"
    assert "cannot open the connection" in (health.last_error or "")


def test_an_empty_shard_means_every_collecting_connection(
    store: Store, hub_settings, fake_connectors, asset, instance
) -> None:
    for company in ("acme", "bolt", "crux"):
        connect(store, company)
    ConnectionService(store).pause("bolt", "uyumsoft", by="tester")
    assert materialize_fleet([asset], instance, hub_resource(hub_settings), [], JAN_1, JAN_5).success
    assert _rows_by_company(store) == {"acme": 15, "crux": 15}


def test_a_listed_company_that_is_paused_is_refused_and_named(
    store: Store, hub_settings, fake_connectors, asset, instance
) -> None:
    connect(store, "acme")
    connect(store, "bolt")
    ConnectionService(store).pause("bolt", "uyumsoft", by="tester")
    result = materialize_fleet([asset], instance, hub_resource(hub_settings), ["acme", "bolt", "ghost"], JAN_1, JAN_5)
    assert result.success
    assert _rows_by_company(store) == {"acme": 15}
    failures = result.asset_materializations_for_node(asset.op.name)[0].metadata["run_failures"].value
    assert "bolt" in failures and "paused" in failures
    assert "ghost" in failures and "no uyumsoft connection" in failures
    # Refusals are not collection failures: nothing backs off, the companies check passes.
    assert {e.check_name: e.passed for e in result.get_asset_check_evaluations()}[COMPANIES_CHECK]


def test_the_schedule_shard_leaves_out_streams_backing_off_but_a_requested_backfill_does_not(
    store: Store, hub_settings, fake_connectors, asset, instance
) -> None:
    connect(store, "acme")
    connect(store, "crux")
    with store.engine.begin() as conn:
        coverage.record_failed(
            conn,
            company="crux",
            integration_id="uyumsoft",
            stream="invoices",
            window=fake_window(),
            error="TransientError: 503",
            error_kind="transient",
            run_id="r0",
            now=datetime.now(UTC),
        )
    hub = hub_resource(hub_settings)
    assert materialize_fleet([asset], instance, hub, ["acme", "crux"], JAN_1, JAN_5, respect_backoff=True).success
    assert _collect_calls(fake_connectors) == ["acme:2024-01-01..2024-01-05"]
    fake_connectors.clear()
    assert materialize_fleet([asset], instance, hub, ["crux"], JAN_1, JAN_5).success
    assert _collect_calls(fake_connectors) == ["crux:2024-01-01..2024-01-05"]


def test_a_shard_of_days_before_every_start_date_is_a_skip(
    store: Store, hub_settings, fake_connectors, asset, instance
) -> None:
    connect(store, "acme", start_date="2024-02-01")
    result = materialize_fleet([asset], instance, hub_resource(hub_settings), ["acme"], JAN_1, JAN_5)
    assert result.success
    assert result.asset_materializations_for_node(asset.op.name) == []
    assert _collect_calls(fake_connectors) == []
    assert all(e.passed for e in result.get_asset_check_evaluations())


def test_karbon_shard_collects_every_pillar_for_every_company(
    store: Store, hub_settings, fake_connectors, instance
) -> None:
    assets = [build_stream_asset(spec, FLEET) for spec in streams_of("karbon")]
    karbon = {
        "access_key": "eyJGOOD.key.sig",
        "application_id": "550e8400-e29b-41d4-a716-446655440000",
        "start_date": "2024-01-01",
    }
    for company in ("acme", "bolt"):
        ConnectionService(store, today=lambda: date(2026, 11, 22)).connect(company, "karbon", karbon, by="tester")
    result = materialize_fleet(assets, instance, hub_resource(hub_settings), [], JAN_1, JAN_5, integration="karbon")
    assert result.success
    collected = _collect_calls(fake_connectors)
    # tenant is a snapshot stream: only the window's last day.
    assert collected.count("acme:2024-01-01..2024-01-05") == 6 and collected.count("acme:2024-01-05..2024-01-05") == 1
    assert collected.count("bolt:2024-01-01..2024-01-05") == 6


def fake_window():
    from integration_hub.connectors.base import DateWindow

    return DateWindow.inclusive(JAN_1, JAN_1 + timedelta(days=1))


def test_a_company_whose_credential_is_busy_is_collected_at_the_end_of_the_pass(
    store: Store, hub_settings, fake_connectors, asset, instance
) -> None:
    import threading
    import time

    from integration_hub.service.collection import CollectionService

    for company in ("acme", "bolt", "crux"):
        connect(store, company)
    service = CollectionService(store)
    assert service.take_lease("acme", "uyumsoft", "another-run/invoices", timedelta(seconds=30)) is None
    done = threading.Event()

    def give_back_once_the_others_are_collected() -> None:  # the other run ends while this one works
        while not done.is_set() and ("collect", "crux:2024-01-01..2024-01-05") not in fake_connectors:
            time.sleep(0.05)
        service.release_lease("acme", "uyumsoft", "another-run/invoices")

    other_run = threading.Thread(target=give_back_once_the_others_are_collected)
    other_run.start()
    hub = HubResource(hub_home=str(hub_settings.home), database_url=hub_settings.database_url, lease_poll_seconds=0.2)
    try:
        result = materialize_fleet([asset], instance, hub, [], JAN_1, JAN_5)
    finally:
        done.set()
        other_run.join()
    assert result.success
    calls = [target for kind, target in fake_connectors if kind == "collect"]
    assert calls[-1].startswith("acme:")  # not skipped: collected last, after waiting for the lease
    assert _rows_by_company(store) == {"acme": 15, "bolt": 15, "crux": 15}


def test_a_credential_still_busy_after_the_pass_is_recorded_for_a_retry(
    store: Store, hub_settings, fake_connectors, asset, instance
) -> None:
    from integration_hub.service.collection import CollectionService

    connect(store, "acme")
    connect(store, "bolt")
    assert CollectionService(store).take_lease("acme", "uyumsoft", "stuck-run/invoices", timedelta(minutes=5)) is None
    hub = HubResource(
        hub_home=str(hub_settings.home),
        database_url=hub_settings.database_url,
        lease_wait_seconds=1,
        lease_poll_seconds=0.1,
    )
    result = materialize_fleet([asset], instance, hub, [], JAN_1, JAN_5)
    assert result.success and _rows_by_company(store) == {"bolt": 15}
    with store.engine.connect() as conn:
        (health,) = coverage.stream_health(conn, pairs=[("acme", "uyumsoft")])
        days = coverage.days(conn, company="acme", integration_id="uyumsoft", stream="invoices")
    assert health.error_kind == "transient" and "in use by run stuck-run/invoices" in (health.last_error or "")
    assert len(days) == 5 and {d.status for d in days} == {"failed"}  # the retry sensor sees these days
