"""The Slack alert channel against the Slack simulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator

import pytest

import integration_hub.connectors.slack as slack_module
from integration_hub.connectors.alerts import Alert, AlertChannel
from integration_hub.connectors.base import (
    AuthenticationError,
    ConfigurationError,
    ConnectorConfig,
    ProviderError,
    TransientError,
)
from integration_hub.connectors.http import RetryPolicy, TokenBucket
from integration_hub.connectors.slack import SlackChannel, build_slack
from integration_hub.simulators.server import running
from integration_hub.simulators.slack import SimulatorConfig, SlackSimulator, create_app
from integration_hub.simulators.slack.blocks import parse_blocks

FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02)
ALERT = Alert(
    kind="failing",
    severity="error",
    title="Uyumsoft collection failing for acme",
    summary="invoices for 2026-11-30 failed after 5 attempts: Uyumsoft said HTTP 503 <Service Unavailable> & gave up",
    incident_id="inc-acme-uyumsoft-invoices",
    company="acme",
    integration_id="uyumsoft",
    facts=(("Stream", "invoices"), ("Partition", "2026-11-30"), ("Attempts", "5")),
    link="http://127.0.0.1:3000/runs/4f1c2d",
)


class FakeClock:
    """A clock that only moves when something sleeps on it: waits are recorded, never spent."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def slack() -> Iterator[tuple[SlackSimulator, str]]:
    sim = SlackSimulator(SimulatorConfig(scopes=("chat:write", "channels:read")))
    with running(create_app(sim)) as url:
        yield sim, f"{url}/api"


def channel_for(
    url: str, token: str, channel: str = "#ops", *, bucket: TokenBucket | None = None, **settings: object
) -> SlackChannel:
    config = ConnectorConfig({"channel": channel, "base_url": url, **settings}, {"access_token": token}, "acme")
    return SlackChannel(config, retry=FAST_RETRY, bucket=bucket or TokenBucket(1_000_000, 60.0))


def test_an_alert_with_every_field_reaches_slack_as_block_kit(slack):
    sim, url = slack
    delivery = channel_for(url, sim.token).send(ALERT)
    [message] = sim.messages
    assert delivery.channel == "C0HUBOPS01" == message.channel and delivery.message_id == message.ts
    assert re.fullmatch(r"\d{10}\.\d{6}", delivery.message_id)
    blocks = message.blocks
    assert parse_blocks(blocks)[1] == []  # the simulator's Block Kit checks find nothing wrong
    assert [b["type"] for b in blocks] == ["header", "section", "section", "actions", "context"]
    assert blocks[0]["text"] == {"type": "plain_text", "text": ALERT.title, "emoji": True}
    assert "&lt;Service Unavailable&gt; &amp; gave up" in blocks[1]["text"]["text"]  # mrkdwn escaped
    assert [f["text"] for f in blocks[2]["fields"]] == [
        "*Stream*\ninvoices",
        "*Partition*\n2026-11-30",
        "*Attempts*\n5",
    ]
    [button] = blocks[3]["elements"]
    assert button["url"] == ALERT.link and button["type"] == "button"
    context = blocks[4]["elements"][0]["text"]
    for part in ("error", "company: acme", "integration: uyumsoft", "inc-acme-uyumsoft-invoices"):
        assert part in context
    assert message.text.startswith(ALERT.title) and "failed after 5 attempts" in message.text  # notification text


def test_a_minimal_alert_has_no_button_and_many_facts_split_into_sections_of_ten(slack):
    sim, url = slack
    alert = Alert(
        kind="recovered",
        severity="info",
        title="x" * 200,
        summary="healed",
        incident_id="i-1",
        facts=tuple((f"fact {i}", f"value {i}") for i in range(12)),
    )
    channel_for(url, sim.token, "C0HUBOPS01").send(alert)
    blocks = sim.messages[0].blocks
    assert [b["type"] for b in blocks] == ["header", "section", "section", "section", "context"]
    assert len(blocks[0]["text"]["text"]) == 150 and blocks[0]["text"]["text"].endswith("…")
    assert [len(b["fields"]) for b in blocks[2:4]] == [10, 2]
    assert "company" not in blocks[-1]["elements"][0]["text"]


