"""The scale benchmark's Dagster instances, and three years of history written into them in bulk.

Each (backend, layout) gets its own instance, created like the project's: the embedded SQLite instance is the one
:func:`integration_hub.instance.ensure_embedded_instance` writes (``make ui``), the PostgreSQL one is the project's
``dagster.yaml`` with its ``postgres_db`` block pointing at a fresh database (literal values instead of the
``DAGSTER_PG_*`` variables, so several instances live in one process).

History: materializing 1,095 days × 1,000 companies through Dagster takes hours (2.7 ms per partition × asset on
SQLite, 26.9 ms on PostgreSQL), so one *real* ranged run is executed through the real definitions, and its rows
are then replicated in SQL, inside the database, for every (company or shard, 92-day window) of the history:
``event_logs`` (on SQLite the index shard, which is all the asset pages read; on PostgreSQL every event of the
run), ``asset_event_tags``, ``asset_check_executions``, ``runs`` and ``run_tags``. Each copy gets a new run id,
its company and its days (every date of the template window moves by the same offset, so ``replace()`` of the
partition day and the window's two edges is exact), storage ids that keep each tag and check row pointing at its
own copy of the event, and event timestamps moved back with the days. :func:`materialized_count` then asks
Dagster's own API which partitions count as materialized.
"""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg2
import yaml

from bench.common import ROOT
from bench.scale_hub import dsn, fresh_database

# Tables holding a run's asset history, and how each row finds its own run (and event).
EVENT_TABLES = ("event_logs", "asset_event_tags", "asset_check_executions")
RUN_TABLES = ("runs", "run_tags")


@dataclass(frozen=True)
class Copy:
    """One replicated run: its id, the company it collects (company_day layout) and how many days earlier."""

    run_id: str
    company: str | None
    shift_days: int


