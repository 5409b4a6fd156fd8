"""The fleet summary on both databases: counts on a constructed fleet (behind, failing, never collected, backing
off), the worst connections first, the `fleet` command, and a fixed number of SQL statements whatever the number of
companies."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event
from typer.testing import CliRunner

from integration_hub.cli import app
from integration_hub.connectors.base import DateWindow
from integration_hub.service import ConnectionService, ValidationError
from integration_hub.service.fleet import fleet_summary
from integration_hub.store import Store, coverage
from integration_hub.store import connections as rows

TODAY = date(2024, 3, 1)
YESTERDAY = TODAY - timedelta(days=1)
NOW = datetime(2024, 3, 1, 6, 0, tzinfo=UTC)
STREAMS = {"uyumsoft": ("invoices",), "karbon": ("work", "time"), "slack": ()}


def _connection(store: Store, company: str, integration: str = "uyumsoft", state: str = "connected", **extra) -> None:
    with store.engine.begin() as conn:
        rows.insert(
            conn,
            company=company,
            integration_id=integration,
            state=state,
            settings={},
            secrets_token=None,
            secret_fields=(),
            start_date=date(2024, 1, 1),
            performed_by="tester",
        )
        if extra:
            conn.execute(
                rows.t.update()
                .where(rows.t.c.company == company, rows.t.c.integration_id == integration)
                .values(**extra)
            )


def _collected(store: Store, company: str, last: date, integration: str = "uyumsoft", stream: str = "invoices"):
    with store.engine.begin() as conn:
        coverage.record_collected(
            conn,
            company=company,
            integration_id=integration,
            stream=stream,
            rows_per_day={day: 1 for day in DateWindow.inclusive(last - timedelta(days=2), last).days()},
            run_id="ok",
            now=NOW - timedelta(hours=5),
        )


def _failed(store: Store, company: str, kind: str, at: datetime, integration="uyumsoft", stream="invoices", times=1):
    for _ in range(times):
        with store.engine.begin() as conn:
            coverage.record_failed(
                conn,
                company=company,
                integration_id=integration,
                stream=stream,
                window=DateWindow.single_day(YESTERDAY),
                error=f"{kind} trouble",
                error_kind=kind,
                run_id="bad",
                now=at,
            )


@pytest.fixture()
def fleet(store: Store) -> Store:
    """Nine uyumsoft connections, one of each situation, two Karbon ones and a Slack route."""
    for company in ("ok1", "ok2"):
        _connection(store, company)
        _collected(store, company, YESTERDAY)
    _connection(store, "late")
    _collected(store, "late", YESTERDAY - timedelta(days=6))  # 6 days behind, allowed 2
    _connection(store, "flaky")  # failed just now: backing off
    _collected(store, "flaky", YESTERDAY - timedelta(days=1))
    _failed(store, "flaky", "transient", NOW - timedelta(minutes=5), times=3)
    _connection(store, "locked")  # credentials rejected two hours ago: its 15-minute back-off has passed
    _collected(store, "locked", YESTERDAY - timedelta(days=1))
    _failed(store, "locked", "auth", NOW - timedelta(hours=2))
    _connection(store, "never", connected_at=NOW - timedelta(days=20))  # never collected, connected long ago
    _connection(store, "newcomer", connected_at=NOW - timedelta(hours=1))  # never collected, just connected
    _connection(store, "resting", state="paused")
    _collected(store, "resting", YESTERDAY - timedelta(days=30))
    _connection(store, "gone", state="disconnected")
    _connection(store, "kb-ok", "karbon")
    _collected(store, "kb-ok", YESTERDAY, "karbon", "work")
    _collected(store, "kb-ok", YESTERDAY, "karbon", "time")
    _connection(store, "kb-half", "karbon")  # one stream fine, the other failing: failing once, not twice
    _collected(store, "kb-half", YESTERDAY, "karbon", "work")
    _collected(store, "kb-half", YESTERDAY - timedelta(days=1), "karbon", "time")
    _failed(store, "kb-half", "provider", NOW - timedelta(minutes=1), "karbon", "time")
    _connection(store, "acme", "slack")
    return store


def test_counts_per_integration_on_a_constructed_fleet(fleet: Store) -> None:
    summary = fleet_summary(fleet, STREAMS, today=TODAY, now=NOW)
    assert summary.behind_days == 2
    by_id = {i.integration_id: i for i in summary.integrations}
    assert set(by_id) == {"uyumsoft", "karbon"}  # Slack collects nothing
    uyumsoft = by_id["uyumsoft"]
    assert (
        uyumsoft.connections,
        uyumsoft.collecting,
        uyumsoft.behind,
        uyumsoft.failing,
        uyumsoft.needs_reauthorization,
        uyumsoft.never_collected,
        uyumsoft.backing_off,
        uyumsoft.paused,
    ) == (9, 7, 2, 2, 1, 2, 1, 1)
    assert uyumsoft.states == {
        "healthy": 2,
        "behind": 2,
        "failing": 1,
        "needs_reauthorization": 1,
        "pending": 1,
        "paused": 1,
        "off": 1,
    }
    # Worst first: credentials rejected, then failing, then the most days behind; healthy and pending not listed.
    assert [h.company for h in uyumsoft.worst] == ["locked", "flaky", "never", "late"]
    karbon = by_id["karbon"]
    assert (karbon.connections, karbon.collecting, karbon.failing, karbon.backing_off, karbon.behind) == (2, 2, 1, 1, 0)
    assert [h.company for h in karbon.worst] == ["kb-half"]


def test_worst_is_capped_and_one_integration_can_be_asked_for(fleet: Store) -> None:
    summary = fleet_summary(fleet, STREAMS, today=TODAY, now=NOW, integration_id="uyumsoft", worst=2)
    assert [i.integration_id for i in summary.integrations] == ["uyumsoft"]
    assert [h.company for h in summary.integrations[0].worst] == ["locked", "flaky"]
    with pytest.raises(ValidationError, match="slack collects nothing"):
        fleet_summary(fleet, STREAMS, today=TODAY, now=NOW, integration_id="slack")


def test_the_summary_agrees_with_each_connections_health(fleet: Store) -> None:
    """The summary judges exactly like `connections` and the alerts do (the same evaluation, narrower reads)."""
    from integration_hub.service.health import connection_health

    summary = fleet_summary(fleet, STREAMS, today=TODAY, now=NOW)
    health = connection_health(fleet, STREAMS, today=TODAY)
    for integration in summary.integrations:
        expected: dict[str, int] = {}
        for h in health:
            if h.integration_id == integration.integration_id:
                expected[h.state] = expected.get(h.state, 0) + 1
        assert integration.states == expected


def _statements(store: Store, call) -> int:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        call()
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    return len(seen)


def _grow_fleet(store: Store, total: int) -> None:
    with store.engine.begin() as conn:
        existing = len(rows.list_connections(conn))
    for index in range(existing, total):
        company = f"co{index:04d}"
        _connection(store, company)
        if index % 3:
            _collected(store, company, YESTERDAY - timedelta(days=index % 7))
        if index % 5 == 0:
            _failed(store, company, "transient", NOW - timedelta(minutes=index))


def test_the_summary_issues_the_same_statements_for_10_and_200_companies(store: Store) -> None:
    def summarize() -> None:
        fleet_summary(store, STREAMS, today=TODAY, now=NOW)

    _grow_fleet(store, 10)
    small = _statements(store, summarize)
    _grow_fleet(store, 200)
    large = _statements(store, summarize)
    assert fleet_summary(store, STREAMS, today=TODAY, now=NOW).integrations[0].connections == 200
    assert small == large
    assert large <= 2  # the joined read (plus, on SQLite, nothing else)


def test_the_fleet_command_prints_counts_and_the_worst(fleet: Store, hub_env: dict[str, str]) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["fleet", "--json"], env=hub_env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    uyumsoft = next(i for i in data["integrations"] if i["integration_id"] == "uyumsoft")
    # Judged against the real today: everything dated 2024 is long behind, and nothing backs off any more.
    assert (uyumsoft["connections"], uyumsoft["collecting"], uyumsoft["paused"]) == (9, 7, 1)
    assert uyumsoft["failing"] == 2 and uyumsoft["needs_reauthorization"] == 1 and uyumsoft["backing_off"] == 0
    assert uyumsoft["worst"][0]["company"] == "locked"
    table = runner.invoke(app, ["fleet", "--integration", "karbon"], env=hub_env)
    assert table.exit_code == 0, table.output
    assert "karbon" in table.stdout and "uyumsoft" not in table.stdout and "kb-half" in table.stdout
    bad = runner.invoke(app, ["fleet", "--integration", "slack"], env=hub_env)
    assert bad.exit_code == 2 and bad.stderr.strip() == "error: slack collects nothing: it has no fleet summary"


def test_a_connection_service_pause_moves_it_out_of_the_collecting_count(fleet: Store) -> None:
    ConnectionService(fleet).pause("late", "uyumsoft", by="tester")
    uyumsoft = fleet_summary(fleet, STREAMS, today=TODAY, now=NOW).integrations[0]
    assert (uyumsoft.collecting, uyumsoft.paused, uyumsoft.behind) == (6, 2, 1)
