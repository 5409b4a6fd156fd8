"""The CRS Soft connector against the simulator's CRS flavor over HTTP on 127.0.0.1."""

from __future__ import annotations

from datetime import date

import pytest

from integration_hub.connectors.base import AuthenticationError, ConnectorConfig, DateWindow
from integration_hub.connectors.crs_soft import CrsSoftConnector, build_crs_soft, settings
from integration_hub.connectors.http import RetryPolicy
from integration_hub.connectors.uyumsoft import UyumsoftConnector
from integration_hub.simulators.crs import create_app
from integration_hub.simulators.server import running
from integration_hub.simulators.uyumsoft import UyumsoftSimulator
from integration_hub_tests.connectors.uyumsoft.expectations import list_and_bulk_requests
from integration_hub_tests.support.efatura_expectations import expected, summarize

START = date(2025, 1, 1)
WINDOW = DateWindow(date(2025, 1, 20), date(2025, 3, 21))  # 60 days
FAST = RetryPolicy(max_attempts=5, base_delay=0.001, max_delay=0.004)


@pytest.fixture(scope="module")
def served():
    app = create_app(seed=23, companies=1, start=START, days=90, per_day=(2, 6), credentials=["crs.user:crs-Pa55"])
    with running(app) as base:
        yield app.state.simulator, base


def _connector(sim: UyumsoftSimulator, base: str, slug: str = "company-1", **settings_) -> CrsSoftConnector:
    account = sim.accounts[slug]
    password = settings_.pop("password", account.password)
    config = ConnectorConfig(
        settings={"username": account.username, "base_url": base, "requests_per_minute": 10**6, **settings_},
        secrets={"password": password},
    )
    return CrsSoftConnector(config, retry=FAST)


@pytest.mark.parametrize("auth_style", ["ws_security", "user_info"])
def test_sixty_day_window_is_exact_with_either_auth_style(served, auth_style: str) -> None:
    sim, base = served
    before = len(sim.calls)
    connector = _connector(sim, base, auth_style=auth_style)
    records = list(connector.collect("invoices", WINDOW))

    incoming, outgoing = sim.invoices("company-1", "in", WINDOW), sim.invoices("company-1", "out", WINDOW)
    assert len(incoming) > 100 and len(outgoing) > 100
    assert summarize(records) == expected(incoming + outgoing)
    assert sum(r.record_type == "invoice_line" for r in records) == sum(i.line_count for i in incoming + outgoing)
    needed = list_and_bulk_requests(len(incoming)) + list_and_bulk_requests(len(outgoing))
    assert connector.stats.requests == needed
    assert connector.stats.reported_counts == {"invoice": len(incoming) + len(outgoing)}

    calls = sim.calls[before:]
    assert len(calls) == needed
    assert {c.params["auth"] for c in calls} == {auth_style}
    # The bulk calls name their ETTNs in an ArrayOfString; CRS honours it only in its own namespace,
    # so an exact result proves the connector writes the items there.
    bulk = [c for c in calls if c.operation.endswith("InvoicesData")]
    assert bulk and sum(c.params["InvoiceIds"] for c in bulk) == len(incoming) + len(outgoing)
    assert sim.state_changes() == []


def test_an_empty_window_without_value_is_zero_invoices(served) -> None:
    sim, base = served
    connector = _connector(sim, base)
    assert list(connector.collect("invoices", DateWindow(date(2024, 3, 1), date(2024, 4, 30)))) == []
    assert connector.stats.requests == 2
    assert connector.stats.reported_counts == {"invoice": 0}


@pytest.mark.parametrize("auth_style", ["ws_security", "user_info"])
def test_wrong_password_is_an_authentication_error_after_one_call(served, auth_style: str) -> None:
    sim, base = served
    before = len(sim.calls)
    connector = _connector(sim, base, slug="crs-user", auth_style=auth_style, password="crs-WRONG")
    with pytest.raises(AuthenticationError, match=r"crs_soft: username 'crs\.user' or its password was rejected"):
        list(connector.collect("invoices", WINDOW))
    calls = sim.calls[before:]
    assert [(c.username, c.status, c.outcome) for c in calls] == [("crs.user", 500, "fault: s:Client")]
    assert connector.stats.retries == 0


def test_test_connection_with_both_auth_styles(served) -> None:
    sim, base = served
    account = sim.accounts["crs-user"]
    for style in ("ws_security", "user_info"):
        result = _connector(sim, base, slug="crs-user", auth_style=style).test_connection()
        assert result.ok and result.message.startswith("Connected to CRS Soft as 'crs.user'")
        assert account.vkn in result.message
    refused = _connector(sim, base, slug="crs-user", auth_style="user_info", password="x").test_connection()
    assert not refused.ok and "crs.user" in refused.message


def test_crs_is_the_uyumsoft_connector_at_crs_addresses() -> None:
    def endpoint(**settings_) -> str:
        config = ConnectorConfig(settings={"username": "u", **settings_}, secrets={"password": "p"})
        connector = build_crs_soft(config)
        assert isinstance(connector, UyumsoftConnector) and connector.provider == "crs_soft"
        return connector.client.endpoint

    assert endpoint() == "https://connect.crssoft.com/Services/Integration"
    assert endpoint(environment="test") == "https://connect-test.crssoft.com/Services/Integration"
    assert endpoint(base_url="http://127.0.0.1:8402") == "http://127.0.0.1:8402/Services/Integration"
    assert settings.ENVIRONMENTS["production"] != UyumsoftConnector.environments["production"]
    default = build_crs_soft(ConnectorConfig(settings={"username": "u"}, secrets={"password": "p"}))
    assert default.client.auth_style == "ws_security"
