"""``integration-hub collect INTEGRATION --company X [--from D] [--to D] [--wait]``: collect a connection's days now.

On a deployment (``DAGSTER_HOME`` pointing at a non-embedded instance) it requests the collection as one tagged
backfill through the instance, which the backfill daemon splits into ranged runs, exactly like an onboarding; with
``--wait`` it follows the backfill to its end. On the embedded default it runs the same backfill in this process
(``local_runs``), with a progress bar (days done / total, records, requests, time left) and one line per finished
ranged run, so a 61-day onboarding is never minutes of silence. Exit 0 when every run succeeded, 1 otherwise.

Both layouts (``HUB_PARTITIONING``): in ``company_day`` the backfill targets the company's partitions (added first
if the sensor has not yet); in ``fleet`` it targets the days and names the company in its run config, which the
backfill daemon (and ``local_runs``) gives every ranged run. Either way a company backfill is one action.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from integration_hub.cli.activity import parse_day
from integration_hub.cli.context import console, err_console, fail, handle_errors, service
from integration_hub.connectors.base import DateWindow
from integration_hub.service import ValidationError

EMBEDDED_MARKER = "# Written by integration_hub.instance for the embedded default"
POLL_SECONDS = 2.0


@handle_errors
def collect(
    integration: str = typer.Argument(..., help="Integration id, e.g. uyumsoft or karbon."),
    company: str = typer.Option(..., "--company", "-c"),
    first: str | None = typer.Option(None, "--from", help="First day (YYYY-MM-DD; default: the start date)."),
    last: str | None = typer.Option(None, "--to", help="Last day, included (YYYY-MM-DD; default: yesterday)."),
    wait: bool = typer.Option(False, "--wait", help="On a deployment, follow the backfill until it ends."),
) -> None:
    """Collect a connection's days now, as one backfill (in this process on the embedded instance)."""
    from integration_hub.assets.streams import streams_of

    svc = service()
    svc.definition(integration, require_available=False)
    first_day, last_day = parse_day(first, "--from"), parse_day(last, "--to")
    record = svc.get(company, integration)
    if not record.collecting:
        raise ValidationError(f"{company}/{integration} is {record.state}; collection happens only while connected")
    if not streams_of(integration):
        raise ValidationError(f"nothing is collected for {integration} yet (no streams)")
    start = record.start_date
    if start is None:
        raise ValidationError(f"{company}/{integration} has no start date")
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    first_day, last_day = _clip(first_day or start, last_day or yesterday, start, yesterday)
    from integration_hub.backfills import BackfillPlan
    from integration_hub.settings import CollectionConfig

    config = CollectionConfig.from_env()
    days = tuple(DateWindow.inclusive(first_day, last_day).days())
    plan = BackfillPlan(integration, company, days, "cli", config.partitions_start if config.fleet else None)
    home = _deployment_home()
    if home is not None:
        raise typer.Exit(_request_on_deployment(plan, wait))
    raise typer.Exit(_run_embedded(plan, svc.store.settings))


def _clip(first: date, last: date, start: date, yesterday: date) -> tuple[date, date]:
    """The days asked for, within start date .. yesterday (each clip said on stderr); an empty range is an error."""
    if first < start:
        err_console.print(f"notice: --from {first} is before the start date; collecting from {start}", markup=False)
        first = start
    if last > yesterday:
        err_console.print(f"notice: --to {last} is not over yet; collecting up to {yesterday}", markup=False)
        last = yesterday
    if last < first:
        raise ValidationError(f"nothing to collect: {first} is after {last}")
    return first, last


def _deployment_home() -> Path | None:
    """``DAGSTER_HOME`` when it is a deployment's instance; None for the embedded default (unset, or written by
    ``integration_hub.instance``)."""
    raw = os.environ.get("DAGSTER_HOME")
    if not raw:
        return None
    config = Path(raw) / "dagster.yaml"
    if not config.exists():
        raise ValidationError(f"DAGSTER_HOME={raw} has no dagster.yaml")
    return None if config.read_text().startswith(EMBEDDED_MARKER) else Path(raw)


def _asset_keys(integration_id: str) -> list[Any]:
    from integration_hub.assets.streams import streams_of

    return [spec.asset_key for spec in streams_of(integration_id)]


