"""The daily schedule: yesterday plus a lookback for every connected, non-paused company.

Invoices and time entries arrive late (an invoice issued on Monday may reach the integrator on
Thursday), so each day re-collects the previous ``HUB_LOOKBACK_DAYS`` days too; writes replace whole
partitions, so re-collecting never duplicates. One ranged run per company, keyed by company and day.
"""


from datetime import date, timedelta

import dagster as dg

from integration_hub.assets.partitions import companies_partitions_name
from integration_hub.jobs import job_name, run_tags
from integration_hub.resources.hub import HubResource
from integration_hub.settings import CollectionConfig


def make_daily_schedule(integration_id: str, config: CollectionConfig) -> dg.ScheduleDefinition:
    start_floor = date.fromisoformat(config.partitions_start)

    @dg.schedule(
        cron_schedule=config.schedule_cron,
        job_name=job_name(integration_id),
        name=f"{integration_id}_daily",
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Collects yesterday (plus {config.lookback_days} days of lookback) for every collecting "
        f"{integration_id} connection.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext, hub: HubResource) -> list[dg.RunRequest] | dg.SkipReason:
        yesterday = context.scheduled_execution_time.date() - timedelta(days=1)
        known = set(context.instance.get_dynamic_partitions(companies_partitions_name(integration_id)))
        requests = []
        for record in hub.collecting(integration_id):
            if record.company not in known or record.start_date is None or record.start_date > yesterday:
                continue  # not yet picked up by the activation sensor, or nothing to collect yet
            first = max(record.start_date, start_floor, yesterday - timedelta(days=config.lookback_days))
            requests.append(
                dg.RunRequest(
                    run_key=f"{integration_id}:{record.company}:daily:{yesterday}",
                    job_name=job_name(integration_id),
                    tags=run_tags(integration_id, record.company, first, yesterday),
                )
            )
        return requests or dg.SkipReason(f"no collecting {integration_id} connections")

    return _schedule
