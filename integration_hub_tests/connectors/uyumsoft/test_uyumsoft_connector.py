"""The Uyumsoft connector against the Uyumsoft simulator over HTTP on 127.0.0.1."""

from __future__ import annotations

from datetime import date

import pytest

from integration_hub.connectors.base import (
    AuthenticationError,
    ConfigurationError,
    ConnectorConfig,
    DateWindow,
    TransientError,
)
from integration_hub.connectors.http import RetryPolicy
from integration_hub.connectors.uyumsoft import UyumsoftConnector, build_uyumsoft, settings
from integration_hub.simulators.server import running
from integration_hub.simulators.uyumsoft import UyumsoftSimulator, create_app
from integration_hub_tests.connectors.uyumsoft.expectations import READ_OPERATIONS, list_and_bulk_requests
from integration_hub_tests.support.efatura_expectations import expected, mailbox_expected, summarize

START = date(2025, 1, 1)
WINDOW = DateWindow(date(2025, 1, 15), date(2025, 3, 16))  # 60 days
FAST = RetryPolicy(max_attempts=6, base_delay=0.001, max_delay=0.004)


def _app(**options):
    return create_app(**{"seed": 11, "companies": 2, "start": START, "days": 90, "per_day": (2, 6), **options})


@pytest.fixture(scope="module")
def served():
    app = _app()
    with running(app) as base:
        yield app.state.simulator, base


def _connector(sim: UyumsoftSimulator, base: str, slug: str = "company-1", password: str | None = None, **kwargs):
    account = sim.accounts[slug]
    extra = kwargs.pop("settings", {})
    config = ConnectorConfig(
        settings={"username": account.username, "base_url": base, "requests_per_minute": 10**6, **extra},
        secrets={"password": password if password is not None else account.password},
    )
    return UyumsoftConnector(config, retry=kwargs.pop("retry", FAST), **kwargs)


def _new_calls(sim: UyumsoftSimulator, before: int):
    return sim.calls[before:]


def test_sixty_day_window_yields_exactly_the_simulators_invoices_with_fewest_requests(served) -> None:
    sim, base = served
    before = len(sim.calls)
    connector = _connector(sim, base)
    records = list(connector.collect("invoices", WINDOW))

    incoming, outgoing = sim.invoices("company-1", "in", WINDOW), sim.invoices("company-1", "out", WINDOW)
    assert len(incoming) > 100 and len(outgoing) > 100  # both listings really page
    assert summarize(records) == expected(incoming + outgoing)
    lines = sum(invoice.line_count for invoice in incoming + outgoing)
    assert sum(r.record_type == "invoice_line" for r in records) == lines
    assert {r.record_date for r in records} <= set(WINDOW.days())

    needed = list_and_bulk_requests(len(incoming)) + list_and_bulk_requests(len(outgoing))
    assert connector.stats.requests == needed
    assert connector.stats.pages == needed
    assert connector.stats.retries == 0
    assert connector.stats.reported_counts == {"invoice": len(incoming) + len(outgoing)}

    calls = _new_calls(sim, before)
    assert len(calls) == needed
    assert {call.operation for call in calls} <= READ_OPERATIONS
    assert all(call.status == 200 and call.username == "company1.ws" for call in calls)
    assert sim.state_changes() == []
    # One listing pass per direction over the whole window, not one per day.
    listings = [c for c in calls if c.operation == "GetInboxInvoiceList"]
    assert {(c.params["ExecutionStartDate"], c.params["ExecutionEndDate"]) for c in listings} == {
        ("2025-01-15T00:00:00", "2025-03-15T23:59:59")
    }
    assert [c.params["PageIndex"] for c in listings] == list(range(len(listings)))
    assert all(c.params["SetTaken"] is False for c in calls if c.operation == "GetInboxInvoicesData")


