"""The Resend simulator over HTTP, checked against Resend's published contract (not against the connector)."""

from __future__ import annotations

import httpx
import pytest

import integration_hub.simulators.resend as resend_sim
from integration_hub.simulators.resend import Domain, ResendSimulator, SimulatorConfig, create_app
from integration_hub.simulators.server import running

KEY = "re_full_access_key_123"
SENDING = "re_sending_only_key_456"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def server():
    clock = Clock()
    sim = ResendSimulator(
        SimulatorConfig(
            api_key=KEY,
            sending_key=SENDING,
            domains=(Domain("alerts.example"), Domain("pending.example", status="pending")),
            rate_limit=1000,
        ),
        clock=clock,
    )
    with running(create_app(sim)) as url, httpx.Client(base_url=url, headers={"Authorization": f"Bearer {KEY}"}) as c:
        yield sim, c, clock


def email(**overrides):
    return {"from": "Hub <hub@alerts.example>", "to": "ops@acme.example", "subject": "s", "text": "t", **overrides}


def test_a_valid_email_is_accepted_once_and_logged(server):
    sim, client, _ = server
    response = client.post("/emails", json=email(to=["a@acme.example", "B <b@acme.example>"], headers={"X-A": "1"}))
    assert response.status_code == 200
    email_id = response.json()["id"]
    assert [e.id for e in sim.emails] == [email_id] and sim.emails[0].body["headers"] == {"X-A": "1"}
    assert client.get(f"/emails/{email_id}").json()["to"] == ["a@acme.example", "B <b@acme.example>"]
    assert {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"} <= set(response.headers)


@pytest.mark.parametrize(
    ("auth", "status", "name"),
    [(None, 401, "missing_api_key"), ("Bearer re_wrong", 403, "invalid_api_key"), ("Basic x", 401, "missing_api_key")],
)
def test_bearer_auth_answers_resends_codes(server, auth, status, name):
    sim, client, _ = server
    headers = {"Authorization": auth} if auth else {}
    request = client.build_request("POST", "/emails", json=email(), headers=headers)
    if auth is None:
        del request.headers["Authorization"]
    response = client.send(request)
    assert response.status_code == status
    assert response.json() == {"statusCode": status, "name": name, "message": response.json()["message"]}
    assert sim.emails == []


def test_a_sending_only_key_sends_but_cannot_list_domains(server):
    _, client, _ = server
    headers = {"Authorization": f"Bearer {SENDING}"}
    assert client.post("/emails", json=email(), headers=headers).status_code == 200
    response = client.get("/domains", headers=headers)
    assert response.status_code == 401 and response.json()["name"] == "restricted_api_key"


def test_a_request_without_user_agent_is_refused(server):
    sim, client, _ = server
    request = client.build_request("POST", "/emails", json=email())
    del request.headers["User-Agent"]
    response = client.send(request)
    assert response.status_code == 403 and "1010" in response.text and sim.emails == []


@pytest.mark.parametrize(
    ("body", "status", "name", "says"),
    [
        ({"to": None}, 422, "missing_required_field", "`to`"),
        ({"subject": None}, 422, "missing_required_field", "`subject`"),
        ({"text": None}, 422, "missing_required_field", "`html` or `text`"),
        ({"to": "not an address"}, 422, "validation_error", "Invalid `to` field"),
        ({"from": "hub"}, 422, "validation_error", "Invalid `from` field"),
        ({"to": [f"r{i}@acme.example" for i in range(51)]}, 422, "validation_error", "at most 50"),
        ({"to": []}, 422, "validation_error", "at least one"),
        ({"headers": {"X-A": 1}}, 422, "validation_error", "`headers`"),
        ({"from": "hub@unknown.example"}, 403, "validation_error", "unknown.example domain is not verified"),
        ({"from": "hub@pending.example"}, 403, "validation_error", "pending.example domain is not verified"),
    ],
)
def test_invalid_bodies_get_resends_error_shape(server, body, status, name, says):
    sim, client, _ = server
    payload = {k: v for k, v in email(**body).items() if v is not None}
    response = client.post("/emails", json=payload)
    assert response.status_code == status
    assert response.json()["name"] == name and says in response.json()["message"]
    assert response.json()["statusCode"] == status and sim.emails == []


def test_fifty_recipients_and_html_only_are_accepted(server):
    sim, client, _ = server
    body = email(to=[f"r{i}@acme.example" for i in range(50)], html="<p>x</p>")
    del body["text"]
    assert client.post("/emails", json=body).status_code == 200 and len(sim.emails) == 1


def test_idempotency_keys_replay_and_refuse_a_different_body(server):
    sim, client, clock = server
    first = client.post("/emails", json=email(), headers={"Idempotency-Key": "failing/inc-1"})
    again = client.post("/emails", json=email(), headers={"Idempotency-Key": "failing/inc-1"})
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    assert len(sim.emails) == 1
    other = client.post("/emails", json=email(subject="changed"), headers={"Idempotency-Key": "failing/inc-1"})
    assert other.status_code == 409 and other.json()["name"] == "invalid_idempotent_request"
    too_long = client.post("/emails", json=email(), headers={"Idempotency-Key": "k" * 257})
    assert too_long.status_code == 400 and too_long.json()["name"] == "invalid_idempotency_key"
    clock.now += 24 * 3600 + 1  # keys are kept 24 hours
    later = client.post("/emails", json=email(subject="changed"), headers={"Idempotency-Key": "failing/inc-1"})
    assert later.status_code == 200 and len(sim.emails) == 2


def test_the_rate_limit_answers_429_with_retry_after_and_resets(server):
    sim, client, clock = server
    sim.config.rate_limit = 2
    statuses = [client.get("/domains").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    limited = client.get("/domains")
    assert limited.json()["name"] == "rate_limit_exceeded"
    assert limited.headers["retry-after"] == "1" and limited.headers["ratelimit-remaining"] == "0"
    assert limited.headers["ratelimit-limit"] == "2"
    clock.now += 1.0
    assert client.get("/domains").status_code == 200


def test_the_daily_quota_is_a_429_of_its_own(server):
    sim, client, _ = server
    sim.config.daily_quota = 1
    assert client.post("/emails", json=email()).status_code == 200
    response = client.post("/emails", json=email(subject="2"))
    assert response.status_code == 429 and response.json()["name"] == "daily_quota_exceeded"


def test_domains_list_and_unknown_paths(server):
    _, client, _ = server
    listed = client.get("/domains").json()
    assert listed["object"] == "list" and listed["has_more"] is False
    assert [(d["name"], d["status"]) for d in listed["data"]] == [
        ("alerts.example", "verified"),
        ("pending.example", "pending"),
    ]
    assert client.get("/domains", params={"limit": "0"}).status_code == 422
    assert client.get("/domains", params={"limit": "1"}).json()["has_more"] is True
    assert client.get("/nope").json()["name"] == "not_found"
    assert client.delete("/emails").status_code == 405


def test_main_prints_the_keys_it_accepts(monkeypatch, capsys):
    served = []
    monkeypatch.setattr(resend_sim, "serve", lambda app, port: served.append(port))
    resend_sim.main(["--port", "8799", "--api-key", "re_cli_key", "--domain", "acme.example"])
    out = capsys.readouterr().out
    assert "api_key=re_cli_key (full access)" in out and "sending access only" in out
    assert "http://127.0.0.1:8799" in out and served == [8799]
