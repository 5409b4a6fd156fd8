"""The daily schedule: yesterday plus a lookback for every connected, non-paused company, minus what backs off.

Invoices and time entries arrive late (an invoice issued on Monday may reach the integrator on
Thursday), so each day re-collects the previous ``HUB_LOOKBACK_DAYS`` days too; writes replace whole
partitions, so re-collecting never duplicates. One ranged run per company, keyed by company and day.

A stream whose recent attempts failed has a ``next_attempt_at`` in ``hub_stream_health`` (doubling back-off);
while that is in the future the run leaves the stream out, and a company whose streams all back off gets no
run. The tick logs whom it held back. One query for the back-offs of the whole integration, whatever the count.
"""


from collections import defaultdict
from datetime import date, datetime, timedelta

import dagster as dg
from sqlalchemy import select

from integration_hub.assets.partitions import companies_partitions_name
from integration_hub.assets.streams import streams_of
from integration_hub.jobs import job_name, run_tags
from integration_hub.resources.hub import HubResource
from integration_hub.settings import CollectionConfig
from integration_hub.store import Store, schema


def backing_off(store: Store, integration_id: str, now: datetime) -> dict[str, dict[str, datetime]]:
    """Per company, its streams whose next attempt is after ``now`` (and when it is due)."""
    health = schema.stream_health
    query = select(health.c.company, health.c.stream, health.c.next_attempt_at).where(
        health.c.integration_id == integration_id, health.c.next_attempt_at > now
    )
    from integration_hub.store.database import as_utc

    held: dict[str, dict[str, datetime]] = defaultdict(dict)
    with store.engine.connect() as conn:
        for company, stream, due in conn.execute(query):
            held[company][stream] = as_utc(due)  # type: ignore[assignment]
    return held


def make_daily_schedule(integration_id: str, config: CollectionConfig) -> dg.ScheduleDefinition:
    start_floor = date.fromisoformat(config.partitions_start)
    streams = streams_of(integration_id)

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
                    tags={**run_tags(integration_id, record.company, first, yesterday), "hub/trigger": "schedule"},
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
