"""A provider outage end to end, on both databases: collection fails after its retries, the alerts sensor's tick
opens one incident and tells the company's Slack (the Slack simulator) and e-mail (a real SMTP server) once,
``connections`` says "failing" with the reason; the provider recovers, and each route gets one recovery message.
No secret reaches any message."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import dagster as dg
from typer.testing import CliRunner

from integration_hub.assets.factory import build_stream_asset
from integration_hub.assets.streams import stream_names, streams_of
from integration_hub.cli import app
from integration_hub.service import ConnectionService
from integration_hub.service.alerts import AlertPolicy, AlertService
from integration_hub.settings import CollectionConfig
from integration_hub.simulators.server import running
from integration_hub.simulators.slack import SimulatorConfig, SlackSimulator, create_app
from integration_hub.store import Store
from integration_hub_tests.connectors.email.smtp_server import smtp_server
from integration_hub_tests.support import fake_connector
from integration_hub_tests.support.dagster_helpers import hub_resource, materialize_range

PROVIDER_PASSWORD = "GOOD-provider-secret-1"


def test_an_outage_alerts_once_per_route_and_recovery_is_announced(
    store: Store, hub_settings, hub_env, fake_connectors
) -> None:
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    slack = SlackSimulator(SimulatorConfig(scopes=("chat:write", "channels:read")))
    with running(create_app(slack)) as slack_url, smtp_server(None, mode="none", auth=False) as (mailbox, port):
        service = ConnectionService(store)
        service.connect(
            "acme",
            "uyumsoft",
            {"username": "demo", "password": PROVIDER_PASSWORD, "start_date": yesterday.isoformat()},
            by="tester",
        )
        service.connect(
            "acme",
            "slack",
            {"access_token": slack.token, "channel": "#ops", "base_url": f"{slack_url}/api"},
            by="tester",
        )
        service.connect(
            "acme",
            "email",
            {
                "provider": "smtp",
                "host": "127.0.0.1",
                "port": port,
                "security": "none",
                "from_email": "hub@alerts.example",
                "to_emails": "ops@acme.example",
            },
            by="tester",
        )
        asset = build_stream_asset(streams_of("uyumsoft")[0], CollectionConfig(max_retries=1, retry_delay_seconds=0))
        hub = hub_resource(hub_settings)
        alerts = AlertService(
            store, stream_names(), AlertPolicy(max_retries=1, dagster_url="http://dagster.example:3000")
        )
        with dg.instance_for_test() as instance:
            assert materialize_range(asset, instance, hub, "acme", yesterday, yesterday).success
            assert alerts.tick().sent == []  # healthy: nothing to say

            fake_connector.FAIL_ON.add(yesterday)  # the provider goes down
            failed = materialize_range(asset, instance, hub, "acme", yesterday, yesterday, raise_on_error=False)
            assert not failed.success
            opened = alerts.tick()
            assert [i.kind for i in opened.opened] == ["failing"]
            assert sorted(route for _, route, _ in opened.sent) == ["email:acme", "slack:acme"]
            assert alerts.tick().sent == []  # the same incident is never announced twice

            listing = json.loads(CliRunner().invoke(app, ["connections", "--json"], env=hub_env).stdout)
            uyumsoft = next(c for c in listing if c["integration"] == "uyumsoft")
            assert uyumsoft["health"]["state"] == "failing"
            assert "page for" in uyumsoft["health"]["reason"] and "2 failed attempt(s) in a row" in (
                uyumsoft["health"]["reason"]
            )

            fake_connector.FAIL_ON.clear()  # the provider is back
            assert materialize_range(asset, instance, hub, "acme", yesterday, yesterday).success
            healed = alerts.tick()
            assert healed.resolved == [opened.opened[0].id]
            assert sorted((route, phase) for _, route, phase in healed.sent) == [
                ("email:acme", "resolved"),
                ("slack:acme", "resolved"),
            ]
            assert alerts.tick().sent == []

    texts = [m.text for m in slack.messages]
    assert len(texts) == 2
    assert texts[0].startswith("acme/uyumsoft: collection failing")
    assert "recovered" in texts[1]
    assert [m.channel for m in slack.messages] == [slack.messages[0].channel] * 2
    subjects = [r.message["Subject"] for r in mailbox.received]
    assert len(subjects) == 2
    assert "collection failing" in subjects[0] and "recovered" in subjects[1]
    assert [r.rcpt_tos for r in mailbox.received] == [["ops@acme.example"]] * 2
    body = mailbox.received[0].message.get_body(preferencelist=("plain",)).get_content()
    assert "page for" in body and f"http://dagster.example:3000/runs/{failed.run_id}" in body
    everything = json.dumps([m.blocks for m in slack.messages]) + " ".join(texts)
    everything += " ".join(r.raw.decode("utf-8", "replace") for r in mailbox.received)
    assert PROVIDER_PASSWORD not in everything and slack.token not in everything
