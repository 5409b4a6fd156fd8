"""Credential leases: at most one run uses a company's credential for an integration at a time.

Dagster's run queue limits runs by tag, but a run started outside the queue (``dagster asset materialize``, a
run whose tags were lost) would use the credential beside a queued one; providers rate-limit per account and
EDM sessions are per login, so two runs on one credential fail each other. The lease is the hub's own
guarantee: a run takes it before calling the provider, renews it while it works and releases it at the end.

Taking is one statement (``INSERT ... ON CONFLICT DO UPDATE ... WHERE``, on SQLite and PostgreSQL alike), so two
runs can never both hold a lease: the row is inserted, or updated only when it is expired or already the
caller's. An expired row is a run that stopped renewing (killed): the next run takes it over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from integration_hub.store import schema
from integration_hub.store.database import as_utc

leases = schema.credential_leases


@dataclass(frozen=True)
class Lease:
    """Who holds a credential and until when."""

    integration_id: str
    company: str
    run_id: str
    acquired_at: datetime
    expires_at: datetime

    @property
    def credential(self) -> str:
        return f"{self.integration_id}.{self.company}"


def _key(integration_id: str, company: str):  # type: ignore[no-untyped-def]
    return and_(leases.c.integration_id == integration_id, leases.c.company == company)


def acquire(
    conn: Connection, *, integration_id: str, company: str, run_id: str, ttl: timedelta, now: datetime
) -> Lease | None:
    """Take (or renew, for the run already holding it) the lease until ``now + ttl``.

    Returns ``None`` when taken; else the current holder (a live lease of another run), for the message."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    expires = now + ttl
    statement = insert(leases).values(
        integration_id=integration_id, company=company, run_id=run_id, acquired_at=now, expires_at=expires
    )
    statement = statement.on_conflict_do_update(
        index_elements=[leases.c.integration_id, leases.c.company],
        set_={"run_id": run_id, "acquired_at": now, "expires_at": expires},
        where=or_(leases.c.expires_at <= now, leases.c.run_id == run_id),
    )
    while True:  # again only when the holder released between the two statements
        if conn.execute(statement).rowcount == 1:
            return None
        holder = holder_of(conn, integration_id=integration_id, company=company)
        if holder is not None:
            return holder


def renew(conn: Connection, *, integration_id: str, company: str, run_id: str, ttl: timedelta, now: datetime) -> bool:
    """Extend the caller's lease to ``now + ttl``; ``False`` when it is no longer the caller's (taken over)."""
    result = conn.execute(
        update(leases).where(_key(integration_id, company), leases.c.run_id == run_id).values(expires_at=now + ttl)
    )
    return result.rowcount == 1


def release(conn: Connection, *, integration_id: str, company: str, run_id: str) -> bool:
    """Delete ``run_id``'s lease: its own at the end of a collection, or a holder whose run is known to have
    ended (failed, canceled) before its expiry. Never another run's: a run that lost its lease keeps its hands
    off its successor's."""
    result = conn.execute(delete(leases).where(_key(integration_id, company), leases.c.run_id == run_id))
    return result.rowcount == 1


def holder_of(conn: Connection, *, integration_id: str, company: str) -> Lease | None:
    row = conn.execute(select(leases).where(_key(integration_id, company))).mappings().first()
    if row is None:
        return None
    return Lease(
        integration_id=row["integration_id"],
        company=row["company"],
        run_id=row["run_id"],
        acquired_at=as_utc(row["acquired_at"]),  # type: ignore[arg-type]
        expires_at=as_utc(row["expires_at"]),  # type: ignore[arg-type]
    )
