"""Benchmark 3 — a three-year backfill through Dagster, against the connectors alone for the same data.

One company connected (through ``ConnectionService.connect``, Test Connection included) to Karbon and to
EDM, both simulators running in their own processes with three years of history. Then exactly what the
daemon would do, as ``make demo`` does it: each integration's activation sensor is evaluated, its dynamic
partitions are added, and every ranged run of the backfill it requests (``HUB_MAX_DAYS_PER_RUN`` = 92 days each,
tags from ``integration_hub.jobs.run_tags``) is executed in process on a SQLite Dagster instance
(``integration_hub.instance.ensure_embedded_instance``), each run materializing every stream asset of its
integration into the hub inventory on SQLite.

The baseline is the connectors alone in a fresh process: the same integrations, streams and 92-day windows,
one connector per (stream, window) as the assets build them, every record consumed but nothing stored. A
second baseline adds the inventory writes (``replace_window``) without Dagster, to split the overhead into
storage and orchestration. Client-side rate limits are lifted for all three (the catalog caps Karbon at 600
requests/minute, so the bench raises the stored setting directly) and the simulators do not rate-limit, so
the ratio measures what Dagster and the hub's Dagster layer add, not provider waits. Each of the three
passes starts the simulators afresh.

The instance is the one ``make ui`` runs: Dagster's SQLite layout with the hub's batching event log
(``integration_hub/instance/sqlite_event_log.py``) and ``DAGSTER_EVENT_BATCH_SIZE`` set, so a step's 92
materializations and a run's planned events are written in one transaction per shard. A fourth pass,
*Dagster alone*, runs assets of the same shape (company × day partitions, two checks, an API pool) that
fetch nothing, in the same 92-day runs on the same kind of instance: the least Dagster itself adds for
these partitions, whatever the collection costs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import PLOTS_DIR, Section, Summary, Table, Target, emit, fmt, run_child
from bench.simproc import SimProcess

COMPANY = "bench-co"
YEARS_DAYS = 3 * 365
QUICK_DAYS = 184
UNLIMITED = 1_000_000  # requests per minute: the client never waits


def _days_per_run() -> int:
    """What the activation sensor requests per ranged run (``HUB_MAX_DAYS_PER_RUN``, 92 by default)."""
    from integration_hub.settings import CollectionConfig

    return CollectionConfig.from_env().max_days_per_run


def _history(days: int) -> tuple[date, date, date]:
    """(first day, yesterday, today): the activation sensor backfills from the start date to yesterday."""
    today = datetime.now(UTC).date()
    return today - timedelta(days=days), today - timedelta(days=1), today


def _connector_settings(args: argparse.Namespace) -> dict[str, tuple[dict[str, Any], dict[str, str]]]:
    return {
        "karbon": (
            {"application_id": args.karbon_app, "base_url": args.karbon_url, "requests_per_minute": UNLIMITED},
            {"access_key": args.karbon_key},
        ),
        "edm": (
            {"username": args.edm_user, "base_url": args.edm_url, "requests_per_minute": UNLIMITED},
            {"password": args.edm_password},
        ),
    }


# ------------------------------------------------------------------------------------------ children
def dagster_child(args: argparse.Namespace) -> None:
    workdir = Path(args.workdir)
    os.environ["HUB_HOME"] = str(workdir / "hub")
    os.environ["DAGSTER_HOME"] = str(workdir / "dagster")
    os.environ.pop("HUB_DATABASE_URL", None)
    os.environ.pop("HUB_SECRET_KEY", None)

    import dagster as dg

    from integration_hub.assets.streams import streams_of
    from integration_hub.definitions import build_definitions
    from integration_hub.executors import ExecutorConfig
    from integration_hub.instance import ensure_embedded_instance
    from integration_hub.local_runs import activation_tick, execute_backfill
    from integration_hub.resources.hub import HubResource
    from integration_hub.service import ConnectionService
    from integration_hub.settings import HubSettings
    from integration_hub.store import Store, inventory
    from integration_hub.store import connections as rows

    first, _yesterday, _today = _history(args.days)
    settings = HubSettings.from_env()
    store = Store.open(settings)
    service = ConnectionService(store)
    connector_settings = _connector_settings(args)
    karbon, karbon_secrets = connector_settings["karbon"]
    service.connect(
        COMPANY,
        "karbon",
        {**karbon, "requests_per_minute": 600, **karbon_secrets, "start_date": first.isoformat()},
        by="bench",
    )
    edm, edm_secrets = connector_settings["edm"]
    edm_values = {k: v for k, v in edm.items() if k != "requests_per_minute"}
    service.connect(COMPANY, "edm", {**edm_values, **edm_secrets, "start_date": first.isoformat()}, by="bench")
    with store.engine.begin() as conn:  # lift the client-side limit past the catalog's 600/min cap
        for integration_id in ("karbon", "edm"):
            record = rows.get(conn, COMPANY, integration_id)
            assert record is not None
            rows.update(
                conn,
                record,
                performed_by="bench",
                settings={**record.settings, "requests_per_minute": UNLIMITED},
            )

    ensure_embedded_instance(Path(os.environ["DAGSTER_HOME"]))
    hub = HubResource(hub_home=str(settings.home), database_url=settings.database_url)
    defs = build_definitions(hub=hub, executor=ExecutorConfig())  # in this process, whatever HUB_EXECUTOR says
    run_seconds: list[float] = []
    runs_by_integration: dict[str, int] = {}
    started = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        for integration_id, backfill_requests in activation_tick(defs, instance, hub).items():
            for backfill_request in backfill_requests:  # one backfill per connection, in ranged runs
                outcome = execute_backfill(
                    defs, instance, integration_id, backfill_request, on_run=lambda run: run_seconds.append(run.seconds)
                )
                if not outcome.success:
                    raise SystemExit(f"backfill {outcome.title} failed")
                runs_by_integration[integration_id] = runs_by_integration.get(integration_id, 0) + len(outcome.runs)
        seconds = time.perf_counter() - started
        runs_in_instance = instance.get_runs_count()
        materializations = {
            integration_id: sum(
                len(instance.get_materialized_partitions(spec.asset_key)) for spec in streams_of(integration_id)
            )
            for integration_id in ("karbon", "edm")
        }
    with store.engine.connect() as conn:
        written = inventory.rows_per_integration(conn)
    emit(
        {
            "seconds": seconds,
            "runs": runs_by_integration,
            "runs_in_instance": runs_in_instance,
            "run_seconds": run_seconds,
            "rows": written,
            "materialized_partitions": materializations,
        }
    )


def floor_child(args: argparse.Namespace) -> None:
    """Dagster alone: assets of the same shape that fetch nothing, over the same partitions and ranged runs.

    Same instance configuration, event batching, company × day partitions, two asset checks and an API
    pool per asset, 7 + 1 assets in 92-day runs; each asset returns its metadata at once. What this
    takes is the least any collection through Dagster can add for these partitions on this machine.
    """
    workdir = Path(args.workdir)
    os.environ["DAGSTER_HOME"] = str(workdir / "dagster")
    import dagster as dg

    from integration_hub.assets.factory import asset_with_backfill_policy
    from integration_hub.assets.partitions import chunk_range
    from integration_hub.assets.streams import streams_of
    from integration_hub.instance import enable_event_batching, ensure_embedded_instance
    from integration_hub.jobs import run_tags
    from integration_hub.local_runs import QUIET_RUN_CONFIG

    first, yesterday, _today = _history(args.days)
    companies = dg.DynamicPartitionsDefinition(name="floor_companies")
    partitions = dg.MultiPartitionsDefinition(
        {"company": companies, "date": dg.DailyPartitionsDefinition(start_date=first.isoformat(), timezone="UTC")}
    )

    def nothing_asset(integration_id: str, stream: str) -> dg.AssetsDefinition:
        key = dg.AssetKey(["floor", integration_id, stream])

        @asset_with_backfill_policy(
            key=key,
            partitions_def=partitions,
            pool=f"floor_{integration_id}",
            backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=_days_per_run()),
            check_specs=[dg.AssetCheckSpec("duplicates", asset=key), dg.AssetCheckSpec("counts", asset=key)],
        )
        def _nothing(context):  # type: ignore[no-untyped-def]
            return dg.MaterializeResult(
                metadata={"rows_in_run": 0, "requests": 0},
                check_results=[
                    dg.AssetCheckResult(check_name="duplicates", passed=True),
                    dg.AssetCheckResult(check_name="counts", passed=True),
                ],
            )

        return _nothing

    groups = {i: [nothing_asset(i, spec.stream) for spec in streams_of(i)] for i in ("edm", "karbon")}
    jobs = {i: dg.define_asset_job(f"floor_{i}", selection=assets) for i, assets in groups.items()}
    defs = dg.Definitions(assets=[a for assets in groups.values() for a in assets], jobs=list(jobs.values()))
    ensure_embedded_instance(Path(os.environ["DAGSTER_HOME"]))
    enable_event_batching()
    runs = 0
    started = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("floor_companies", [COMPANY])
        for integration_id in groups:
            job = defs.resolve_job_def(f"floor_{integration_id}")
            for chunk_first, chunk_last in chunk_range(first, yesterday, _days_per_run()):
                tags = run_tags(integration_id, COMPANY, chunk_first, chunk_last)
                if not job.execute_in_process(instance=instance, tags=tags, run_config=QUIET_RUN_CONFIG).success:
                    raise SystemExit(f"floor run {tags} failed")
                runs += 1
        seconds = time.perf_counter() - started
        materialized = sum(
            len(instance.get_materialized_partitions(asset.key)) for assets in groups.values() for asset in assets
        )
    emit({"seconds": seconds, "runs": runs, "materialized_partitions": materialized})


def connectors_child(args: argparse.Namespace) -> None:
    from integration_hub.assets.partitions import chunk_range
    from integration_hub.assets.streams import streams_of
    from integration_hub.connectors import build_connector
    from integration_hub.connectors.base import ConnectorConfig, DateWindow

    engine = None
    if args.write:
        from integration_hub.store.database import make_engine, upgrade
        from integration_hub.store.inventory import replace_window

        engine = make_engine(f"sqlite:///{args.workdir}/hub.db")
        upgrade(engine)
    first, yesterday, _today = _history(args.days)
    chunks = chunk_range(first, yesterday, _days_per_run())
    settings = _connector_settings(args)
    rows: dict[str, int] = {}
    windows = 0
    started = time.perf_counter()
    for integration_id in ("edm", "karbon"):  # the activation sensors' order in the definitions
        values, secrets = settings[integration_id]
        for chunk_first, chunk_last in chunks:
            window = DateWindow.inclusive(chunk_first, chunk_last)
            windows += 1
            for spec in streams_of(integration_id):
                connector = build_connector(integration_id, ConnectorConfig(values, secrets, company=COMPANY))
                try:
                    records = connector.collect(spec.stream, window)
                    if engine is not None:
                        count = replace_window(
                            engine,
                            company=COMPANY,
                            integration_id=integration_id,
                            stream=spec.stream,
                            window=window,
                            records=records,
                            run_id="bench",
                        ).total
                    else:
                        count = sum(1 for _ in records)
                finally:
                    connector.close()
                rows[integration_id] = rows.get(integration_id, 0) + count
    emit({"seconds": time.perf_counter() - started, "rows": rows, "windows": windows})


# ------------------------------------------------------------------------------------------ parent
def _pass(mode: str, days: int) -> dict[str, Any]:
    today = _history(days)[2]
    with (
        SimProcess("karbon", days=days, end=today, rate_limit=10**9, rate_window=60) as karbon,
        SimProcess("edm", days=days, end=today) as edm,
        tempfile.TemporaryDirectory(prefix=f"bench-backfill-{mode}-") as workdir,
    ):
        args = [
            mode,
            "--days",
            str(days),
            "--workdir",
            workdir,
            "--karbon-url",
            karbon.url,
            "--karbon-app",
            karbon.info["application_id"],
            "--karbon-key",
            karbon.info["access_key"],
            "--edm-url",
            edm.url,
            "--edm-user",
            edm.info["username"],
            "--edm-password",
            edm.info["password"],
        ]
        result = run_child("bench.dagster_backfill", args, timeout=900)
        result["karbon_requests"] = karbon.stats()["requests"]
        result["requests"] = result["karbon_requests"] + edm.stats()["requests"]
        result["volumes"] = {**karbon.info["volumes"], **edm.info["volumes"]}
    return result


def _floor_pass(days: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-backfill-floor-") as workdir:
        return run_child("bench.dagster_backfill", ["floor", "--days", str(days), "--workdir", workdir], timeout=900)


def _plot(dagster: dict[str, Any]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axis = plt.subplots(figsize=(8, 3.5))
    seconds = dagster["run_seconds"]
    axis.bar(range(1, len(seconds) + 1), seconds, color="#2b7bba")
    axis.set_xlabel("ranged run, in launch order (EDM runs, then Karbon runs)")
    axis.set_ylabel("seconds")
    axis.set_title("Backfill through Dagster: wall time per ranged run (92 days each)")
    fig.tight_layout()
    PLOTS_DIR.mkdir(parents=True, exist_ok=True)
    fig.savefig(PLOTS_DIR / "dagster_backfill_runs.png", dpi=110)
    plt.close(fig)
    return "plots/dagster_backfill_runs.png"


def run(quick: bool = False) -> Section:
    days = QUICK_DAYS if quick else YEARS_DAYS
    alone = _pass("connectors", days)
    writes = _pass("connectors-write", days)
    dagster = _pass("dagster", days)
    floor = _floor_pass(days)
    ratio = dagster["seconds"] / alone["seconds"]
    least = (alone["seconds"] + floor["seconds"]) / alone["seconds"]
    runs = sum(dagster["runs"].values())
    run_seconds = Summary.of(dagster["run_seconds"])
    partition_assets = sum(dagster["materialized_partitions"].values())
    per_partition_ms = (dagster["seconds"] - writes["seconds"]) / max(1, partition_assets) * 1000
    volumes = ", ".join(f"{k} {v}" for k, v in dagster["volumes"].items())
    table = Table(
        f"{days} days, one company, Karbon (7 pillars) + EDM; simulator volumes: {volumes}",
        ["pass", "runs / windows", "wall s", "÷ connectors alone", "rows", "requests", "peak RSS MiB"],
        [
            [
                "connectors alone",
                f"{alone['windows']} windows",
                fmt(alone["seconds"], 2),
                "1.00",
                fmt(sum(alone["rows"].values())),
                fmt(alone["requests"]),
                fmt(alone["peak_rss_mb"], 1),
            ],
            [
                "connectors + inventory writes",
                f"{writes['windows']} windows",
                fmt(writes["seconds"], 2),
                fmt(writes["seconds"] / alone["seconds"], 3),
                fmt(sum(writes["rows"].values())),
                fmt(writes["requests"]),
                fmt(writes["peak_rss_mb"], 1),
            ],
            [
                "Dagster ranged runs (sensor + in-process runs, SQLite instance)",
                f"{runs} runs ({', '.join(f'{k} {v}' for k, v in dagster['runs'].items())}); "
                f"{dagster['runs_in_instance']} in the instance",
                fmt(dagster["seconds"], 2),
                fmt(ratio, 3),
                fmt(sum(dagster["rows"].values())),
                fmt(dagster["requests"]),
                fmt(dagster["peak_rss_mb"], 1),
            ],
            [
                "Dagster alone: assets of the same shape that fetch nothing (same partitions, runs, instance)",
                f"{floor['runs']} runs",
                fmt(floor["seconds"], 2),
                fmt(floor["seconds"] / alone["seconds"], 3),
                "0",
                "0",
                fmt(floor["peak_rss_mb"], 1),
            ],
        ],
        note=f"One pass each (a pass is a fresh pair of simulators and a fresh process). Seconds per Dagster "
        f"run, min / median / max: {run_seconds.fmt(2)}. Partitions materialized: "
        f"{json.dumps(dagster['materialized_partitions'])} (partition × asset); what Dagster adds over the "
        f"connectors and inventory writes, per partition × asset: {per_partition_ms:.1f} ms; Dagster alone, per "
        f"partition × asset: {floor['seconds'] / max(1, floor['materialized_partitions']) * 1000:.2f} ms, so no "
        f"collection through Dagster with daily partitions can take less than (connectors alone + Dagster alone) "
        f"÷ connectors alone = {least:.2f}× here. The Dagster pass makes "
        f"{dagster['requests'] - alone['requests']} more requests than the connectors: the two Test Connections "
        f"(Karbon TenantSettings; EDM Login and Logout). Derived, not measured: at Karbon's real 120 requests per "
        f"minute the {fmt(alone['karbon_requests'])} Karbon requests alone take at least "
        f"{alone['karbon_requests'] / 2 / 60:.0f} minutes, against which the same Dagster overhead would be "
        f"{(dagster['seconds'] - alone['seconds']) / (alone['karbon_requests'] / 2) * 100:.0f} %.",
    )
    targets = [
        Target("Dagster backfill wall time ÷ connectors alone", ratio, "<=", 1.3, "single pass"),
        Target(
            "Dagster backfill rows written − rows the connectors collected",
            abs(sum(dagster["rows"].values()) - sum(alone["rows"].values())),
            "<=",
            0,
            "absolute difference",
        ),
    ]
    return Section(
        key="dagster_backfill",
        title="3. Backfill through Dagster",
        method=__doc__ or "",
        tables=[table],
        targets=targets,
        plots=[_plot(dagster)],
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dagster_backfill child")
    parser.add_argument("mode", choices=("dagster", "connectors", "connectors-write", "floor"))
    parser.add_argument("--days", type=int, required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--karbon-url", default="")
    parser.add_argument("--karbon-app", default="")
    parser.add_argument("--karbon-key", default="")
    parser.add_argument("--edm-url", default="")
    parser.add_argument("--edm-user", default="")
    parser.add_argument("--edm-password", default="")
    args = parser.parse_args(argv)
    args.write = args.mode == "connectors-write"
    {"dagster": dagster_child, "floor": floor_child}.get(args.mode, connectors_child)(args)


if __name__ == "__main__" and sys.argv[1:2] == ["child"]:
    main(sys.argv[2:])
