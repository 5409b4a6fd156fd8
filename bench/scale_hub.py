"""The scale benchmark's hub database: a fleet of EDM connections with three years of coverage, in bulk.

One fresh PostgreSQL database (the production hub database) is grown in place, 100 → 1,000 → 10,000
companies, and shared by every layout and Dagster backend measured at that size (the ticks read it; they do not
write it). Rows are what :class:`~integration_hub.service.ConnectionService` and a successful collection would
leave: a ``connected`` connection with Fernet-encrypted credentials (one token, encrypted once with the run's key:
identical plaintext, and Fernet tokens are not bound to a row), its *Connect* activity entry, one
``hub_coverage`` row per collected day and one ``hub_stream_health`` row. ``COPY`` keeps 11 M coverage rows in
budget.

New activations (:func:`add_activations`) are extra connections with a *Connect* entry and no coverage, added
just before a sensor tick is measured and removed after it, so every other measurement sees exactly the fleet.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta

import psycopg2

from bench.common import PG_ADMIN_DSN

INTEGRATION = "edm"
STREAM = "invoices"
PASSWORD = "GOOD-bench-password"  # noqa: S105 - the fake provider's valid credential, not a secret


def company(index: int) -> str:
    return f"company-{index:05d}"


def new_company(index: int) -> str:
    return f"new-company-{index:05d}"


def fresh_database(name: str) -> str:
    """Drop and create ``name`` on the machine's PostgreSQL; its SQLAlchemy URL."""
    admin = psycopg2.connect(PG_ADMIN_DSN)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    params = dict(part.split("=", 1) for part in PG_ADMIN_DSN.split())
    return f"postgresql+psycopg2://{params.get('user', 'postgres')}@{params['host']}:{params['port']}/{name}"


def dsn(url: str) -> str:
    """psycopg2's DSN for a ``postgresql+psycopg2://user@host:port/db`` URL."""
    rest = url.split("://", 1)[1]
    user, _, rest = rest.partition("@")
    hostport, _, db = rest.partition("/")
    host, _, port = hostport.partition(":")
    return f"host={host} port={port or 5432} user={user} dbname={db}"


def _copy(cursor, table: str, columns: list[str], rows: Iterable[tuple]) -> int:  # type: ignore[no-untyped-def]
    """COPY rows (tab-separated text, ``\\N`` for NULL) in chunks; the number copied."""
    count = 0
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
        count += 1
        if count % 200_000 == 0:
            buffer.seek(0)
            cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)
            buffer = io.StringIO()
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)
    return count


