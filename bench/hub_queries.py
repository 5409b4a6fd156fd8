"""Benchmark — the hub's own answers at fleet scale: one connection's coverage, the inventory, the fleet summary.

A fresh PostgreSQL database (127.0.0.1:5432, created for the run and dropped after it) is migrated and bulk-loaded
by ``bench/fleet_data.py``: 10,000 companies with one Uyumsoft connection each and three years (1,095 days) of
per-day coverage up to yesterday (~11 M ``hub_coverage`` rows), 2 % of them with a Karbon connection as well (7
streams each), their ``hub_stream_health`` rows, and inventory rows for 300 companies' last 60 days. One connection
in a hundred is behind, failing, never collected or paused (the summary's expected counts are checked against
what was planted). Then, through the service functions the CLI commands call:

* coverage lookup (``integration-hub coverage COMPANY INTEGRATION --day D``): 20 random (company, day) pairs,
  median seconds; also a 31-day range and a Karbon day (7 streams);
* inventory lookup (``integration-hub inventory -c COMPANY -i INTEGRATION --from D --to D``): 20 random days of
  the companies with inventory;
* fleet summary (``integration-hub fleet``): 5 repetitions;
* the query plans PostgreSQL chose for exactly the statements those calls ran (captured, then ``EXPLAIN``-ed);
* each command once through a fresh CLI process, for the record (interpreter start and imports included).

SQLite (the embedded default) gets the same at 1,000 companies × 365 days, reported without targets.
``--quick``: 1,000 companies × 365 days on PostgreSQL, 200 × 90 on SQLite.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import PG_ADMIN_DSN, ROOT, Section, Summary, Table, Target, fmt
from bench.fleet_data import LoadedFleet, populate_hub

TODAY = date(2026, 12, 1)
SAMPLES = 20
SUMMARY_REPS = 5
KARBON_SHARE = 0.02


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


def _timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


class _Captured:
    """The statements (and parameters) an engine ran while active, to EXPLAIN exactly those."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.statements: list[tuple[str, Any]] = []

    def __enter__(self) -> _Captured:
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_: object) -> None:
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            self.statements.append((statement, parameters))


