"""The Dagster code location: ``integration_hub.definitions:defs``.

Per integration with collected streams: its assets (one per stream), one collection job, an activation
sensor and a daily schedule (each built for the layout ``HUB_PARTITIONING`` chooses), in the fleet layout a retry
sensor; Karbon also gets a webhook sensor; one alerts sensor for the deployment; one :class:`HubResource` for all,
and the fleet runs' ``shard`` (their companies, given in run config at launch; unused in ``company_day``).
"""

from __future__ import annotations

import dagster as dg

from integration_hub.assets import build_assets
from integration_hub.assets.streams import streams_of
from integration_hub.executors import ExecutorConfig, collection_executor
from integration_hub.jobs import build_collection_job
from integration_hub.resources.hub import HubResource
from integration_hub.resources.shard import SHARD_RESOURCE, FleetShard
from integration_hub.schedules.daily import make_daily_schedule
from integration_hub.sensors.activation import make_activation_sensor
from integration_hub.sensors.alerts import make_alerts_sensor
from integration_hub.sensors.retry import make_retry_sensor
from integration_hub.sensors.webhooks import KARBON_EVENT_STREAMS, make_webhook_sensor
from integration_hub.settings import CollectionConfig


def build_definitions(
    config: CollectionConfig | None = None,
    hub: HubResource | None = None,
    executor: ExecutorConfig | None = None,
) -> dg.Definitions:
    config = config or CollectionConfig.from_env()
    executor = executor or ExecutorConfig.from_env()
    assets_by_integration = build_assets(config)
    assets: list[dg.AssetsDefinition] = []
    jobs, sensors, schedules = [], [], []
    for integration_id, integration_assets in assets_by_integration.items():
        assets.extend(integration_assets)
        jobs.append(build_collection_job(integration_id, integration_assets, executor))
        sensors.append(make_activation_sensor(integration_id, streams_of(integration_id), config))
        schedules.append(make_daily_schedule(integration_id, config))
        if config.fleet:
            sensors.append(make_retry_sensor(integration_id, streams_of(integration_id), config))
        if integration_id == "karbon":
            sensors.append(make_webhook_sensor(integration_id, KARBON_EVENT_STREAMS, config))
    sensors.append(make_alerts_sensor(config))
    return dg.Definitions(
        assets=assets,
        jobs=jobs,
        sensors=sensors,
        schedules=schedules,
        resources={"hub": hub or HubResource(), SHARD_RESOURCE: FleetShard.configure_at_launch()},
        # Backfill runs execute the implicit asset job on the collection jobs' executor (see jobs.py); on Celery
        # its steps reach each provider's queue by their assets' queue tags (executors.queue_tags).
        executor=collection_executor(executor),
    )


defs = build_definitions()
