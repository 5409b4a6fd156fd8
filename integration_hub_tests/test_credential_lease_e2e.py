"""One credential, one run at a time, with the real ``dagster-daemon`` on PostgreSQL; and a killed run frees it.

Why the daemon and not two processes of our own: the guarantee is made of Dagster's run queue (tag limits, applied
by the daemon's dequeuer), the hub's run coordinator (tags for runs launched without them), the code server that
notices a dead run worker, the run-monitoring daemon that frees a dead run's pool slots, and the hub's lease. Only
the real daemon exercises them together. The UI-style runs are launched exactly as the UI's Materialize dialog
launches them: the ``launchPipelineExecution`` GraphQL mutation for ``__ASSET_JOB`` with partition-range tags
and no hub tag, executed against the same instance. The sensor-style run is requested by the activation sensor.

The connector (``support/timed_connector.py``) sleeps 3 s per collection and appends each collection's start
and end, with its run worker's pid, to a file the test reads. The test's instance copies the project's
``dagster.yaml`` with two changes that keep it short and sharp: the provider pool holds one slot (so a slot left
by a dead run would block every later run of the provider) and run monitoring polls every 2 s.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import WorkspaceFileTarget
from dagster_graphql.test.utils import execute_dagster_graphql

from integration_hub.assets.partitions import companies_partitions_name, partition_key
from integration_hub.instance import EVENT_BATCH_ENV, EVENT_BATCH_SIZE
from integration_hub.jobs import RANGE_END_TAG, RANGE_START_TAG
from integration_hub.service import ConnectionService
from integration_hub.settings import HubSettings
from integration_hub.store import Store, leases
from integration_hub_tests.conftest import PROJECT_ROOT, _admin

LAUNCH = """
mutation Launch($executionParams: ExecutionParams!) {
  launchPipelineExecution(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
  }
}
"""
DEADLINE_SECONDS = 170
SENSOR_TAG = {"dagster/sensor_name": "uyumsoft_activation_sensor"}


@pytest.fixture()
def deployment(clean_postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    """DAGSTER_HOME on a PostgreSQL database of its own (dropped afterwards, so no run, sensor cursor or pool slot
    reaches another test), the hub on the session's, the environment every process shares, a workspace."""
    dagster_db = f"hub_lease_e2e_{uuid.uuid4().hex[:8]}"
    _admin(f'CREATE DATABASE "{dagster_db}"')
    home = tmp_path / "dagster_home"
    home.mkdir()
    config = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
    config["concurrency"]["pools"]["default_limit"] = 1
    config["run_monitoring"]["poll_interval_seconds"] = 2
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    workspace = tmp_path / "workspace.yaml"
    workspace.write_text(
        "load_from:\n"
        "  - python_module:\n"
        "      module_name: integration_hub_tests.support.lease_definitions\n"
        "      attribute: defs\n"
        f"      working_directory: {PROJECT_ROOT}\n"
        "      location_name: integration_hub\n"
    )
    env = {
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_PORT": "5432",
        "DAGSTER_PG_USER": "postgres",
        "DAGSTER_PG_PASSWORD": "",
        "DAGSTER_PG_DB": dagster_db,
        "HUB_HOME": str(tmp_path / "hub"),
        "HUB_DATABASE_URL": clean_postgres,
        "HUB_SENSOR_INTERVAL_SECONDS": "1",
        "HUB_RETRY_DELAY_SECONDS": "1",
        "HUB_TEST_INTERVALS": str(tmp_path / "intervals.jsonl"),
        "HUB_TEST_COLLECT_SECONDS": "3",
        "PYTHONPATH": str(PROJECT_ROOT),
        EVENT_BATCH_ENV: str(EVENT_BATCH_SIZE),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    try:
        yield {"env": {**os.environ, **env}, "workspace": workspace, "intervals": tmp_path / "intervals.jsonl"}
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{dagster_db}" WITH (FORCE)')


def _intervals(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _launch_like_the_ui(context: WorkspaceProcessContext, company: str, first: date, last: date) -> str:
    """The UI's Materialize dialog for a ranged partition selection of one asset: ``__ASSET_JOB``, range tags."""
    params = {
        "selector": {
            "repositoryLocationName": "integration_hub",
            "repositoryName": "__repository__",
            "pipelineName": "__ASSET_JOB",
            "assetSelection": [{"path": ["efatura", "uyumsoft"]}],
        },
        "mode": "default",
        "runConfigData": {},
        "executionMetadata": {
            "tags": [
                {"key": RANGE_START_TAG, "value": str(partition_key(company, first))},
                {"key": RANGE_END_TAG, "value": str(partition_key(company, last))},
            ]
        },
    }
    result = execute_dagster_graphql(context.create_request_context(), LAUNCH, {"executionParams": params})
    launched = result.data["launchPipelineExecution"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return launched["run"]["runId"]


def _wait(instance: dg.DagsterInstance, daemon: subprocess.Popen, until, what: str, deadline: float):  # type: ignore[no-untyped-def]
    while time.monotonic() < deadline and daemon.poll() is None:
        found = until()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def _finished(instance: dg.DagsterInstance, run_ids: list[str]) -> list[dg.DagsterRun] | None:
    runs = [instance.get_run_by_id(run_id) for run_id in run_ids]
    return runs if all(run is not None and run.is_finished for run in runs) else None  # type: ignore[misc]


@pytest.mark.slow
def test_ui_and_sensor_runs_never_share_a_credential_and_a_killed_run_frees_it(
    deployment: dict, fake_connectors
) -> None:
    env, intervals = deployment["env"], deployment["intervals"]
    store = Store.open(HubSettings.from_env(env))
    today = datetime.now(UTC).date()
    first, last = today - timedelta(days=6), today - timedelta(days=1)
    ConnectionService(store).connect(
        "acme", "uyumsoft", {"username": "demo", "password": "GOOD-e2e", "start_date": first.isoformat()}, by="e2e"
    )
    daemon = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w", str(deployment["workspace"])],
        env=env,
        cwd=intervals.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + DEADLINE_SECONDS
    output = ""
    try:
        with (
            dg.DagsterInstance.get() as instance,
            WorkspaceProcessContext(instance, WorkspaceFileTarget(paths=[str(deployment["workspace"])])) as context,
        ):
            # 1. A UI run and the activation sensor's run on the same credential and days, at once (the company is
            # a partition already, as after any earlier activation, so the UI can select it before the sensor runs).
            instance.add_dynamic_partitions(companies_partitions_name("uyumsoft"), ["acme"])
            ui_run = _launch_like_the_ui(context, "acme", first, last)
            sensor_run = _wait(
                instance,
                daemon,
                lambda: [
                    r.run_id
                    for r in instance.get_runs(
                        dg.RunsFilter(tags={"dagster/sensor_name": "uyumsoft_activation_sensor"})
                    )
                ],
                "the activation sensor's run",
                deadline,
            )[0]
            runs = _wait(instance, daemon, lambda: _finished(instance, [ui_run, sensor_run]), "both runs", deadline)
            assert [run.status for run in runs] == [dg.DagsterRunStatus.SUCCESS] * 2
            assert runs[0].tags["hub/credential"] == "uyumsoft.acme"  # added by the hub's run coordinator
            assert "GOOD-e2e" not in json.dumps(dict(runs[0].tags))
            spans = _spans(_intervals(intervals))
            assert len(spans) == 2, spans
            (_, first_end), (second_start, _) = sorted(spans.values())
            assert first_end <= second_start, f"collections overlapped: {spans}"

            # 2. A run whose worker is killed (SIGKILL) mid-collection, then the next run of the provider.
            killed_run = _launch_like_the_ui(context, "acme", last, last)
            _wait(
                instance,
                daemon,
                lambda: [i for i in _intervals(intervals)[4:] if i["event"] == "start"],
                "the third collection to start",
                deadline,
            )
            os.kill(_run_worker_pid(instance, killed_run), signal.SIGKILL)
            next_run = _launch_like_the_ui(context, "acme", last, last)
            runs = _wait(
                instance, daemon, lambda: _finished(instance, [killed_run, next_run]), "the next run", deadline
            )
            assert [run.status for run in runs] == [dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.SUCCESS]
            assert instance.event_log_storage.get_concurrency_run_ids() <= {next_run}  # the dead run's slot is free
        with store.engine.connect() as conn:
            assert leases.holder_of(conn, integration_id="uyumsoft", company="acme") is None
    finally:
        if daemon.poll() is None:
            os.killpg(daemon.pid, signal.SIGTERM)
        try:
            output = daemon.communicate(timeout=30)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:  # pragma: no cover - a stuck daemon
            os.killpg(daemon.pid, signal.SIGKILL)
            output = daemon.communicate()[0].decode(errors="replace")
        store.dispose()
        print(output[-4000:])


def _run_worker_pid(instance: dg.DagsterInstance, run_id: str) -> int:
    """The run worker's pid, from the engine event Dagster records when it starts the worker process."""
    for entry in instance.all_logs(run_id):
        found = re.search(r"Started process for run \(pid: (\d+)\)", entry.message or "")
        if found:
            return int(found.group(1))
    raise AssertionError(f"run {run_id} recorded no run worker pid")


def _spans(notes: list[dict]) -> dict[int, tuple[float, float]]:
    """Start and end of each finished collection, by run worker pid."""
    starts = {n["pid"]: n["at"] for n in notes if n["event"] == "start"}
    return {n["pid"]: (starts[n["pid"]], n["at"]) for n in notes if n["event"] == "end"}
