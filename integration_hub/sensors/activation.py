"""The activation sensor: turns new activations (Connect / Resume / Edit in the activity log) into collection.

Each tick reads the activity-log entries after the cursor for this integration, then, for the companies concerned
that are connected (not paused) and have a start date, the days from the start date to yesterday that the hub's
coverage records say some stream has not collected yet. A first connect backfills the whole history, a resume
continues where collection stopped, an earlier start date fills the new gap, and days already targeted by
unfinished work of the same integration are not requested twice. Paused and disconnected connections get nothing.

What it requests depends on the layout (``CollectionConfig.fleet``):

* ``company_day``: the company's dynamic partition (if new) and **one Dagster backfill per connection** (the
  Backfills tab shows it with its progress); the assets' ``BackfillPolicy.multi_run(HUB_MAX_DAYS_PER_RUN)``
  splits it into ranged runs.
* ``fleet``: no partitions to add. The missing days of all the tick's companies are cut into blocks of
  ``HUB_MAX_DAYS_PER_RUN`` days aligned on ``HUB_PARTITIONS_START`` (so repeated ticks give the same ranges);
  per block, the companies with missing days in it are split into shards of ``HUB_COMPANIES_PER_RUN``, and each
  shard is one ``collect_<id>`` run over the block's first..last missing day, its companies in run config.

Statements per tick do not grow with the number of activations: one activity-log query, one connection query and
one grouped coverage query per 500 companies, one query on the backfill (or run) table. Never Dagster's event
log. The cursor is the last activity entry seen, so a tick never requests the same work twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from integration_hub.assets.partitions import companies_def, companies_partitions_name
from integration_hub.assets.streams import StreamSpec
from integration_hub.backfills import (
    TRIGGER_TAG,
    BackfillPlan,
    day_blocks,
    first_few,
    in_flight_days,
    uncollected,
)
from integration_hub.connectors.base import DateWindow
from integration_hub.jobs import fleet_run_tags, job_name
from integration_hub.resources.hub import HubResource
from integration_hub.resources.shard import shard_run_config, shards
from integration_hub.settings import CollectionConfig
from integration_hub.store import connections as connection_rows

TRIGGER = "activation"


@dataclass(frozen=True)
class Activations:
    """What one tick found: the cursor to store, the collecting companies (with a start date), per company its
    window (none yet when the start date is today), and who was left out (paused, disconnected, no start date)."""

    cursor: str
    collecting: list[str]
    windows: dict[str, DateWindow]
    not_collecting: list[str]


def read_activations(
    hub: HubResource, integration_id: str, cursor: int, start_floor: date, yesterday: date
) -> Activations | None:
    """New activations after ``cursor`` and the windows (start date or ``start_floor`` .. yesterday) of the
    companies concerned that are collecting; ``None`` when the activity log has nothing new."""
    events = hub.activations_after(integration_id, cursor)
    if not events:
        return None
    companies = sorted({event.company for event in events if event.company})
    with hub.store.engine.connect() as conn:
        records = connection_rows.get_many(conn, integration_id, companies)
    collecting: list[str] = []
    windows: dict[str, DateWindow] = {}
    left_out: list[str] = []
    for company in companies:
        record = records.get(company)
        if record is None or not record.collecting or record.start_date is None:
            left_out.append(company)
            continue
        collecting.append(company)
        first = max(record.start_date, start_floor)
        if first <= yesterday:
            windows[company] = DateWindow.inclusive(first, yesterday)
    return Activations(str(events[-1].id), collecting, windows, left_out)


def missing_days(
    hub: HubResource,
    instance: dg.DagsterInstance,
    integration_id: str,
    streams: Sequence[StreamSpec],
    windows: dict[str, DateWindow],
    *,
    runs: bool = False,
) -> tuple[dict[str, tuple[date, ...]], int]:
    """Per company, the days coverage says are missing and no unfinished backfill targets yet (companies with
    none left out), and how many company-days were left out because unfinished work already has them
    (backfills; with ``runs`` also queued and running fleet runs)."""
    busy = in_flight_days(instance, integration_id, windows, runs=runs)
    todo: dict[str, tuple[date, ...]] = {}
    skipped = 0
    for company, days in uncollected(hub.store, integration_id, streams, windows).items():
        held = busy.get(company, set()) | busy.get("", set())
        kept = tuple(day for day in days if day not in held) if held else tuple(days)
        skipped += len(days) - len(kept)
        if kept:
            todo[company] = kept
    return todo, skipped


def make_activation_sensor(
    integration_id: str,
    streams: Sequence[StreamSpec],
    config: CollectionConfig,
    *,
    today: Callable[[], date] = lambda: datetime.now(UTC).date(),
) -> dg.SensorDefinition:
    """``<id>_activation_sensor`` for the layout ``config`` chooses."""
    if config.fleet:
        return _fleet_sensor(integration_id, streams, config, today)
    return _company_day_sensor(integration_id, streams, config, today)


def _company_day_sensor(
    integration_id: str, streams: Sequence[StreamSpec], config: CollectionConfig, today: Callable[[], date]
) -> dg.SensorDefinition:
    partitions_name = companies_partitions_name(integration_id)
    start_floor = date.fromisoformat(config.partitions_start)
    asset_keys = [spec.asset_key for spec in streams]

    @dg.sensor(
        name=f"{integration_id}_activation_sensor",
        asset_selection=asset_keys,
        minimum_interval_seconds=config.sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Backfills newly connected or resumed {integration_id} connections from their start date, "
        "one asset backfill per connection.",
    )
    def _sensor(context: dg.SensorEvaluationContext, hub: HubResource) -> dg.SensorResult | dg.SkipReason:
        cursor = int(context.cursor or 0)
        found = read_activations(hub, integration_id, cursor, start_floor, today() - timedelta(days=1))
        if found is None:
            return dg.SkipReason(f"no new {integration_id} activations after entry {cursor}")
        known = set(context.instance.get_dynamic_partitions(partitions_name))
        # Partitions for every collecting company, even one starting today (the daily schedule needs it tomorrow).
        to_add = [company for company in found.collecting if company not in known]
        todo, skipped = missing_days(hub, context.instance, integration_id, streams, found.windows)
        plans = [BackfillPlan(integration_id, company, days, TRIGGER) for company, days in sorted(todo.items())]
        context.log.info(
            f"{len(found.collecting)} collecting {integration_id} connection(s) activated: {len(plans)} backfill(s) "
            f"requested ({first_few([plan.title for plan in plans]) or 'none'}); {skipped} day(s) already in an "
            f"unfinished backfill; {len(found.not_collecting)} not collecting"
        )
        return dg.SensorResult(
            run_requests=[plan.run_request(asset_keys) for plan in plans],
            cursor=found.cursor,
            dynamic_partitions_requests=[companies_def(integration_id).build_add_request(to_add)] if to_add else [],
        )

    return _sensor


def _fleet_sensor(
    integration_id: str, streams: Sequence[StreamSpec], config: CollectionConfig, today: Callable[[], date]
) -> dg.SensorDefinition:
    start_floor = date.fromisoformat(config.partitions_start)

    @dg.sensor(
        name=f"{integration_id}_activation_sensor",
        job_name=job_name(integration_id),
        minimum_interval_seconds=config.sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Collects the missing history of newly connected or resumed {integration_id} connections: "
        f"runs over aligned blocks of {config.max_days_per_run} days, shards of {config.companies_per_run} "
        "companies.",
    )
    def _sensor(context: dg.SensorEvaluationContext, hub: HubResource) -> dg.SensorResult | dg.SkipReason:
        cursor = int(context.cursor or 0)
        found = read_activations(hub, integration_id, cursor, start_floor, today() - timedelta(days=1))
        if found is None:
            return dg.SkipReason(f"no new {integration_id} activations after entry {cursor}")
        todo, skipped = missing_days(hub, context.instance, integration_id, streams, found.windows, runs=True)
        requests: list[dg.RunRequest] = []
        blocks = day_blocks(todo, start_floor, config.max_days_per_run)
        for block in blocks:
            parts = shards(block.companies, config.companies_per_run)
            for number, shard in enumerate(parts, start=1):
                label = f"{number}/{len(parts)}"
                requests.append(
                    dg.RunRequest(
                        run_key=f"{integration_id}:{TRIGGER}:{found.cursor}:{block.first}..{block.last}:{label}",
                        job_name=job_name(integration_id),
                        tags={
                            **fleet_run_tags(integration_id, block.first, block.last, shard=label),
                            TRIGGER_TAG: TRIGGER,
                        },
                        run_config=shard_run_config(shard),
                    )
                )
        missing = sum(len(days) for days in todo.values())
        context.log.info(
            f"{len(found.collecting)} collecting {integration_id} connection(s) activated "
            f"({first_few(found.collecting) or 'none'}): {missing} missing company-day(s) "
            f"of {len(todo)} companies in {len(blocks)} block(s) of {config.max_days_per_run} days, {len(requests)} "
            f"run(s) requested; {skipped} company-day(s) already in unfinished work; {len(found.not_collecting)} "
            "not collecting"
        )
        return dg.SensorResult(run_requests=requests, cursor=found.cursor)

    return _sensor
