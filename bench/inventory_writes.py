"""Benchmark 4 — inventory writes: rows/s into SQLite and PostgreSQL, and peak RSS as the records grow 10×.

Each measurement is a fresh child process that opens (and migrates) a fresh hub database, then calls
``store/inventory.replace_window`` once with a *generator* of N normalized ``Record`` objects (the shape of a
Karbon time entry: amount, quantity, unit, counterparty, description and a 19-field payload) spread over the
365 days of one window, exactly as a collection run hands a connector's stream to the store. rows/s is N ÷
the seconds ``replace_window`` took (spooling, the one transaction, the commit; generating a record costs a
few microseconds and is included). Peak RSS is the child's own ``VmHWM``; "before" is its RSS after
imports and migrations, just before the write. PostgreSQL (127.0.0.1:5432, user postgres) gets a database
created for each measurement and dropped after it.

Target: streaming — the peak RSS at 10× the records stays within 10 % of the smaller run's peak.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from bench.common import PG_ADMIN_DSN, PLOTS_DIR, Section, Summary, Table, Target, current_rss_mb, emit, fmt, run_child

WINDOW_START = date(2025, 1, 1)
WINDOW_DAYS = 365
ROLES = ("Accountant", "Bookkeeper", "Manager", "Partner")
TASKS = ("Preparation", "Review", "Client call", "Data entry")


def records(count: int) -> Iterator[Any]:
    """``count`` distinct normalized records, generated lazily (nothing is held in memory)."""
    from integration_hub.connectors.base import Record

    for index in range(count):
        day = WINDOW_START + timedelta(days=index % WINDOW_DAYS)
        minutes = 15 * (1 + index % 12)
        rate = (85, 120, 150, 250)[index % 4]
        key = f"{index:032x}"
        yield Record(
            record_type="time_entry",
            external_key=key,
            record_date=day,
            amount=Decimal(minutes * rate) / 60,
            currency="USD",
            quantity=Decimal(minutes),
            unit="min",
            counterparty=f"Client {index % 997}",
            description=f"{TASKS[index % 4]} for Client {index % 997}",
            payload={
                "IndividualTimeEntryKey": key,
                "TimesheetKey": f"TS{index % 50_000:010d}",
                "EntityKey": f"WI{index % 20_000:010d}",
                "WorkItemKey": f"WI{index % 20_000:010d}",
                "ClientKey": f"CL{index % 997:010d}",
                "ClientType": "Organization" if index % 3 else "Contact",
                "UserKey": f"US{index % 12:010d}",
                "RoleName": ROLES[index % 4],
                "TaskTypeName": TASKS[index % 4],
                "TaskTypeIsBillable": True,
                "Date": f"{day.isoformat()}T00:00:00Z",
                "Minutes": minutes,
                "Description": f"{TASKS[index % 4]} for Client {index % 997}",
                "HourlyRate": float(rate),
                "TotalCost": minutes * rate / 60,
                "BilledStatus": "Billed" if index % 2 else "Unbilled",
                "CreatedDate": f"{day.isoformat()}T09:30:00Z",
                "ModifiedDate": f"{day.isoformat()}T17:45:00Z",
                "FeeType": "Time and Materials",
            },
        )


def child(args: argparse.Namespace) -> None:
    from integration_hub.connectors.base import DateWindow
    from integration_hub.store.database import make_engine, upgrade
    from integration_hub.store.inventory import replace_window

    engine = make_engine(args.url)
    upgrade(engine)
    window = DateWindow(WINDOW_START, WINDOW_START + timedelta(days=WINDOW_DAYS))
    before = current_rss_mb()
    started = time.perf_counter()
    result = replace_window(
        engine,
        company="bench",
        integration_id="karbon",
        stream="time",
        window=window,
        records=records(args.records),
        run_id="bench",
    )
    seconds = time.perf_counter() - started
    engine.dispose()
    if result.total != args.records:
        raise SystemExit(f"wrote {result.total} rows, expected {args.records}")
    emit({"seconds": seconds, "rows": result.total, "rows_per_s": result.total / seconds, "rss_before_mb": before})


# ------------------------------------------------------------------------------------------ parent
def _admin(sql: str) -> None:
    import psycopg2

    connection = psycopg2.connect(PG_ADMIN_DSN, connect_timeout=5)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
    finally:
        connection.close()


def _postgres_url(name: str) -> str:
    params = dict(item.split("=", 1) for item in PG_ADMIN_DSN.split())
    return (
        f"postgresql+psycopg2://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}:"
        f"{params.get('port', '5432')}/{name}"
    )


def _measure(backend: str, count: int) -> dict[str, Any]:
    import tempfile

    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-inventory-") as workdir:
            return run_child(
                "bench.inventory_writes", ["--url", f"sqlite:///{workdir}/hub.db", "--records", str(count)]
            )
    name = f"hub_bench_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        return run_child("bench.inventory_writes", ["--url", _postgres_url(name), "--records", str(count)])
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _reps(count: int) -> int:
    return 1 if count >= 1_000_000 else 3


def _plots(results: dict[str, dict[int, list[dict[str, Any]]]]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    PLOTS_DIR.mkdir(parents=True, exist_ok=True)
    paths = []
    for key, label, filename in (
        ("rows_per_s", "rows/s", "inventory_throughput.png"),
        ("peak_rss_mb", "peak RSS (MiB)", "inventory_rss.png"),
    ):
        fig, axis = plt.subplots(figsize=(7, 4))
        for backend, by_count in results.items():
            counts = sorted(by_count)
            stats = [Summary.of([r[key] for r in by_count[c]]) for c in counts]
            axis.errorbar(
                counts,
                [s.median for s in stats],
                yerr=[[s.median - s.min for s in stats], [s.max - s.median for s in stats]],
                marker="o",
                capsize=3,
                label=backend,
            )
        axis.set_xscale("log")
        axis.set_xlabel("records in one replace_window call")
        axis.set_ylabel(label)
        axis.set_ylim(bottom=0)
        axis.set_title(f"Inventory writes: {label} vs records")
        axis.legend()
        fig.tight_layout()
        fig.savefig(PLOTS_DIR / filename, dpi=110)
        plt.close(fig)
        paths.append(f"plots/{filename}")
    return paths


def run(quick: bool = False) -> Section:
    counts = (10_000, 100_000) if quick else (10_000, 100_000, 1_000_000)
    results: dict[str, dict[int, list[dict[str, Any]]]] = {"sqlite": {}, "postgresql": {}}
    for backend in results:
        for count in counts:
            results[backend][count] = [_measure(backend, count) for _ in range(1 if quick else _reps(count))]

    rows = []
    targets = []
    for backend, by_count in results.items():
        for count in counts:
            runs = by_count[count]
            rows.append(
                [
                    backend,
                    fmt(count),
                    str(len(runs)),
                    Summary.of([r["seconds"] for r in runs]).fmt(2),
                    Summary.of([r["rows_per_s"] for r in runs]).fmt(0),
                    Summary.of([r["rss_before_mb"] for r in runs]).fmt(1),
                    Summary.of([r["peak_rss_mb"] for r in runs]).fmt(1),
                ]
            )
        small, large = counts[-2], counts[-1]
        ratio = (
            Summary.of([r["peak_rss_mb"] for r in by_count[large]]).max
            / Summary.of([r["peak_rss_mb"] for r in by_count[small]]).median
        )
        targets.append(
            Target(f"{backend}: peak RSS at {fmt(large)} ÷ at {fmt(small)} records", ratio, "<=", 1.10, "max ÷ median")
        )
    return Section(
        key="inventory_writes",
        title="4. Inventory writes",
        method=__doc__ or "",
        tables=[
            Table(
                "One replace_window call per measurement (min / median / max over the repetitions)",
                ["database", "records", "repetitions", "seconds", "rows/s", "RSS before MiB", "peak RSS MiB"],
                rows,
            )
        ],
        targets=targets,
        plots=_plots(results),
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.inventory_writes child")
    parser.add_argument("--url", required=True)
    parser.add_argument("--records", type=int, required=True)
    child(parser.parse_args(argv))


if __name__ == "__main__" and sys.argv[1:2] == ["child"]:
    main(sys.argv[2:])
