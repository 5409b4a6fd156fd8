"""The Email alert channel: the hub's alerts as e-mail, through Resend's API or any SMTP server.

``build_email(config)`` (registered in :data:`integration_hub.connectors.ALERT_CHANNELS`) reads the catalog's
``provider`` and returns a :class:`ResendChannel` or an :class:`SmtpChannel`. Both render the same message
(:mod:`.render`): severity-prefixed subject, a plain-text and an HTML part with the summary, a facts table
and the link to the Dagster run, plus an ``X-Hub-Incident`` header carrying the incident id.
"""

from __future__ import annotations

from integration_hub.connectors.alerts import AlertChannel
from integration_hub.connectors.base import ConnectorConfig
from integration_hub.connectors.email.resend import ResendChannel
from integration_hub.connectors.email.settings import provider
from integration_hub.connectors.email.smtp import SmtpChannel

__all__ = ["ResendChannel", "SmtpChannel", "build_email"]


def build_email(config: ConnectorConfig) -> AlertChannel:
    """Factory registered in :data:`integration_hub.connectors.ALERT_CHANNELS` under ``email``."""
    if provider(config) == "smtp":
        return SmtpChannel(config)
    return ResendChannel(config)
