"""End to end with the real ``dagster-daemon`` on PostgreSQL, in each partition layout: connections activated in the
store are picked up by the activation sensor, their collection runs through the queued run coordinator (company_day:
one backfill per connection; fleet: shard runs over days) and lands in the inventory.

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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import bindparam, create_engine, func, select, text

from integration_hub.backfills import day_blocks
from integration_hub.instance import EVENT_BATCH_ENV, EVENT_BATCH_SIZE
from integration_hub.service import ConnectionService
from integration_hub.settings import CollectionConfig, HubSettings
from integration_hub.store import Store, schema
from integration_hub_tests.conftest import PROJECT_ROOT


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["company_day", "fleet"])
def test_daemon_picks_up_activation_and_backfills(
    clean_postgres: str, tmp_path: Path, fake_connectors, layout: str
) -> None:
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
        "HUB_PARTITIONING": layout,
        "PYTHONPATH": str(PROJECT_ROOT),
        EVENT_BATCH_ENV: str(EVENT_BATCH_SIZE),  # as README's production settings recommend
    }
    settings = HubSettings.from_env(env)
    store = Store.open(settings)
    start = datetime.now(UTC).date() - timedelta(days=3)
    # Two companies; bolt starts a day later (the fleet layout clips its window per company).
    starts = {"acme": start, "bolt": start + timedelta(days=1)}
    for company, first in starts.items():
        ConnectionService(store).connect(
            company,
            "uyumsoft",
            {"username": "demo", "password": "GOOD-e2e", "start_date": first.isoformat()},
            by="e2e",
        )
    expected_rows = 3 * (3 + 2)

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
            if rows >= expected_rows or daemon.poll() is not None:
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
    assert rows == expected_rows, f"inventory has {rows} rows; daemon output:\n{output[-4000:]}"
    inv = schema.inventory
    with store.engine.connect() as conn:
        days = {
            company: sorted(
                day for (day,) in conn.execute(select(inv.c.partition_date).where(inv.c.company == company).distinct())
            )
            for company in starts
        }
        attempts = conn.execute(
            select(schema.activity_log.c.status, schema.activity_log.c.run_id, schema.activity_log.c.company).where(
                schema.activity_log.c.action == "Sync Attempt"
            )
        ).all()
    assert days == {
        c: [first + timedelta(days=i) for i in range((start - first).days + 3)] for c, first in starts.items()
    }
    assert sorted((status, company) for status, _, company in attempts) == [("Success", "acme"), ("Success", "bolt")]
    # The runs were recorded in Dagster's PostgreSQL run storage, with the hub's tags and no secret.
    run_ids = sorted({run_id for _, run_id, _ in attempts})
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        run_tags = conn.execute(
            text("SELECT run_id, key, value FROM run_tags WHERE run_id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": run_ids},
        ).all()
        # This test's runs only: the session's PostgreSQL database keeps other tests' Dagster runs.
        bodies = [
            body
            for (body,) in conn.execute(
                text("SELECT run_body FROM runs WHERE run_id IN :ids").bindparams(bindparam("ids", expanding=True)),
                {"ids": run_ids},
            )
        ]
    engine.dispose()
    tags = {run_id: {k: v for r, k, v in run_tags if r == run_id} for run_id in run_ids}
    if layout == "company_day":  # one backfill run per connection, keyed by company and day
        assert len(run_ids) == 2
        assert sorted(t["hub/credential"] for t in tags.values()) == ["uyumsoft.acme", "uyumsoft.bolt"]
        assert sorted(t["dagster/asset_partition_range_start"] for t in tags.values()) == [
            f"{c}|{first.isoformat()}" for c, first in starts.items()
        ]
    else:  # shard runs over days (one per block of HUB_MAX_DAYS_PER_RUN days), the companies in their run config
        days_by_company = {
            c: [first + timedelta(days=i) for i in range((start - first).days + 3)] for c, first in starts.items()
        }
        blocks = day_blocks(days_by_company, date.fromisoformat(CollectionConfig().partitions_start), 92)
        assert len(run_ids) == len(blocks)
        assert sorted(t["dagster/asset_partition_range_start"] for t in tags.values()) == [
            b.first.isoformat() for b in blocks
        ]
        assert all(t["hub/shard"] == "1/1" and "hub/credential" not in t for t in tags.values())
        assert len(bodies) == len(blocks) and all('"acme"' in body for body in bodies)
    assert "GOOD-e2e" not in str(run_tags) and not any("GOOD-e2e" in body for body in bodies)
    store.dispose()