def test_pages_clamped_by_the_service_and_a_single_item_last_page_are_followed(served) -> None:
    sim, base = served
    incoming = sim.invoices("company-1", "in", WINDOW)
    outgoing = sim.invoices("company-1", "out", WINDOW)
    app = _app(page_size_max=10, companies=1)  # company-1 has the same login and mailbox in every app
    with running(app) as small_base:
        small = app.state.simulator
        # The service clamps 100 to 10: the connector must follow TotalPages, not its own page size.
        connector = _connector(small, small_base)
        assert summarize(connector.collect("invoices", WINDOW)) == expected(incoming + outgoing)
        list_calls = -(-len(incoming) // 10) + -(-len(outgoing) // 10)
        bulk_calls = sum(-(-min(50, n - i) // 10) for n in (len(incoming), len(outgoing)) for i in range(0, n, 50))
        assert connector.stats.requests == list_calls + bulk_calls

    # A page size leaving exactly one row on the last page (one item, no array around it on the wire).
    connector = _connector(sim, base, list_page_size=len(incoming) - 1, document_batch=7)
    assert summarize(connector.collect("invoices", WINDOW)) == expected(incoming + outgoing)


def test_wrong_password_is_an_authentication_error_and_never_retried(served) -> None:
    sim, base = served
    before = len(sim.calls)
    connector = _connector(sim, base, password="not-the-password")
    with pytest.raises(AuthenticationError) as caught:
        list(connector.collect("invoices", WINDOW))
    message = str(caught.value)
    assert "company1.ws" in message and "password" in message and "not-the-password" not in message
    assert "yetkiniz yok" in message
    calls = _new_calls(sim, before)
    assert [(c.operation, c.status, c.outcome) for c in calls] == [("GetInboxInvoiceList", 500, "fault: s:Client")]
    assert connector.stats.requests == 1 and connector.stats.retries == 0


def test_unauthorized_result_envelope_is_an_authentication_error_too() -> None:
    app = _app(companies=1, days=10, unauthorized_as="result")
    with running(app) as base:
        sim = app.state.simulator
        connector = _connector(sim, base, password="wrong")
        with pytest.raises(AuthenticationError, match=r"company1\.ws.*password.*Unauthorized"):
            list(connector.collect("invoices", DateWindow(START, date(2025, 1, 5))))
        assert [(c.status, c.outcome) for c in sim.calls] == [(200, "failed: Unauthorized")]
        result = connector.test_connection()
        assert not result.ok and "Unauthorized" in result.message and "wrong" not in result.message


def test_user_info_style_on_plain_uyumsoft_is_refused_with_a_hint(served) -> None:
    sim, base = served
    before = len(sim.calls)
    connector = _connector(sim, base, settings={"auth_style": "user_info"})
    with pytest.raises(AuthenticationError, match="set auth_style to 'ws_security'"):
        list(connector.collect("invoices", WINDOW))
    assert [c.outcome for c in _new_calls(sim, before)] == ["fault: a:InvalidSecurity"]


def test_injected_503s_are_retried_and_the_result_stays_exact() -> None:
    app = _app(companies=1)
    with running(app) as base:
        sim = app.state.simulator
        incoming, outgoing = sim.invoices("company-1", "in", WINDOW), sim.invoices("company-1", "out", WINDOW)
        sim.fail_next(4)
        connector = _connector(sim, base)
        assert summarize(connector.collect("invoices", WINDOW)) == expected(incoming + outgoing)
        needed = list_and_bulk_requests(len(incoming)) + list_and_bulk_requests(len(outgoing))
        assert connector.stats.retries == 4
        assert connector.stats.requests == needed + 4
        assert [c.outcome for c in sim.calls[:4]] == ["injected"] * 4
        assert sim.state_changes() == []

    # A random share of failures (the CLI's --fail-rate) changes nothing either.
    window = DateWindow(date(2025, 2, 1), date(2025, 2, 21))
    app = _app(companies=1, fail_rate=0.5)
    with running(app) as base:
        sim = app.state.simulator
        connector = _connector(sim, base, retry=RetryPolicy(max_attempts=12, base_delay=0.001, max_delay=0.002))
        assert summarize(connector.collect("invoices", window)) == mailbox_expected(sim, "company-1", window)
        injected = sum(c.outcome == "injected" for c in sim.calls)
        assert injected > 0 and connector.stats.retries == injected


def test_a_service_that_stays_down_raises_transient_error_after_the_retry_budget() -> None:
    app = _app(companies=1, days=5)
    with running(app) as base:
        sim = app.state.simulator
        sim.fail_next(1000)
        connector = _connector(sim, base, retry=RetryPolicy(max_attempts=3, base_delay=0.001, max_delay=0.002))
        with pytest.raises(TransientError, match="503"):
            list(connector.collect("invoices", DateWindow(START, date(2025, 1, 5))))
        assert [c.outcome for c in sim.calls] == ["injected"] * 3


def test_without_the_bulk_call_documents_are_fetched_one_by_one() -> None:
    window = DateWindow(date(2025, 1, 10), date(2025, 1, 25))
    app = _app(companies=1, bulk_data=False)
    with running(app) as base:
        sim = app.state.simulator
        incoming, outgoing = sim.invoices("company-1", "in", window), sim.invoices("company-1", "out", window)
        connector = _connector(sim, base)
        assert summarize(connector.collect("invoices", window)) == expected(incoming + outgoing)
        operations = sim.operations()
        assert operations.count("GetInboxInvoicesData") == 1  # one probe, answered ActionNotSupported
        assert "GetOutboxInvoicesData" not in operations
        assert operations.count("GetInboxInvoiceData") == len(incoming)
        assert operations.count("GetOutboxInvoiceData") == len(outgoing)
        assert connector.stats.requests == 2 + 1 + len(incoming) + len(outgoing)
        assert sim.state_changes() == []


def test_an_empty_window_costs_one_listing_per_direction(served) -> None:
    sim, base = served
    connector = _connector(sim, base)
    assert list(connector.collect("invoices", DateWindow(date(2024, 6, 1), date(2024, 7, 1)))) == []
    assert connector.stats.requests == 2
    assert connector.stats.reported_counts == {"invoice": 0}


def test_accounts_never_see_each_others_invoices(served) -> None:
    sim, base = served
    window = DateWindow(date(2025, 2, 1), date(2025, 2, 11))
    records = list(_connector(sim, base, slug="company-2").collect("invoices", window))
    assert summarize(records) == mailbox_expected(sim, "company-2", window)
    theirs = {i.ettn.lower() for d in ("in", "out") for i in sim.invoices("company-1", d, window)}
    assert theirs and not theirs & {r.external_key.split(":")[0] for r in records}


def test_test_connection_reports_the_company_or_the_refusal(served) -> None:
    sim, base = served
    before = len(sim.calls)
    account = sim.accounts["company-1"]
    ok = _connector(sim, base).test_connection()
    assert ok.ok and account.username in ok.message and account.vkn in ok.message
    refused = _connector(sim, base, password="nope-nope").test_connection()
    assert not refused.ok and account.username in refused.message and "nope-nope" not in refused.message
    assert [c.operation for c in _new_calls(sim, before)] == ["WhoAmI", "WhoAmI"]

    unreachable = ConnectorConfig(
        settings={"username": "u", "base_url": "http://127.0.0.1:9", "requests_per_minute": 10**6},
        secrets={"password": "p"},
    )
    down = UyumsoftConnector(unreachable, retry=RetryPolicy(max_attempts=2, base_delay=0.001)).test_connection()
    assert not down.ok and "failed after 2 attempts" in down.message


def test_configuration_is_checked_before_any_request() -> None:
    def build(settings_: dict, secrets: dict | None = None) -> UyumsoftConnector:
        return build_uyumsoft(
            ConnectorConfig(settings=settings_, secrets={"password": "p"} if secrets is None else secrets)
        )

    with pytest.raises(ConfigurationError, match="'username' setting is required"):
        build({})
    with pytest.raises(ConfigurationError, match="uyumsoft: missing secret field 'password'"):
        build({"username": "u"}, secrets={})
    with pytest.raises(ConfigurationError, match="auth_style 'soap'"):
        build({"username": "u", "auth_style": "soap"})
    with pytest.raises(ConfigurationError, match="base_url must start with http"):
        build({"username": "u", "base_url": "ftp://example"})
    with pytest.raises(ConfigurationError, match="unknown environment 'staging'"):
        build({"username": "u", "environment": "staging"})

    connector = build({"username": "u"}, secrets={"password": "s3cr3t-value"})
    assert connector.client.endpoint == settings.ENVIRONMENTS["production"]
    assert "s3cr3t-value" not in repr(connector)
    assert build({"username": "u", "environment": "test"}).client.endpoint == (
        "https://efatura-test.uyumsoft.com.tr/Services/Integration"
    )

    def url(base: str) -> str:
        return UyumsoftConnector.service_url(ConnectorConfig(settings={"base_url": base}))

    assert url("http://127.0.0.1:8401/") == "http://127.0.0.1:8401/Services/Integration"
    assert url("https://host/custom/Integration") == "https://host/custom/Integration"
