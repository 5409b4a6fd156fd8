"""Collection on real dagster-celery workers: two workers on the Karbon queue, a fleet shard run across them.

Like production: the project's ``dagster.yaml`` on a fresh PostgreSQL database (Dagster's storage and the hub's
tables) that the run's process and both workers reach, RabbitMQ as the broker (a virtual host of this test's own),
``HUB_EXECUTOR=celery``. The run is started by ``dagster job execute`` in its own process; the workers rebuild the
job from ``support/celery_definitions.py`` (Karbon routed to the connector written for the tests) to run each step.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.events import DagsterEventType
from sqlalchemy import func, select

from integration_hub.assets.partitions import companies_partitions_name
from integration_hub.assets.streams import streams_of
from integration_hub.executors import ExecutorConfig
from integration_hub.jobs import fleet_run_tags, job_name, run_tags
from integration_hub.resources.shard import shard_run_config
from integration_hub.service import ConnectionService
from integration_hub.settings import COMPANY_DAY, FLEET, HubSettings
from integration_hub.store import Store, schema
from integration_hub_tests.conftest import PROJECT_ROOT
from integration_hub_tests.support.celery_workers import VENV_BIN, celery_workers, rabbitmq_vhost

KARBON = "karbon"
COMPANIES = ("acme", "globex", "initech", "umbrella")
DAYS = 3
PER_DAY = 3  # the fake connector's records per day
TEST_TAG = "hub-test/celery"
CELERY_CONNECTOR = "integration_hub_tests.support.celery_connector:build"
LAYOUT = COMPANY_DAY


def _env(tmp_path: Path, postgres_url: str, broker: str) -> dict[str, str]:
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    shutil.copy(PROJECT_ROOT / "dagster.yaml", dagster_home / "dagster.yaml")
    return {
        **os.environ,
        "DAGSTER_HOME": str(dagster_home),
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_PORT": "5432",
        "DAGSTER_PG_USER": "postgres",
        "DAGSTER_PG_PASSWORD": "",
        "DAGSTER_PG_DB": postgres_url.rsplit("/", 1)[1],
        "HUB_HOME": str(tmp_path / "hub"),
        "HUB_DATABASE_URL": postgres_url,
        "HUB_PARTITIONING": LAYOUT,
        "HUB_EXECUTOR": "celery",
        "HUB_CELERY_BROKER": broker,
        "HUB_CELERY_BACKEND": "rpc://",
        "HUB_RETRY_DELAY_SECONDS": "1",
        "PYTHONPATH": str(PROJECT_ROOT),
    }


def _connect(store: Store, start: date, monkeypatch: pytest.MonkeyPatch) -> None:
    from integration_hub import connectors

    monkeypatch.setitem(connectors.CONNECTORS, KARBON, CELERY_CONNECTOR)  # as support/celery_definitions.py does
    service = ConnectionService(store)
    for index, company in enumerate(COMPANIES):
        service.connect(
            company,
            KARBON,
            {
                "application_id": f"{index:08d}-0000-4000-8000-000000000000",
                "access_key": "eyJGOOD.a.b",
                "start_date": start.isoformat(),
            },
            by="celery-e2e",
        )


def _launches(layout: str, first: date, last: date) -> list[tuple[dict, dict[str, str]]]:
    """(run config, tags) of the runs collecting every company: one shard run in the fleet layout, one run per
    company in the company_day layout."""
    if layout == FLEET:
        return [(shard_run_config(COMPANIES), fleet_run_tags(KARBON, first, last, shard="1/1"))]
    return [({}, run_tags(KARBON, company, first, last)) for company in COMPANIES]


def _execute(
    env: dict[str, str], tmp_path: Path, run_config: dict, tags: dict[str, str], index: int
) -> subprocess.Popen:
    """A run of every Karbon stream, started by ``dagster job execute`` in its own process (as a launched run)."""
    config_file = tmp_path / f"run_config_{index}.yaml"
    config_file.write_text(yaml.safe_dump(run_config))
    log = (tmp_path / f"run_{index}.log").open("wb")
    return subprocess.Popen(
        [
            str(VENV_BIN / "dagster"),
            "job",
            "execute",
            "-m",
            "integration_hub_tests.support.celery_definitions",
            "-a",
            "defs",
            "-j",
            job_name(KARBON),
            "-c",
            str(config_file),
            "--tags",
            json.dumps(tags),
        ],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


@pytest.mark.slow
def test_shard_runs_on_two_celery_workers(
    clean_postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = uuid.uuid4().hex[:8]
    last = datetime.now(UTC).date() - timedelta(days=1)
    first = last - timedelta(days=DAYS - 1)
    with rabbitmq_vhost() as vhost:
        cfg = ExecutorConfig(kind="celery", broker=f"pyamqp://guest@127.0.0.1:5672/{vhost}")
        env = _env(tmp_path, clean_postgres, cfg.broker)
        for key in ("DAGSTER_HOME", "DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER", "DAGSTER_PG_DB"):
            monkeypatch.setenv(key, env[key])
        monkeypatch.setenv("DAGSTER_PG_PASSWORD", "")
        store = Store.open(HubSettings.from_env(env))
        _connect(store, first, monkeypatch)
        instance = dg.DagsterInstance.from_config(env["DAGSTER_HOME"])
        if LAYOUT == COMPANY_DAY:  # what the activation sensor does before it requests a company's runs
            instance.add_dynamic_partitions(companies_partitions_name(KARBON), list(COMPANIES))
        names = [f"karbon-a-{token}", f"karbon-b-{token}"]
        # Both workers listen on the provider's queue only: a step routed anywhere else would never run.
        with celery_workers(cfg, KARBON, names, env, tmp_path) as workers:
            workers.wait_ready()
            launched = [
                _execute(env, tmp_path, run_config, {**tags, TEST_TAG: token}, index)
                for index, (run_config, tags) in enumerate(_launches(LAYOUT, first, last))
            ]
            try:
                for process in launched:
                    process.wait(timeout=420)
            finally:
                for process in launched:
                    if process.poll() is None:  # pragma: no cover - a stuck run
                        os.killpg(process.pid, signal.SIGKILL)
            worker_logs = {w.name: w.output() for w in workers.workers}

    runs = instance.get_runs(filters=dg.RunsFilter(tags={TEST_TAG: token}))
    outputs = "\n".join(path.read_text(errors="replace")[-3000:] for path in sorted(tmp_path.glob("run_*.log")))
    details = f"runs:\n{outputs}\nworkers:\n" + "\n".join(f"--- {n}\n{log[-2000:]}" for n, log in worker_logs.items())
    assert len(runs) == len(launched), details
    assert {run.status for run in runs} == {dg.DagsterRunStatus.SUCCESS}, details

    # Every stream's step ran in a Celery worker, and the two workers shared them.
    streams = streams_of(KARBON)
    ran_on: dict[tuple[str, str], str] = {}
    succeeded: set[tuple[str, str]] = set()
    for run in runs:
        for record in instance.all_logs(run.run_id):
            event = record.dagster_event
            if event is None or record.step_key is None:
                continue
            if (
                event.event_type == DagsterEventType.ENGINE_EVENT
                and "Celery worker" in event.engine_event_data.metadata
            ):
                ran_on[(run.run_id, record.step_key)] = event.engine_event_data.metadata["Celery worker"].value
            elif event.event_type == DagsterEventType.STEP_SUCCESS:
                succeeded.add((run.run_id, record.step_key))
    instance.dispose()
    assert len(succeeded) == len(streams) * len(runs), details
    assert set(ran_on) == succeeded, details
    assert set(ran_on.values()) == {f"{name}@{os.uname().nodename}" for name in names}, Counter(ran_on.values())

    # Every company was collected for every stream (a snapshot stream keeps the window's last day only).
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(schema.inventory.c.company, schema.inventory.c.stream, func.count()).group_by(
                schema.inventory.c.company, schema.inventory.c.stream
            )
        ).all()
    store.dispose()
    assert {(company, stream): count for company, stream, count in rows} == {
        (company, spec.stream): PER_DAY * (1 if spec.snapshot else DAYS) for company in COMPANIES for spec in streams
    }
