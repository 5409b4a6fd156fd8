"""What an alert channel (Slack, e-mail) is given and must do: the hub's side of alerting.

The service decides *when* to alert (an incident opens, changes or heals; one message per incident, never one
per retry) and renders nothing provider-specific: it hands a channel an :class:`Alert`, and the channel turns it
into the provider's message (Slack Block Kit, an e-mail with text and HTML parts) and delivers it. Channels know
nothing of Dagster, the store or incidents, like every connector.

An ``Alert`` never holds a secret: its texts come from the hub's own one-line, redacted error messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from integration_hub.connectors.base import ConnectionTestResult


@dataclass(frozen=True)
class Alert:
    """One message about one incident.

    ``kind`` is what happened: ``failing`` (collection failed after its retries), ``needs_reauthorization``
    (the provider rejected the credentials), ``behind`` (a stream is more than the allowed days behind),
    ``check_failed`` (an asset check failed) or ``recovered`` (the incident healed). ``severity`` is
    ``error``, ``warning`` or ``info``. ``title`` is one line; ``summary`` a sentence or two a person can act
    on; ``facts`` are label/value pairs shown as a small table; ``link`` points at the Dagster run or asset.
    ``incident_id`` is stable for the incident (its opening and its recovery share it), so a channel may
    thread or de-duplicate on it.
    """

    kind: str
    severity: str
    title: str
    summary: str
    incident_id: str
    company: str | None = None
    integration_id: str | None = None
    facts: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    link: str | None = None


@dataclass(frozen=True)
class Delivery:
    """What the provider said when it accepted the message (Slack's channel + ts, an SMTP/Resend message id)."""

    channel: str
    message_id: str


@runtime_checkable
class AlertChannel(Protocol):
    """A configured destination for alerts (one Slack channel, one set of e-mail recipients)."""

    def test_connection(self) -> ConnectionTestResult:
        """Check the credentials and the destination without sending a message."""
        ...

    def send(self, alert: Alert) -> Delivery:
        """Deliver ``alert``; raises a :class:`~integration_hub.connectors.base.ConnectorError` (one line, no
        secret) when the provider refuses it or stays unreachable after the transport's retries."""
        ...

    def close(self) -> None: ...
