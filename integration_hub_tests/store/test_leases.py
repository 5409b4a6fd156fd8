"""Credential leases on SQLite and PostgreSQL: one holder at a time, take-over after expiry, own-only release."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from integration_hub.store import Store, leases

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
TTL = timedelta(seconds=60)
KEY = {"integration_id": "uyumsoft", "company": "acme"}


def _acquire(store: Store, run_id: str, now: datetime) -> leases.Lease | None:
    with store.engine.begin() as conn:
        return leases.acquire(conn, **KEY, run_id=run_id, ttl=TTL, now=now)


def test_a_held_lease_names_its_run_and_expiry_and_is_refused_to_another_run(store: Store) -> None:
    assert _acquire(store, "run-a", T0) is None
    holder = _acquire(store, "run-b", T0 + timedelta(seconds=59))
    assert holder is not None
    assert (holder.run_id, holder.expires_at, holder.credential) == ("run-a", T0 + TTL, "uyumsoft.acme")
    # Another company's credential is independent.
    with store.engine.begin() as conn:
        assert leases.acquire(conn, integration_id="uyumsoft", company="beta", run_id="run-b", ttl=TTL, now=T0) is None


def test_renewal_keeps_it_and_release_frees_it(store: Store) -> None:
    assert _acquire(store, "run-a", T0) is None
    with store.engine.begin() as conn:
        assert leases.renew(conn, **KEY, run_id="run-a", ttl=TTL, now=T0 + timedelta(seconds=50))
    holder = _acquire(store, "run-b", T0 + timedelta(seconds=100))  # past the first expiry, not the renewed one
    assert holder is not None and holder.expires_at == T0 + timedelta(seconds=110)
    assert _acquire(store, "run-a", T0 + timedelta(seconds=100)) is None  # its holder may take it again
    with store.engine.begin() as conn:
        assert leases.release(conn, **KEY, run_id="run-a")
        assert leases.holder_of(conn, **KEY) is None
    assert _acquire(store, "run-b", T0 + timedelta(seconds=101)) is None


def test_an_expired_lease_is_taken_over_and_its_old_holder_cannot_renew_or_release_it(store: Store) -> None:
    assert _acquire(store, "killed-run", T0) is None
    assert _acquire(store, "run-b", T0 + TTL) is None  # expired exactly now: taken over
    with store.engine.begin() as conn:
        assert not leases.renew(conn, **KEY, run_id="killed-run", ttl=TTL, now=T0 + TTL)
        assert not leases.release(conn, **KEY, run_id="killed-run")
        holder = leases.holder_of(conn, **KEY)
    assert holder is not None and holder.run_id == "run-b"


def test_runs_racing_for_one_credential_never_both_get_it(store: Store) -> None:
    """Twelve threads, each its own connection and transaction, contend at once (an expired lease makes every
    one of them eligible): exactly one takes it, every other one is told who did."""
    assert _acquire(store, "killed-run", T0) is None
    start = threading.Barrier(12)
    outcomes: dict[str, leases.Lease | BaseException | None] = {}

    def contend(run_id: str) -> None:
        start.wait()
        try:
            outcomes[run_id] = _acquire(store, run_id, T0 + timedelta(minutes=5))
        except BaseException as exc:
            outcomes[run_id] = exc

    threads = [threading.Thread(target=contend, args=(f"run-{i}",)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [run_id for run_id, outcome in outcomes.items() if outcome is None]
    assert len(winners) == 1, outcomes
    losers = {outcome.run_id for outcome in outcomes.values() if isinstance(outcome, leases.Lease)}
    assert losers == set(winners)
    with store.engine.connect() as conn:
        holder = leases.holder_of(conn, **KEY)
    assert holder is not None and holder.run_id == winners[0]
