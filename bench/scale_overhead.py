"""What Dagster and the hub's Dagster layer add to a fleet backfill when the provider's rate limit sets the pace.

A shard of 20 just-connected companies backfills 92 days (one block of the fleet activation sensor) of the
e-invoice stream from the fake provider (:mod:`bench.scale_connector`), whose every request waits
``SECONDS_PER_REQUEST`` = 0.5 s: Karbon's published 120 requests per minute per account, the tightest of the hub's
providers. The hub database and the Dagster instance are PostgreSQL, as in production (the instance from the
project's ``dagster.yaml``). Three passes of the same work, each on a fresh hub database:

1. **connectors + store alone**: per company one ``collect(stream, window)`` and one ``replace_window`` — the
   waits and the writes, no Dagster;
2. **Dagster alone**: a plain ``dg.asset`` partitioned by day, one run over the days (single-run backfill policy),
   whose body does exactly pass 1's loop; executed in process on the same kind of instance;
3. **the hub**: the real fleet definitions' ``collect_<id>`` run over the days with the shard in run config
   (what the fleet activation sensor requests), executed in process like the run worker does.

Bookkeeping share = (pass 3 − pass 1) ÷ pass 3 (target ≤ 10 %); the hub's layer over Dagster alone = pass 3 ÷
pass 2 − 1 (target ≤ 10 %). Single passes: the machine is shared, so these carry its noise.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import Table, fmt

INTEGRATION = "uyumsoft"
STREAM = "invoices"
SECONDS_PER_REQUEST = 0.5  # Karbon: 120 requests per minute per account
# A just-connected company's first backfill block (HUB_MAX_DAYS_PER_RUN days) at two invoices a day: 552 records,
# 6 requests, 3 s of rate-limit waits per company; 20 companies, so Dagster's fixed cost per run (≈3 s here) weighs
# as it would in a shard of a few dozen companies, not of 500 (where it would vanish).
FULL = {"companies": 20, "days": 92}
QUICK = {"companies": 4, "days": 10}
FAKE_SETTINGS = {"seconds_per_request": SECONDS_PER_REQUEST, "invoices_per_day": 2, "page_size": 100}


def _hub(name: str, companies: int, start: date) -> tuple[str, list[str]]:
    from bench.scale_hub import add_activations, fresh_database, new_company
    from integration_hub.store.database import make_engine, upgrade

    url = fresh_database(name)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    add_activations(url, companies, start, settings=FAKE_SETTINGS)
    return url, [new_company(i) for i in range(companies)]


def _collect_and_write(url: str, companies: list[str], first: date, last: date, run_id: str) -> int:
    """Pass 1's loop (also pass 2's asset body): the connector and the store, nothing else."""
    from bench.scale_hub import PASSWORD
    from integration_hub.connectors import build_connector
    from integration_hub.connectors.base import ConnectorConfig, DateWindow
    from integration_hub.store.database import make_engine
    from integration_hub.store.inventory import replace_window

    engine = make_engine(url)
    rows = 0
    window = DateWindow.inclusive(first, last)
    try:
        for company in companies:
            connector = build_connector(
                INTEGRATION, ConnectorConfig(dict(FAKE_SETTINGS), {"password": PASSWORD}, company=company)
            )
            try:
                result = replace_window(
                    engine,
                    company=company,
                    integration_id=INTEGRATION,
                    stream=STREAM,
                    window=window,
                    records=connector.collect(STREAM, window),
                    run_id=run_id,
                )
                rows += result.total
            finally:
                connector.close()
    finally:
        engine.dispose()
    return rows


def measure(workdir: Path, *, quick: bool) -> dict[str, Any]:
    import dagster as dg

    from bench.scale_instance import DagsterBackend
    from integration_hub.assets import build_assets
    from integration_hub.definitions import build_definitions
    from integration_hub.jobs import fleet_run_tags
    from integration_hub.local_runs import QUIET_RUN_CONFIG, execute_run
    from integration_hub.resources.hub import HubResource
    from integration_hub.resources.shard import shard_run_config
    from integration_hub.settings import CollectionConfig

    plan = QUICK if quick else FULL
    config = CollectionConfig(partitioning="fleet")
    if not isinstance(build_assets(config)[INTEGRATION][0].partitions_def, dg.DailyPartitionsDefinition):
        return {"error": "the fleet assets are not day-partitioned in this checkout yet", **plan}
    today = datetime.now(UTC).date()
    first, last = today - timedelta(days=plan["days"]), today - timedelta(days=1)
    out: dict[str, Any] = {**plan, "seconds_per_request": SECONDS_PER_REQUEST}

    url, companies = _hub("bench_scale_overhead_alone", plan["companies"], first)
    started = time.perf_counter()
    out["alone_rows"] = _collect_and_write(url, companies, first, last, "bench-alone")
    out["alone_s"] = time.perf_counter() - started

    url, companies = _hub("bench_scale_overhead_dagster", plan["companies"], first)
    days = dg.DailyPartitionsDefinition(start_date=config.partitions_start, timezone="UTC")

    @dg.asset(
        key=dg.AssetKey(["plain", INTEGRATION]),
        partitions_def=days,
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def plain(context):  # type: ignore[no-untyped-def]  # (no annotations: Dagster resolves them at definition)
        window = context.partition_time_window
        rows = _collect_and_write(
            url, companies, window.start.date(), window.end.date() - timedelta(days=1), context.run.run_id
        )
        return dg.MaterializeResult(metadata={"rows": rows})

    plain_defs = dg.Definitions(assets=[plain], jobs=[dg.define_asset_job("plain", selection=[plain])])
    instance_home = workdir / "dagster-plain"
    backend = DagsterBackend.create("postgres", instance_home, "bench_scale_overhead_plain_dg")
    with backend.instance() as instance:
        started = time.perf_counter()
        result = plain_defs.resolve_job_def("plain").execute_in_process(
            instance=instance,
            run_config=QUIET_RUN_CONFIG,
            tags={
                "dagster/asset_partition_range_start": first.isoformat(),
                "dagster/asset_partition_range_end": last.isoformat(),
            },
        )
        out["dagster_alone_s"] = time.perf_counter() - started
        if not result.success:
            raise RuntimeError("the Dagster-alone run failed")

    url, companies = _hub("bench_scale_overhead_hub", plan["companies"], first)
    hub = HubResource(hub_home=str(workdir / "hub-home"), database_url=url)
    defs = build_definitions(config, hub=hub)
    backend = DagsterBackend.create("postgres", workdir / "dagster-hub", "bench_scale_overhead_hub_dg")
    with backend.instance() as instance:
        request = dg.RunRequest(
            job_name=f"collect_{INTEGRATION}",
            tags=fleet_run_tags(INTEGRATION, first, last, shard="1/1"),
            run_config=shard_run_config(companies),
        )
        started = time.perf_counter()
        summary = execute_run(defs, instance, INTEGRATION, request)
        out["hub_s"] = time.perf_counter() - started
        if not summary.success:
            raise RuntimeError(f"the hub's fleet run failed: {summary.error}")
        out["hub_rows"] = summary.rows
    out["bookkeeping_share"] = (out["hub_s"] - out["alone_s"]) / out["hub_s"]
    out["hub_over_alone"] = out["hub_s"] / out["dagster_alone_s"] - 1
    return out


def table(overhead: dict[str, Any]) -> Table:
    if not overhead or "hub_s" not in overhead:
        return Table(
            "Dagster overhead at the published rate limit (fleet layout)",
            ["result"],
            [[f"not measured: {str(overhead.get('error', 'no result')).strip().splitlines()[-1]}"]],
        )
    rows = [
        ["connectors + store alone", f"{overhead['alone_s']:.2f}", "", fmt(overhead["alone_rows"])],
        ["Dagster alone (plain day-partitioned asset, same loop)", f"{overhead['dagster_alone_s']:.2f}", "", ""],
        [
            "the hub (fleet collect run, shard in run config)",
            f"{overhead['hub_s']:.2f}",
            f"bookkeeping {overhead['bookkeeping_share'] * 100:.1f} %; over Dagster alone "
            f"{overhead['hub_over_alone'] * 100:+.1f} %",
            fmt(overhead.get("hub_rows", 0)),
        ],
    ]
    return Table(
        f"Dagster overhead at the published rate limit (fleet layout): {overhead['companies']} companies × "
        f"{overhead['days']} days, {overhead['seconds_per_request']} s per request",
        ["pass", "wall s", "share", "rows"],
        rows,
    )
