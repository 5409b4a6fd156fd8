"""Provider connectors (client + parsing per provider), independent of Dagster and of the store.

:data:`CONNECTORS` maps a catalog integration id to ``"module:factory"``; the factory takes a
:class:`~integration_hub.connectors.base.ConnectorConfig` and returns a
:class:`~integration_hub.connectors.base.Connector`. Modules are imported lazily so that using one
provider never imports the others. An integration without an entry has no connector yet: its Test
Connection honestly reports "not implemented".
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from integration_hub.connectors.alerts import AlertChannel
from integration_hub.connectors.base import Connector, ConnectorConfig

CONNECTORS: dict[str, str] = {
    "edm": "integration_hub.connectors.edm:build_edm",
    "qnb_esolutions": "integration_hub.connectors.qnb_esolutions:build_qnb_esolutions",
    "crs_soft": "integration_hub.connectors.crs_soft:build_crs_soft",
    "isnet": "integration_hub.connectors.isnet:build_isnet",
    "uyumsoft": "integration_hub.connectors.uyumsoft:build_uyumsoft",
    "karbon": "integration_hub.connectors.karbon:build_karbon",
}


# Alert channels: integrations that deliver the hub's alerts instead of collecting data.
ALERT_CHANNELS: dict[str, str] = {
    "slack": "integration_hub.connectors.slack:build_slack",
    "email": "integration_hub.connectors.email:build_email",
}


def has_connector(integration_id: str) -> bool:
    return integration_id in CONNECTORS


def has_alert_channel(integration_id: str) -> bool:
    return integration_id in ALERT_CHANNELS


def build_alert_channel(integration_id: str, config: ConnectorConfig) -> AlertChannel:
    """Build the alert channel for ``integration_id`` or raise ``KeyError`` if it has none."""
    return _factory(ALERT_CHANNELS[integration_id])(config)


def build_connector(integration_id: str, config: ConnectorConfig) -> Connector:
    """Build the connector for ``integration_id`` or raise ``KeyError`` if none exists yet."""
    return _factory(CONNECTORS[integration_id])(config)


def _factory(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    return getattr(import_module(module_name), attr)
