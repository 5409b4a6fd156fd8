"""Engines and migrations for the hub's database: embedded SQLite by default, PostgreSQL in production."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import make_url

from integration_hub.store import schema

MIGRATIONS = Path(__file__).with_name("migrations")
_UPGRADED: set[str] = set()
_UPGRADE_LOCK = threading.Lock()


class DatabaseError(RuntimeError):
    """The hub's database cannot be reached or migrated (one line, no credentials)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes: they were written as UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def make_engine(url: str) -> Engine:
    """An engine with the settings each backend needs (WAL + foreign keys + busy timeout on SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_sqlite_file(Path(parsed.database))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, future=True)


def _private_sqlite_file(path: Path) -> None:
    """Create the database file readable by its owner only (0600), before SQLite creates it 0644.

    It holds encrypted credentials, settings and the activity log; SQLite gives its ``-wal``/``-shm``
    files the main file's mode, so they are private too. An existing file is tightened as well.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    os.chmod(path, 0o600)


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head() or ""


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn, opts={"version_table": schema.VERSION_TABLE}).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration and sync the catalog rows (idempotent, cheap when current)."""
    key = engine.url.render_as_string(hide_password=False)
    with _UPGRADE_LOCK:
        if key in _UPGRADED:
            return
        try:
            if current_revision(engine) != head_revision():
                config = _alembic_config()
                with engine.begin() as conn:
                    config.attributes["connection"] = conn
                    command.upgrade(config, "head")
            sync_catalog(engine)
        except Exception as exc:  # surface one line without the URL's password
            raise DatabaseError(
                f"cannot prepare the hub database at {engine.url.render_as_string(hide_password=True)}: "
                f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            ) from exc
        _UPGRADED.add(key)


def sync_catalog(engine: Engine) -> None:
    """Upsert one ``hub_integrations`` row per catalog definition: the foreign-key target of connections."""
    from integration_hub.catalog import all_definitions

    with engine.begin() as conn:
        existing = {row.id: row for row in conn.execute(select(schema.integrations))}
        for definition in all_definitions():
            values = {"name": definition.name, "category": definition.category, "style": str(definition.style)}
            row = existing.get(definition.id)
            if row is None:
                conn.execute(schema.integrations.insert().values(id=definition.id, **values))
            elif (row.name, row.category, row.style) != tuple(values.values()):
                conn.execute(
                    schema.integrations.update().where(schema.integrations.c.id == definition.id).values(**values)
                )
