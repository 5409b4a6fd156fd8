"""Secrets are encrypted at rest and never appear in the database, logs, CLI output or activity log.

Drives every control-plane command with distinctive secrets, captures all logging at DEBUG (including
SQLAlchemy's statement log), then scans the database (the SQLite file and its WAL, or every hub table
on PostgreSQL as text), the logs and the CLI output for them.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from integration_hub.cli import app
from integration_hub.store import schema
from integration_hub.store.database import make_engine

PASSWORD = "GOOD-Zebra-Quartz-8817"
NEW_PASSWORD = "GOOD-Walrus-Nimbus-4402"
ACCESS_KEY = "eyJhbGciOiJIUzI1NiJ9.eyJ0ZW5hbnQiOiJzZWNyZXQtZmlybSJ9.c2lnLXNlY3JldC03NzM"
BAD_PASSWORD = "Bad-Otter-Plinth-9931"


def test_secrets_never_leak(hub_env: dict[str, str], fake_connectors, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.DEBUG)
    runner = CliRunner()
    env = {**hub_env, "USER": "auditor", "KARBON_KEY": ACCESS_KEY}
    outputs: list[str] = []

    def run(*args: str, input: str | None = None) -> int:
        result = runner.invoke(app, list(args), input=input, env=env)
        outputs.append(result.output)
        return result.exit_code

    try:
        assert (
            run(
                "connect",
                "uyumsoft",
                "-c",
                "acme",
                "--username",
                "demo",
                "--password-stdin",
                "--start-date",
                "2024-01-01",
                input=PASSWORD + "\n",
            )
            == 0
        )
        assert (
            run(
                "connect",
                "uyumsoft",
                "-c",
                "globex",
                "--username",
                "demo",
                "--password-stdin",
                "--start-date",
                "2024-01-01",
                input=BAD_PASSWORD + "\n",
            )
            == 1
        )
        assert (
            run(
                "connect",
                "karbon",
                "-c",
                "acme",
                "--application-id",
                "550e8400-e29b-41d4-a716-446655440000",
                "--secret-env",
                "access_key=KARBON_KEY",
                "--start-date",
                "2024-01-01",
            )
            == 1
        )  # fake rejects
        assert (
            run(
                "connect",
                "karbon",
                "-c",
                "acme",
                "--application-id",
                "550e8400-e29b-41d4-a716-446655440000",
                "--secret-env",
                "access_key=KARBON_KEY",
                "--start-date",
                "2024-01-01",
                "--skip-test",
            )
            == 0
        )
        assert run("edit", "uyumsoft", "-c", "acme", "--password-stdin", input=NEW_PASSWORD + "\n") == 0
        assert run("test", "uyumsoft", "-c", "acme") == 0
        for command in ("pause", "resume", "disconnect"):
            assert run(command, "uyumsoft", "-c", "acme") == 0
        assert run("rotate-key") == 0
        for listing in (
            ("connections",),
            ("connections", "--json"),
            ("log",),
            ("log", "--json"),
            ("overview",),
            ("overview", "--json"),
            ("catalog", "--all"),
        ):
            assert run(*listing) == 0
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)

    secrets = (PASSWORD, NEW_PASSWORD, ACCESS_KEY, BAD_PASSWORD)
    haystacks = {"cli output": "\n".join(outputs), "logs": caplog.text}
    if "HUB_DATABASE_URL" in hub_env:
        engine = make_engine(hub_env["HUB_DATABASE_URL"])
        with engine.connect() as conn:
            haystacks["database"] = "\n".join(
                row[0]
                for table in schema.metadata.sorted_tables
                for row in conn.execute(text(f"SELECT CAST(t AS text) FROM {table.name} AS t"))
            )
        engine.dispose()
    else:
        home = Path(hub_env["HUB_HOME"])
        haystacks["database"] = "".join(path.read_bytes().decode("latin-1") for path in home.glob("hub.db*"))
        assert len(haystacks["database"]) > 10_000
    assert "Connect" in haystacks["cli output"]
    assert "INSERT INTO hub_connections" in haystacks["logs"]  # the statement log really was captured
    for where, haystack in haystacks.items():
        for secret in secrets:
            assert secret not in haystack, f"a secret leaked into the {where}"
