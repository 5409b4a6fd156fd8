"""``DAGSTER_EVENT_BATCH_SIZE`` batches the per-partition events of a ranged run on PostgreSQL too.

Production runs on Dagster's ``PostgresEventLogStorage`` (the project's ``dagster.yaml``), whose
``store_event_batch`` writes a step's materializations of a partition range as one multi-row ``INSERT`` into
``event_logs``; without the variable Dagster writes them one ``INSERT`` (and one ``NOTIFY``) at a time. The
hub's ranged runs rely on the former at fleet scale, so this test counts the materialization rows each
``INSERT INTO event_logs`` carries on a fresh PostgreSQL database, with and without the variable: it fails if
an upgrade of Dagster (or a change to the instance) silently stops batching on PostgreSQL.
"""

import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
from sqlalchemy import event

from integration_hub.assets.factory import asset_with_backfill_policy
from integration_hub.instance import EVENT_BATCH_ENV, EVENT_BATCH_SIZE
from integration_hub_tests.conftest import PG_ADMIN_DSN, PROJECT_ROOT

DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-03-01")
FIRST, LAST = "2024-01-01", "2024-01-30"
N = 30


@asset_with_backfill_policy(partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
def ranged(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"days_in_run": len(context.partition_keys)})


def _admin(sql: str) -> None:
    connection = psycopg2.connect(PG_ADMIN_DSN, connect_timeout=5)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        connection.close()


@pytest.fixture
def pg_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dg.DagsterInstance]:
    """A Dagster instance from the project's production ``dagster.yaml`` on a fresh PostgreSQL database."""
    name = f"dagster_batch_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{name}"')
    params = dict(item.split("=", 1) for item in PG_ADMIN_DSN.split())
    for key, value in {
        "DAGSTER_PG_HOST": params.get("host", "127.0.0.1"),
        "DAGSTER_PG_PORT": params.get("port", "5432"),
        "DAGSTER_PG_USER": params.get("user", "postgres"),
        "DAGSTER_PG_PASSWORD": params.get("password", ""),
        "DAGSTER_PG_DB": name,
    }.items():
        monkeypatch.setenv(key, value)
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text((PROJECT_ROOT / "dagster.yaml").read_text() + "\ntelemetry:\n  enabled: false\n")
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            from dagster_postgres.event_log import PostgresEventLogStorage

            assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
            yield instance
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _materializations_per_insert(instance: dg.DagsterInstance) -> Iterator[list[int]]:
    """While active, the list of how many ASSET_MATERIALIZATION rows each INSERT INTO event_logs carried."""
    engine = instance.event_log_storage._engine  # type: ignore[attr-defined]
    seen: list[int] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith("INSERT INTO EVENT_LOGS"):
            return
        sets = parameters if executemany else [parameters]
        values = [v for p in sets for v in (p.values() if isinstance(p, dict) else p)]
        materializations = sum(1 for v in values if v == "ASSET_MATERIALIZATION")
        if materializations:
            seen.append(materializations)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _ranged_run(instance: dg.DagsterInstance) -> list[int]:
    counter = _materializations_per_insert(instance)
    seen = next(counter)
    result = dg.materialize(
        [ranged],
        instance=instance,
        tags={"dagster/asset_partition_range_start": FIRST, "dagster/asset_partition_range_end": LAST},
    )
    counter.close()
    assert result.success
    return list(seen)


def _materialized(instance: dg.DagsterInstance) -> list[str]:
    return sorted(instance.get_materialized_partitions(ranged.key))


def test_a_ranged_run_writes_its_materializations_in_one_insert_when_batching_is_on(
    pg_instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(EVENT_BATCH_ENV, str(EVENT_BATCH_SIZE))
    inserts = _ranged_run(pg_instance)
    assert inserts == [N]  # the 30 per-partition events, one statement
    assert _materialized(pg_instance) == DAYS.get_partition_keys()[:N]
    latest = pg_instance.get_latest_materialization_event(ranged.key)
    assert latest is not None and latest.dagster_event is not None and latest.dagster_event.partition == LAST


def test_without_the_variable_each_materialization_is_its_own_insert(
    pg_instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(EVENT_BATCH_ENV, raising=False)
    inserts = _ranged_run(pg_instance)
    assert inserts == [1] * N
    assert _materialized(pg_instance) == DAYS.get_partition_keys()[:N]


def test_a_batch_size_below_the_range_splits_it_into_batches_of_that_size(
    pg_instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(EVENT_BATCH_ENV, "12")
    assert _ranged_run(pg_instance) == [12, 12, 6]
    assert _materialized(pg_instance) == DAYS.get_partition_keys()[:N]