def _plan(engine: Any, statement: str, parameters: Any) -> str:
    """How the database answers ``statement``: the scan nodes and the indexes they use, one line."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            nodes: list[str] = []

            def walk(node: dict[str, Any]) -> None:
                if "Scan" in node["Node Type"]:
                    index = f" using {node['Index Name']}" if node.get("Index Name") else ""
                    nodes.append(f"{node['Node Type']} on {node.get('Relation Name', '?')}{index}")
                for child in node.get("Plans", []):
                    walk(child)

            walk(plan[0]["Plan"])
            return "; ".join(nodes)
        cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
        return "; ".join(str(row[-1]) for row in cursor.fetchall())
    finally:
        raw.close()


def _uses_index(plan: str, table: str) -> bool:
    """Every read of ``table`` goes through an index (PostgreSQL: no Seq Scan; SQLite: no bare SCAN)."""
    parts = [p.strip() for p in plan.split(";") if table in p]
    return bool(parts) and all(("Seq Scan" not in p) and not (p.startswith("SCAN") and "INDEX" not in p) for p in parts)


def _cli_seconds(env: dict[str, str], *args: str) -> float:
    command = [sys.executable, "-c", "from integration_hub.cli import main; main()", *args]
    started = time.perf_counter()
    completed = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        check=False,
        timeout=120,
    )
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"integration-hub {' '.join(args)} exited {completed.returncode}: {completed.stderr[-400:]}")
    return seconds


def _measure(url: str, fleet: LoadedFleet, home: Path) -> dict[str, Any]:
    from integration_hub.assets.streams import stream_names
    from integration_hub.service.fleet import connection_coverage, fleet_summary
    from integration_hub.settings import HubSettings
    from integration_hub.store import Store
    from integration_hub.store import inventory as inventory_rows

    env = {"HUB_HOME": str(home), "HUB_DATABASE_URL": url}
    store = Store.open(HubSettings.from_env(env))
    streams = stream_names()
    rng = random.Random(14)
    yesterday = fleet.today - timedelta(days=1)
    span = (yesterday - fleet.first_day).days

    def a_day() -> date:
        return fleet.first_day + timedelta(days=rng.randrange(span + 1))

    def lookup(company: str, integration: str, first: date, last: date) -> Any:
        return connection_coverage(store, streams, company=company, integration_id=integration, first=first, last=last)

    result: dict[str, Any] = {"timings": {}, "plans": {}}
    pairs = [(rng.choice(fleet.companies), a_day()) for _ in range(SAMPLES)]
    lookup(*pairs[0][:1], "uyumsoft", pairs[0][1], pairs[0][1])  # warm the connection pool
    result["timings"]["coverage: one day"] = [_timed(lambda c=c, d=d: lookup(c, "uyumsoft", d, d)) for c, d in pairs]
    result["timings"]["coverage: 31 days"] = [
        _timed(lambda c=c, d=d: lookup(c, "uyumsoft", d - timedelta(days=30), d)) for c, d in pairs
    ]
    if fleet.karbon_companies:
        karbon = [(rng.choice(fleet.karbon_companies), a_day()) for _ in range(SAMPLES)]
        result["timings"]["coverage: one Karbon day (7 streams)"] = [
            _timed(lambda c=c, d=d: lookup(c, "karbon", d, d)) for c, d in karbon
        ]
    inventory_first = fleet.today - timedelta(days=fleet.inventory_days)

    def inventory(company: str, day: date) -> list[dict[str, Any]]:
        with store.engine.connect() as conn:
            return inventory_rows.summary(conn, company=company, integration_id="uyumsoft", first=day, last=day)

    inventory_pairs = [
        (rng.choice(fleet.inventory_companies), inventory_first + timedelta(days=rng.randrange(fleet.inventory_days)))
        for _ in range(SAMPLES)
    ]
    assert inventory(*inventory_pairs[0]), "the sampled inventory day has rows"
    result["timings"]["inventory: one company/integration/day"] = [
        _timed(lambda c=c, d=d: inventory(c, d)) for c, d in inventory_pairs
    ]
    summaries = []

    def summarize() -> None:
        summaries.append(fleet_summary(store, streams, today=fleet.today, now=fleet.now))

    result["timings"]["fleet summary"] = [_timed(summarize) for _ in range(SUMMARY_REPS)]
    expected_fields = set(asdict(next(iter(fleet.expected.values()))))
    result["summary_matches"] = all(
        {k: v for k, v in asdict(i).items() if k in expected_fields} == asdict(fleet.expected[i.integration_id])
        for i in summaries[-1].integrations
    ) and {i.integration_id for i in summaries[-1].integrations} == set(fleet.expected)

    for name, call, table in (
        ("coverage lookup", lambda: lookup(pairs[0][0], "uyumsoft", pairs[0][1], pairs[0][1]), "hub_coverage"),
        ("inventory lookup", lambda: inventory(*inventory_pairs[0]), "hub_inventory"),
        ("fleet summary", summarize, "hub_stream_health"),
    ):
        with _Captured(store.engine) as captured:
            call()
        statement, parameters = next(s for s in captured.statements if table in s[0])
        result["plans"][name] = (_plan(store.engine, statement, parameters), table, len(captured.statements))
    company, day = pairs[0]
    result["cli"] = {
        f"coverage {company} uyumsoft --day {day}": _cli_seconds(
            env, "coverage", company, "uyumsoft", "--day", day.isoformat()
        ),
        "fleet": _cli_seconds(env, "fleet"),
    }
    if store.engine.dialect.name == "postgresql":
        with store.engine.connect() as conn:
            result["coverage_bytes"] = conn.exec_driver_sql(
                "SELECT pg_total_relation_size('hub_coverage')"
            ).scalar_one()
    else:
        result["coverage_bytes"] = Path(url.removeprefix("sqlite:///")).stat().st_size
    store.dispose()
    return result


def _run_backend(backend: str, companies: int, days: int, inventory_companies: int) -> tuple[LoadedFleet, dict]:
    with tempfile.TemporaryDirectory(prefix="hub-queries-") as workdir:
        home = Path(workdir) / "hub"
        if backend == "sqlite":
            url = f"sqlite:///{workdir}/hub.db"
            fleet = populate_hub(
                url,
                companies,
                days=days,
                today=TODAY,
                karbon_share=KARBON_SHARE,
                inventory_companies=inventory_companies,
                inventory_days=60,
            )
            return fleet, _measure(url, fleet, home)
        name = f"hub_queries_{uuid.uuid4().hex[:10]}"
        _admin(f'CREATE DATABASE "{name}"')
        try:
            url = _postgres_url(name)
            fleet = populate_hub(
                url,
                companies,
                days=days,
                today=TODAY,
                karbon_share=KARBON_SHARE,
                inventory_companies=inventory_companies,
                inventory_days=60,
            )
            return fleet, _measure(url, fleet, home)
        finally:
            from sqlalchemy import create_engine

            create_engine(_postgres_url(name)).dispose()
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(quick: bool = False) -> Section:
    sizes = {
        "postgresql": (1_000, 365, 100) if quick else (10_000, 1_095, 300),
        "sqlite": (200, 90, 20) if quick else (1_000, 365, 50),
    }
    loads, timings, plans, targets = [], [], [], []
    for backend, (companies, days, inventory_companies) in sizes.items():
        fleet, measured = _run_backend(backend, companies, days, inventory_companies)
        loads.append(
            [
                backend,
                fmt(companies),
                fmt(days),
                fmt(fleet.connections),
                fmt(fleet.coverage_rows),
                fmt(fleet.health_rows),
                fmt(fleet.inventory_rows),
                f"{measured['coverage_bytes'] / 2**20:,.0f}",
                f"{fleet.seconds:.1f}",
                "yes" if measured["summary_matches"] else "NO",
            ]
        )
        for name, values in measured["timings"].items():
            stats = Summary.of(values)
            timings.append([backend, name, str(len(values)), Summary.of([v * 1000 for v in values]).fmt(1)])
            if backend == "postgresql" and name in ("coverage: one day", "inventory: one company/integration/day"):
                targets.append(Target(f"PostgreSQL {fmt(companies)} companies: {name} (s)", stats.median, "<=", 0.1))
            if backend == "postgresql" and name == "fleet summary":
                targets.append(
                    Target(f"PostgreSQL {fmt(companies)} companies: fleet summary (s)", stats.median, "<=", 2.0)
                )
        for command, seconds in measured["cli"].items():
            timings.append([backend, f"CLI process: integration-hub {command}", "1", fmt(seconds * 1000, 0)])
        for name, (plan, table, statements) in measured["plans"].items():
            plans.append([backend, name, str(statements), plan])
            if backend == "postgresql" and name != "fleet summary":
                targets.append(
                    Target(
                        f"PostgreSQL: the {name} reads {table} through an index",
                        float(_uses_index(plan, table)),
                        ">=",
                        1.0,
                        "plan",
                    )
                )
        if backend == "postgresql":
            targets.append(
                Target(
                    "PostgreSQL: the fleet summary counts what was planted",
                    float(measured["summary_matches"]),
                    ">=",
                    1.0,
                    "exact",
                )
            )
    return Section(
        key="hub_queries",
        title="Hub queries at fleet scale",
        method=__doc__ or "",
        tables=[
            Table(
                "What was loaded (bench/fleet_data.py)",
                [
                    "database",
                    "companies",
                    "days",
                    "connections",
                    "coverage rows",
                    "health rows",
                    "inventory rows",
                    "hub_coverage MiB",
                    "load s",
                    "summary = planted",
                ],
                loads,
            ),
            Table(
                "Answers through the service functions the CLI calls (ms, min / median / max)",
                ["database", "question", "samples", "ms"],
                timings,
                note="CLI process rows are one run each, interpreter start and imports included.",
            ),
            Table(
                "Query plans of the statements those calls ran",
                ["database", "call", "SQL statements", "scans"],
                plans,
            ),
        ],
        targets=targets,
    )


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    started = time.perf_counter()
    section = run(quick)
    section.seconds = time.perf_counter() - started
    for table in section.tables:
        print(table.markdown(), end="\n\n")
    for target in section.targets:
        print(("ok    " if target.ok else "MISSED ") + target.describe())
    print(f"{section.seconds:.0f} s in all ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")
    return 0 if all(t.ok for t in section.targets) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
