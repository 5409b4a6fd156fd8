"""Benchmark 3 — a three-year backfill through Dagster, against the connectors alone for the same data.

One company connected (through ``ConnectionService.connect``, Test Connection included) to Karbon and to
EDM, both simulators running in their own processes with three years of history. Then exactly what the
daemon would do, as ``make demo`` does it: each integration's activation sensor is evaluated, its dynamic
partitions are added, and every ranged run it requests (``HUB_MAX_DAYS_PER_RUN`` = 92 days each, tags from
``integration_hub.jobs.run_tags``) is executed in process on a SQLite Dagster instance
(``integration_hub.instance.ensure_embedded_instance``), each run materializing every stream asset of its
integration into the hub inventory on SQLite.

The baseline is the connectors alone in a fresh process: the same integrations, streams and 92-day windows,
one connector per (stream, window) as the assets build them, every record consumed but nothing stored. A
second baseline adds the inventory writes (``replace_window``) without Dagster, to split the overhead into
storage and orchestration. Client-side rate limits are lifted for all three (the catalog caps Karbon at 600
requests/minute, so the bench raises the stored setting directly) and the simulators do not rate-limit, so
the ratio measures what Dagster and the hub's Dagster layer add, not provider waits. Each of the three
passes starts the simulators afresh.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import PLOTS_DIR, Section, Summary, Table, Target, emit, fmt, run_child
from bench.simproc import SimProcess

COMPANY = "bench-co"
YEARS_DAYS = 3 * 365
QUICK_DAYS = 184
UNLIMITED = 1_000_000  # requests per minute: the client never waits


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

    warnings.filterwarnings("ignore", category=dg.BetaWarning)  # before the definitions module builds its assets
    from integration_hub.assets.streams import streams_of
    from integration_hub.definitions import build_definitions
    from integration_hub.instance import ensure_embedded_instance
    from integration_hub.local_runs import activation_tick, execute_run
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
    defs = build_definitions(hub=hub)
    run_seconds: list[float] = []
    runs_by_integration: dict[str, int] = {}
    started = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        for integration_id, run_requests in activation_tick(defs, instance, hub).items():
            for run_request in run_requests:
                run_started = time.perf_counter()
                outcome = execute_run(defs, instance, integration_id, run_request)
                run_seconds.append(time.perf_counter() - run_started)
                if not outcome.success:
                    raise SystemExit(f"run {run_request.tags} failed")
                runs_by_integration[integration_id] = runs_by_integration.get(integration_id, 0) + 1
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
    chunks = chunk_range(first, yesterday, 92)
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
    ratio = dagster["seconds"] / alone["seconds"]
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
        ],
        note=f"One pass each (a pass is a fresh pair of simulators and a fresh process). Seconds per Dagster "
        f"run, min / median / max: {run_seconds.fmt(2)}. Partitions materialized: "
        f"{json.dumps(dagster['materialized_partitions'])} (partition × asset); what Dagster adds over the "
        f"connectors and inventory writes, per partition × asset: {per_partition_ms:.1f} ms. The Dagster pass makes "
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
    parser.add_argument("mode", choices=("dagster", "connectors", "connectors-write"))
    parser.add_argument("--days", type=int, required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--karbon-url", required=True)
    parser.add_argument("--karbon-app", required=True)
    parser.add_argument("--karbon-key", required=True)
    parser.add_argument("--edm-url", required=True)
    parser.add_argument("--edm-user", required=True)
    parser.add_argument("--edm-password", required=True)
    args = parser.parse_args(argv)
    args.write = args.mode == "connectors-write"
    (dagster_child if args.mode == "dagster" else connectors_child)(args)


if __name__ == "__main__" and sys.argv[1:2] == ["child"]:
    main(sys.argv[2:])