class HubFleet:
    """The hub database at the benchmark's current company count."""

    def __init__(self, url: str, secret_key: str, today: date, history_days: int) -> None:
        from integration_hub.store.database import make_engine, upgrade
        from integration_hub.store.secrets import SecretBox

        self.url = url
        self.today = today
        self.first_day = today - timedelta(days=history_days)
        self.last_day = today - timedelta(days=1)
        self.companies = 0
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        with psycopg2.connect(dsn(url)) as connection, connection.cursor() as cursor:
            # The bulk of the rows: no WAL for them (a benchmark database, never recovered), same reads.
            cursor.execute("ALTER TABLE hub_coverage SET UNLOGGED")
        self.token = SecretBox([secret_key]).encrypt({"password": PASSWORD})

    def _connections(self, names: list[str], now: datetime) -> Iterator[tuple]:
        settings = json.dumps({"username": "bench", "environment": "test", "requests_per_minute": 600})
        for name in names:
            yield (
                name,
                INTEGRATION,
                "connected",
                settings,
                self.token,
                json.dumps(["password"]),
                self.first_day.isoformat(),
                now.isoformat(),
                now.isoformat(),
                "bench",
                now.isoformat(),
                now.isoformat(),
                "t",
                "authenticated",
                1,
            )

    def _activity(self, names: list[str], now: datetime) -> Iterator[tuple]:
        for name in names:
            yield now.isoformat(), "Connect", name, INTEGRATION, "Success", "connected (bench)", "bench"

    def _insert_connections(self, cursor, names: list[str]) -> None:  # type: ignore[no-untyped-def]
        now = datetime.now(UTC)
        _copy(
            cursor,
            "hub_connections",
            [
                "company",
                "integration_id",
                "state",
                "settings",
                "secrets",
                "secret_fields",
                "start_date",
                "created_at",
                "updated_at",
                "updated_by",
                "connected_at",
                "last_test_at",
                "last_test_ok",
                "last_test_message",
                "version",
            ],
            self._connections(names, now),
        )
        _copy(
            cursor,
            "hub_activity_log",
            ["at", "action", "company", "integration_id", "status", "details", "performed_by"],
            self._activity(names, now),
        )

    def grow(self, companies: int) -> float:
        """Add companies up to ``companies``, each with every day of its history collected; seconds taken."""
        import time

        started = time.perf_counter()
        names = [company(i) for i in range(self.companies, companies)]
        if not names:
            return 0.0
        with psycopg2.connect(dsn(self.url)) as connection, connection.cursor() as cursor:
            self._insert_connections(cursor, names)
            # Server-side: every (company, day) from generate_series, no rows through Python; the primary key is
            # rebuilt once after the load (one sorted build instead of 11 M random inserts).
            cursor.execute("SET maintenance_work_mem = '512MB'")
            cursor.execute("ALTER TABLE hub_coverage DROP CONSTRAINT pk_hub_coverage")
            cursor.execute(
                "INSERT INTO hub_coverage (company, integration_id, stream, day, status, rows, collected_at, "
                "attempted_at, run_id) SELECT c, %(integration)s, %(stream)s, d::date, 'collected', 6, now(), now(), "
                "'bench-history' FROM unnest(%(names)s::text[]) AS c CROSS JOIN "
                "generate_series(%(first)s::date, %(last)s::date, interval '1 day') AS d",
                {
                    "integration": INTEGRATION,
                    "stream": STREAM,
                    "names": names,
                    "first": self.first_day,
                    "last": self.last_day,
                },
            )
            cursor.execute(
                "ALTER TABLE hub_coverage ADD CONSTRAINT pk_hub_coverage "
                "PRIMARY KEY (company, integration_id, stream, day)"
            )
            cursor.execute(
                "INSERT INTO hub_stream_health (company, integration_id, stream, last_attempt_at, last_success_at, "
                "last_collected_day, consecutive_failures, run_id) SELECT c, %(integration)s, %(stream)s, now(), "
                "now(), %(last)s, 0, 'bench-history' FROM unnest(%(names)s::text[]) AS c",
                {"integration": INTEGRATION, "stream": STREAM, "names": names, "last": self.last_day},
            )
            cursor.execute("ANALYZE")
        self.companies = companies
        return time.perf_counter() - started

    def add_activations(self, count: int) -> int:
        """``count`` new connections (a *Connect* entry each, nothing collected yet); the activity id before them,
        i.e. the sensor cursor that sees all of them."""
        with psycopg2.connect(dsn(self.url)) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT coalesce(max(id), 0) FROM hub_activity_log")
            cursor_id = int(cursor.fetchone()[0])
            self._insert_connections(cursor, [new_company(i) for i in range(count)])
        return cursor_id

    def last_activity_id(self) -> int:
        with psycopg2.connect(dsn(self.url)) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT max(id) FROM hub_activity_log")
            return int(cursor.fetchone()[0])

    def remove_activations(self) -> None:
        with psycopg2.connect(dsn(self.url)) as connection, connection.cursor() as cursor:
            cursor.execute("DELETE FROM hub_activity_log WHERE company LIKE 'new-company-%%'")
            cursor.execute("DELETE FROM hub_connections WHERE company LIKE 'new-company-%%'")

    def size_bytes(self) -> int:
        with psycopg2.connect(dsn(self.url)) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return int(cursor.fetchone()[0])