def test_the_token_goes_only_in_the_authorization_header_and_never_into_logs(slack, caplog):
    sim, url = slack
    caplog.set_level(logging.DEBUG)
    channel = channel_for(url, sim.token, "C0HUBOPS01")
    assert channel.test_connection().ok
    channel.send(ALERT)
    sim.fail_next(1)
    channel.send(ALERT)
    assert {r.method for r in sim.log} == {"auth.test", "conversations.info", "chat.postMessage"}
    for request in sim.log:
        assert request.authorization == f"Bearer {sim.token}"
        assert sim.token not in request.query and sim.token.encode() not in request.body
    assert sim.token not in caplog.text and sim.token not in repr(channel)


@pytest.mark.parametrize("token", ["xoxb-000000000000-0000000000000-wrongwrongwrongwrongwron", "REVOKED", "INACTIVE"])
def test_a_refused_token_is_one_authentication_error_without_the_token(token):
    revoked, inactive = "xoxb-1-2-revokedrevokedrevoked", "xoxb-1-2-inactiveinactiveinac"
    token = {"REVOKED": revoked, "INACTIVE": inactive}.get(token, token)
    sim = SlackSimulator(SimulatorConfig(revoked_tokens=(revoked,), inactive_tokens=(inactive,)))
    with running(create_app(sim)) as url:
        channel = channel_for(f"{url}/api", token)
        with pytest.raises(AuthenticationError) as caught:
            channel.send(ALERT)
        message = str(caught.value)
        assert "\n" not in message and token not in message and "access_token" in message
        assert len(sim.log) == 1  # never retried
        result = channel.test_connection()
    assert not result.ok and token not in result.message and "access_token" in result.message
    assert sim.messages == []


@pytest.mark.parametrize(
    ("channel", "code", "hint"),
    [
        ("#nowhere", "channel_not_found", "was not found"),
        ("#general", "not_in_channel", "/invite"),
        ("C0HUBOLD01", "is_archived", "archived"),
        ("C0NOSUCH01", "channel_not_found", "was not found"),
    ],
)
def test_an_unusable_channel_is_a_configuration_error_naming_it(slack, channel, code, hint):
    sim, url = slack
    with pytest.raises(ConfigurationError) as caught:
        channel_for(url, sim.token, channel).send(ALERT)
    message = str(caught.value)
    assert f"'{channel}'" in message and code in message and hint in message and "\n" not in message
    assert sim.messages == [] and len(sim.calls("chat.postMessage")) == 1


def test_a_429_waits_exactly_retry_after_and_posts_once(slack):
    sim, url = slack
    clock = FakeClock()
    bucket = TokenBucket(1_000_000, 60.0, clock=clock, sleep=clock.sleep)
    channel = channel_for(url, sim.token, bucket=bucket)
    sim.rate_limit_next("chat.postMessage", retry_after=7)
    delivery = channel.send(ALERT)
    assert [r.status for r in sim.calls("chat.postMessage")] == [429, 200]
    assert len(sim.messages) == 1 and delivery.message_id == sim.messages[0].ts
    assert len(clock.sleeps) == 1 and 7.0 <= clock.sleeps[0] < 7.001  # Retry-After, not a guessed backoff
    assert channel.stats.rate_limited == 1


def test_the_servers_tier_limit_is_obeyed_and_every_alert_lands_once():
    sim = SlackSimulator(SimulatorConfig(per_minute={"chat.postMessage": 1}, rate_window=1.0))
    with running(create_app(sim)) as url:
        channel = channel_for(f"{url}/api", sim.token)  # the client's own limit is far above the server's
        started = time.monotonic()
        for index in range(2):
            channel.send(Alert("failing", "error", f"alert {index}", "s", f"i-{index}"))
        elapsed = time.monotonic() - started
    assert [m.blocks[0]["text"]["text"] for m in sim.messages] == ["alert 0", "alert 1"]
    assert [r.status for r in sim.calls("chat.postMessage")] == [200, 429, 200]
    assert elapsed >= 0.9  # waited the server's Retry-After (1 s) before the second post


def test_a_5xx_is_retried_and_the_message_delivered(slack):
    sim, url = slack
    sim.fail_next(2, status=503)
    channel = channel_for(url, sim.token)
    channel.send(ALERT)
    assert [r.status for r in sim.log] == [503, 503, 200] and len(sim.messages) == 1
    assert channel.stats.retries == 2


def test_slack_down_for_good_is_a_transient_error_in_one_line(slack):
    sim, url = slack
    sim.fail_next(10, status=500)
    with pytest.raises(TransientError) as caught:
        channel_for(url, sim.token).send(ALERT)
    assert "chat.postMessage" in str(caught.value) and "3 times" in str(caught.value)
    assert sim.token not in str(caught.value) and sim.messages == []


