"""``integration-hub karbon subscribe`` against the Karbon simulator, with deliveries reaching the receiver.

The whole webhook loop runs over real HTTP: the CLI creates the subscriptions with the connection's own
credentials, the simulator signs and POSTs a notification to the hub's receiver, and the inbox holds it.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from typer.testing import CliRunner

from integration_hub.cli import app
from integration_hub.service import ConnectionService
from integration_hub.simulators.server import running
from integration_hub.store import activity
from integration_hub.webhooks.karbon import create_app
from integration_hub_tests.support.dagster_helpers import hub_resource
from integration_hub_tests.support.karbon_sim import karbon_server

SIGNING_KEY = "subscribe-test-key-0123456789"
runner = CliRunner()


@pytest.fixture()
def world(store, hub_env):
    with karbon_server(companies=1, days=10, allow_http_targets=True) as (sim, karbon_url):
        firm = sim.firms[0]
        ConnectionService(store, today=lambda: date(2026, 11, 22)).connect(
            "acme",
            "karbon",
            {
                "application_id": firm.application_id,
                "access_key": firm.access_key,
                "base_url": karbon_url,
                "start_date": "2026-10-01",
                "webhook_signing_key": SIGNING_KEY,
            },
            by="tester",
        )
        with running(create_app(store)) as receiver_url:

            def cli(*args: str):
                return runner.invoke(app, list(args), env={**hub_env, "USER": "tester"})

            yield sim, firm, receiver_url, cli


def test_subscribe_signs_deliveries_that_land_in_the_inbox(world, hub_settings, store):
    sim, firm, receiver_url, cli = world
    result = cli(
        "karbon", "subscribe", "-c", "acme", "--receiver-url", receiver_url, "-t", "Contact", "-t", "Work", "--json"
    )
    assert result.exit_code == 0, result.output
    target = f"{receiver_url}/webhooks/karbon/acme"
    assert json.loads(result.output) == [
        {"type": "Contact", "target_url": target, "outcome": "created", "signed": "yes"},
        {"type": "Work", "target_url": target, "outcome": "created", "signed": "yes"},
    ]
    (subscriptions,) = sim.subscriptions.values()
    assert subscriptions["Contact"]["SigningKey"] == SIGNING_KEY

    contact = firm.contacts[0]["ContactKey"]
    event = {
        "ResourcePermaKey": contact,
        "ResourceType": "Contact",
        "ActionType": "Updated",
        "TimeStamp": "2026-10-20T10:00:00Z",
    }
    assert sim.deliver(firm.slug, "Contact", event) == 200
    events = hub_resource(hub_settings).inbox_after("karbon", 0)
    assert [(e.company, e.resource_type, e.resource_key) for e in events] == [("acme", "Contact", contact)]

    again = cli("karbon", "subscribe", "-c", "acme", "--receiver-url", receiver_url, "-t", "Contact", "--json")
    assert json.loads(again.output)[0]["outcome"] == "unchanged"
    replaced = cli(
        "karbon", "subscribe", "-c", "acme", "--receiver-url", receiver_url, "-t", "Contact", "--replace", "--json"
    )
    assert json.loads(replaced.output)[0]["outcome"] == "replaced"

    listing = json.loads(cli("karbon", "subscriptions", "-c", "acme", "--json").output)
    assert {row["type"]: row["outcome"] for row in listing} == {
        "Contact": "subscribed",
        "Work": "subscribed",
        "Note": "absent",
        "User": "absent",
        "IntegrationTask": "absent",
        "Invoice": "absent",
        "EstimateSummary": "absent",
    }
    removed = json.loads(cli("karbon", "unsubscribe", "-c", "acme", "-t", "Work", "-t", "Note", "--json").output)
    assert [(r["type"], r["outcome"]) for r in removed] == [("Work", "deleted"), ("Note", "absent")]

    with store.engine.connect() as conn:
        logged = [e for e in activity.query(conn) if e.action == "Webhook Subscription"]
    assert len(logged) == 4 and all(e.status == "Success" for e in logged)
    everything = result.output + again.output + replaced.output + " ".join(e.details for e in logged)
    assert SIGNING_KEY not in everything and firm.access_key not in everything


def test_karbon_refusing_a_target_is_one_line_and_logged(world, store):
    sim, _firm, _receiver_url, cli = world
    sim.config.allow_http_targets = False
    result = cli("karbon", "subscribe", "-c", "acme", "--receiver-url", "http://hub.example.com", "-t", "Invoice")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: Karbon refused the Invoice subscription: 4002: Target URL must begin with https://"
    ]
    with store.engine.connect() as conn:
        (entry,) = [e for e in activity.query(conn) if e.action == "Webhook Subscription"]
    assert entry.status == "Error" and "Target URL must begin with https://" in entry.details


def test_a_paused_connection_cannot_subscribe(world, store):
    _sim, _firm, receiver_url, cli = world
    assert cli("pause", "karbon", "-c", "acme").exit_code == 0
    result = cli("karbon", "subscribe", "-c", "acme", "--receiver-url", receiver_url)
    assert result.exit_code == 2 and "acme/karbon is paused" in result.output


def test_a_create_that_fails_is_not_resent_and_earlier_steps_are_logged(world, store):
    sim, _firm, receiver_url, cli = world
    subscribe = ("karbon", "subscribe", "-c", "acme", "--receiver-url", receiver_url)
    assert cli(*subscribe, "-t", "Contact").exit_code == 0
    sim.fail_when("POST", "/v3/WebhookSubscriptions", status=503)
    sim.log.clear()
    result = cli(*subscribe, "-t", "Contact", "-t", "Work")
    assert result.exit_code == 1
    assert "did not confirm the Work subscription" in result.output
    assert [r.status for r in sim.log if r.method == "POST"] == [503]  # a create is never resent blindly
    sim.fail_when("POST", "/v3/WebhookSubscriptions", status=503)
    replaced = cli(*subscribe, "-t", "Contact", "--replace")
    assert replaced.exit_code == 1 and "the previous subscription to" in replaced.output
    with store.engine.connect() as conn:
        logged = [e for e in activity.query(conn, newest_first=False) if e.action == "Webhook Subscription"]
    assert [e.status for e in logged] == ["Success", "Error", "Error"]
    assert ": Contact unchanged; then failed: Karbon did not confirm the Work subscription" in logged[1].details
    assert logged[2].details.endswith("was deleted")


def test_without_a_signing_key_subscribe_refuses_unless_allowed(world, store):
    sim, firm, receiver_url, cli = world
    svc = ConnectionService(store, today=lambda: date(2026, 11, 22))
    settings = svc.get("acme", "karbon").settings
    svc.connect(
        "globex",
        "karbon",
        {**settings, "access_key": firm.access_key, "application_id": firm.application_id},
        by="tester",
    )
    refused = cli("karbon", "subscribe", "-c", "globex", "--receiver-url", receiver_url, "-t", "Work")
    assert refused.exit_code == 2
    assert refused.output.strip().splitlines() == [
        "error: cannot subscribe: globex/karbon has no webhook_signing_key, and the hub's receiver refuses unsigned "
        "deliveries (set one with `integration-hub edit karbon -c globex --secret-stdin webhook_signing_key`, or "
        "pass --allow-unsigned for a receiver that accepts them)"
    ]
    assert sim.subscriptions == {}
    subscribe = ("karbon", "subscribe", "-c", "globex", "--receiver-url", receiver_url, "-t", "Work")
    allowed = cli(*subscribe, "--allow-unsigned", "--json")
    assert allowed.exit_code == 0, allowed.output
    assert [(r["type"], r["outcome"], r["signed"]) for r in json.loads(allowed.output)] == [("Work", "created", "no")]
    (subscriptions,) = sim.subscriptions.values()
    assert subscriptions["Work"].get("SigningKey") is None
