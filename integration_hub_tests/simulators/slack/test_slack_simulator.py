"""The Slack simulator speaks the Web API as Slack's spec and docs describe it, checked over real HTTP."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import jsonschema
import pytest

from integration_hub.simulators.server import running
from integration_hub.simulators.slack import SimulatorConfig, SlackSimulator, create_app, parse_args
from integration_hub_tests.simulators.slack.spec_schemas import ERROR, SUCCESS

BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hello*"}}]


@pytest.fixture
def slack() -> Iterator[tuple[SlackSimulator, httpx.Client]]:
    sim = SlackSimulator(SimulatorConfig(scopes=("chat:write", "channels:read")))
    with running(create_app(sim)) as url, httpx.Client(base_url=f"{url}/api/") as client:
        yield sim, client


def _bearer(sim: SlackSimulator) -> dict[str, str]:
    return {"Authorization": f"Bearer {sim.token}"}


def _check(method: str, response: httpx.Response) -> dict:
    """Validate an answer against the spec's success or error schema for ``method``."""
    body = response.json()
    jsonschema.validate(body, SUCCESS[method] if body["ok"] else ERROR[method])
    return body


def test_auth_test_answers_the_spec_success_schema(slack):
    sim, client = slack
    body = _check("auth.test", client.get("auth.test", headers=_bearer(sim)))
    assert body["ok"] and body["team_id"].startswith("T") and body["bot_id"].startswith("B")


@pytest.mark.parametrize(
    ("headers", "error"),
    [({}, "not_authed"), ({"Authorization": "Bearer xoxb-1-2-wrong"}, "invalid_auth")],
)
def test_auth_errors_answer_200_with_ok_false(slack, headers, error):
    _, client = slack
    response = client.post("auth.test", headers=headers)
    assert response.status_code == 200
    assert _check("auth.test", response)["error"] == error


def test_revoked_and_inactive_tokens_are_told_apart():
    config = SimulatorConfig(revoked_tokens=("xoxb-1-2-revoked",), inactive_tokens=("xoxb-1-2-gone",))
    with running(create_app(SlackSimulator(config))) as url:
        for token, error in (("xoxb-1-2-revoked", "token_revoked"), ("xoxb-1-2-gone", "account_inactive")):
            body = httpx.post(f"{url}/api/auth.test", headers={"Authorization": f"Bearer {token}"}).json()
            assert body == {"ok": False, "error": error}


def test_post_message_with_json_body_is_logged_and_answers_the_spec_schema(slack):
    sim, client = slack
    response = client.post(
        "chat.postMessage", headers=_bearer(sim), json={"channel": "#ops", "text": "hi", "blocks": BLOCKS}
    )
    body = _check("chat.postMessage", response)
    assert body["channel"] == "C0HUBOPS01" and body["message"]["blocks"] == BLOCKS
    [message] = sim.messages
    assert (message.channel, message.channel_arg, message.text, message.blocks) == ("C0HUBOPS01", "#ops", "hi", BLOCKS)
    assert message.ts == body["ts"]


def test_post_message_with_a_form_body_takes_url_encoded_blocks_and_a_form_token(slack):
    sim, client = slack
    form = {"token": sim.token, "channel": "C0HUBOPS01", "blocks": json.dumps(BLOCKS)}
    body = _check("chat.postMessage", client.post("chat.postMessage", data=form))
    assert body["ok"] and sim.messages[0].blocks == BLOCKS and sim.messages[0].text is None


def test_a_token_inside_a_json_body_is_not_read(slack):
    sim, client = slack
    response = client.post("chat.postMessage", json={"token": sim.token, "channel": "#ops", "text": "x"})
    assert response.json() == {"ok": False, "error": "not_authed"}
    assert sim.messages == []


@pytest.mark.parametrize(
    ("channel", "error"),
    [
        ("#nowhere", "channel_not_found"),
        ("#general", "not_in_channel"),
        ("C0HUBOLD01", "is_archived"),
        ("", "channel_not_found"),
    ],
)
def test_channels_by_id_and_name_and_their_errors(slack, channel, error):
    sim, client = slack
    response = client.post("chat.postMessage", headers=_bearer(sim), json={"channel": channel, "text": "x"})
    assert _check("chat.postMessage", response)["error"] == error
    assert sim.messages == []


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"channel": "#ops"}, "no_text"),
        ({"channel": "#ops", "blocks": '[{"type": '}, "invalid_blocks"),
        (
            {"channel": "#ops", "blocks": [{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}]},
            "invalid_blocks",
        ),
        (
            {"channel": "#ops", "blocks": [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}]},
            "invalid_blocks",
        ),
        ({"channel": "#ops", "text": "x" * 40_001}, "msg_too_long"),
        ({"channel": "#ops", "text": "x", "mrkdwn": "maybe"}, "invalid_arguments"),
    ],
)
def test_parameters_are_checked(slack, payload, error):
    sim, client = slack
    body = client.post("chat.postMessage", headers=_bearer(sim), json=payload).json()
    assert body["ok"] is False and body["error"] == error
    assert sim.messages == []