def test_test_connection_checks_token_and_channel_without_posting(slack):
    sim, url = slack
    result = channel_for(url, sim.token, "C0HUBOPS01").test_connection()
    assert result.ok and "Integration Hub Simulated Workspace" in result.message and "#ops" in result.message
    assert [r.method for r in sim.log] == ["auth.test", "conversations.info"] and sim.messages == []


@pytest.mark.parametrize(
    ("channel", "words"),
    [("C0HUBOLD01", "archived"), ("C0HUBGEN01", "not a member"), ("C0NOSUCH01", "was not found")],
)
def test_test_connection_fails_on_a_channel_the_bot_cannot_post_to(slack, channel, words):
    sim, url = slack
    result = channel_for(url, sim.token, channel).test_connection()
    assert not result.ok and channel in result.message and words in result.message


def test_test_connection_without_a_read_scope_or_with_a_name_still_passes_and_says_so():
    sim = SlackSimulator()  # chat:write only
    with running(create_app(sim)) as url:
        by_id = channel_for(f"{url}/api", sim.token, "C0HUBOPS01").test_connection()
        by_name = channel_for(f"{url}/api", sim.token, "#ops").test_connection()
    assert by_id.ok and "not verified" in by_id.message and "channels:read" in by_id.message
    assert by_name.ok and "checked when the first alert is sent" in by_name.message
    assert [r.method for r in sim.log] == ["auth.test", "conversations.info", "auth.test"]


def test_test_connection_reports_an_unreachable_slack():
    with running(create_app(SlackSimulator())) as url:
        pass  # the server is gone: nothing listens on its port any more
    sim_token = "xoxb-1-2-unreachableunreachable"
    result = channel_for(f"{url}/api", sim_token).test_connection()
    assert not result.ok and "could not be reached" in result.message and sim_token not in result.message


def test_a_non_slack_answer_is_a_provider_error():
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def endpoint(request):
        return JSONResponse({"hello": "world"})

    app = Starlette(routes=[Route("/api/{method}", endpoint, methods=["GET", "POST"])])
    with running(app) as url, pytest.raises(ProviderError, match="without an 'ok' field"):
        channel_for(f"{url}/api", "xoxb-1-2-abc").send(ALERT)


@pytest.mark.parametrize(
    ("settings", "secrets", "message"),
    [
        ({"channel": "#ops"}, {}, "missing secret field 'access_token'"),
        ({"channel": "#ops"}, {"access_token": "sk-not-slack"}, "xoxb-"),
        ({}, {"access_token": "xoxb-1"}, "'channel' setting is required"),
        ({"channel": "ops room"}, {"access_token": "xoxb-1"}, "channel id (C0123ABCD) or a #name"),
        ({"channel": "#ops", "base_url": "http://slack.example.com/api"}, {"access_token": "xoxb-1"}, "https://"),
    ],
)
def test_unusable_settings_are_a_configuration_error(settings, secrets, message):
    with pytest.raises(ConfigurationError, match=re.escape(message)) as caught:
        build_slack(ConnectorConfig(settings, secrets))
    assert "sk-not-slack" not in str(caught.value)


def test_build_slack_is_an_alert_channel_with_slacks_default_url():
    channel = build_slack(ConnectorConfig({"channel": "#ops"}, {"access_token": "xoxb-1-2-abc"}))
    assert isinstance(channel, AlertChannel)
    assert channel.client.base_url == "https://slack.com/api/"
    channel.close()


def test_a_link_that_is_no_url_stays_in_the_context_instead_of_breaking_the_message(slack):
    sim, url = slack
    alert = Alert("check_failed", "warning", "Row count check failed", "3 rows missing", "i-2", link="/runs/abc")
    channel_for(url, sim.token).send(alert)
    blocks = sim.messages[0].blocks
    assert "actions" not in [b["type"] for b in blocks]
    assert "link: /runs/abc" in blocks[-1]["elements"][0]["text"]


def test_blocks_slack_refuses_are_resent_as_plain_text_once(slack, monkeypatch):
    sim, url = slack
    broken = [{"type": "header", "text": {"type": "mrkdwn", "text": "headers take plain_text only"}}]
    monkeypatch.setattr(slack_module, "render", lambda alert: ("the alert, as text", broken))
    delivery = channel_for(url, sim.token).send(ALERT)
    assert [r.error for r in sim.calls("chat.postMessage")] == ["invalid_blocks", None]
    [message] = sim.messages
    assert message.text == "the alert, as text" and message.blocks is None and delivery.message_id == message.ts
