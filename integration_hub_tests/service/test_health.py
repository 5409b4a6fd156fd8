"""Health per connection from the hub's coverage records, on both databases, as `connections` shows it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from typer.testing import CliRunner

from integration_hub.cli import app
from integration_hub.connectors.base import DateWindow
from integration_hub.service.health import connection_health
from integration_hub.store import Store, coverage
from integration_hub_tests.support.dagster_helpers import connect

TODAY = date(2024, 3, 1)
STREAMS = {"uyumsoft": ("invoices",), "karbon": ("work", "time")}
NOW = datetime(2024, 3, 1, 3, 0, tzinfo=UTC)


def _collected(store: Store, company: str, first: date, last: date, integration: str = "uyumsoft", stream="invoices"):
    window = DateWindow.inclusive(first, last)
    with store.engine.begin() as conn:
        coverage.record_collected(
            conn,
            company=company,
            integration_id=integration,
            stream=stream,
            rows_per_day={day: 2 for day in window.days()},
            run_id="r1",
            now=NOW,
        )


def _failed(store: Store, company: str, day: date, kind: str, error: str, at: datetime = NOW + timedelta(hours=1)):
    with store.engine.begin() as conn:
        return coverage.record_failed(
            conn,
            company=company,
            integration_id="uyumsoft",
            stream="invoices",
            window=DateWindow.single_day(day),
            error=error,
            error_kind=kind,
            run_id="r2",
            now=at,
        )


def _states(store: Store) -> dict[str, tuple[str, int | None]]:
    return {
        h.company: (h.state, h.days_behind)
        for h in connection_health(store, STREAMS, today=TODAY, integration_id="uyumsoft")
    }


def test_states_follow_the_coverage(store: Store, fake_connectors) -> None:
    for company in ("fresh", "ok", "late", "broken", "locked", "resting"):
        connect(store, company=company, start_date="2024-01-01")
    _collected(store, "ok", date(2024, 1, 1), date(2024, 2, 29))
    _collected(store, "late", date(2024, 1, 1), date(2024, 2, 20))
    _collected(store, "broken", date(2024, 1, 1), date(2024, 2, 28))
    _failed(store, "broken", date(2024, 2, 29), "transient", "uyumsoft: GetInboxInvoiceList answered HTTP 503 5 times")
    _collected(store, "locked", date(2024, 1, 1), date(2024, 2, 28))
    _failed(store, "locked", date(2024, 2, 29), "auth", "uyumsoft: the provider rejected the credentials")
    _collected(store, "resting", date(2024, 1, 1), date(2024, 1, 5))
    from integration_hub.service import ConnectionService

    ConnectionService(store).pause("resting", "uyumsoft", by="tester")
    assert _states(store) == {
        "fresh": ("pending", 60),  # start date 2024-01-01, nothing collected: 60 days to yesterday
        "ok": ("healthy", 0),
        "late": ("behind", 9),
        "broken": ("failing", 1),
        "locked": ("needs_reauthorization", 1),
        "resting": ("paused", 55),
    }
    broken = next(h for h in connection_health(store, STREAMS, today=TODAY) if h.company == "broken")
    assert broken.reason == (
        "invoices: uyumsoft: GetInboxInvoiceList answered HTTP 503 5 times (1 failed attempt(s) in a row)"
    )
    assert broken.next_attempt_at == NOW + timedelta(hours=1) + coverage.backoff(1)


def test_a_success_after_failures_heals_and_clears_the_back_off(store: Store, fake_connectors) -> None:
    connect(store, company="acme", start_date="2024-02-28")
    first = _failed(store, "acme", date(2024, 2, 29), "transient", "timeout", at=NOW)
    second = _failed(store, "acme", date(2024, 2, 29), "transient", "timeout", at=NOW + timedelta(minutes=20))
    assert (first.consecutive_failures, second.consecutive_failures) == (1, 2)
    assert second.next_attempt_at - second.last_attempt_at == timedelta(minutes=30)  # 15 min, doubled
    with store.engine.begin() as conn:
        coverage.record_collected(
            conn,
            company="acme",
            integration_id="uyumsoft",
            stream="invoices",
            rows_per_day={date(2024, 2, 28): 1, date(2024, 2, 29): 0},
            run_id="r3",
            now=NOW + timedelta(hours=2),
        )
    (health,) = connection_health(store, STREAMS, today=TODAY)
    assert (health.state, health.days_behind, health.next_attempt_at) == ("healthy", 0, None)
    assert health.last_error == "timeout"  # history stays readable, but it is older than the success


def test_backoff_doubles_up_to_half_a_day() -> None:
    assert [coverage.backoff(n) for n in (0, 1, 2, 3)] == [
        timedelta(0),
        timedelta(minutes=15),
        timedelta(minutes=30),
        timedelta(hours=1),
    ]
    # Below the daily schedule's period, so a stream that keeps failing is still tried at every daily tick.
    assert coverage.backoff(30) == timedelta(hours=12)


def test_an_edit_or_a_resume_lets_the_next_collection_run_at_once(store: Store, fake_connectors) -> None:
    from integration_hub.service import ConnectionService

    connect(store, company="acme", start_date="2024-02-28")
    assert _failed(store, "acme", date(2024, 2, 29), "auth", "rejected").next_attempt_at is not None
    svc = ConnectionService(store, today=lambda: TODAY)
    svc.edit("acme", "uyumsoft", {"password": "GOOD-new"}, by="tester")
    with store.engine.connect() as conn:
        (edited,) = coverage.stream_health(conn, companies=["acme"])
    assert edited.next_attempt_at is None and edited.failing  # still failing until it collects, but not held back
    _failed(store, "acme", date(2024, 2, 29), "transient", "timeout", at=NOW + timedelta(hours=2))
    svc.pause("acme", "uyumsoft", by="tester")
    svc.resume("acme", "uyumsoft", by="tester")
    with store.engine.connect() as conn:
        (resumed,) = coverage.stream_health(conn, companies=["acme"])
    assert resumed.next_attempt_at is None


def test_connections_and_overview_show_health(store: Store, hub_env, fake_connectors) -> None:
    connect(store, company="acme", start_date="2024-01-01")
    _collected(store, "acme", date(2024, 1, 1), date(2024, 1, 10))
    _failed(store, "acme", date(2024, 1, 11), "auth", "uyumsoft: the provider rejected the credentials")
    runner = CliRunner()
    listed = json.loads(runner.invoke(app, ["connections", "--json"], env=hub_env).stdout)
    assert listed[0]["health"]["state"] == "needs_reauthorization"
    assert listed[0]["health"]["last_error"] == "uyumsoft: the provider rejected the credentials"
    table = runner.invoke(app, ["connections"], env=hub_env).stdout
    assert "needs_reauthorization" in table and "rejected the credentials" in table
    overview = json.loads(runner.invoke(app, ["overview", "--json"], env=hub_env).stdout)
    assert overview["health"] == {"needs_reauthorization": 1}
    uyumsoft = next(i for i in overview["integrations"] if i["id"] == "uyumsoft")
    assert uyumsoft["health"] == {"needs_reauthorization": 1}
