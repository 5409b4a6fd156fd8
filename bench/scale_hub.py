"""The scale benchmark's hub databases: where they live, the run's credentials, and new activations.

The fleet itself is loaded by :func:`bench.fleet_data.populate_hub` into a fresh PostgreSQL database per company
count (:func:`fresh_database`). Credentials: one Fernet key per benchmark process (:func:`bench_secret_key`, also
given to the runs and the webserver as ``HUB_SECRET_KEY``) and one token of the fake provider's valid password,
encrypted once (identical plaintext; Fernet tokens are not bound to a row).

New activations (:func:`add_activations`) are extra connections with a *Connect* activity entry and no coverage,
added just before a sensor tick is measured and removed after it (:func:`remove_activations`), so every other
measurement sees exactly the loaded fleet.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from functools import cache

import psycopg2

from bench.common import PG_ADMIN_DSN

INTEGRATION = "uyumsoft"  # bench.fleet_data's e-invoice integration
PASSWORD = "GOOD-bench-password"  # noqa: S105 - the fake provider's valid credential, not a secret


NEW_PREFIX = "new"


def new_company(index: int) -> str:
    return f"{NEW_PREFIX}{index:05d}"


@cache
def bench_secret_key() -> str:
    """This process's Fernet key (a benchmark never reuses a key)."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


@cache
def secrets_token() -> str:
    from integration_hub.store.secrets import SecretBox

    return SecretBox([bench_secret_key()]).encrypt({"password": PASSWORD})


# Databases this process created (dropped by drop_created at the end of the pass); HUB_BENCH_SCALE_TAG keeps
# two passes running at once (a harness check beside a measured pass) off each other's databases.
CREATED: list[str] = []
TAG = os.environ.get("HUB_BENCH_SCALE_TAG", "")


def fresh_database(name: str) -> str:
    """Drop and create ``name`` (plus the run's tag) on the machine's PostgreSQL; its SQLAlchemy URL."""
    name = f"{name}{TAG}"
    CREATED.append(name)
    admin = psycopg2.connect(PG_ADMIN_DSN)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    params = dict(part.split("=", 1) for part in PG_ADMIN_DSN.split())
    return f"postgresql+psycopg2://{params.get('user', 'postgres')}@{params['host']}:{params['port']}/{name}"


def drop_created() -> None:
    """Drop every database :func:`fresh_database` made in this process (they hold gigabytes)."""
    admin = psycopg2.connect(PG_ADMIN_DSN)
    admin.autocommit = True
    with admin.cursor() as cursor:
        for name in dict.fromkeys(CREATED):
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()
    CREATED.clear()


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


def _connection_rows(names: Sequence[str], start: date, extra: dict | None = None) -> Iterable[tuple]:
    now = datetime.now(UTC).isoformat()
    settings = json.dumps(
        {"username": "bench", "auth_style": "ws_security", "requests_per_minute": 300, **(extra or {})}
    )
    for name in names:
        yield (
            name,
            INTEGRATION,
            "connected",
            settings,
            secrets_token(),
            json.dumps(["password"]),
            start.isoformat(),
            now,
            now,
            "bench",
            now,
            now,
            "t",
            "authenticated",
            1,
        )


CONNECTION_COLUMNS = [
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
]
ACTIVITY_COLUMNS = ["at", "action", "company", "integration_id", "status", "details", "performed_by"]


def _activity_rows(names: Sequence[str]) -> Iterable[tuple]:
    now = datetime.now(UTC).isoformat()
    for name in names:
        yield now, "Connect", name, INTEGRATION, "Success", "connected (bench)", "bench"


def add_activations(url: str, count: int, start: date, *, settings: dict | None = None) -> tuple[int, int]:
    """``count`` new connections (start date ``start``, a *Connect* entry each, nothing collected; ``settings``
    added to their stored settings); the activity id just before them (the cursor that sees all of them) and the
    last one."""
    names = [new_company(i) for i in range(count)]
    with psycopg2.connect(dsn(url)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM hub_activity_log")
        before = int(cursor.fetchone()[0])
        _copy(cursor, "hub_connections", CONNECTION_COLUMNS, _connection_rows(names, start, settings))
        _copy(cursor, "hub_activity_log", ACTIVITY_COLUMNS, _activity_rows(names))
        cursor.execute("SELECT max(id) FROM hub_activity_log")
        last = int(cursor.fetchone()[0])
    return before, last


def remove_activations(url: str) -> None:
    with psycopg2.connect(dsn(url)) as connection, connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM hub_activity_log WHERE company LIKE '{NEW_PREFIX}%%'")
        cursor.execute(f"DELETE FROM hub_connections WHERE company LIKE '{NEW_PREFIX}%%'")


def prepare_template_hub(url: str, companies: Sequence[str]) -> None:
    """The template run's own (SQLite) hub: these companies just connected, nothing collected yet, so the
    activation sensor requests their whole window."""
    from sqlalchemy import delete, insert

    from integration_hub.store import schema
    from integration_hub.store.database import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(delete(schema.coverage).where(schema.coverage.c.company.in_(list(companies))))
        conn.execute(delete(schema.stream_health).where(schema.stream_health.c.company.in_(list(companies))))
        conn.execute(
            insert(schema.activity_log),
            [
                dict(zip(ACTIVITY_COLUMNS, row, strict=True)) | {"at": datetime.now(UTC)}
                for row in _activity_rows(companies)
            ],
        )
    engine.dispose()
