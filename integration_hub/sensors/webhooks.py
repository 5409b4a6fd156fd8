"""The webhook sensor: turns inbox notifications into targeted runs for the affected company and day.

Notifications after the cursor are grouped by (company, day of the event's TimeStamp); each group
becomes one run of the pillars that notification type can change, for that single day. Several
notifications for the same company and day coalesce into one run, duplicates were already dropped by
the inbox, and order does not matter because a run re-collects the whole day.

Contacts, content items and accounting details are partitioned by modification date, so the event's
day is exactly the partition that changed; for work items and invoices (partitioned by start and
invoice date) the event's day is the best available hint, and the daily schedule's lookback covers the
rest.

In the fleet layout the (company, day) groups with the same day and pillars are collected together: one run per
shard of ``HUB_COMPANIES_PER_RUN`` companies, so a burst of notifications from thousands of companies is a handful
of runs, not one per company. The tick reads the connections concerned in one query.
"""

from collections import defaultdict
from datetime import date

import dagster as dg

from integration_hub.assets.partitions import companies_partitions_name
from integration_hub.jobs import fleet_run_tags, job_name, run_tags
from integration_hub.resources.hub import HubResource
from integration_hub.resources.shard import shard_run_config, shards
from integration_hub.settings import CollectionConfig
from integration_hub.store import connections as connection_rows

KARBON_EVENT_STREAMS: dict[str, tuple[str, ...]] = {
    "Contact": ("contacts", "accounting", "content_items"),
    "Organization": ("contacts", "accounting", "content_items"),
    "ClientGroup": ("contacts",),
    "CustomFieldValue": ("contacts",),
    "Work": ("work", "content_items"),
    "WorkItem": ("work", "content_items"),
    "IntegrationTask": ("work",),
    "Estimate": ("work",),
    "Note": ("content_items",),
    "NoteComment": ("content_items",),
    "User": ("tenant",),
    "Invoice": ("ar",),
}


def make_webhook_sensor(integration_id: str, event_streams: dict[str, tuple[str, ...]], config: CollectionConfig):
    @dg.sensor(
        name=f"{integration_id}_webhook_sensor",
        job_name=job_name(integration_id),
        minimum_interval_seconds=config.sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Re-collects the company and day a {integration_id} webhook notification points at.",
    )
    def _sensor(context: dg.SensorEvaluationContext, hub: HubResource):
        cursor = int(context.cursor or 0)
        events = hub.inbox_after(integration_id, cursor)
        if not events:
            return dg.SkipReason(f"no new {integration_id} webhook notifications after {cursor}")
        streams: dict[tuple[str, date], set[str]] = defaultdict(set)
        ignored = 0
        for event in events:
            pillars = event_streams.get(event.resource_type)
            if pillars is None:
                ignored += 1
                continue
            streams[(event.company, event.event_at.date())].update(pillars)
        with hub.store.engine.connect() as conn:
            records = connection_rows.get_many(conn, integration_id, {company for company, _ in streams})
        known = (
            None
            if config.fleet
            else set(context.instance.get_dynamic_partitions(companies_partitions_name(integration_id)))
        )
        wanted: dict[tuple[date, tuple[str, ...]], list[str]] = defaultdict(list)
        for (company, day), pillars in sorted(streams.items()):
            record = records.get(company)
            if record is None or not record.collecting or (known is not None and company not in known):
                continue
            if record.start_date is None or day < record.start_date:
                continue
            wanted[(day, tuple(sorted(pillars)))].append(company)
        requests = []
        for (day, pillars), companies in sorted(wanted.items()):
            selection = [dg.AssetKey([integration_id, p]) for p in pillars]
            if not config.fleet:
                requests.extend(
                    dg.RunRequest(
                        run_key=f"{integration_id}:webhook:{company}:{day}:{events[-1].id}",
                        job_name=job_name(integration_id),
                        asset_selection=selection,
                        tags={**run_tags(integration_id, company, day, day), "hub/trigger": "webhook"},
                    )
                    for company in companies
                )
                continue
            groups = shards(companies, config.companies_per_run)
            for index, shard in enumerate(groups, start=1):
                label = f"{index}/{len(groups)}"
                requests.append(
                    dg.RunRequest(
                        run_key=f"{integration_id}:webhook:{day}:{'+'.join(pillars)}:{events[-1].id}:{label}",
                        job_name=job_name(integration_id),
                        asset_selection=selection,
                        tags={**fleet_run_tags(integration_id, day, day, label), "hub/trigger": "webhook"},
                        run_config=shard_run_config(shard),
                    )
                )
        if ignored:
            context.log.info(f"ignored {ignored} notification(s) of types that change no collected stream")
        return dg.SensorResult(run_requests=requests, cursor=str(events[-1].id))

    return _sensor
