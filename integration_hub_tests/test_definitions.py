"""The code location loads as data engineers will see it, and the instance settings stay consistent."""

from __future__ import annotations

import contextlib
from pathlib import Path

import dagster as dg
import yaml

from integration_hub.assets.streams import integrations
from integration_hub.definitions import build_definitions, defs
from integration_hub.instance import (
    CONCURRENCY,
    PYTHON_LOGS,
    embedded_instance_config,
    ensure_embedded_instance,
)
from integration_hub.settings import CollectionConfig
from integration_hub_tests.conftest import PROJECT_ROOT


def test_code_location_has_assets_jobs_sensors_and_schedules_per_integration() -> None:
    repo = defs.get_repository_def()
    assert {job.name for job in repo.get_all_jobs() if not job.name.startswith("__")} == {
        f"collect_{i}" for i in integrations()
    }
    sensors = {s.name: s for s in repo.sensor_defs}
    assert set(sensors) == {f"{i}_activation_sensor" for i in integrations()} | {"karbon_webhook_sensor", "hub_alerts"}
    assert all(s.default_status == dg.DefaultSensorStatus.RUNNING for s in sensors.values())
    schedules = {s.name: s for s in repo.schedule_defs}
    assert set(schedules) == {f"{i}_daily" for i in integrations()}
    assert {s.cron_schedule for s in schedules.values()} == {"0 2 * * *"}
    assert len(list(repo.asset_graph.get_all_asset_keys())) == 12


def test_collection_tunables_come_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("HUB_SCHEDULE_CRON", "30 5 * * *")
    monkeypatch.setenv("HUB_MAX_DAYS_PER_RUN", "31")
    config = CollectionConfig.from_env()
    built = build_definitions(config).get_repository_def()
    assert {s.cron_schedule for s in built.schedule_defs} == {"30 5 * * *"}
    asset = built.assets_defs_by_key[dg.AssetKey(["karbon", "time"])]
    assert asset.backfill_policy == dg.BackfillPolicy.multi_run(31)


def test_workspace_and_production_instance_files() -> None:
    workspace = yaml.safe_load((PROJECT_ROOT / "workspace.yaml").read_text())
    module = workspace["load_from"][0]["python_module"]
    assert (module["module_name"], module["attribute"]) == ("integration_hub.definitions", "defs")
    production = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
    postgres = production["storage"]["postgres"]["postgres_db"]
    assert postgres["scheme"] == "postgresql+psycopg2"
    assert {postgres[k]["env"] for k in ("hostname", "username", "password", "db_name", "port")} == {
        "DAGSTER_PG_HOST",
        "DAGSTER_PG_USER",
        "DAGSTER_PG_PASSWORD",
        "DAGSTER_PG_DB",
        "DAGSTER_PG_PORT",
    }
    # The embedded default and production queue runs under the same limits and log the same loggers.
    assert production["concurrency"] == CONCURRENCY == embedded_instance_config(Path("home"))["concurrency"]
    assert production["python_logs"] == PYTHON_LOGS == embedded_instance_config(Path("home"))["python_logs"]


def test_a_connectors_failed_attempt_shows_in_the_run_log_as_it_happens() -> None:
    """The managed ``integration_hub`` loggers put a connection failure, with host:port and reason, in the run."""
    import httpx

    from integration_hub.connectors.base import TransientError
    from integration_hub.connectors.http import HttpTransport, RetryPolicy

    @dg.op
    def unreachable() -> None:
        transport = HttpTransport(
            client=httpx.Client(base_url="http://127.0.0.1:9"),
            retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.01),
            provider="edm",
        )
        with contextlib.suppress(TransientError):  # the run goes on; only its log is looked at
            transport.request("GET", "/EFaturaEDM/EFaturaEDM.svc")

    with dg.instance_for_test(overrides={"python_logs": PYTHON_LOGS}) as instance:
        result = dg.GraphDefinition(name="probe", node_defs=[unreachable]).to_job().execute_in_process(
            instance=instance
        )
        messages = [
            event.user_message
            for event in instance.all_logs(result.run_id)
            if event.dagster_event is None and "attempt 1 of 2" in event.user_message
        ]
    assert len(messages) == 1
    assert "edm: GET /EFaturaEDM/EFaturaEDM.svc attempt 1 of 2 failed: cannot connect to 127.0.0.1:9" in messages[0]


def test_embedded_instance_is_sqlite_under_hub_home(tmp_path: Path) -> None:
    path = ensure_embedded_instance(tmp_path / "dagster")
    with dg.DagsterInstance.from_config(str(path.parent)) as instance:
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"
        assert type(instance.event_log_storage).__name__ == "BatchingSqliteEventLogStorage"
        # Dagster's own layout under DAGSTER_HOME, so an instance made before keeps its history.
        assert (path.parent / "history" / "runs.db").exists()
        assert (path.parent / "history" / "runs" / "index.db").exists()
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 8
