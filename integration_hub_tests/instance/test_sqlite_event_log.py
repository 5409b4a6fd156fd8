"""The embedded instance's batching event log stores what Dagster's own SQLite event log stores.

Each test runs the same ranged materializations on two instances — Dagster's stock SQLite storage and the
hub's embedded instance (``BatchingSqliteEventLogStorage``) — with event batching on, and compares what a
data engineer sees: materialized and failed partitions, the latest materialization, the run's event
sequence, planned materializations, asset check results.
"""

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml

from integration_hub.assets.factory import asset_with_backfill_policy
from integration_hub.instance import EVENT_BATCH_ENV, embedded_instance_config, ensure_embedded_instance
from integration_hub.instance.sqlite_event_log import BatchingSqliteEventLogStorage

DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-03-01")
FAIL_FROM = "2024-02-20"


@asset_with_backfill_policy(
    partitions_def=DAYS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=[dg.AssetCheckSpec("non_negative", asset="days")],
)
def days(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    if context.partition_key_range.end >= FAIL_FROM:
        raise dg.Failure("provider unavailable")
    return dg.MaterializeResult(
        metadata={"rows_in_run": len(context.partition_keys)},
        check_results=[dg.AssetCheckResult(passed=True)],
    )


def _range(instance: dg.DagsterInstance, first: str, last: str) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [days],
        instance=instance,
        tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
        raise_on_error=False,
    )


@pytest.fixture
def batching(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EVENT_BATCH_ENV, "1000")


@pytest.fixture
def stock(tmp_path: Path, batching: None) -> Iterator[dg.DagsterInstance]:
    home = tmp_path / "stock"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry: {enabled: false}\n")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        yield instance


@pytest.fixture
def embedded(tmp_path: Path, batching: None) -> Iterator[dg.DagsterInstance]:
    home = tmp_path / "embedded"
    ensure_embedded_instance(home)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.event_log_storage, BatchingSqliteEventLogStorage)
        yield instance


def _history(instance: dg.DagsterInstance) -> dict[str, object]:
    """Everything compared between the two storages, with run ids replaced by their launch order."""
    runs = [run.run_id for run in reversed(instance.get_runs())]
    order = {run_id: i for i, run_id in enumerate(runs)}
    latest = instance.get_latest_materialization_event(days.key)
    assert latest is not None and latest.dagster_event is not None
    planned = instance.get_latest_planned_materialization_info(days.key)
    statuses = instance.get_status_by_partition(days.key, DAYS.get_partition_keys(), DAYS)
    record = instance.get_asset_records([days.key])[0].asset_entry
    checks = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(days.key, "non_negative"), limit=1000
    )
    return {
        "materialized": sorted(instance.get_materialized_partitions(days.key)),
        "status": {key: str(status) for key, status in (statuses or {}).items()},
        "latest": (latest.dagster_event.partition, order[latest.run_id]),
        "latest_metadata": latest.asset_materialization.metadata if latest.asset_materialization else None,
        "last_run": order[record.last_run_id] if record.last_run_id else None,
        "planned_run": order[planned.run_id] if planned else None,
        "checks": [(order[c.run_id], str(c.status)) for c in checks],
        "events": [
            [
                (e.dagster_event.event_type_value, e.dagster_event.partition)
                for e in instance.all_logs(run_id)
                if e.dagster_event
            ]
            for run_id in runs
        ],
    }