# ------------------------------------------------------------------------------------------ deployment
def _request_on_deployment(plan, wait: bool) -> int:  # type: ignore[no-untyped-def]
    import dagster as dg
    from dagster._core.utils import make_new_backfill_id

    from integration_hub.assets.partitions import companies_partitions_name
    from integration_hub.backfills import IN_FLIGHT

    with dg.DagsterInstance.get() as instance:
        name = companies_partitions_name(plan.integration_id)
        if not plan.fleet and not instance.has_dynamic_partition(name, plan.company):
            instance.add_dynamic_partitions(name, [plan.company])
        backfill_id = make_new_backfill_id()
        instance.add_backfill(plan.backfill(backfill_id, _asset_keys(plan.integration_id), instance, time.time()))
        console.print(f"backfill {backfill_id} requested: {plan.title}", markup=False)
        if not wait:
            return 0
        while True:
            backfill = instance.get_backfill(backfill_id)
            if backfill is None or backfill.status not in IN_FLIGHT:
                break
            time.sleep(POLL_SECONDS)
        status = backfill.status.value if backfill else "missing"
        console.print(f"backfill {backfill_id}: {status}", markup=False)
        return 0 if status == "COMPLETED_SUCCESS" else 1


# ------------------------------------------------------------------------------------------ embedded
def _run_embedded(plan, settings) -> int:  # type: ignore[no-untyped-def]
    import dagster as dg

    from integration_hub.assets.streams import streams_of
    from integration_hub.cli.progress import TRACKERS, TrackedHub, Tracker
    from integration_hub.definitions import build_definitions
    from integration_hub.instance import ensure_embedded_instance
    from integration_hub.local_runs import execute_backfill

    dagster_home = Path(os.environ.get("DAGSTER_HOME") or settings.dagster_home)
    ensure_embedded_instance(dagster_home)
    tracker_id = f"{plan.integration_id}.{plan.company}.{time.monotonic_ns()}"
    hub = TrackedHub(hub_home=str(settings.home), database_url=settings.database_url, tracker_id=tracker_id)
    defs = build_definitions(hub=hub)
    progress = Progress(
        TextColumn(f"{plan.integration_id} {plan.company}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f} days"),
        TextColumn("{task.fields[records]} records, {task.fields[requests]} requests"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    console.print(f"collecting {plan.title} in this process (instance: {dagster_home})", markup=False)
    failures: list[str] = []
    with progress, dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        name = f"{plan.integration_id}_companies"
        if not plan.fleet and not instance.has_dynamic_partition(name, plan.company):
            instance.add_dynamic_partitions(name, [plan.company])
        task = progress.add_task("collect", total=len(plan.days), records="0", requests="0")
        tracker = TRACKERS[tracker_id] = Tracker(progress, task, len(streams_of(plan.integration_id)))

        def started(backfill_id: str, runs: list[dg.RunRequest]) -> None:
            tracker.run_days = [_days_in(run) for run in runs]
            progress.console.print(f"backfill {backfill_id}: {len(runs)} ranged run(s)", markup=False)

        def finished(summary) -> None:  # type: ignore[no-untyped-def]
            tracker.run_finished()
            progress.console.print(f"  {summary.line()}", markup=False, highlight=False)
            if not summary.success:
                failures.append(f"{summary.first_key} .. {summary.last_key}: {summary.error or 'failed'}")

        try:
            outcome = execute_backfill(
                defs,
                instance,
                plan.integration_id,
                plan.run_request(_asset_keys(plan.integration_id)),
                description=plan.description,
                run_config=plan.run_config,
                on_start=started,
                on_run=finished,
            )
        finally:
            TRACKERS.pop(tracker_id, None)
    rows = sum(run.rows for run in outcome.runs)
    requests = sum(run.requests for run in outcome.runs)
    if failures:
        raise fail(f"{len(failures)} of {len(outcome.runs)} run(s) failed; first: {failures[0]}", 1)
    console.print(
        f"collected {plan.title}: {rows:,} rows, {requests:,} requests, backfill {outcome.backfill_id}",
        markup=False,
        highlight=False,
    )
    return 0


def _days_in(run: Any) -> int:
    from integration_hub.jobs import RANGE_END_TAG, RANGE_START_TAG

    first = date.fromisoformat(run.tags[RANGE_START_TAG].rpartition("|")[2])
    last = date.fromisoformat(run.tags[RANGE_END_TAG].rpartition("|")[2])
    return (last - first).days + 1
