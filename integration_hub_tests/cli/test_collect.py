"""``integration-hub collect``: in process on the embedded instance (one backfill, a line per ranged run, exit 0/1),
as a requested backfill on a deployment's instance, and one-line errors that change nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.execution.backfill import BulkActionStatus
from typer.testing import CliRunner

from integration_hub.cli import app
from integration_hub.settings import HubSettings
from integration_hub.store import Store
from integration_hub.store import inventory as inventory_rows
from integration_hub_tests.support import fake_connector

runner = CliRunner()


@pytest.fixture()
def cli(hub_env: dict[str, str], fake_connectors):
    def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None):
        base = {**hub_env, "USER": "tester", "DAGSTER_HOME": "", "HUB_MAX_DAYS_PER_RUN": "2", "HUB_MAX_RETRIES": "0"}
        return runner.invoke(app, list(args), input=input, env={**base, **(env or {})})

    connected = invoke(
        "connect", "uyumsoft", "-c", "acme", "--username", "demo", "--password-stdin", "--start-date", "2024-01-01",
        input="GOOD-secret-pw\n",
    )
    assert connected.exit_code == 0, connected.output
    return invoke


def _rows(hub_env: dict[str, str]) -> int:
    store = Store.open(HubSettings.from_env(hub_env))
    try:
        with store.engine.connect() as conn:
            return sum(inventory_rows.rows_per_integration(conn).values())
    finally:
        store.dispose()


def test_collect_runs_one_backfill_in_process_with_a_line_per_ranged_run(cli, hub_env) -> None:
    result = cli("collect", "uyumsoft", "-c", "acme", "--from", "2023-12-30", "--to", "2024-01-05")
    assert result.exit_code == 0, result.output
    assert "notice: --from 2023-12-30 is before the start date; collecting from 2024-01-01" in result.stderr
    runs = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("collect_uyumsoft")]
    assert [line.split(":")[0] for line in runs] == [
        "collect_uyumsoft acme|2024-01-01 .. acme|2024-01-02",
        "collect_uyumsoft acme|2024-01-03 .. acme|2024-01-04",
        "collect_uyumsoft acme|2024-01-05 .. acme|2024-01-05",
    ]
    assert all(": SUCCESS," in line for line in runs)
    assert "collected uyumsoft acme 2024-01-01..2024-01-05 (5 days, cli): 15 rows" in result.stdout
    assert _rows(hub_env) == 15
    assert "GOOD-secret-pw" not in result.output
    with dg.DagsterInstance.from_config(str(Path(hub_env["HUB_HOME"]) / "dagster")) as instance:
        (backfill,) = instance.get_backfills()
        assert backfill.title == "uyumsoft acme 2024-01-01..2024-01-05 (5 days, cli)"
        assert backfill.status == BulkActionStatus.COMPLETED_SUCCESS
        assert backfill.tags["hub/trigger"] == "cli" and "GOOD" not in str(backfill.tags)


def test_a_failed_window_exits_1_with_one_line_and_the_other_runs_still_collect(cli, hub_env) -> None:
    fake_connector.FAIL_ON.add(date(2024, 1, 3))
    result = cli("collect", "uyumsoft", "-c", "acme", "--from", "2024-01-01", "--to", "2024-01-04")
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "1 of 2 run(s) failed" in errors[0] and "page for 2024-01-03 failed" in errors[0]
    assert "Traceback" not in result.output
    assert _rows(hub_env) == 6  # the first run's two days


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["collect", "nosuch", "-c", "acme"], "unknown integration 'nosuch'"),
        (["collect", "edm", "-c", "acme"], "acme has no edm connection"),
        (["collect", "uyumsoft", "-c", "acme", "--from", "2024-13-01"], "--from must be a date as YYYY-MM-DD"),
        (["collect", "uyumsoft", "-c", "acme", "--from", "2024-01-05", "--to", "2024-01-02"], "nothing to collect"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_collects_nothing(cli, hub_env, args, message) -> None:
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert _rows(hub_env) == 0


def test_a_paused_connection_is_not_collected(cli, hub_env) -> None:
    assert cli("pause", "uyumsoft", "-c", "acme").exit_code == 0
    result = cli("collect", "uyumsoft", "-c", "acme", "--to", "2024-01-02")
    assert result.exit_code == 2 and "acme/uyumsoft is paused" in result.stderr
    assert _rows(hub_env) == 0


def test_on_a_deployment_collect_requests_a_tagged_backfill_for_the_daemon(cli, hub_env, tmp_path: Path) -> None:
    home = tmp_path / "deployment"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    result = cli("collect", "uyumsoft", "-c", "acme", "--to", "2024-01-03", env={"DAGSTER_HOME": str(home)})
    assert result.exit_code == 0, result.output
    with dg.DagsterInstance.from_config(str(home)) as instance:
        (backfill,) = instance.get_backfills()
        assert f"backfill {backfill.backfill_id} requested: uyumsoft acme 2024-01-01..2024-01-03" in result.stdout
        assert backfill.status == BulkActionStatus.REQUESTED  # the backfill daemon runs it
        assert backfill.tags["hub/credential"] == "uyumsoft.acme" and backfill.tags["hub/trigger"] == "cli"
        assert backfill.asset_backfill_data.target_subset.num_partitions_and_non_partitioned_assets == 3
        assert instance.get_dynamic_partitions("uyumsoft_companies") == ["acme"]
    assert _rows(hub_env) == 0


def test_in_the_fleet_layout_collect_requests_one_backfill_over_days_naming_the_company(
    cli, hub_env, tmp_path: Path
) -> None:
    from integration_hub.resources.shard import shard_run_config

    home = tmp_path / "deployment"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {"DAGSTER_HOME": str(home), "HUB_PARTITIONING": "fleet", "HUB_PARTITIONS_START": "2023-06-01"}
    result = cli("collect", "uyumsoft", "-c", "acme", "--to", "2024-01-03", env=env)
    assert result.exit_code == 0, result.output
    with dg.DagsterInstance.from_config(str(home)) as instance:
        (backfill,) = instance.get_backfills()
        assert f"backfill {backfill.backfill_id} requested: uyumsoft acme 2024-01-01..2024-01-03" in result.stdout
        assert backfill.title == "uyumsoft acme 2024-01-01..2024-01-03 (3 days, cli)"
        assert backfill.status == BulkActionStatus.REQUESTED
        # The days are the partitions; the company is the run config the daemon gives each of its runs.
        assert backfill.run_config == shard_run_config(["acme"])
        target = backfill.asset_backfill_data.target_subset
        assert sorted({p.partition_key for p in target.iterate_asset_partitions()}) == [
            "2024-01-01",
            "2024-01-02",
            "2024-01-03",
        ]
        assert backfill.tags["hub/credential"] == "uyumsoft.acme" and backfill.tags["hub/trigger"] == "cli"
        assert "GOOD" not in str(backfill.tags) and "GOOD" not in str(backfill.run_config)
        assert instance.get_dynamic_partitions("uyumsoft_companies") == []  # no company partitions in fleet
    assert _rows(hub_env) == 0


def test_in_the_fleet_layout_collect_runs_the_company_backfill_in_process(cli, hub_env) -> None:
    from integration_hub.resources.shard import shard_run_config

    connected = cli(
        "connect", "uyumsoft", "-c", "bolt", "--username", "demo", "--password-stdin", "--start-date", "2024-01-01",
        input="GOOD-other-pw\n",
    )
    assert connected.exit_code == 0, connected.output
    env = {"HUB_PARTITIONING": "fleet", "HUB_PARTITIONS_START": "2023-06-01"}
    result = cli("collect", "uyumsoft", "-c", "acme", "--from", "2024-01-01", "--to", "2024-01-05", env=env)
    assert result.exit_code == 0, result.output
    runs = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("collect_uyumsoft")]
    assert [line.split(":")[0] for line in runs] == [
        "collect_uyumsoft 2024-01-01 .. 2024-01-02",
        "collect_uyumsoft 2024-01-03 .. 2024-01-04",
        "collect_uyumsoft 2024-01-05 .. 2024-01-05",
    ]
    assert "collected uyumsoft acme 2024-01-01..2024-01-05 (5 days, cli): 15 rows" in result.stdout
    assert _rows(hub_env) == 15  # acme's days only: bolt is connected too, but not in the backfill's run config
    with dg.DagsterInstance.from_config(str(Path(hub_env["HUB_HOME"]) / "dagster")) as instance:
        (backfill,) = instance.get_backfills()
        assert backfill.status == BulkActionStatus.COMPLETED_SUCCESS
        assert backfill.run_config == shard_run_config(["acme"])
    assert "GOOD-secret-pw" not in result.output
