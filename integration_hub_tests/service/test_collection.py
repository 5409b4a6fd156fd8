"""The collection service on its own (no Dagster): one window's outcome, what it records, what it never says."""

from __future__ import annotations

from datetime import date, timedelta

from integration_hub.connectors.base import DateWindow, ProviderError
from integration_hub.service.collection import CollectionService, LeasePolicy, Outcome
from integration_hub.store import Store, coverage
from integration_hub.store import activity as activity_log
from integration_hub_tests.support import fake_connector
from integration_hub_tests.support.dagster_helpers import connect

WINDOW = DateWindow.inclusive(date(2024, 1, 1), date(2024, 1, 5))


def _attempts(store: Store) -> list[tuple[str, str]]:
    with store.engine.connect() as conn:
        return [(e.status, e.details) for e in activity_log.query(conn, actions=["Sync Attempt"], newest_first=False)]


def test_a_failure_is_returned_recorded_and_free_of_the_secret(store: Store, fake_connectors) -> None:
    connect(store, "acme")
    fake_connector.FAIL_FOR["acme"] = ProviderError("provider said: password GOOD-pw is locked")
    result = CollectionService(store).collect(
        company="acme", integration_id="uyumsoft", stream="invoices", window=WINDOW, run_id="run-1"
    )
    assert result.outcome is Outcome.FAILED and result.error_kind == "provider" and result.retryable
    assert "GOOD-pw" not in (result.message or "") and "locked" in (result.message or "")
    assert result.consecutive_failures == 1
    ((status, details),) = _attempts(store)
    assert status == "Error" and "GOOD-pw" not in details and "previous rows kept" in details
    with store.engine.connect() as conn:
        (health,) = coverage.stream_health(conn, pairs=[("acme", "uyumsoft")])
    assert health.last_error and "GOOD-pw" not in health.last_error


def test_clipping_to_the_start_date_and_skipping_a_window_before_it(store: Store, fake_connectors) -> None:
    connect(store, "acme", start_date="2024-01-04")
    service = CollectionService(store)
    clipped = service.collect(
        company="acme", integration_id="uyumsoft", stream="invoices", window=WINDOW, run_id="r", clip_to_start=True
    )
    assert clipped.ok and clipped.window == DateWindow.inclusive(date(2024, 1, 4), date(2024, 1, 5))
    assert clipped.rows == 6
    before = service.collect(
        company="acme",
        integration_id="uyumsoft",
        stream="invoices",
        window=DateWindow.inclusive(date(2023, 12, 1), date(2024, 1, 3)),
        run_id="r",
        clip_to_start=True,
    )
    assert before.outcome is Outcome.SKIPPED and "before the connection's start date 2024-01-04" in (
        before.message or ""
    )
    assert [c for c in fake_connectors if c[0] == "collect"] == [("collect", "acme:2024-01-04..2024-01-05")]


def test_a_credential_in_use_by_another_run_is_busy_at_once_with_no_wait(store: Store, fake_connectors) -> None:
    connect(store, "acme")
    service = CollectionService(store)
    assert service.take_lease("acme", "uyumsoft", "other-run", timedelta(minutes=5)) is None  # taken by other-run
    result = service.collect(
        company="acme", integration_id="uyumsoft", stream="invoices", window=WINDOW, run_id="mine", lease_wait=0
    )
    assert result.outcome is Outcome.BUSY and result.retryable
    assert "in use by run other-run" in (result.message or "")
    assert [c for c in fake_connectors if c[0] == "collect"] == []
    with store.engine.connect() as conn:  # a busy credential is not a failure of the stream: nothing backs off
        assert coverage.stream_health(conn, pairs=[("acme", "uyumsoft")]) == []


def test_gaps_for_many_companies_come_from_coverage(store: Store, fake_connectors) -> None:
    connect(store, "acme")
    connect(store, "bolt")
    service = CollectionService(store)
    assert service.collect(company="acme", integration_id="uyumsoft", stream="invoices", window=WINDOW, run_id="r").ok
    gaps = service.gaps(
        "uyumsoft", "invoices", {"acme": date(2024, 1, 6), "bolt": date(2024, 1, 2), "ghost": WINDOW.last}
    )
    assert gaps == {"acme": [date(2024, 1, 6)], "bolt": [date(2024, 1, 1), date(2024, 1, 2)], "ghost": []}


def test_two_streams_of_one_run_never_share_a_credential(store: Store, fake_connectors) -> None:
    """On Celery two steps of one run execute at once on two workers, each with its own rate limiter."""
    connect(store, "acme")
    service = CollectionService(store)
    assert service.take_lease("acme", "uyumsoft", "run-7/time", timedelta(minutes=5)) is None
    result = service.collect(
        company="acme", integration_id="uyumsoft", stream="invoices", window=WINDOW, run_id="run-7", lease_wait=0
    )
    assert result.outcome is Outcome.BUSY and "in use by run run-7/time" in (result.message or "")


def test_a_sibling_step_of_the_same_run_is_waited_for_past_the_bound(store: Store, fake_connectors) -> None:
    import threading

    connect(store, "acme")
    service = CollectionService(store, LeasePolicy(ttl_seconds=60, wait_seconds=0.3, poll_seconds=0.1))
    assert service.take_lease("acme", "uyumsoft", "run-7/time", timedelta(minutes=5)) is None
    threading.Timer(1.0, service.release_lease, ("acme", "uyumsoft", "run-7/time")).start()
    result = service.collect(
        company="acme", integration_id="uyumsoft", stream="invoices", window=WINDOW, run_id="run-7"
    )
    assert result.ok  # waited ~1 s for its own run's other step although the bound is 0.3 s
