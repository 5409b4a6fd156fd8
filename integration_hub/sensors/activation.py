"""The activation sensor: turns new activations into partitions and ranged backfill runs.

Each tick runs one cheap, cursor-based query: the Connect / Resume / Edit entries of the activity log
after the cursor for this integration. For each company concerned that is connected (not paused) it

* adds the company to the integration's dynamic partitions (if it is new), and
* requests ranged runs for every day from the connection's start date to yesterday that is not yet
  materialized for all of the integration's assets — so a first connect backfills the whole history,
  a resume continues where collection stopped, and an earlier start date fills the new gap.

Runs are chunked to ``HUB_MAX_DAYS_PER_RUN`` days; run keys include the activity entry id, so a tick
never requests the same work twice. Paused and disconnected connections get no runs.
"""

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from integration_hub.assets.partitions import companies_def, companies_partitions_name, partition_key
from integration_hub.connectors.base import DateWindow
from integration_hub.jobs import job_name, run_tags
from integration_hub.resources.hub import HubResource
from integration_hub.settings import CollectionConfig


def missing_days(
    instance: dg.DagsterInstance, asset_keys: Sequence[dg.AssetKey], company: str, first: date, last: date
) -> list[date]:
    """Days in ``first..last`` not materialized for every one of ``asset_keys``."""
    days = list(DateWindow.inclusive(first, last).days())
    wanted = {str(partition_key(company, day)): day for day in days}
    missing: set[date] = set()
    for key in asset_keys:
        done = instance.get_materialized_partitions(key)
        missing.update(day for text, day in wanted.items() if text not in done)
    return sorted(missing)


def contiguous_chunks(days: Sequence[date], max_days: int) -> list[tuple[date, date]]:
    """Consecutive runs of ``days`` as inclusive ranges of at most ``max_days`` days."""
    chunks: list[tuple[date, date]] = []
    start = previous = None
    for day in days:
        if start is None:
            start = previous = day
        elif day == previous + timedelta(days=1) and (day - start).days < max_days:  # type: ignore[operator]
            previous = day
        else:
            chunks.append((start, previous))  # type: ignore[arg-type]
            start = previous = day
    if start is not None:
        chunks.append((start, previous))  # type: ignore[arg-type]
    return chunks


def make_activation_sensor(
    integration_id: str,
    asset_keys: Sequence[dg.AssetKey],
    config: CollectionConfig,
    *,
    today: Callable[[], date] = lambda: datetime.now(UTC).date(),
) -> dg.SensorDefinition:
    partitions_name = companies_partitions_name(integration_id)
    start_floor = date.fromisoformat(config.partitions_start)

    @dg.sensor(
        name=f"{integration_id}_activation_sensor",
        job_name=job_name(integration_id),
        minimum_interval_seconds=config.sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Backfills newly connected or resumed {integration_id} connections from their start date.",
    )
    def _sensor(context: dg.SensorEvaluationContext, hub: HubResource) -> dg.SensorResult | dg.SkipReason:
        cursor = int(context.cursor or 0)
        events = hub.activations_after(integration_id, cursor)
        if not events:
            return dg.SkipReason(f"no new {integration_id} activations after entry {cursor}")
        known = set(context.instance.get_dynamic_partitions(partitions_name))
        yesterday = today() - timedelta(days=1)
        last_event: dict[str, int] = {}
        for event in events:
            if event.company:
                last_event[event.company] = event.id
        to_add: list[str] = []
        requests: list[dg.RunRequest] = []
        for company, event_id in sorted(last_event.items()):
            record = hub.connection(company, integration_id)
            if record is None or not record.collecting or record.start_date is None:
                continue
            if company not in known:
                to_add.append(company)
            first = max(record.start_date, start_floor)
            if first > yesterday:
                continue
            todo = missing_days(context.instance, asset_keys, company, first, yesterday)
            for chunk_first, chunk_last in contiguous_chunks(todo, config.max_days_per_run):
                requests.append(
                    dg.RunRequest(
                        run_key=f"{integration_id}:{company}:{chunk_first}:{chunk_last}:activation-{event_id}",
                        job_name=job_name(integration_id),
                        tags=run_tags(integration_id, company, chunk_first, chunk_last),
                    )
                )
        return dg.SensorResult(
            run_requests=requests,
            cursor=str(events[-1].id),
            dynamic_partitions_requests=[companies_def(integration_id).build_add_request(to_add)] if to_add else [],
        )

    return _sensor
