"""``integration-hub coverage``: what the hub collected for a company, integration and day, on both databases, as a
data engineer reads it: collected, collected empty, failed and never-collected days told apart, ranges collapsed,
one-line errors for bad input."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from typer.testing import CliRunner

from integration_hub.cli import app
from integration_hub.connectors.base import DateWindow
from integration_hub.store import Store, coverage
from integration_hub.store import connections as rows
from integration_hub_tests.support.dagster_helpers import connect

runner = CliRunner()
NOW = datetime(2024, 2, 10, 4, 0, tzinfo=UTC)


@pytest.fixture()
def cli(hub_env: dict[str, str], fake_connectors):
    def invoke(*args: str):
        return runner.invoke(app, list(args), env={**hub_env, "USER": "tester"})

    return invoke


def _collected(store: Store, rows_per_day: dict[date, int], run_id: str, now: datetime = NOW) -> None:
    with store.engine.begin() as conn:
        coverage.record_collected(
            conn,
            company="acme",
            integration_id="uyumsoft",
            stream="invoices",
            rows_per_day=rows_per_day,
            run_id=run_id,
            now=now,
        )


def _failed(store: Store, day: date, error: str, run_id: str) -> None:
    with store.engine.begin() as conn:
        coverage.record_failed(
            conn,
            company="acme",
            integration_id="uyumsoft",
            stream="invoices",
            window=DateWindow.single_day(day),
            error=error,
            error_kind="transient",
            run_id=run_id,
            now=NOW + timedelta(hours=2),
        )


@pytest.fixture()
def history(store: Store, fake_connectors) -> Store:
    """acme/uyumsoft: Feb 1 five rows, Feb 2 empty, Feb 3 four rows then a failed retry, Feb 4 never attempted,
    Feb 5 failed without ever succeeding."""
    connect(store, company="acme", start_date="2024-01-01")
    _collected(store, {date(2024, 2, 1): 5, date(2024, 2, 2): 0, date(2024, 2, 3): 4}, "run-a")
    _failed(store, date(2024, 2, 3), "uyumsoft: GetInboxInvoiceList answered HTTP 503 5 times", "run-b")
    _failed(store, date(2024, 2, 5), "uyumsoft: the provider rejected the credentials", "run-c")
    return store


def _single_line(output: str) -> str:
    lines = [line for line in output.splitlines() if "invoices" in line]
    assert len(lines) == 1, output
    return lines[0]


def test_a_collected_day_shows_its_rows_time_and_run(cli, history) -> None:
    result = cli("coverage", "acme", "uyumsoft", "--day", "2024-02-01")
    assert result.exit_code == 0, result.output
    line = _single_line(result.stdout)
    assert "collected" in line and " 5 " in line and "2024-02-10 04:00" in line and "run-a" in line
    assert "empty" not in line
    assert "1 stream-day(s): 1 collected" in result.stdout


def test_an_empty_day_is_collected_with_no_rows_not_missing(cli, history) -> None:
    line = _single_line(cli("coverage", "acme", "uyumsoft", "--day", "2024-02-02").stdout)
    assert "empty" in line and " 0 " in line and "run-a" in line
    assert "never collected" not in line


def test_a_day_never_attempted_says_never_collected(cli, history) -> None:
    result = cli("coverage", "acme", "uyumsoft", "--day", "2024-02-04")
    assert result.exit_code == 0, result.output
    line = _single_line(result.stdout)
    assert "never collected" in line and "run-" not in line
    assert "1 stream-day(s): 1 never collected" in result.stdout


def test_a_failed_day_shows_its_error(cli, history) -> None:
    line = _single_line(cli("coverage", "acme", "uyumsoft", "--day", "2024-02-05").stdout)
    assert "failed" in line and "the provider rejected the credentials" in line and "run-c" in line
    assert "collected" not in line


def test_a_collected_day_whose_retry_failed_keeps_its_rows_and_shows_the_error(cli, history) -> None:
    line = _single_line(cli("coverage", "acme", "uyumsoft", "--day", "2024-02-03").stdout)
    assert "collected, last attempt failed" in line and " 4 " in line and "HTTP 503 5 times" in line


def test_a_range_collapses_consecutive_days_in_the_same_state(cli, history) -> None:
    result = cli("coverage", "acme", "uyumsoft", "--from", "2024-01-30", "--to", "2024-02-05")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if "invoices" in line]
    assert len(lines) == 5, result.stdout  # Jan 30-31 never | Feb 1-2 collected | Feb 3 retry failed | 4 | 5
    assert "2024-01-30 .. 2024-01-31 (2 days)" in lines[0] and "never collected" in lines[0]
    assert "2024-02-01 .. 2024-02-02 (2 days)" in lines[1] and "collected (1 empty)" in lines[1]
    assert " 5 " in lines[1]
    assert "2024-02-04" in lines[3] and "never collected" in lines[3]
    assert "7 stream-day(s): 2 collected, 1 empty, 1 failed, 3 never collected" in result.stdout


def test_json_lists_every_day_with_its_status(cli, history) -> None:
    result = cli("coverage", "acme", "uyumsoft", "--from", "2024-02-01", "--to", "2024-02-05", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["state"] == "connected"
    assert [(d["day"], d["status"], d["rows"], d["run_id"]) for d in data["days"]] == [
        ("2024-02-01", "collected", 5, "run-a"),
        ("2024-02-02", "collected", 0, "run-a"),
        ("2024-02-03", "collected", 4, "run-b"),
        ("2024-02-04", "never collected", 0, None),
        ("2024-02-05", "failed", 0, "run-c"),
    ]


def test_a_karbon_day_has_one_line_per_stream_and_stream_narrows_it(cli, store: Store, fake_connectors) -> None:
    with store.engine.begin() as conn:
        rows.insert(
            conn,
            company="acme",
            integration_id="karbon",
            state="connected",
            settings={"application_id": "00000000-0000-4000-8000-000000000000"},
            secrets_token=None,
            secret_fields=(),
            start_date=date(2024, 1, 1),
            performed_by="tester",
        )
        coverage.record_collected(
            conn,
            company="acme",
            integration_id="karbon",
            stream="time",
            rows_per_day={date(2024, 2, 1): 7},
            run_id="run-k",
            now=NOW,
        )
    result = cli("coverage", "acme", "karbon", "--day", "2024-02-01")
    assert result.exit_code == 0, result.output
    assert "7 stream-day(s): 1 collected, 6 never collected" in result.stdout
    narrowed = cli("coverage", "acme", "karbon", "--day", "2024-02-01", "--stream", "time")
    assert "1 stream-day(s): 1 collected" in narrowed.stdout and "run-k" in narrowed.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("nobody", "uyumsoft", "--day", "2024-02-01"), "error: no uyumsoft connection for company 'nobody'"),
        (("acme", "edm", "--day", "2024-02-01"), "error: no edm connection for company 'acme'"),
        (("acme", "uyumsoft", "--day", "2024-02-30"), "error: --day must be a date as YYYY-MM-DD, got '2024-02-30'"),
        (("acme", "uyumsoft", "--from", "yesterday"), "error: --from must be a date as YYYY-MM-DD, got 'yesterday'"),
        (
            ("acme", "uyumsoft", "--from", "2024-02-05", "--to", "2024-02-01"),
            "error: --to (2024-02-01) is before --from (2024-02-05)",
        ),
        (
            ("acme", "uyumsoft", "--day", "2024-02-01", "--from", "2024-02-01"),
            "error: give either --day or --from/--to, not both",
        ),
        (
            ("acme", "uyumsoft", "--day", "2024-02-01", "--stream", "time"),
            "error: uyumsoft has no stream 'time' (it collects: invoices)",
        ),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_a_usage_exit_code(cli, history, args, message) -> None:
    result = cli("coverage", *args)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == message
    assert result.stdout == ""
