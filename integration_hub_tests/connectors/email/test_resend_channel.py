"""The Resend alert channel against the Resend simulator over HTTP: delivery, idempotency, 429s, refusals."""

from __future__ import annotations

import json
import logging
import time

import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from integration_hub.connectors.alerts import Alert, AlertChannel
from integration_hub.connectors.base import (
    AuthenticationError,
    ConfigurationError,
    ConnectorConfig,
    ProviderError,
    TransientError,
)
from integration_hub.connectors.email import ResendChannel, build_email
from integration_hub.connectors.http import RetryPolicy, TokenBucket
from integration_hub.simulators.resend import Domain, ResendSimulator, SimulatorConfig, create_app
from integration_hub.simulators.server import running

KEY = "re_Fu11AccessKey_never_shown_9"
SENDING = "re_SendingOnlyKey_never_shown_7"
FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.02, max_rate_limit_waits=3, max_retry_after=2.0)
ALERT = Alert(
    kind="needs_reauthorization",
    severity="error",
    title="Karbon credentials rejected for acme",
    summary="Karbon answered HTTP 401: reconnect the integration with a new access key.",
    incident_id="inc-acme-karbon-auth-7",
    company="acme",
    integration_id="karbon",
    facts=(("Since", "2026-10-30 06:00 UTC"), ("Streams", "work, time")),
    link="http://127.0.0.1:3000/runs/91ab",
)


@pytest.fixture()
def server():
    sim = ResendSimulator(
        SimulatorConfig(
            api_key=KEY,
            sending_key=SENDING,
            domains=(Domain("alerts.example"), Domain("pending.example", status="pending")),
            rate_limit=1000,
        )
    )
    with running(create_app(sim)) as url:
        yield sim, url


def channel(url: str, key: str = KEY, **settings) -> ResendChannel:
    values = {
        "provider": "resend",
        "base_url": url,
        "from_email": "hub@alerts.example",
        "to_emails": "ops@acme.example, cfo@acme.example",
        **settings,
    }
    built = ResendChannel(
        ConnectorConfig(values, {"api_key": key}, company="acme"), retry=FAST, bucket=TokenBucket(1e6, 60.0)
    )
    assert isinstance(built, AlertChannel)
    return built


def test_an_alert_is_delivered_with_both_rendered_parts_and_the_incident_header(server):
    sim, url = server
    delivery = channel(url).send(ALERT)
    assert len(sim.emails) == 1
    sent = sim.emails[0]
    assert delivery.message_id == sent.id and delivery.channel == "email"
    body = sent.body
    assert body["from"] == "hub@alerts.example" and body["to"] == ["ops@acme.example", "cfo@acme.example"]
    assert body["subject"] == "[ERROR] Karbon credentials rejected for acme"
    assert body["headers"]["X-Hub-Incident"] == "inc-acme-karbon-auth-7"
    assert body["headers"]["References"].startswith("<incident.")
    for part in (body["text"], body["html"]):
        assert "reconnect the integration" in part and "2026-10-30 06:00 UTC" in part
        assert "http://127.0.0.1:3000/runs/91ab" in part
    assert '<a href="http://127.0.0.1:3000/runs/91ab"' in body["html"]
    assert sent.idempotency_key == "needs_reauthorization/inc-acme-karbon-auth-7"
    assert KEY not in json.dumps(body)


def test_the_same_alert_sent_twice_is_one_email(server):
    sim, url = server
    email = channel(url)
    first, second = email.send(ALERT), email.send(ALERT)
    assert first.message_id == second.message_id and len(sim.emails) == 1
    recovered = Alert("recovered", "info", "Karbon recovered for acme", "Collection works again.", ALERT.incident_id)
    assert email.send(recovered).message_id != first.message_id and len(sim.emails) == 2


def test_a_429_is_waited_out_and_the_email_sent_once(server):
    sim, url = server
    sim.rate_limit_next(1, retry_after=0.3)
    email = channel(url)
    started = time.monotonic()
    delivery = email.send(ALERT)
    assert time.monotonic() - started >= 0.3  # Retry-After was honoured, not guessed
    assert [e.id for e in sim.emails] == [delivery.message_id]
    assert [r.status for r in sim.requests if r.method == "POST"] == [429, 200]
    assert email.stats.rate_limited == 1