def test_ranged_runs_store_what_dagsters_own_sqlite_storage_stores(
    stock: dg.DagsterInstance, embedded: dg.DagsterInstance
) -> None:
    for instance in (stock, embedded):
        assert _range(instance, "2024-01-01", "2024-01-31").success
        assert _range(instance, "2024-01-20", "2024-02-10").success  # overlaps: the later run wins
        assert not _range(instance, "2024-02-15", "2024-02-25").success  # fails: partitions marked failed
    ours, theirs = _history(embedded), _history(stock)
    assert ours == theirs
    # And what that is, so the comparison cannot pass on two equally broken histories.
    assert ours["materialized"] == DAYS.get_partition_keys()[: 31 + 10]
    assert ours["latest"] == ("2024-02-10", 1)
    assert {ours["status"][f"2024-02-{d}"] for d in range(15, 26)} == {"AssetPartitionStatus.FAILED"}
    assert ours["planned_run"] == 2 and ours["last_run"] == 2
    # Dagster plans the check per partition and records the step's one (unpartitioned) result beside
    # them; the failed run never evaluated it.
    assert Counter(ours["checks"]) == {  # type: ignore[arg-type]
        (2, "AssetCheckExecutionRecordStatus.PLANNED"): 11,
        (1, "AssetCheckExecutionRecordStatus.PLANNED"): 22,
        (1, "AssetCheckExecutionRecordStatus.SUCCEEDED"): 1,
        (0, "AssetCheckExecutionRecordStatus.PLANNED"): 31,
        (0, "AssetCheckExecutionRecordStatus.SUCCEEDED"): 1,
    }
    planned = [p for t, p in ours["events"][1] if t == "ASSET_MATERIALIZATION_PLANNED"]  # type: ignore[index]
    materialized = [p for t, p in ours["events"][1] if t == "ASSET_MATERIALIZATION"]  # type: ignore[index]
    assert len(planned) == len(materialized) == 22


def test_a_process_using_dagsters_own_classes_reads_what_the_embedded_instance_wrote(
    tmp_path: Path, embedded: dg.DagsterInstance
) -> None:
    assert _range(embedded, "2024-01-01", "2024-01-31").success
    config = embedded_instance_config(tmp_path / "embedded")
    config["event_log_storage"]["module"] = "dagster._core.storage.event_log"
    config["event_log_storage"]["class"] = "SqliteEventLogStorage"
    reader_home = tmp_path / "reader"
    reader_home.mkdir()
    (reader_home / "dagster.yaml").write_text(yaml.safe_dump(config))
    with dg.DagsterInstance.from_config(str(reader_home)) as reader:
        assert type(reader.event_log_storage).__name__ == "SqliteEventLogStorage"
        assert sorted(reader.get_materialized_partitions(days.key)) == DAYS.get_partition_keys()[:31]
        assert _history(reader) == _history(embedded)


def test_wiping_the_event_log_starts_clean_and_keeps_working(embedded: dg.DagsterInstance) -> None:
    assert _range(embedded, "2024-01-01", "2024-01-10").success
    embedded.event_log_storage.wipe()
    assert embedded.get_materialized_partitions(days.key) == set()
    assert _range(embedded, "2024-01-05", "2024-01-06").success
    assert sorted(embedded.get_materialized_partitions(days.key)) == ["2024-01-05", "2024-01-06"]


def test_an_index_write_failing_mid_batch_stores_nothing_twice(
    stock: dg.DagsterInstance, embedded: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run shard is committed before the index; if the index write then fails (say the database stays
    locked past the busy timeout), the batch is mirrored event by event instead of Dagster storing it all
    again."""
    original = BatchingSqliteEventLogStorage._store_asset_event_tags
    failures = []

    def fail_once(self, conn, events, event_ids):  # type: ignore[no-untyped-def]
        if not failures and len(events) > 1:
            failures.append(len(events))
            raise RuntimeError("database is locked")
        return original(self, conn, events, event_ids)

    monkeypatch.setattr(BatchingSqliteEventLogStorage, "_store_asset_event_tags", fail_once)
    for instance in (stock, embedded):
        assert _range(instance, "2024-01-01", "2024-01-10").success
    assert failures == [10]  # the run's planned materializations
    ours = _history(embedded)
    assert ours == _history(stock)
    kinds = Counter(kind for kind, _ in ours["events"][0])  # type: ignore[index]
    assert kinds["ASSET_MATERIALIZATION_PLANNED"] == kinds["ASSET_MATERIALIZATION"] == 10