class DagsterBackend:
    """One Dagster instance of the benchmark (``sqlite`` or ``postgres``)."""

    def __init__(self, kind: str, home: Path, database: str | None = None) -> None:
        self.kind = kind
        self.home = home
        self.database = database

    # ------------------------------------------------------------------ creation
    @classmethod
    def create(cls, kind: str, home: Path, database: str) -> DagsterBackend:
        from integration_hub.instance import ensure_embedded_instance

        shutil.rmtree(home, ignore_errors=True)
        if kind == "sqlite":
            ensure_embedded_instance(home)
            return cls(kind, home)
        url = fresh_database(database)
        params = dict(part.split("=", 1) for part in dsn(url).split())
        config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
        config["storage"]["postgres"]["postgres_db"] = {
            "hostname": params["host"],
            "username": params["user"],
            "db_name": params["dbname"],
            "port": int(params["port"]),
            "scheme": config["storage"]["postgres"]["postgres_db"].get("scheme", "postgresql+psycopg2"),
        }
        home.mkdir(parents=True)
        (home / "dagster.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        backend = cls(kind, home, params["dbname"])
        with backend.instance():  # Dagster creates its schema
            pass
        with backend.events_db() as connection, connection.cursor() as cursor:
            # The bulk of the history: no WAL for it (a benchmark database, never recovered); same pages, same
            # reads, same relation sizes. The overhead pass's instances stay logged.
            for table in EVENT_TABLES:  # (the run tables reference each other: they stay logged, and are small)
                cursor.execute(f"ALTER TABLE {table} SET UNLOGGED")
        return backend

    def instance(self):  # type: ignore[no-untyped-def]
        import dagster as dg
        from dagster._core.instance.ref import InstanceRef

        return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(self.home)))

    # ------------------------------------------------------------------ SQL access
    @contextmanager
    def events_db(self) -> Iterator[Any]:
        """A DB-API connection to where the asset events live (committed on success)."""
        if self.kind == "sqlite":
            connection = sqlite3.connect(self.home / "history" / "runs" / "index.db", timeout=60)
            # Bulk writes: a large page cache for the indexes, no fsync per commit (reads are unaffected).
            connection.execute("PRAGMA cache_size = -1000000")
            connection.execute("PRAGMA synchronous = OFF")
        else:
            connection = psycopg2.connect(self._dsn())
        try:
            yield connection
            connection.commit()
        finally:
            connection.close()

    @contextmanager
    def runs_db(self) -> Iterator[Any]:
        if self.kind == "sqlite":
            connection = sqlite3.connect(self.home / "history" / "runs.db", timeout=60)
            try:
                yield connection
                connection.commit()
            finally:
                connection.close()
        else:
            with self.events_db() as connection:
                yield connection

    def _dsn(self) -> str:
        return f"{dsn(fresh_url_of(self.database or ''))}"

    def settle(self) -> None:
        """Move SQLite's write-ahead logs into the database files (``wal_checkpoint(TRUNCATE)``), so file sizes
        measure what was written, not when SQLite checkpoints (a bulk load's log would otherwise land in the next
        measurement). PostgreSQL's relation sizes need nothing."""
        if self.kind != "sqlite":
            return
        for path in (self.home / "history" / "runs" / "index.db", self.home / "history" / "runs.db"):
            connection = sqlite3.connect(path, timeout=60)
            try:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                connection.close()

    def storage_bytes(self) -> int:
        """What the instance occupies: every file under the SQLite instance, or every table of the PostgreSQL
        database (``pg_total_relation_size``: heap, indexes, TOAST)."""
        if self.kind == "sqlite":
            return sum(p.stat().st_size for p in (self.home / "history").rglob("*") if p.is_file())
        with self.events_db() as connection, connection.cursor() as cursor:
            cursor.execute(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'"
            )
            return int(cursor.fetchone()[0])

    def event_log_bytes(self) -> int:
        """The event log alone: ``event_logs`` with its indexes and TOAST on PostgreSQL; on SQLite the index shard
        plus every per-run event file (the runs database excluded), each by its pages in use (``page_count −
        freelist_count``, read through the WAL), so the figure does not depend on when SQLite checkpoints."""
        if self.kind == "sqlite":
            return sum(_sqlite_used_bytes(p) for p in (self.home / "history" / "runs").glob("*.db"))
        with self.events_db() as connection, connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_total_relation_size('event_logs') + pg_total_relation_size('asset_event_tags') "
                "+ pg_total_relation_size('asset_check_executions')"
            )
            return int(cursor.fetchone()[0])

    # ------------------------------------------------------------------ replication
    def replicate(
        self,
        template_run: str,
        template_company: str | None,
        window: tuple[date, date],
        copies: Sequence[Copy],
        first_day: date,
    ) -> int:
        """Write ``copies`` of ``template_run``'s rows; the number of event rows written. Partition events of days
        before ``first_day`` are left out (a company's history starts there)."""
        if not copies:
            return 0
        first, last = (day.isoformat() for day in window)
        sqlite = self.kind == "sqlite"
        marker = "?" if sqlite else "%s"
        targets = [
            (
                index,
                copy.run_id,
                copy.company or "",
                copy.shift_days,
                (window[0] - timedelta(days=copy.shift_days)).isoformat(),
                (window[1] - timedelta(days=copy.shift_days)).isoformat(),
            )
            for index, copy in enumerate(copies)
        ]

        def text(column: str, day_column: str | None = None) -> str:
            """``column`` with the template's run id, company, window edges (and own day) moved to the copy's."""
            expression = f"replace({column}, '{template_run}', b.run_id)"
            if template_company:
                expression = f"replace({expression}, '{template_company}', b.company)"
            expression = f"replace(replace({expression}, '{first}', b.ws), '{last}', b.we)"
            if day_column:
                expression = f"replace({expression}, {day_column}, {shifted(day_column)})"
            return expression

        def shifted(day_column: str) -> str:
            if sqlite:
                return f"date({day_column}, '-' || b.shift || ' days')"
            return f"to_char({day_column}::date - b.shift, 'YYYY-MM-DD')"

        def moved_time(column: str) -> str:
            return (
                f"datetime({column}, '-' || b.shift || ' days')" if sqlite else f"{column} - b.shift * interval '1 day'"
            )

        def day_of(partition: str) -> str:
            """The partition's day: the part after the last ``|`` (company_day) or the whole key (fleet)."""
            if template_company:
                cut = f"length('{template_company}') + 2"
                return f"substr({partition}, {cut})"
            return partition

        written = 0
        with self.events_db() as connection:
            cursor = connection.cursor()
            cursor.execute("DROP TABLE IF EXISTS bench_copies")
            cursor.execute(
                "CREATE TABLE bench_copies (idx INTEGER, run_id TEXT, company TEXT, shift INTEGER, ws TEXT, we TEXT)"
            )
            cursor.executemany(f"INSERT INTO bench_copies VALUES ({', '.join([marker] * 6)})", targets)
            cursor.execute("DROP TABLE IF EXISTS bench_events")
            cursor.execute(
                "CREATE TABLE bench_events AS SELECT e.*, ROW_NUMBER() OVER (ORDER BY id) AS rank FROM event_logs e "
                f"WHERE run_id = '{template_run}'"
            )
            cursor.execute("SELECT count(*), (SELECT max(id) FROM event_logs) FROM bench_events")
            per_copy, base = cursor.fetchone()
            day = day_of("t.partition")
            keep = f"(t.partition IS NULL OR {shifted(day)} >= '{first_day.isoformat()}')"
            cursor.execute(
                "INSERT INTO event_logs (id, run_id, event, dagster_event_type, timestamp, step_key, asset_key, "
                f"partition) SELECT {base} + b.idx * {per_copy} + t.rank, b.run_id, "
                f"CASE WHEN t.partition IS NULL THEN {text('t.event')} ELSE {text('t.event', day)} END, "
                f"t.dagster_event_type, {moved_time('t.timestamp')}, t.step_key, t.asset_key, "
                f"CASE WHEN t.partition IS NULL THEN NULL ELSE {text('t.partition', day)} END "
                f"FROM bench_events t CROSS JOIN bench_copies b WHERE {keep}"
            )
            written = cursor.rowcount
            cursor.execute("SELECT max(id) FROM asset_event_tags")
            tag_base = int(cursor.fetchone()[0] or 0)
            cursor.execute("SELECT count(*) FROM asset_event_tags WHERE event_id IN (SELECT id FROM bench_events)")
            tags_per_copy = int(cursor.fetchone()[0])
            cursor.execute(
                "INSERT INTO asset_event_tags (id, event_id, asset_key, key, value, event_timestamp) "
                f"SELECT {tag_base} + b.idx * {tags_per_copy} + ROW_NUMBER() OVER (PARTITION BY b.idx ORDER BY g.id), "
                f"{base} + b.idx * {per_copy} + t.rank, g.asset_key, g.key, {text('g.value')}, "
                f"{moved_time('g.event_timestamp')} "
                "FROM asset_event_tags g JOIN bench_events t ON t.id = g.event_id CROSS JOIN bench_copies b "
                f"WHERE {keep}"
            )
            cursor.execute("SELECT max(id) FROM asset_check_executions")
            check_base = int(cursor.fetchone()[0] or 0)
            cursor.execute(f"SELECT count(*) FROM asset_check_executions WHERE run_id = '{template_run}'")
            checks_per_copy = int(cursor.fetchone()[0])
            ranked = "(SELECT t.rank FROM bench_events t WHERE t.id = c.{column})"
            cursor.execute(
                "INSERT INTO asset_check_executions (id, asset_key, check_name, partition, run_id, execution_status, "
                "evaluation_event, evaluation_event_timestamp, evaluation_event_storage_id, "
                "materialization_event_storage_id, create_timestamp) "
                f"SELECT {check_base} + b.idx * {checks_per_copy} "
                "+ ROW_NUMBER() OVER (PARTITION BY b.idx ORDER BY c.id), "
                f"c.asset_key, c.check_name, c.partition, b.run_id, c.execution_status, {text('c.evaluation_event')}, "
                f"{moved_time('c.evaluation_event_timestamp')}, "
                f"{base} + b.idx * {per_copy} + {ranked.format(column='evaluation_event_storage_id')}, "
                f"{base} + b.idx * {per_copy} + {ranked.format(column='materialization_event_storage_id')}, "
                f"{moved_time('c.create_timestamp')} "
                f"FROM asset_check_executions c CROSS JOIN bench_copies b WHERE c.run_id = '{template_run}'"
            )
            cursor.execute("DROP TABLE bench_events")
            cursor.execute("DROP TABLE bench_copies")
            cursor.execute("UPDATE asset_keys SET cached_status_data = NULL")  # the status cache starts cold
            if not sqlite:
                for table in EVENT_TABLES:
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                    )
        self._replicate_runs(template_run, targets, text, moved_time, marker)
        self.settle()
        if not sqlite:
            with self.events_db() as connection:
                connection.autocommit = True
                connection.cursor().execute("ANALYZE")
        return written

    def _replicate_runs(self, template_run, targets, text, moved_time, marker) -> None:  # type: ignore[no-untyped-def]
        sqlite = self.kind == "sqlite"
        with self.runs_db() as connection:
            cursor = connection.cursor()
            cursor.execute("DROP TABLE IF EXISTS bench_copies")
            cursor.execute(
                "CREATE TABLE bench_copies (idx INTEGER, run_id TEXT, company TEXT, shift INTEGER, ws TEXT, we TEXT)"
            )
            cursor.executemany(f"INSERT INTO bench_copies VALUES ({', '.join([marker] * 6)})", targets)
            cursor.execute("SELECT max(id) FROM runs")
            run_base = int(cursor.fetchone()[0])
            shift_seconds = "b.shift * 86400"
            cursor.execute(
                "INSERT INTO runs (id, run_id, snapshot_id, pipeline_name, mode, status, run_body, partition, "
                "partition_set, create_timestamp, update_timestamp, start_time, end_time, backfill_id) "
                f"SELECT {run_base} + 1 + b.idx, b.run_id, r.snapshot_id, r.pipeline_name, r.mode, r.status, "
                f"{text('r.run_body')}, r.partition, r.partition_set, {moved_time('r.create_timestamp')}, "
                f"{moved_time('r.update_timestamp')}, r.start_time - {shift_seconds}, r.end_time - {shift_seconds}, "
                f"r.backfill_id FROM runs r CROSS JOIN bench_copies b WHERE r.run_id = '{template_run}'"
            )
            cursor.execute("SELECT max(id) FROM run_tags")
            tag_base = int(cursor.fetchone()[0])
            cursor.execute(f"SELECT count(*) FROM run_tags WHERE run_id = '{template_run}'")
            per_copy = int(cursor.fetchone()[0])
            cursor.execute(
                "INSERT INTO run_tags (id, run_id, key, value) "
                f"SELECT {tag_base} + b.idx * {per_copy} + ROW_NUMBER() OVER (PARTITION BY b.idx ORDER BY g.id), "
                f"b.run_id, g.key, {text('g.value')} FROM run_tags g CROSS JOIN bench_copies b "
                f"WHERE g.run_id = '{template_run}'"
            )
            cursor.execute("DROP TABLE bench_copies")
            if not sqlite:
                for table in RUN_TABLES:
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                    )

    def add_dynamic_partitions(self, name: str, keys: Sequence[str]) -> None:
        """Company keys of the company_day layout, as ``instance.add_dynamic_partitions`` stores them."""
        with self.events_db() as connection:
            cursor = connection.cursor()
            marker = "?" if self.kind == "sqlite" else "%s"
            now = "CURRENT_TIMESTAMP"
            cursor.executemany(
                f"INSERT INTO dynamic_partitions (partitions_def_name, partition, create_timestamp) "
                f"VALUES ({marker}, {marker}, {now})",
                [(name, key) for key in keys],
            )


def _sqlite_used_bytes(path: Path) -> int:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
    try:
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        free = connection.execute("PRAGMA freelist_count").fetchone()[0]
        size = connection.execute("PRAGMA page_size").fetchone()[0]
    finally:
        connection.close()
    return int((pages - free) * size)


def fresh_url_of(database: str) -> str:
    """The SQLAlchemy URL of an existing benchmark database (same server as :func:`fresh_database`)."""
    from bench.common import PG_ADMIN_DSN

    params = dict(part.split("=", 1) for part in PG_ADMIN_DSN.split())
    return f"postgresql+psycopg2://{params.get('user', 'postgres')}@{params['host']}:{params['port']}/{database}"


def new_run_id() -> str:
    return str(uuid.uuid4())
