"""End to end with the real ``dagster-daemon`` on PostgreSQL: a connection activated in the store is picked
up by the activation sensor, its backfill runs through the queued run coordinator, and lands in the inventory.

Dagster's run, event and schedule storage and the hub's own tables share one fresh PostgreSQL database,
configured by the project's own ``dagster.yaml`` through the ``DAGSTER_PG_*`` variables.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from integration_hub.instance import EVENT_BATCH_ENV, EVENT_BATCH_SIZE
from integration_hub.service import ConnectionService
from integration_hub.settings import HubSettings
from integration_hub.store import Store, schema
from integration_hub_tests.conftest import PROJECT_ROOT


@pytest.mark.slow
def test_daemon_picks_up_activation_and_backfills(clean_postgres: str, tmp_path: Path, fake_connectors) -> None:
    postgres_url = clean_postgres
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(
        "load_from:\n"
        "  - python_module:\n"
        "      module_name: integration_hub_tests.support.e2e_definitions\n"
        "      attribute: defs\n"
        f"      working_directory: {PROJECT_ROOT}\n"
        "      location_name: integration_hub\n"
    )
    db_name = postgres_url.rsplit("/", 1)[1]
    env = {
        **os.environ,
        "DAGSTER_HOME": str(dagster_home),
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_PORT": "5432",
        "DAGSTER_PG_USER": "postgres",
        "DAGSTER_PG_PASSWORD": "",
        "DAGSTER_PG_DB": db_name,
        "HUB_HOME": str(tmp_path / "hub"),
        "HUB_DATABASE_URL": postgres_url,
        "HUB_SENSOR_INTERVAL_SECONDS": "1",
        "HUB_RETRY_DELAY_SECONDS": "1",
        "PYTHONPATH": str(PROJECT_ROOT),
        EVENT_BATCH_ENV: str(EVENT_BATCH_SIZE),  # as README's production settings recommend
    }
    settings = HubSettings.from_env(env)
    store = Store.open(settings)
    start = datetime.now(UTC).date() - timedelta(days=3)
    ConnectionService(store).connect(
        "acme",
        "uyumsoft",
        {"username": "demo", "password": "GOOD-e2e", "start_date": start.isoformat()},
        by="e2e",
    )

    daemon = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w", str(workspace)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        rows = 0
        while time.monotonic() < deadline:
            with store.engine.connect() as conn:
                rows = conn.execute(select(func.count()).select_from(schema.inventory)).scalar_one()
            if rows >= 9 or daemon.poll() is not None:
                break
            time.sleep(2)
    finally:
        if daemon.poll() is None:
            os.killpg(daemon.pid, signal.SIGTERM)
        try:
            output = daemon.communicate(timeout=30)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)  # pragma: no cover - a stuck daemon
            output = daemon.communicate()[0].decode(errors="replace")
    assert rows == 9, f"inventory has {rows} rows; daemon output:\n{output[-4000:]}"
    with store.engine.connect() as conn:
        days = sorted(r[0] for r in conn.execute(select(schema.inventory.c.partition_date).distinct()))
        attempts = conn.execute(
            select(schema.activity_log.c.status, schema.activity_log.c.run_id).where(
                schema.activity_log.c.action == "Sync Attempt"
            )
        ).all()
    assert days == [start + timedelta(days=i) for i in range(3)]
    assert [status for status, _ in attempts] == ["Success"]
    # The run was recorded in Dagster's PostgreSQL run storage, with the hub's tags and no secret.
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        run_tags = conn.execute(
            text("SELECT key, value FROM run_tags WHERE run_id = :run_id"), {"run_id": attempts[0][1]}
        ).all()
    engine.dispose()
    tags = dict(run_tags)
    assert tags["hub/credential"] == "uyumsoft.acme"
    assert tags["dagster/asset_partition_range_start"] == f"acme|{start.isoformat()}"
    assert "GOOD-e2e" not in str(run_tags)
    store.dispose()
