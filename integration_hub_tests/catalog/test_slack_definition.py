"""The Slack definition: a pasted bot token and a channel are enough, without an OAuth client, outside ITAR."""

from __future__ import annotations

from datetime import date

import pytest

from integration_hub.catalog import catalog_for, get_definition
from integration_hub.connectors.alerts import Alert
from integration_hub.connectors.base import ConnectorConfig
from integration_hub.connectors.slack import build_slack
from integration_hub.settings import HubSettings
from integration_hub.simulators.server import running
from integration_hub.simulators.slack import SlackSimulator, create_app

TODAY = date(2026, 11, 22)
TOKEN = "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"


def _availability(**env: str):
    entries = catalog_for(HubSettings.from_env({"HUB_HOME": "/tmp/unused", **env}))
    return next(e.availability for e in entries if e.definition.id == "slack")


def test_slack_is_offered_without_an_oauth_client_and_hidden_under_itar() -> None:
    assert _availability().available
    hidden = _availability(HUB_CONTROLLED_ENVIRONMENT="true")
    assert not hidden.available and "ITAR" in hidden.reason
    assert "enterprise edition" in _availability(HUB_EDITION="community").reason


def test_slack_needs_a_token_and_a_channel_and_defaults_the_api_url() -> None:
    slack = get_definition("slack")
    assert slack.secret_fields == ("access_token",)
    _, errors = slack.validate({}, complete=True, today=TODAY)
    assert sorted(e.field for e in errors) == ["access_token", "channel"]
    cleaned, errors = slack.validate({"access_token": TOKEN, "channel": "#ops"}, complete=True, today=TODAY)
    assert errors == [] and cleaned["base_url"] == "https://slack.com/api"


@pytest.mark.parametrize(
    ("values", "field", "reason"),
    [
        ({"access_token": "xoxa-2-legacy"}, "access_token", "xoxb-"),
        ({"access_token": "sk-123"}, "access_token", "xoxp-"),
        ({"channel": "ops"}, "channel", "#name"),
        ({"channel": "#ops room"}, "channel", "channel id (C0123ABCD)"),
        ({"base_url": "http://slack.example.com/api"}, "base_url", "must start with https://"),
    ],
)
def test_bad_slack_values_name_the_field(values: dict, field: str, reason: str) -> None:
    _, errors = get_definition("slack").validate(values, complete=False, today=TODAY)
    assert [e.field for e in errors] == [field] and reason in errors[0].reason
    assert "sk-123" not in errors[0].reason


@pytest.mark.parametrize("channel", ["#ops", "C0HUBOPS01"])
def test_catalog_validated_values_build_a_channel_that_posts(channel: str) -> None:
    sim = SlackSimulator()
    with running(create_app(sim)) as url:
        cleaned, errors = get_definition("slack").validate(
            {"access_token": sim.token, "channel": channel, "base_url": f"{url}/api/"}, complete=True, today=TODAY
        )
        assert errors == []
        secrets = {"access_token": cleaned.pop("access_token")}
        slack = build_slack(ConnectorConfig(cleaned, secrets, company="acme"))
        slack.send(Alert("behind", "warning", "acme is 3 days behind", "Karbon time entries stopped", "inc-1"))
    assert [m.channel for m in sim.messages] == ["C0HUBOPS01"]
