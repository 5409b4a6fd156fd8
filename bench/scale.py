"""Scale — the Dagster layer at 100 → 1,000 → 10,000 companies, both layouts, SQLite and PostgreSQL instances.

``make bench BENCH_ARGS=--scale`` runs this pass alone (``--scale --quick`` checks the harness in a few minutes).
Everything runs in one child process (``python -m bench.scale child``) so its environment (the run's Fernet key,
the fake provider) stays out of the harness.

**Fleet.** The hub database is PostgreSQL (production's), loaded with :func:`bench.fleet_data.populate_hub`
(e-invoice connections, ``uyumsoft``, with three years of per-day coverage and per-stream health; 1 % each
behind, failing, never collected and paused) for each company count, and shared by every layout and instance
measured at that count. The provider is :mod:`bench.scale_connector` (records of the real e-invoice shape).

**Dagster instances.** Per (backend, layout) one instance made like the project's (:mod:`bench.scale_instance`):
the embedded SQLite instance of ``make ui`` and the project's ``dagster.yaml`` on a fresh PostgreSQL database. One
real ranged run (92 days: ``HUB_MAX_DAYS_PER_RUN``) is executed through the real definitions, then copied in SQL
into the rest of the three years (1,095 days) of every company (``company_day``: 12 runs per company) or every
shard of ``HUB_COMPANIES_PER_RUN`` (``fleet``); Dagster's ``get_materialized_partitions`` must then count every
copied partition (the fleet template collects a shard of 50 companies: a fleet materialization's metadata are
bounded, counts and at most a few failures, so its events have the shape of a 500-company shard's). Each instance
grows with the company count. ``company_day`` is measured at 100 and 300 companies (already
past its ceiling); its 1,000 and 10,000 figures are extrapolated linearly from those two points and marked so:
the history of 1,000 companies (1.1 M partitions, ≈8 GB of events per instance) takes longer to write than the
pass's 20 minutes on this machine (``HUB_BENCH_SCALE_COMPANY_DAY=100,300,1000`` measures it, outside the budget).

**Measured per (company count, layout, backend):**

* the daily schedule's tick and the number of runs it requests (the real ``<id>_daily`` evaluated with
  ``build_schedule_context`` against the populated instance and hub), and the activation sensor's tick with 1 and
  with 1,000 new activations (new connections with a *Connect* entry, added before and removed after; the cursor
  put just before them): median of 3 evaluations each;
* GraphQL latency of the asset pages (overview, partitions, checks) from a real ``dagster-webserver`` on 127.0.0.1
  loading the real definitions on that instance (:mod:`bench.scale_graphql`): the UI's own queries, median of 3
  after one cold request;
* the event log's growth per day: ``company_day``: the first 3 of the daily schedule's runs are executed for real
  and the bytes they add (PostgreSQL ``pg_total_relation_size`` of the event tables; SQLite the event files' pages
  in use) are scaled to the number of runs the schedule requests; ``fleet``: the first daily shard's run is
  executed for real cut to 25 and to 50 companies (once per instance, at the first count with 50), bytes = a + b ×
  companies is fitted to the two and summed over each count's shards (a whole 500-company shard run takes minutes
  on this machine).

**Dagster overhead** (:mod:`bench.scale_overhead`): fleet layout, a provider that waits as its published rate
limit makes a client wait.

**Hub queries** at the largest count: ``bench/hub_queries.py``'s measurements (coverage lookup of one company,
integration and day; an inventory day; the fleet summary; the query plans of the statements they ran) on this
pass's hub database, loaded with 2 % Karbon connections and 300 companies' inventory as that benchmark loads it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import PLOTS_DIR, Section, Summary, Table, Target, emit, fmt, run_child

INTEGRATION = "uyumsoft"  # bench.fleet_data's e-invoice integration
ASSET_PATH = ["efatura", INTEGRATION]
CHECK = "row_count_matches_provider"
BACKENDS = ("sqlite", "postgres")
LAYOUTS = ("company_day", "fleet")
# company_day at 1,000 companies is 1.1 M partitions and ≈8 GB of events per instance: writing that history
# alone takes longer than the pass's 20 minutes on this machine, so the pass measures 100 and 300 and
# extrapolates 1,000 and 10,000; HUB_BENCH_SCALE_COMPANY_DAY=100,300,1000 measures 1,000 too (outside the budget).
COMPANY_DAY_COUNTS = [int(n) for n in os.environ.get("HUB_BENCH_SCALE_COMPANY_DAY", "100,300").split(",") if n]
FLEET_COUNTS = [100, 1000, 10000]
FULL = {
    "counts": sorted({*COMPANY_DAY_COUNTS, *FLEET_COUNTS, 1000}),
    "layout_counts": {"company_day": COMPANY_DAY_COUNTS, "fleet": FLEET_COUNTS},
    "history_days": 1095,
    "activations": 1000,
    "repeats": 3,
}
QUICK = {
    "counts": [20, 60],
    "layout_counts": {"company_day": [20, 60], "fleet": [20, 60]},
    "history_days": 184,
    "activations": 50,
    "repeats": 1,
}
GOAL_COMPANIES = 10_000
WINDOW_DAYS = 92  # the template run's days: HUB_MAX_DAYS_PER_RUN
# The fleet template run's shard. A fleet materialization's metadata are bounded whatever the shard (counts and at
# most FAILURES_SHOWN failures), so a 50-company run's events have the shape of a 500-company run's, in a tenth of
# the time; the copies stand for every shard of HUB_COMPANIES_PER_RUN.
FLEET_TEMPLATE_SHARD = 50


def log(message: str) -> None:
    print(f"[scale {datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


class EventLogReads:
    """Counts the SQL statements of this process that read Dagster's event log (``event_logs``,
    ``asset_event_tags``) while active: the ticks must decide from the hub's records, never from it."""

    TABLES = ("event_logs", "asset_event_tags")

    def __init__(self) -> None:
        self.count = 0

    def _seen(self, conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if any(table in statement for table in self.TABLES):
            self.count += 1

    def __enter__(self) -> EventLogReads:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.listen(Engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc: object) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.remove(Engine, "before_cursor_execute", self._seen)


def _median_seconds(call: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    values, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = call()
        values.append(time.perf_counter() - started)
    return statistics.median(values), result


# ------------------------------------------------------------------------------------------ the child
class Measurement:
    """One (backend, layout): its instance, its webserver, how far its history has grown."""

    def __init__(self, backend: str, layout: str, workdir: Path, plan: dict[str, Any], today: date) -> None:
        from bench.scale_instance import DagsterBackend

        self.backend_kind = backend
        self.layout = layout
        self.plan = plan
        self.today = today
        self.workdir = workdir / f"{backend}-{layout}"
        self.backend = DagsterBackend.create(backend, self.workdir / "dagster", f"bench_scale_dg_{layout}")
        self.companies = 0
        self.template: tuple[str, tuple[date, date], str | None] | None = None
        self.server = None
        self.fleet_fit: dict[str, Any] | None = None  # a fleet run's bytes = fixed + per company, once fitted

    @property
    def fleet(self) -> bool:
        return self.layout == "fleet"

    def config(self):  # type: ignore[no-untyped-def]
        from integration_hub.settings import CollectionConfig

        return CollectionConfig(partitioning=self.layout)

    def definitions(self, hub):  # type: ignore[no-untyped-def]
        from integration_hub.definitions import build_definitions

        return build_definitions(self.config(), hub=hub)

    def fleet_assets_ready(self) -> bool:
        """Whether this checkout's assets follow the fleet layout (day partitions): the lead's asset body."""
        import dagster as dg

        from integration_hub.assets import build_assets

        assets = build_assets(self.config())[INTEGRATION]
        return isinstance(assets[0].partitions_def, dg.DailyPartitionsDefinition)

    # -------------------------------------------------------------- history
    def _template_run(self, shard: int) -> None:
        """One real ranged run of the last ``WINDOW_DAYS`` days through the real definitions (its own hub)."""
        from bench.fleet_data import company_name, populate_hub
        from bench.scale_hub import secrets_token
        from integration_hub.jobs import fleet_run_tags
        from integration_hub.local_runs import activation_tick, execute_backfill, execute_run
        from integration_hub.resources.hub import HubResource
        from integration_hub.resources.shard import shard_run_config

        hub_home = self.workdir / "template-hub"
        url = f"sqlite:///{hub_home / 'hub.db'}"
        hub_home.mkdir(parents=True, exist_ok=True)
        populate_hub(url, shard, days=WINDOW_DAYS, today=self.today, secrets_token=secrets_token())
        hub = HubResource(hub_home=str(hub_home), database_url=url)
        defs = self.definitions(hub)
        first, last = self.today - timedelta(days=WINDOW_DAYS), self.today - timedelta(days=1)
        import dagster as dg

        with self.backend.instance() as instance:
            if self.fleet:
                companies = [company_name(i) for i in range(shard)]
                request = dg.RunRequest(
                    job_name=f"collect_{INTEGRATION}",
                    tags=fleet_run_tags(INTEGRATION, first, last, shard="1/1"),
                    run_config=shard_run_config(companies),
                )
                summary = execute_run(defs, instance, INTEGRATION, request)
            else:
                from bench.scale_hub import prepare_template_hub

                prepare_template_hub(url, [company_name(0)])
                requests = activation_tick(defs, instance, hub)[INTEGRATION]
                summary = execute_backfill(defs, instance, INTEGRATION, requests[0]).runs[0]
            if not summary.success:
                raise RuntimeError(f"the template run failed: {summary.error}")
            self.template = (summary.result.run_id, (first, last), None if self.fleet else company_name(0))
        log(f"{self.backend_kind}/{self.layout}: template run {summary.line()}")

    def grow(self, companies: int) -> dict[str, Any]:
        """History up to ``companies``; what was written and what Dagster says is materialized."""
        from bench.fleet_data import company_name
        from bench.scale_instance import Copy, new_run_id
        from integration_hub.assets.partitions import companies_partitions_name
        from integration_hub.settings import CollectionConfig

        started = time.perf_counter()
        per_run = CollectionConfig().companies_per_run
        if self.template is None:
            self._template_run(min(companies, FLEET_TEMPLATE_SHARD) if self.fleet else 1)
        assert self.template is not None
        run_id, window, template_company = self.template
        chunks = math.ceil(self.plan["history_days"] / WINDOW_DAYS)
        first_day = self.today - timedelta(days=self.plan["history_days"])
        if self.fleet:
            before = math.ceil(self.companies / per_run) if self.companies else 0
            after = math.ceil(companies / per_run)
            copies = [
                Copy(new_run_id(), None, WINDOW_DAYS * k)
                for shard in range(before, after)
                for k in range(chunks)
                if (shard, k) != (0, 0)
            ]
        else:
            copies = [
                Copy(new_run_id(), company_name(i), WINDOW_DAYS * k)
                for i in range(self.companies, companies)
                for k in range(chunks)
                if (i, k) != (0, 0)
            ]
        written = self.backend.replicate(run_id, template_company, window, copies, first_day)
        if not self.fleet:
            new = [company_name(i) for i in range(max(1, self.companies), companies)]
            self.backend.add_dynamic_partitions(companies_partitions_name(INTEGRATION), new)
        self.companies = companies
        import dagster as dg

        with self.backend.instance() as instance:
            materialized = len(instance.get_materialized_partitions(dg.AssetKey(ASSET_PATH)))
        expected = self.plan["history_days"] * (1 if self.fleet else companies)
        return {
            "runs_copied": len(copies),
            "event_rows": written,
            "materialized_partitions": materialized,
            "expected_partitions": expected,
            "seconds": time.perf_counter() - started,
            "storage_bytes": self.backend.storage_bytes(),
            "event_log_bytes": self.backend.event_log_bytes(),
        }

    # -------------------------------------------------------------- ticks
    def ticks(self, hub_url: str, activations: int, repeats: int) -> tuple[dict[str, Any], list[Any], Any]:
        """Schedule and activation-sensor ticks: (figures, the schedule's run requests, the definitions)."""
        import dagster as dg

        from bench.scale_hub import add_activations, remove_activations
        from integration_hub.resources.hub import HubResource

        hub = HubResource(hub_home=str(self.workdir / "hub-home"), database_url=hub_url)
        defs = self.definitions(hub)
        schedule = next(s for s in defs.schedules if s.name == f"{INTEGRATION}_daily")
        sensor = next(s for s in defs.sensors if s.name == f"{INTEGRATION}_activation_sensor")
        when = datetime.combine(self.today, datetime.min.time(), UTC) + timedelta(hours=2)
        out: dict[str, Any] = {}
        with self.backend.instance() as instance:

            def schedule_tick() -> Any:
                with dg.build_schedule_context(
                    instance=instance, scheduled_execution_time=when, resources={"hub": hub}
                ) as context:
                    return schedule(context)

            with EventLogReads() as reads:
                out["schedule_s"], result = _median_seconds(schedule_tick, repeats)
            out["schedule_event_log_reads"] = reads.count
            requests = result if isinstance(result, list) else []
            out["schedule_runs"] = len(requests)

            def sensor_tick(cursor: int) -> Callable[[], Any]:
                def tick() -> Any:
                    with dg.build_sensor_context(
                        instance=instance, cursor=str(cursor), resources={"hub": hub}, definitions=defs
                    ) as context:
                        return sensor(context)

                return tick

            start = self.today - timedelta(days=self.plan["history_days"])
            before, last = add_activations(hub_url, activations, start)
            try:
                # company_day's 1,000-activation tick takes 10-20 s (1,000 backfills): measured once
                many_repeats = repeats if self.fleet else 1
                with EventLogReads() as reads:
                    out["sensor_many_s"], many = _median_seconds(sensor_tick(before), many_repeats)
                    out["sensor_one_s"], one = _median_seconds(sensor_tick(last - 1), repeats)
                out["sensor_event_log_reads"] = reads.count
            finally:
                remove_activations(hub_url)
            out["sensor_many_requests"] = len(getattr(many, "run_requests", None) or [])
            out["sensor_one_requests"] = len(getattr(one, "run_requests", None) or [])
        out["activations"] = activations
        return out, requests, defs

    # -------------------------------------------------------------- storage per day
    def daily_growth(self, requests: list[Any], defs: Any, sample: int = 3) -> dict[str, Any]:
        """Bytes the first ``sample`` of the day's runs add to the event log, scaled to all the day's runs."""
        from integration_hub.local_runs import execute_run

        if not requests:
            return {"runs_executed": 0, "bytes_per_day": float("nan")}
        chosen = requests[:sample]
        with self.backend.instance() as instance:
            self.backend.settle()
            before = self.backend.event_log_bytes()
            total_before = self.backend.storage_bytes()
            started = time.perf_counter()
            for request in chosen:
                summary = execute_run(defs, instance, INTEGRATION, request)
                if not summary.success:
                    raise RuntimeError(f"a daily run failed: {summary.error}")
            seconds = time.perf_counter() - started
        self.backend.settle()
        added = self.backend.event_log_bytes() - before
        added_total = self.backend.storage_bytes() - total_before
        per_run = added / len(chosen)
        return {
            "runs_executed": len(chosen),
            "run_seconds": seconds / len(chosen),
            "bytes_per_run": per_run,
            "bytes_per_day": per_run * len(requests),
            "all_bytes_per_day": added_total / len(chosen) * len(requests),
        }

    def fleet_growth(self, requests: list[Any], defs: Any, sizes: tuple[int, int] = (25, 50)) -> dict[str, Any]:
        """A fleet run's event-log bytes are a fixed part plus a part per company (its log lines, its failures):
        two real runs of the first daily shard's days, cut to ``sizes`` companies, fit bytes = a + b × companies,
        and the day is the sum over the schedule's shards. (A whole 500-company shard takes minutes to run here.)"""
        import dagster as dg

        from integration_hub.local_runs import execute_run
        from integration_hub.resources.shard import shard_run_config

        if not requests:
            return {"runs_executed": 0, "bytes_per_day": float("nan")}
        first = requests[0]
        companies = list(first.run_config["resources"]["shard"]["config"]["companies"])
        shard_sizes = [len(r.run_config["resources"]["shard"]["config"]["companies"]) for r in requests]
        if self.fleet_fit is not None and self.fleet_fit["measured_at"] >= min(max(sizes), len(companies)):
            fixed, per_company = self.fleet_fit["bytes_fixed"], self.fleet_fit["bytes_per_company"]
            return {
                **self.fleet_fit,
                "runs_executed": 0,
                "bytes_per_run": fixed + per_company * max(shard_sizes),
                "bytes_per_day": sum(fixed + per_company * size for size in shard_sizes),
            }
        measured: list[tuple[int, float]] = []
        started = time.perf_counter()
        with self.backend.instance() as instance:
            for size in sorted({min(size, len(companies)) for size in sizes}):
                cut = dg.RunRequest(
                    job_name=first.job_name,
                    tags=first.tags,
                    run_config=shard_run_config(companies[:size], respect_backoff=True),
                )
                self.backend.settle()
                before = self.backend.event_log_bytes()
                summary = execute_run(defs, instance, INTEGRATION, cut)
                if not summary.success:
                    raise RuntimeError(f"a daily fleet run failed: {summary.error}")
                self.backend.settle()
                measured.append((size, float(self.backend.event_log_bytes() - before)))
        (n1, b1), (n2, b2) = measured[0], measured[-1]
        per_company = max(0.0, (b2 - b1) / (n2 - n1)) if n2 != n1 else 0.0
        fixed = b1 - per_company * n1
        self.fleet_fit = {
            "measured_at": n2,
            "measured_runs": measured,
            "bytes_fixed": fixed,
            "bytes_per_company": per_company,
            "run_seconds": (time.perf_counter() - started) / len(measured),
        }
        return {
            **self.fleet_fit,
            "runs_executed": len(measured),
            "bytes_per_run": fixed + per_company * max(shard_sizes),
            "bytes_per_day": sum(fixed + per_company * size for size in shard_sizes),
        }

    # -------------------------------------------------------------- GraphQL
    def pages(self, hub_url: str, repeats: int, partition: str) -> dict[str, Any]:
        from bench.scale_graphql import Webserver, measure_pages, page_seconds
        from bench.scale_hub import bench_secret_key

        if self.server is None:  # one webserver per instance: the pages never read the hub database
            env = {
                "HUB_HOME": str(self.workdir / "hub-home"),
                "HUB_DATABASE_URL": hub_url,
                "HUB_PARTITIONING": self.layout,
                "HUB_SECRET_KEY": bench_secret_key(),
            }
            self.server = Webserver(self.backend.home, env, self.workdir / "webserver.log")
        queries = measure_pages(self.server, ASSET_PATH, partition, CHECK, repeats)
        return {"queries": queries, "pages": page_seconds(queries), "pages_cold": page_seconds(queries, "cold")}

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None


HUB_QUERIES_KARBON_SHARE = 0.02
HUB_QUERIES_INVENTORY = (300, 60)  # companies with inventory rows, for their last days


def _hub_queries(url: str, loaded: Any, home: Path) -> dict[str, Any]:
    """bench/hub_queries.py's measurements (coverage and inventory lookups, fleet summary, their query plans) on
    this pass's hub database at the largest count, instead of loading a second 10,000-company fleet."""
    from bench import hub_queries

    try:
        measured = hub_queries._measure(url, loaded, home)
    except Exception:
        return {"error": traceback.format_exc(limit=6)}
    measured["companies"] = len(loaded.companies)
    measured["connections"] = loaded.connections
    measured["coverage_rows"] = loaded.coverage_rows
    measured["load_seconds"] = loaded.seconds
    return measured


def child(args: argparse.Namespace) -> None:
    from bench.fleet_data import populate_hub
    from bench.scale_connector import install
    from bench.scale_hub import bench_secret_key, drop_created, fresh_database, secrets_token

    plan = QUICK if args.quick else FULL
    workdir = Path(args.workdir)
    os.environ["HUB_HOME"] = str(workdir / "hub-home")
    os.environ["HUB_SECRET_KEY"] = bench_secret_key()
    os.environ.pop("HUB_DATABASE_URL", None)
    os.environ.pop("HUB_PARTITIONING", None)
    install(INTEGRATION)
    from integration_hub.instance import enable_event_batching

    enable_event_batching()
    today = datetime.now(UTC).date()
    yesterday = today - timedelta(days=1)
    results: dict[str, Any] = {"plan": plan, "points": [], "hub": [], "errors": []}
    measurements: dict[tuple[str, str], Measurement] = {}
    layouts = [layout for layout in LAYOUTS if layout in args.layouts]
    try:
        for count in plan["counts"]:
            wanted = [layout for layout in layouts if count in plan["layout_counts"][layout]]
            if not wanted:
                continue
            started = time.perf_counter()
            hub_url = fresh_database(f"bench_scale_hub_{count}")
            largest = count == max(plan["counts"])
            loaded = populate_hub(
                hub_url,
                count,
                days=plan["history_days"],
                today=today,
                secrets_token=secrets_token(),
                # at the largest count also what bench/hub_queries.py measures: Karbon for 2 %, some inventory
                karbon_share=HUB_QUERIES_KARBON_SHARE if largest else 0.0,
                inventory_companies=HUB_QUERIES_INVENTORY[0] if largest else 10,
                inventory_days=HUB_QUERIES_INVENTORY[1] if largest else 7,
            )
            results["hub"].append({"companies": count, "seconds": time.perf_counter() - started})
            log(f"hub database with {count} companies in {time.perf_counter() - started:.0f} s")
            if largest:
                results["hub_queries"] = _hub_queries(hub_url, loaded, workdir / "hub-queries")
            for layout in wanted:
                for backend in BACKENDS:
                    key = (backend, layout)
                    point: dict[str, Any] = {"companies": count, "layout": layout, "backend": backend}
                    try:
                        if key not in measurements:
                            measurements[key] = Measurement(backend, layout, workdir, plan, today)
                        measurement = measurements[key]
                        if layout == "fleet" and not measurement.fleet_assets_ready():
                            point["history"] = None
                            point["note"] = "the fleet assets are not day-partitioned in this checkout yet"
                        else:
                            point["history"] = measurement.grow(count)
                            log(f"{backend}/{layout}/{count}: history {json.dumps(point['history'])}")
                        point["ticks"], requests, defs = measurement.ticks(
                            hub_url, plan["activations"], plan["repeats"]
                        )
                        log(f"{backend}/{layout}/{count}: ticks {json.dumps(point['ticks'])}")
                        if point["history"] is not None:
                            partition = yesterday.isoformat() if layout == "fleet" else f"co00000|{yesterday}"
                            point["graphql"] = measurement.pages(hub_url, plan["repeats"], partition)
                            log(f"{backend}/{layout}/{count}: pages {json.dumps(point['graphql']['pages'])}")
                            if layout == "fleet":
                                point["growth"] = measurement.fleet_growth(requests, defs)
                            else:
                                point["growth"] = measurement.daily_growth(requests, defs)
                            log(f"{backend}/{layout}/{count}: growth {json.dumps(point['growth'])}")
                    except Exception:
                        point["error"] = traceback.format_exc(limit=8)
                        log(f"{backend}/{layout}/{count} failed:\n{point['error']}")
                    results["points"].append(point)
        if "overhead" in args.layouts:
            from bench import scale_overhead

            try:
                results["overhead"] = scale_overhead.measure(workdir / "overhead", quick=args.quick)
            except Exception:
                results["overhead"] = {"error": traceback.format_exc(limit=8)}
    finally:
        for measurement in measurements.values():
            measurement.close()
        drop_created()
    emit(results)


# ------------------------------------------------------------------------------------------ the parent
def _points(results: dict[str, Any], layout: str, backend: str) -> list[dict[str, Any]]:
    return [p for p in results["points"] if p["layout"] == layout and p["backend"] == backend and "error" not in p]


def _get(point: dict[str, Any], *path: str) -> float:
    value: Any = point
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return float("nan")
        value = value[key]
    return float(value)


FIGURES: dict[str, tuple[str, tuple[str, ...], str, float | None]] = {
    # name: (title, path in a point, unit, fleet target at 10,000 on PostgreSQL)
    "schedule_s": ("daily schedule tick", ("ticks", "schedule_s"), "s", 5.0),
    "schedule_runs": ("runs the daily schedule requests", ("ticks", "schedule_runs"), "runs", None),
    "sensor_one_s": ("activation sensor tick, 1 new activation", ("ticks", "sensor_one_s"), "s", 1.0),
    "sensor_many_s": ("activation sensor tick, 1,000 new activations", ("ticks", "sensor_many_s"), "s", 10.0),
    "overview_s": ("GraphQL, asset overview page (slowest query)", ("graphql", "pages", "overview"), "s", 1.0),
    "partitions_s": ("GraphQL, partitions tab (slowest query)", ("graphql", "pages", "partitions"), "s", 1.0),
    "checks_s": ("GraphQL, checks tab (slowest query)", ("graphql", "pages", "checks"), "s", 1.0),
    "growth_mb": ("event log growth per day", ("growth", "bytes_per_day"), "MB", 50.0),
}


def _figure(point: dict[str, Any], name: str) -> float:
    value = _get(point, *FIGURES[name][1])
    return value / 1e6 if name == "growth_mb" else value


def _extrapolate(xs: list[float], ys: list[float], x: float) -> float:
    """Linear through the last two measured points (these figures grow with the partitions, i.e. linearly); a
    figure that did not grow between them (noise) is carried flat, never extrapolated downwards."""
    pairs = [(a, b) for a, b in zip(xs, ys, strict=True) if not math.isnan(b)]
    if len(pairs) < 2:
        return float("nan")
    (x1, y1), (x2, y2) = pairs[-2:]
    return y2 + max(0.0, (y2 - y1) / (x2 - x1)) * (x - x2)


def _cell(value: float, unit: str) -> str:
    if math.isnan(value):
        return "—"
    if unit == "s":
        return f"{value:.3f}"
    if unit == "MB":
        return f"{value:,.1f}"
    return fmt(value)


def _plot(results: dict[str, Any], name: str, counts: list[int]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    title, _, unit, target = FIGURES[name]
    fig, axis = plt.subplots(figsize=(7, 3.8))
    styles = {"sqlite": "--", "postgres": "-"}
    markers = {"sqlite": "s", "postgres": "o"}
    colors = {"company_day": "#d95f02", "fleet": "#1b9e77"}
    for layout in LAYOUTS:
        for backend in BACKENDS:
            points = _points(results, layout, backend)
            xs = [p["companies"] for p in points]
            ys = [_figure(p, name) for p in points]
            if not any(not math.isnan(y) for y in ys):
                continue
            axis.plot(
                xs, ys, styles[backend], marker=markers[backend], color=colors[layout], label=f"{layout}, {backend}"
            )
            if layout == "company_day" and xs and xs[-1] < GOAL_COMPANIES:
                guess = _extrapolate(xs, ys, GOAL_COMPANIES)
                if not math.isnan(guess):
                    axis.plot([xs[-1], GOAL_COMPANIES], [ys[-1], guess], ":", color=colors[layout], alpha=0.6)
    if target is not None:
        axis.axhline(target, color="#999999", linewidth=1, label=f"target {target:g} {unit} (fleet, 10,000)")
    axis.set_xscale("log")
    axis.set_xlabel("companies (dotted: company_day extrapolated)")
    axis.set_ylabel(unit)
    axis.set_title(f"Scale: {title}")
    axis.legend(fontsize=7)
    fig.tight_layout()
    PLOTS_DIR.mkdir(parents=True, exist_ok=True)
    path = PLOTS_DIR / f"scale_{name}.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return f"plots/{path.name}"


def _figure_table(results: dict[str, Any], name: str, counts: list[int]) -> Table:
    title, _, unit, _target = FIGURES[name]
    rows = []
    for layout in LAYOUTS:
        for backend in BACKENDS:
            points = {p["companies"]: p for p in _points(results, layout, backend)}
            if not points:
                continue
            measured = [(c, _figure(points[c], name)) for c in counts if c in points]
            row: list[Any] = [layout, backend]
            for count in counts:
                if count in points:
                    row.append(_cell(_figure(points[count], name), unit))
                elif layout == "company_day" and count > max(points):
                    guess = _extrapolate([c for c, _ in measured], [v for _, v in measured], count)
                    row.append(f"≈{_cell(guess, unit)} (extrapolated)" if not math.isnan(guess) else "—")
                else:
                    row.append("—")
            rows.append(row)
    return Table(f"{title} ({unit})", ["layout", "instance", *[f"{c:,} companies" for c in counts]], rows)


def _history_table(results: dict[str, Any]) -> Table:
    rows = []
    for point in results["points"]:
        history = point.get("history")
        if point.get("error"):
            rows.append([point["layout"], point["backend"], fmt(point["companies"]), "failed", "", "", "", "", ""])
            continue
        if not history:
            rows.append(
                [point["layout"], point["backend"], fmt(point["companies"]), point.get("note", ""), "", "", "", "", ""]
            )
            continue
        rows.append(
            [
                point["layout"],
                point["backend"],
                fmt(point["companies"]),
                fmt(history["runs_copied"]),
                fmt(history["event_rows"]),
                fmt(history["materialized_partitions"]),
                fmt(history["expected_partitions"]),
                f"{history['storage_bytes'] / 1e9:.2f}",
                f"{history['seconds']:.0f}",
            ]
        )
    return Table(
        "History written (cumulative per instance) and what Dagster's get_materialized_partitions counts",
        [
            "layout",
            "instance",
            "companies",
            "runs copied (this step)",
            "event rows (this step)",
            "materialized partitions (Dagster)",
            "expected",
            "instance GB",
            "step s",
        ],
        rows,
    )


def _queries_table(results: dict[str, Any]) -> Table:
    rows = []
    for point in results["points"]:
        queries = (point.get("graphql") or {}).get("queries") or {}
        for name, timing in queries.items():
            rows.append(
                [
                    point["layout"],
                    point["backend"],
                    fmt(point["companies"]),
                    name,
                    f"{timing['cold']:.3f}",
                    f"{timing['median']:.3f}",
                    f"{timing['max']:.3f}",
                ]
            )
    return Table(
        "Every GraphQL query (s): cold first request, then median and max of the repeats",
        ["layout", "instance", "companies", "query", "cold", "median", "max"],
        rows,
    )


def _cold_status(point: dict[str, Any]) -> float:
    """The slowest first request of the asset pages: the one that rebuilt the partition status cache (the
    overview's ``AssetGraphLiveQuery`` is the first to need it)."""
    queries = (point.get("graphql") or {}).get("queries") or {}
    return max((q["cold"] for q in queries.values()), default=float("nan"))


def _issue_table(results: dict[str, Any]) -> Table:
    """The issue's table, redone for company_day (both instances)."""
    rows = []
    for backend in BACKENDS:
        for point in _points(results, "company_day", backend):
            history = point.get("history") or {}
            graphql = point.get("graphql") or {}
            rows.append(
                [
                    backend,
                    fmt(point["companies"]),
                    fmt(history.get("materialized_partitions", float("nan"))),
                    _cell(_get(point, "graphql", "pages", "partitions"), "s"),
                    _cell(_cold_status(point), "s") if graphql else "—",
                    _cell(_get(point, "ticks", "sensor_one_s"), "s"),
                    f"{history.get('storage_bytes', float('nan')) / 1e6:,.0f} MB",
                ]
            )
        points = _points(results, "company_day", backend)
        if points and points[-1]["companies"] < 1000:  # the issue's 1,000 row, extrapolated as the issue did
            xs = [p["companies"] for p in points]

            def guess(*path: str, points: list[dict[str, Any]] = points, xs: list[int] = xs) -> float:
                return _extrapolate(xs, [_get(p, *path) for p in points], 1000)

            rows.append(
                [
                    backend,
                    "1,000 (extrapolated)",
                    fmt(1000 * results["plan"]["history_days"]),
                    f"≈{_cell(guess('graphql', 'pages', 'partitions'), 's')}",
                    f"≈{_cell(_extrapolate(xs, [_cold_status(p) for p in points], 1000), 's')}",
                    f"≈{_cell(guess('ticks', 'sensor_one_s'), 's')}",
                    f"≈{guess('history', 'storage_bytes') / 1e6:,.0f} MB",
                ]
            )
    return Table(
        "The issue's table for company_day: one e-invoice asset, 1,095 days per company",
        [
            "instance",
            "companies",
            "partitions per asset",
            "GraphQL partitions page (median)",
            "status cache cold (slowest first request)",
            "1 new activation tick",
            "storage",
        ],
        rows,
    )


def _targets(results: dict[str, Any]) -> list[Target]:
    goal = [p for p in _points(results, "fleet", "postgres") if p["companies"] == max(results["plan"]["counts"])]
    point = goal[0] if goal else {}
    from integration_hub.settings import CollectionConfig

    companies = max(results["plan"]["counts"])
    shard = CollectionConfig().companies_per_run
    where = f"fleet, PostgreSQL, {companies:,} companies"
    targets = [
        Target(
            f"{FIGURES[name][0]} ({where})",
            _figure(point, name) if point else float("nan"),
            "<=",
            float(FIGURES[name][3] or 0),
        )
        for name in (
            "schedule_s",
            "sensor_one_s",
            "sensor_many_s",
            "overview_s",
            "partitions_s",
            "checks_s",
            "growth_mb",
        )
    ]
    targets.insert(
        1,
        Target(
            f"runs the daily schedule requests per integration ({where})",
            _figure(point, "schedule_runs") if point else float("nan"),
            "<=",
            float(math.ceil(companies / shard)),
            "one tick",
        ),
    )
    for point in results["points"]:
        ticks = point.get("ticks") or {}
        if point["companies"] == companies and "sensor_event_log_reads" in ticks:
            targets.append(
                Target(
                    f"event-log statements in the schedule and activation-sensor ticks ({point['layout']}, "
                    f"{point['backend']}, {companies:,})",
                    float(ticks["schedule_event_log_reads"] + ticks["sensor_event_log_reads"]),
                    "<=",
                    0,
                    "all ticks",
                )
            )
    overhead = results.get("overhead") or {}
    targets.append(
        Target(
            "Dagster bookkeeping share of a fleet backfill at the published rate limit",
            float(overhead.get("bookkeeping_share", float("nan"))),
            "<=",
            0.10,
            "single pass",
        )
    )
    targets.append(
        Target(
            "the hub's Dagster layer over Dagster alone, same shape (ratio − 1)",
            float(overhead.get("hub_over_alone", float("nan"))),
            "<=",
            0.10,
            "single pass",
        )
    )
    for point in results["points"]:
        history = point.get("history")
        if history:
            targets.append(
                Target(
                    f"partitions Dagster counts as materialized − expected ({point['layout']}, {point['backend']}, "
                    f"{point['companies']:,})",
                    abs(history["materialized_partitions"] - history["expected_partitions"]),
                    "<=",
                    0,
                    "exact",
                )
            )
    return targets


def _hub_queries_results(measured: dict[str, Any]) -> tuple[list[Table], list[Target]]:
    """Tables and targets of bench/hub_queries.py's measurements, as its own run() judges them."""
    from bench import hub_queries

    if "timings" not in measured:
        error = str(measured.get("error", "not measured")).strip().splitlines()[-1]
        return [Table("Hub queries at fleet scale", ["result"], [[f"failed: {error}"]])], [
            Target("hub queries (bench/hub_queries.py) ran", 0.0, ">=", 1.0, "ran")
        ]
    where = f"PostgreSQL {measured['companies']:,} companies"
    rows, targets = [], []
    for name, values in measured["timings"].items():
        rows.append([name, str(len(values)), Summary.of([v * 1000 for v in values]).fmt(1)])
        limit = {"coverage: one day": 0.1, "inventory: one company/integration/day": 0.1, "fleet summary": 2.0}
        if name in limit:
            targets.append(Target(f"hub queries, {where}: {name} (s)", Summary.of(values).median, "<=", limit[name]))
    for command, seconds in measured.get("cli", {}).items():
        rows.append([f"CLI process: integration-hub {command}", "1", fmt(seconds * 1000, 0)])
    plans = []
    for name, (plan, table, statements) in measured["plans"].items():
        plans.append([name, str(statements), plan])
        if name != "fleet summary":
            targets.append(
                Target(
                    f"hub queries: the {name} reads {table} through an index",
                    float(hub_queries._uses_index(plan, table)),
                    ">=",
                    1.0,
                    "plan",
                )
            )
    targets.append(
        Target(
            "hub queries: the fleet summary counts what was planted",
            float(measured["summary_matches"]),
            ">=",
            1.0,
            "exact",
        )
    )
    return [
        Table(
            f"Hub queries at fleet scale ({where}, {measured['coverage_rows']:,} coverage rows; "
            "bench/hub_queries.py's measurements on this pass's hub database), ms, min / median / max",
            ["question", "samples", "ms"],
            rows,
            note="CLI process rows are one run each, interpreter start and imports included.",
        ),
        Table(
            "Hub queries — query plans of the statements those calls ran", ["call", "SQL statements", "scans"], plans
        ),
    ], targets


def run(quick: bool = False, measured: dict[str, Any] | None = None) -> Section:
    """The scale pass (its child), or, given ``measured`` (a pass's raw results), only its tables and targets."""
    plan = QUICK if quick else FULL
    if measured is None:
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as workdir:
            results = run_child(
                "bench.scale", ["--workdir", workdir, *(["--quick"] if quick else [])], timeout=3600, stream_stderr=True
            )
        raw = Path(tempfile.gettempdir()) / "bench-scale-results.json"  # every measured number, for a closer look
        raw.write_text(json.dumps(results, indent=1, default=str))
        log(f"raw results in {raw} (python -m bench.scale render {raw} --minutes M renders them again)")
    else:
        results = measured
        plan = results["plan"]
    activations = f"{plan['activations']:,} new activations"
    FIGURES["sensor_many_s"] = (f"activation sensor tick, {activations}", *FIGURES["sensor_many_s"][1:])
    counts = plan["counts"]
    tables = [_figure_table(results, name, counts) for name in FIGURES]
    tables += [_issue_table(results), _history_table(results), _queries_table(results)]
    from bench import scale_overhead

    tables.append(scale_overhead.table(results.get("overhead") or {}))
    targets = _targets(results)
    hub_tables, hub_targets = _hub_queries_results(results.get("hub_queries") or {"error": "not measured"})
    tables += hub_tables
    targets += hub_targets
    failures = [
        f"{p['layout']}/{p['backend']}/{p['companies']}: {p['error']}" for p in results["points"] if p.get("error")
    ]
    notes = sorted({f"{p['layout']}: {p['note']}" for p in results["points"] if p.get("note")})
    method = (__doc__ or "") + "".join(f"\n\n**Not measured:** {note}." for note in notes)
    if failures:
        method += "\n\n**Failures:**\n\n```\n" + "\n\n".join(failures)[:6000] + "\n```"
    return Section(
        key="scale",
        title="6. Scale",
        method=method,
        tables=tables,
        targets=targets,
        plots=[_plot(results, name, counts) for name in FIGURES],
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale child")
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--layouts", nargs="+", default=[*LAYOUTS, "overhead"])
    child(parser.parse_args(argv))


def render_saved(argv: list[str]) -> None:
    """``python -m bench.scale render RESULTS.json --minutes M``: results-scale.md and results.md's scale block
    again from a pass's raw results (a rendering change needs no new 20-minute pass)."""
    from bench.common import BENCH_DIR, machine_info
    from bench.run import SCALE_PAGE, render, scale_block, write_scale_block

    parser = argparse.ArgumentParser(prog="python -m bench.scale render")
    parser.add_argument("results")
    parser.add_argument("--minutes", type=float, required=True, help="how long the pass took")
    parser.add_argument("--page", default="", help="write this page instead (results.md's block is left alone)")
    args = parser.parse_args(argv)
    results = json.loads(Path(args.results).read_text())
    quick = results["plan"]["counts"] == QUICK["counts"]
    section = run(quick, measured=results)
    section.seconds = args.minutes * 60
    (BENCH_DIR / (args.page or SCALE_PAGE)).write_text(
        render([section], machine_info(), quick=quick, seconds=section.seconds, scale_pass=True), encoding="utf-8"
    )
    if not args.page:
        write_scale_block(scale_block(section, quick=quick))
    for target in section.targets:
        print(f"{'ok    ' if target.ok else 'MISSED'} {target.describe()}")


if __name__ == "__main__" and sys.argv[1:2] == ["child"]:
    main(sys.argv[2:])
elif __name__ == "__main__" and sys.argv[1:2] == ["render"]:
    render_saved(sys.argv[2:])