def test_server_errors_are_retried_with_the_same_idempotency_key(server):
    sim, url = server
    sim.fail_next(2, status=503)
    channel(url).send(ALERT)
    posts = [r for r in sim.requests if r.method == "POST"]
    assert [r.status for r in posts] == [503, 503, 200] and len(sim.emails) == 1
    assert {r.idempotency_key for r in posts} == {"needs_reauthorization/inc-acme-karbon-auth-7"}


def test_a_used_up_daily_quota_fails_at_once(server):
    sim, url = server
    sim.config.daily_quota = 1
    email = channel(url)
    email.send(ALERT)
    other = Alert("behind", "warning", "time stream behind", "3 days behind", "inc-behind-1")
    with pytest.raises(TransientError, match="daily sending quota is used up"):
        email.send(other)
    assert [r.status for r in sim.requests if r.method == "POST"] == [200, 429]  # not waited out


def test_a_bad_key_is_a_one_line_authentication_error_without_the_key(server, caplog):
    sim, url = server
    caplog.set_level(logging.DEBUG)
    wrong = "re_Wr0ngKey_never_shown_1"
    with pytest.raises(AuthenticationError) as raised:
        channel(url, key=wrong).send(ALERT)
    message = str(raised.value)
    assert "403 invalid_api_key" in message and "\n" not in message and wrong not in message
    assert sim.emails == [] and len(sim.requests) == 1  # never retried
    result = channel(url, key=wrong).test_connection()
    assert not result.ok and "invalid_api_key" in result.message
    assert wrong not in caplog.text and KEY not in caplog.text


def test_an_unverified_sender_domain_is_a_configuration_error(server):
    sim, url = server
    with pytest.raises(ConfigurationError) as raised:
        channel(url, from_email="hub@pending.example").send(ALERT)
    assert "403 validation_error" in str(raised.value) and "pending.example" in str(raised.value)
    assert sim.emails == []


def test_another_body_under_the_same_incident_and_kind_is_refused_not_resent(server):
    sim, url = server
    email = channel(url)
    email.send(ALERT)
    changed = Alert(**{**ALERT.__dict__, "summary": "Different words."})
    with pytest.raises(ProviderError, match="already sent with other content"):
        email.send(changed)
    assert len(sim.emails) == 1


def test_a_422_is_one_line_and_names_resends_reason():
    def refuse(request):
        return JSONResponse(
            {"statusCode": 422, "name": "validation_error", "message": "Invalid `to` field.\nThe address is bad."},
            status_code=422,
        )

    app = Starlette(routes=[Route("/emails", refuse, methods=["POST"])])
    with running(app) as url, pytest.raises(ConfigurationError) as raised:
        channel(url).send(ALERT)
    message = str(raised.value)
    assert "HTTP 422 validation_error: Invalid `to` field. The address is bad." in message
    assert "\n" not in message and KEY not in message


def test_test_connection_checks_the_key_and_the_sender_domain_without_sending(server):
    sim, url = server
    ok = channel(url).test_connection()
    assert ok.ok and "alerts.example is verified" in ok.message and "no e-mail was sent" in ok.message
    sending_only = channel(url, key=SENDING).test_connection()
    assert sending_only.ok and "sending-only" in sending_only.message
    pending = channel(url, from_email="hub@pending.example").test_connection()
    assert not pending.ok and "pending" in pending.message
    unknown = channel(url, from_email="hub@elsewhere.example").test_connection()
    assert not unknown.ok and "elsewhere.example" in unknown.message
    assert sim.emails == [] and {r.path for r in sim.requests} == {"/domains"}


def test_build_email_picks_resend_and_refuses_plain_http_off_loopback():
    config = ConnectorConfig(
        {"provider": "resend", "from_email": "h@a.example", "to_emails": "o@a.example"}, {"api_key": KEY}
    )
    built = build_email(config)
    assert isinstance(built, ResendChannel) and built.base_url == "https://api.resend.com"
    bad = ConnectorConfig({**config.settings, "base_url": "http://api.resend.com"}, {"api_key": KEY})
    with pytest.raises(ConfigurationError, match="https://"):
        build_email(bad)
    with pytest.raises(ConfigurationError, match="api_key"):
        build_email(ConnectorConfig(config.settings))
