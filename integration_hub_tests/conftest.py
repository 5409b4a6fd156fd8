"""Shared fixtures: a fresh hub on embedded SQLite *and* on a real PostgreSQL server.

PostgreSQL runs at 127.0.0.1:5432 on this machine and in CI (user ``postgres``, trust auth). The suite
creates its own database (``HUB_TEST_PG_ADMIN_URL`` overrides where) and drops it at the end; a hub
test parametrized over ``backend`` runs the same assertions against both databases.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy import text

from integration_hub.settings import HubSettings
from integration_hub.store import Store, schema
from integration_hub.store.database import make_engine, upgrade

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = PROJECT_ROOT.parent / "shared"
PG_ADMIN_DSN = os.environ.get("HUB_TEST_PG_ADMIN_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")


def _admin(sql: str) -> None:
    connection = psycopg2.connect(PG_ADMIN_DSN, connect_timeout=5)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        connection.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (dropped afterwards)."""
    name = f"hub_test_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{name}"')
    params = dict(item.split("=", 1) for item in PG_ADMIN_DSN.split())
    url = (
        f"postgresql+psycopg2://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}:"
        f"{params.get('port', '5432')}/{name}"
    )
    try:
        yield url
    finally:
        from sqlalchemy import create_engine

        create_engine(url).dispose()
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def empty_hub_tables(database_url: str) -> None:
    """Delete every hub row (the session's PostgreSQL database is shared by the tests)."""
    engine = make_engine(database_url)
    with engine.begin() as conn:
        for table in reversed(schema.metadata.sorted_tables):
            if table.name != schema.integrations.name:
                conn.execute(text(f"DELETE FROM {table.name}"))
    engine.dispose()


@pytest.fixture()
def clean_postgres(postgres_url: str) -> Iterator[str]:
    """The session database with empty hub tables before and after the test."""
    engine = make_engine(postgres_url)
    upgrade(engine)  # the tables exist before the first delete
    engine.dispose()
    empty_hub_tables(postgres_url)
    yield postgres_url
    empty_hub_tables(postgres_url)


@pytest.fixture()
def hub_env(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """Environment variables of a fresh hub (HUB_HOME in tmp, database per backend, emptied tables)."""
    env = {"HUB_HOME": str(tmp_path / "hub"), "HUB_EDITION": "enterprise"}
    if backend == "postgresql":
        env["HUB_DATABASE_URL"] = request.getfixturevalue("clean_postgres")
    yield env


@pytest.fixture()
def hub_settings(hub_env: dict[str, str]) -> HubSettings:
    return HubSettings.from_env(hub_env)


@pytest.fixture()
def store(hub_settings: HubSettings) -> Iterator[Store]:
    opened = Store.open(hub_settings)
    yield opened
    opened.dispose()


@pytest.fixture()
def fake_connectors(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str]]]:
    """Route the given catalog integrations to the connector written for the tests."""
    from integration_hub import connectors
    from integration_hub_tests.support import fake_connector

    for integration_id in ("linear", "exchange_rates", "uyumsoft", "karbon", "edm", "isnet"):
        monkeypatch.setitem(connectors.CONNECTORS, integration_id, "integration_hub_tests.support.fake_connector:build")
    fake_connector.CALLS.clear()
    fake_connector.FAIL_ON.clear()
    fake_connector.FAIL_FOR.clear()
    yield fake_connector.CALLS
    fake_connector.FAIL_ON.clear()
    fake_connector.FAIL_FOR.clear()