def test_invalid_blocks_say_where(slack):
    sim, client = slack
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}]
    body = client.post("chat.postMessage", headers=_bearer(sim), json={"channel": "#ops", "blocks": blocks}).json()
    assert body["error"] == "invalid_blocks"
    assert body["errors"] == ["must be less than 151 characters [json-pointer:/blocks/0/text/text]"]


def test_bodies_of_the_wrong_kind_are_refused(slack):
    sim, client = slack
    # auth.test's spec enum has invalid_json and json_not_object (chat.postMessage's omits them).
    for method, content, kind, error in (
        ("auth.test", b"{not json", "application/json", "invalid_json"),
        ("auth.test", b"[1]", "application/json", "json_not_object"),
        ("chat.postMessage", b"<x/>", "text/xml", "invalid_post_type"),
    ):
        response = client.post(method, headers={**_bearer(sim), "Content-Type": kind}, content=content)
        assert _check(method, response)["error"] == error
    # conversations.info consumes only form bodies (its spec 'consumes').
    response = client.post("conversations.info", headers=_bearer(sim), json={"channel": "C0HUBOPS01"})
    assert _check("conversations.info", response)["error"] == "invalid_post_type"


def test_conversations_info_by_id_answers_the_spec_schema(slack):
    sim, client = slack
    body = _check(
        "conversations.info", client.get("conversations.info", params={"channel": "C0HUBGEN01"}, headers=_bearer(sim))
    )
    assert body["channel"]["name"] == "general" and body["channel"]["is_member"] is False
    by_name = client.get("conversations.info", params={"channel": "#ops"}, headers=_bearer(sim))
    assert _check("conversations.info", by_name)["error"] == "channel_not_found"  # ids only, as the spec says


def test_conversations_info_needs_a_read_scope():
    sim = SlackSimulator()  # chat:write only, like an alerting app
    with running(create_app(sim)) as url:
        response = httpx.get(f"{url}/api/conversations.info", params={"channel": "C0HUBOPS01"}, headers=_bearer(sim))
    body = _check("conversations.info", response)
    assert body["error"] == "missing_scope" and body["needed"] == "channels:read"


def test_over_the_tier_limit_answers_429_with_retry_after():
    sim = SlackSimulator(SimulatorConfig(per_minute={"chat.postMessage": 1}, rate_window=30.0))
    with running(create_app(sim)) as url, httpx.Client(base_url=f"{url}/api/", headers=_bearer(sim)) as client:
        assert client.post("chat.postMessage", json={"channel": "#ops", "text": "1"}).json()["ok"]
        limited = client.post("chat.postMessage", json={"channel": "#ops", "text": "2"})
        assert limited.status_code == 429
        assert 29 <= int(limited.headers["Retry-After"]) <= 30
        assert limited.json() == {"ok": False, "error": "ratelimited"}
        # The limit is per channel: another channel still gets through.
        assert client.post("chat.postMessage", json={"channel": "G0HUBPRV01", "text": "3"}).json()["ok"]
    assert [m.text for m in sim.messages] == ["1", "3"]


def test_unknown_methods_and_injected_failures(slack):
    sim, client = slack
    assert client.post("chat.delete", headers=_bearer(sim)).json() == {"ok": False, "error": "unknown_method"}
    sim.fail_next(1)
    assert client.post("auth.test", headers=_bearer(sim)).status_code == 503
    assert client.post("auth.test", headers=_bearer(sim)).json()["ok"]


def test_cli_rejects_a_token_that_is_not_a_bot_token():
    with pytest.raises(SystemExit):
        parse_args(["--token", "xoxp-user-token"])


def test_simulate_slack_prints_the_token_it_accepts_and_serves_it():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = f"from integration_hub.simulators.slack import main; main(['--port', '{port}'])"
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        assert first.startswith("token=xoxb-")
        token = first.removeprefix("token=")
        lines = [process.stdout.readline().strip() for _ in range(5)]
        assert "channel=C0HUBOPS01 name=#ops (member)" in lines
        deadline = time.monotonic() + 10
        while True:
            try:
                body = httpx.get(
                    f"http://127.0.0.1:{port}/api/auth.test", headers={"Authorization": f"Bearer {token}"}
                ).json()
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert body["ok"] is True
    finally:
        process.terminate()
        process.wait(timeout=10)
