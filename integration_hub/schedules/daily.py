"""The daily schedule: yesterday plus a lookback for every connected, non-paused company, minus what backs off.

Invoices and time entries arrive late (an invoice issued on Monday may reach the integrator on
Thursday), so each day re-collects the previous ``HUB_LOOKBACK_DAYS`` days too; writes replace whole
partitions, so re-collecting never duplicates.

A stream whose recent attempts failed has a ``next_attempt_at`` in ``hub_stream_health`` (doubling back-off);
while that is in the future the stream is left out, and a company whose streams all back off gets no run. The
tick logs whom it held back. Two queries per tick whatever the company count: the collecting connections and the
back-offs of the whole integration.

* ``company_day``: one ranged run per company, keyed by company and day, selecting the streams not backing off.
* ``fleet``: the companies in shards of ``HUB_COMPANIES_PER_RUN``, one run per shard (at most
  ⌈companies ÷ HUB_COMPANIES_PER_RUN⌉ runs a day), keyed ``<id>:daily:<yesterday>:<i>/<n>``, over
  max(``HUB_PARTITIONS_START``, yesterday − lookback) .. yesterday; the asset clips each company's window to its
  start date and, with ``respect_backoff`` in the shard's run config, leaves out the streams backing off for it.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta

import dagster as dg
from sqlalchemy import select

from integration_hub.assets.partitions import companies_partitions_name
from integration_hub.assets.streams import StreamSpec, streams_of
from integration_hub.backfills import TRIGGER_TAG, first_few
from integration_hub.jobs import fleet_run_tags, job_name, run_tags
from integration_hub.resources.hub import HubResource
from integration_hub.resources.shard import shard_run_config, shards
from integration_hub.settings import CollectionConfig
from integration_hub.store import Store, schema
from integration_hub.store.database import as_utc

TRIGGER = "schedule"


def backing_off(store: Store, integration_id: str, now: datetime) -> dict[str, dict[str, datetime]]:
    """Per company, its streams whose next attempt is after ``now`` (and when it is due). One query."""
    health = schema.stream_health
    query = select(health.c.company, health.c.stream, health.c.next_attempt_at).where(
        health.c.integration_id == integration_id, health.c.next_attempt_at > now
    )
    held: dict[str, dict[str, datetime]] = defaultdict(dict)
    with store.engine.connect() as conn:
        for company, stream, due in conn.execute(query):
            held[company][stream] = as_utc(due)  # type: ignore[assignment]
    return held


def make_daily_schedule(integration_id: str, config: CollectionConfig) -> dg.ScheduleDefinition:
    """``<id>_daily`` for the layout ``config`` chooses."""
    if config.fleet:
        return _fleet_schedule(integration_id, config, streams_of(integration_id))
    return _company_day_schedule(integration_id, config, streams_of(integration_id))


def _company_day_schedule(
    integration_id: str, config: CollectionConfig, streams: Sequence[StreamSpec]
) -> dg.ScheduleDefinition:
    start_floor = date.fromisoformat(config.partitions_start)

    @dg.schedule(
        cron_schedule=config.schedule_cron,
        job_name=job_name(integration_id),
        name=f"{integration_id}_daily",
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Collects yesterday (plus {config.lookback_days} days of lookback) for every collecting "
        f"{integration_id} connection whose streams are not backing off after failures.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext, hub: HubResource) -> list[dg.RunRequest] | dg.SkipReason:
        now = context.scheduled_execution_time
        yesterday = now.date() - timedelta(days=1)
        known = set(context.instance.get_dynamic_partitions(companies_partitions_name(integration_id)))
        held = backing_off(hub.store, integration_id, now)
        requests = []
        skipped: list[str] = []
        for record in hub.collecting(integration_id):
            if record.company not in known or record.start_date is None or record.start_date > yesterday:
                continue  # not yet picked up by the activation sensor, or nothing to collect yet
            waiting = held.get(record.company, {})
            selected = [spec.asset_key for spec in streams if spec.stream not in waiting]
            if waiting:
                due = ", ".join(f"{stream} until {at:%Y-%m-%d %H:%M} UTC" for stream, at in sorted(waiting.items()))
                skipped.append(f"{record.company} ({due})")
            if not selected:
                continue
            first = max(record.start_date, start_floor, yesterday - timedelta(days=config.lookback_days))
            requests.append(
                dg.RunRequest(
                    run_key=f"{integration_id}:{record.company}:daily:{yesterday}",
                    job_name=job_name(integration_id),
                    asset_selection=selected if waiting else None,
                    tags={**run_tags(integration_id, record.company, first, yesterday), TRIGGER_TAG: TRIGGER},
                )
            )
        if skipped:
            context.log.info(f"backing off after failures, not collected now: {'; '.join(skipped)}")
        if requests:
            return requests
        if skipped:
            return dg.SkipReason(f"every collecting {integration_id} connection is backing off: {'; '.join(skipped)}")
        return dg.SkipReason(f"no collecting {integration_id} connections")

    return _schedule


def _fleet_schedule(
    integration_id: str, config: CollectionConfig, streams: Sequence[StreamSpec]
) -> dg.ScheduleDefinition:
    start_floor = date.fromisoformat(config.partitions_start)
    names = {spec.stream for spec in streams}

    @dg.schedule(
        cron_schedule=config.schedule_cron,
        job_name=job_name(integration_id),
        name=f"{integration_id}_daily",
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Collects yesterday (plus {config.lookback_days} days of lookback) for every collecting "
        f"{integration_id} connection, in runs of up to {config.companies_per_run} companies; streams backing off "
        "after failures are left out.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext, hub: HubResource) -> list[dg.RunRequest] | dg.SkipReason:
        now = context.scheduled_execution_time
        yesterday = now.date() - timedelta(days=1)
        held = backing_off(hub.store, integration_id, now)
        companies: list[str] = []
        all_held: list[str] = []
        partly = 0
        for record in hub.collecting(integration_id):
            if record.start_date is None or record.start_date > yesterday:
                continue  # nothing to collect yet
            waiting = held.get(record.company, {})
            if names and names <= set(waiting):
                all_held.append(record.company)
                continue
            partly += bool(waiting)
            companies.append(record.company)
        if all_held:
            context.log.info(
                f"backing off after failures, not collected now: {len(all_held)} compan(y/ies) "
                f"({first_few(all_held)}); "
                f"{partly} more collected without their streams that back off"
            )
        elif partly:
            context.log.info(f"{partly} compan(y/ies) collected without their streams that back off")
        if not companies:
            if all_held:
                return dg.SkipReason(
                    f"every collecting {integration_id} connection is backing off ({len(all_held)} companies)"
                )
            return dg.SkipReason(f"no collecting {integration_id} connections")
        first = max(start_floor, yesterday - timedelta(days=config.lookback_days))
        parts = shards(companies, config.companies_per_run)
        requests = []
        for number, shard in enumerate(parts, start=1):
            label = f"{number}/{len(parts)}"
            requests.append(
                dg.RunRequest(
                    run_key=f"{integration_id}:daily:{yesterday}:{label}",
                    job_name=job_name(integration_id),
                    tags={**fleet_run_tags(integration_id, first, yesterday, shard=label), TRIGGER_TAG: TRIGGER},
                    run_config=shard_run_config(shard, respect_backoff=True),
                )
            )
        return requests

    return _schedule
