"""The alerts sensor: every 30 s, one :class:`~integration_hub.service.alerts.AlertService` tick.

Everything it decides comes from the hub's own records (coverage, stream health, incidents), so it costs the same
few queries whether it watches ten companies or ten thousand, and never reads Dagster's event log.
"""

from __future__ import annotations

import dagster as dg

from integration_hub.assets.streams import stream_names
from integration_hub.resources.hub import HubResource
from integration_hub.service.alerts import AlertPolicy, AlertService
from integration_hub.settings import CollectionConfig

SENSOR_NAME = "hub_alerts"


def make_alerts_sensor(config: CollectionConfig) -> dg.SensorDefinition:
    @dg.sensor(
        name=SENSOR_NAME,
        minimum_interval_seconds=config.sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Opens, resolves and announces incidents (collection failing after its retries, credentials "
        "rejected, streams behind, failed checks) through the companies' and the operations route's Slack and "
        "Email connections; one message per incident per route.",
    )
    def _alerts(context: dg.SensorEvaluationContext, hub: HubResource) -> dg.SkipReason:
        settings = hub.store.settings
        policy = AlertPolicy(
            max_retries=config.max_retries, ops_company=settings.alert_ops_company, dagster_url=settings.dagster_url
        )
        result = AlertService(hub.store, stream_names(), policy).tick()
        for _incident_id, route, phase, error in result.failed:
            context.log.warning(f"alert to {route} ({phase}) not delivered, retried next tick: {error}")
        return dg.SkipReason(result.summary())

    return _alerts
