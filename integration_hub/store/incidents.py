"""Alert incidents and the messages sent about them: the hub's memory of what people were told.

An incident is opened once per (company, integration, kind) while the problem lasts (a partial unique index makes
a second open of the same kind fail, so racing alert ticks cannot open it twice) and resolved when health no longer
shows it. A delivery row per (incident, route, phase) records the message sent for the opening and for the
recovery: a route is told once, however many retries or ticks see the same problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from integration_hub.store import schema
from integration_hub.store.database import as_utc

t = schema.incidents
d = schema.alert_deliveries


@dataclass(frozen=True)
class Incident:
    id: int
    company: str
    integration_id: str
    kind: str
    summary: str
    opened_at: datetime
    resolved_at: datetime | None
    run_id: str | None


def _incident(row) -> Incident:  # type: ignore[no-untyped-def]
    return Incident(
        id=row.id,
        company=row.company,
        integration_id=row.integration_id,
        kind=row.kind,
        summary=row.summary,
        opened_at=as_utc(row.opened_at),  # type: ignore[arg-type]
        resolved_at=as_utc(row.resolved_at),
        run_id=row.run_id,
    )


def open_incidents(conn: Connection) -> list[Incident]:
    return [_incident(row) for row in conn.execute(select(t).where(t.c.resolved_at.is_(None)).order_by(t.c.id))]


def open_incident(
    conn: Connection, *, company: str, integration_id: str, kind: str, summary: str, run_id: str | None, now: datetime
) -> Incident | None:
    """Open an incident; ``None`` when one of that kind is already open (another tick got there first)."""
    try:
        with conn.begin_nested():
            new_id = conn.execute(
                insert(t)
                .values(
                    company=company,
                    integration_id=integration_id,
                    kind=kind,
                    summary=summary[:512],
                    opened_at=now,
                    run_id=run_id,
                )
                .returning(t.c.id)
            ).scalar_one()
    except IntegrityError:
        return None
    return _incident(conn.execute(select(t).where(t.c.id == new_id)).one())


def resolve(conn: Connection, incident_id: int, now: datetime) -> bool:
    """Mark an incident healed; ``False`` if it was already resolved."""
    result = conn.execute(update(t).where(t.c.id == incident_id, t.c.resolved_at.is_(None)).values(resolved_at=now))
    return result.rowcount == 1


def sent_messages(conn: Connection, incident_ids: list[int]) -> set[tuple[int, str, str]]:
    """(incident, route, phase) of every message already delivered for these incidents."""
    if not incident_ids:
        return set()
    query = select(d.c.incident_id, d.c.route, d.c.phase).where(d.c.incident_id.in_(incident_ids), d.c.status == "sent")
    return {(row.incident_id, row.route, row.phase) for row in conn.execute(query)}


def record_delivery(
    conn: Connection,
    *,
    incident_id: int,
    route: str,
    phase: str,
    ok: bool,
    message_id: str | None,
    error: str | None,
    now: datetime,
) -> None:
    """Remember a message sent (or a failed try, to be retried on the next tick) for a route and phase."""
    status = "sent" if ok else "failed"
    existing = conn.execute(
        select(d.c.id, d.c.attempts).where(d.c.incident_id == incident_id, d.c.route == route, d.c.phase == phase)
    ).first()
    values = {"status": status, "message_id": message_id, "error": (error or "")[:512] or None, "at": now}
    if existing is None:
        conn.execute(insert(d).values(incident_id=incident_id, route=route, phase=phase, attempts=1, **values))
    else:
        conn.execute(update(d).where(d.c.id == existing.id).values(attempts=existing.attempts + 1, **values))


def recently_resolved(conn: Connection, since: datetime) -> list[Incident]:
    """Incidents healed since ``since`` (their recovery may still be owed to a route)."""
    query = select(t).where(t.c.resolved_at.is_not(None), t.c.resolved_at >= since).order_by(t.c.id)
    return [_incident(row) for row in conn.execute(query)]


def deliveries(conn: Connection, incident_id: int | None = None) -> list[dict]:
    query = select(d).order_by(d.c.id)
    if incident_id is not None:
        query = query.where(d.c.incident_id == incident_id)
    return [dict(row._mapping) for row in conn.execute(query)]
