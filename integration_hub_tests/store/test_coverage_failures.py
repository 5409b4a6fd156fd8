"""A day's ``failures`` on coverage: each failed attempt raises it, a success resets it (the retry sensor bounds its
retries per day by it), and upgrading to 0007 counts a day failing before it as failed once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from alembic import command
from sqlalchemy import select, text

from integration_hub.connectors.base import DateWindow
from integration_hub.store import Store, coverage, schema
from integration_hub.store.database import _alembic_config, make_engine
from integration_hub_tests.store.test_migrations import empty_database  # noqa: F401  (fixture)

AT = datetime(2024, 1, 11, 12, 0, tzinfo=UTC)


def _failures(store: Store) -> dict[date, int]:
    cov = schema.coverage
    with store.engine.connect() as conn:
        return dict(conn.execute(select(cov.c.day, cov.c.failures).where(cov.c.company == "alpha")).all())


def _fail(store: Store, first: int, last: int, at: datetime) -> None:
    with store.engine.begin() as conn:
        coverage.record_failed(
            conn,
            company="alpha",
            integration_id="uyumsoft",
            stream="invoices",
            window=DateWindow.inclusive(date(2024, 1, first), date(2024, 1, last)),
            error="fake provider: page failed",
            error_kind="provider",
            run_id="r",
            now=at,
        )


def test_each_failed_attempt_at_a_day_counts_and_a_success_resets_it(store: Store) -> None:
    _fail(store, 1, 2, AT)
    _fail(store, 2, 3, AT + timedelta(hours=1))
    assert _failures(store) == {date(2024, 1, 1): 1, date(2024, 1, 2): 2, date(2024, 1, 3): 1}
    with store.engine.begin() as conn:
        coverage.record_collected(
            conn,
            company="alpha",
            integration_id="uyumsoft",
            stream="invoices",
            rows_per_day={date(2024, 1, 2): 4},
            run_id="ok",
            now=AT + timedelta(hours=2),
        )
    assert _failures(store) == {date(2024, 1, 1): 1, date(2024, 1, 2): 0, date(2024, 1, 3): 1}
    _fail(store, 2, 2, AT + timedelta(hours=3))  # collected once, failed again: its first failure since
    assert _failures(store)[date(2024, 1, 2)] == 1


def test_0007_counts_a_day_failing_before_it_as_failed_once(empty_database: str) -> None:  # noqa: F811
    engine = make_engine(empty_database)
    config = _alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0006")
    with engine.begin() as conn:
        for day, error in [("2024-03-01", None), ("2024-03-02", "fake provider: down")]:
            conn.execute(
                text(
                    "INSERT INTO hub_coverage (company, integration_id, stream, day, status, rows, attempted_at, "
                    "error) VALUES ('acme', 'uyumsoft', 'invoices', :day, 'collected', 1, :at, :error)"
                ),
                {"day": date.fromisoformat(day), "at": AT, "error": error},
            )
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT day, failures FROM hub_coverage ORDER BY day")).all()
    engine.dispose()
    assert [(str(d)[:10], n) for d, n in rows] == [("2024-03-01", 0), ("2024-03-02", 1)]
