"""Karbon webhook subscriptions from the connector's side, against the simulator and the spec over HTTP."""

from __future__ import annotations

import pytest

from integration_hub.connectors.base import ProviderError
from integration_hub.connectors.karbon.client import KarbonClient
from integration_hub.connectors.karbon.webhooks import WebhookSubscriptions
from integration_hub_tests.support.karbon_sim import contract_breaches, karbon_server

TARGET = "https://hub.example/webhooks/karbon/acme"


@pytest.fixture()
def karbon():
    with karbon_server(companies=1, days=5) as (sim, url):
        firm = sim.firms[0]
        client = KarbonClient(firm.application_id, firm.access_key, base_url=url, requests_per_minute=1_000_000)
        yield sim, WebhookSubscriptions(client)
        client.close()
        assert contract_breaches(sim) == []


def test_ensure_creates_then_leaves_an_identical_subscription_alone(karbon):
    sim, hooks = karbon
    assert hooks.ensure("Contact", TARGET, "signing-key-0123456789").outcome == "created"
    assert hooks.target_of("Contact") == TARGET
    assert hooks.ensure("Contact", TARGET, "signing-key-0123456789").outcome == "unchanged"
    posts = [r for r in sim.requests_to("WebhookSubscriptions") if r.method == "POST"]
    assert len(posts) == 1


def test_a_subscription_elsewhere_is_replaced_and_removal_reports_what_was_there(karbon):
    _, hooks = karbon
    hooks.ensure("Work", "https://old.example/hook", None)
    change = hooks.ensure("Work", TARGET, None)
    assert change.outcome == "replaced" and hooks.target_of("Work") == TARGET
    removed = hooks.remove("Work")
    assert (removed.outcome, removed.target_url) == ("deleted", TARGET)
    assert hooks.target_of("Work") is None and hooks.remove("Work").outcome == "absent"


def test_a_refused_subscription_names_karbons_reason(karbon):
    _, hooks = karbon
    with pytest.raises(ProviderError, match="Target URL must begin with https://"):
        hooks.ensure("Note", "http://hub.example/hook", None)
