"""The Slack alert channel: the hub's alerts posted as Block Kit messages to one channel with a bot token.

A connection holds the bot token (``access_token``: an installed app's ``xoxb-`` token, pasted today, from the
OAuth consent later; an ``xoxp-`` user token works too) and the ``channel`` (an id like ``C0123ABCD`` or a
``#name``). :meth:`SlackChannel.send` calls ``chat.postMessage`` once per alert; :meth:`test_connection`
never posts:

* ``auth.test`` proves the token and names the workspace and the bot;
* then, when the channel is an id, ``conversations.info`` checks it exists, is not archived and has the bot
  as a member. That method needs the ``channels:read``/``groups:read`` scope, which an alerting app with only
  ``chat:write`` lacks: a ``missing_scope`` answer is reported as "token valid, channel not verified" rather
  than a failure, because the token can still post. A ``#name`` cannot be checked cheaply (the spec's
  ``conversations.info`` takes ids only; resolving a name means paging ``conversations.list``), so the result
  says the channel is checked by the first alert.

Slack's ``ok: false`` errors map to the hub's errors (see :mod:`.client`): a refused token is an
:class:`~integration_hub.connectors.base.AuthenticationError`, an unusable channel a
:class:`~integration_hub.connectors.base.ConfigurationError` naming it, anything else a
:class:`~integration_hub.connectors.base.ProviderError`.
"""

from __future__ import annotations

import logging

from integration_hub.connectors.alerts import Alert, Delivery
from integration_hub.connectors.base import (
    AuthenticationError,
    ConfigurationError,
    ConnectionTestResult,
    ConnectorConfig,
    ConnectorError,
    required_setting,
)
from integration_hub.connectors.http import RetryPolicy, TokenBucket
from integration_hub.connectors.slack.client import SlackAnswerError, SlackClient
from integration_hub.connectors.slack.message import render
from integration_hub.connectors.slack.settings import (
    BLOCK_ERRORS,
    CHANNEL_ID,
    CHANNEL_NAME,
    DEFAULT_BASE_URL,
    DEFAULT_REQUESTS_PER_MINUTE,
    SCOPE_ERRORS,
    TOKEN_PREFIXES,
)

__all__ = ["SlackChannel", "SlackClient", "build_slack"]
log = logging.getLogger(__name__)


def _channel(config: ConnectorConfig) -> str:
    channel = required_setting(config, "channel", "Slack")
    if not (CHANNEL_ID.fullmatch(channel) or CHANNEL_NAME.fullmatch(channel)):
        raise ConfigurationError(
            f"Slack: channel '{channel[:90]}' must be a channel id (C0123ABCD) or a #name (lower case, no spaces)"
        )
    return channel


def _token(config: ConnectorConfig) -> str:
    token = config.secret("access_token").strip()
    if not token.startswith(TOKEN_PREFIXES):
        raise ConfigurationError("Slack: access_token must be a bot token (xoxb-...) or a user token (xoxp-...)")
    return token


class SlackChannel:
    """One Slack destination, a token and a channel: an :class:`~integration_hub.connectors.alerts.AlertChannel`."""

    def __init__(
        self,
        config: ConnectorConfig,
        *,
        retry: RetryPolicy | None = None,
        bucket: TokenBucket | None = None,
    ) -> None:
        self.channel = _channel(config)
        self.client = SlackClient(
            _token(config),
            base_url=str(config.setting("base_url", DEFAULT_BASE_URL)),
            requests_per_minute=DEFAULT_REQUESTS_PER_MINUTE,
            retry=retry,
            bucket=bucket,
        )
        self.stats = self.client.stats

    def __repr__(self) -> str:
        return f"SlackChannel(channel={self.channel!r}, base_url={self.client.base_url!r})"

    def test_connection(self) -> ConnectionTestResult:
        try:
            identity = self.client.call("auth.test")
        except AuthenticationError as exc:
            return ConnectionTestResult(False, str(exc))
        except ConnectorError as exc:
            return ConnectionTestResult(False, f"Slack could not be reached: {exc}")
        who = f"authenticated as {identity.get('user', '?')} in the Slack workspace {identity.get('team', '?')}"
        if not CHANNEL_ID.fullmatch(self.channel):
            return ConnectionTestResult(True, f"{who}; channel {self.channel} is checked when the first alert is sent")
        try:
            info = self.client.call("conversations.info", query={"channel": self.channel}, channel=self.channel)
        except SlackAnswerError as exc:
            if exc.code in SCOPE_ERRORS:
                return ConnectionTestResult(
                    True, f"{who}; channel {self.channel} not verified (the token lacks channels:read/groups:read)"
                )
            return ConnectionTestResult(False, str(exc))
        except ConnectorError as exc:
            return ConnectionTestResult(False, str(exc))
        found = info.get("channel") or {}
        name = f"#{found.get('name')}" if found.get("name") else self.channel
        if found.get("is_archived"):
            return ConnectionTestResult(False, f"Slack: channel '{self.channel}' ({name}) is archived")
        if found.get("is_member") is False:
            return ConnectionTestResult(
                False, f"Slack: the app is not a member of '{self.channel}' ({name}): invite it with /invite"
            )
        return ConnectionTestResult(True, f"{who}; alerts go to {name}")

    def send(self, alert: Alert) -> Delivery:
        """Post ``alert`` once. Should Slack refuse the blocks (``invalid_blocks``: nothing was posted), the
        alert is posted again as its plain text: a plainer message beats none."""
        text, blocks = render(alert)
        body = {"channel": self.channel, "text": text, "blocks": blocks, "unfurl_links": False}
        try:
            answer = self.client.call("chat.postMessage", body=body, channel=self.channel)
        except SlackAnswerError as exc:
            if exc.code not in BLOCK_ERRORS:
                raise
            log.warning("Slack refused the alert's blocks (%s); posting it as plain text", exc.code)
            del body["blocks"]
            answer = self.client.call("chat.postMessage", body=body, channel=self.channel)
        return Delivery(channel=str(answer.get("channel") or self.channel), message_id=str(answer.get("ts") or ""))

    def close(self) -> None:
        self.client.close()


def build_slack(config: ConnectorConfig) -> SlackChannel:
    """Factory registered in :data:`integration_hub.connectors.ALERT_CHANNELS`."""
    return SlackChannel(config)
