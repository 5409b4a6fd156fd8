"""Upgrading a hub that collected before coverage existed: its history counts as collected, not as gaps."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from integration_hub.store.database import _alembic_config, make_engine
from integration_hub_tests.conftest import _admin


@pytest.fixture()
def empty_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database no migration has touched (the session's PostgreSQL database is already at head)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'old-hub.db'}"
        return
    name = f"hub_migrate_{uuid.uuid4().hex[:8]}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_0004_seeds_coverage_and_health_from_the_inventory(empty_database: str) -> None:
    engine = make_engine(empty_database)
    config = _alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0003")
    at = datetime(2024, 3, 2, 2, 0, tzinfo=UTC)
    with engine.begin() as conn:
        for day, key in [(date(2024, 3, 1), "a"), (date(2024, 3, 1), "b"), (date(2024, 2, 27), "c")]:
            conn.execute(
                text(
                    "INSERT INTO hub_inventory (company, integration_id, stream, partition_date, record_type, "
                    "external_key, record_date, payload, collected_at, run_id) VALUES ('acme', 'uyumsoft', "
                    "'invoices', :day, 'invoice', :key, :day, '{}', :at, 'old-run')"
                ),
                {"day": day, "key": key, "at": at},
            )
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    with engine.connect() as conn:
        days = conn.execute(text("SELECT day, status, rows FROM hub_coverage ORDER BY day")).all()
        health = conn.execute(
            text("SELECT last_collected_day, consecutive_failures FROM hub_stream_health WHERE company = 'acme'")
        ).all()
    engine.dispose()
    assert [(str(d)[:10], s, r) for d, s, r in days] == [("2024-02-27", "collected", 1), ("2024-03-01", "collected", 2)]
    assert [(str(d)[:10], n) for d, n in health] == [("2024-03-01", 0)]
