"""Persistence of per-company connections. Rules (what may change when) live in the service layer.

Every function takes an open SQLAlchemy connection so the caller can put a connection change and its
activity-log entry in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select

from integration_hub.store import schema
from integration_hub.store.database import as_utc, utcnow

t = schema.connections
IN_CHUNK = 500  # companies per IN (...) list


@dataclass(frozen=True)
class ConnectionRecord:
    """A stored connection without its secrets (only the *names* of the stored secret fields)."""

    id: int
    company: str
    integration_id: str
    state: str
    settings: dict[str, Any]
    secret_fields: tuple[str, ...]
    start_date: date | None
    created_at: datetime
    updated_at: datetime
    updated_by: str
    connected_at: datetime | None
    last_test_at: datetime | None
    last_test_ok: bool | None
    last_test_message: str | None
    version: int
    has_secrets: bool

    @property
    def collecting(self) -> bool:
        """Data is collected only while connected (paused keeps the connection but stops collection)."""
        return self.state == "connected"


def _record(row: Any) -> ConnectionRecord:
    return ConnectionRecord(
        id=row.id,
        company=row.company,
        integration_id=row.integration_id,
        state=row.state,
        settings=dict(row.settings or {}),
        secret_fields=tuple(row.secret_fields or ()),
        start_date=row.start_date,
        created_at=as_utc(row.created_at),  # type: ignore[arg-type]
        updated_at=as_utc(row.updated_at),  # type: ignore[arg-type]
        updated_by=row.updated_by,
        connected_at=as_utc(row.connected_at),
        last_test_at=as_utc(row.last_test_at),
        last_test_ok=row.last_test_ok,
        last_test_message=row.last_test_message,
        version=row.version,
        has_secrets=row.secrets is not None,
    )


def get(conn: Connection, company: str, integration_id: str, *, for_update: bool = False) -> ConnectionRecord | None:
    query = select(t).where(t.c.company == company, t.c.integration_id == integration_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    return _record(row) if row else None


def get_many(conn: Connection, integration_id: str, companies: Iterable[str]) -> dict[str, ConnectionRecord]:
    """The connections of ``integration_id`` for ``companies``, by company (absent: no connection).

    One query per :data:`IN_CHUNK` companies, so a sensor tick over 1,000 activations costs two statements,
    not 1,000 (and no IN list grows past what every database accepts)."""
    wanted = sorted(set(companies))
    found: dict[str, ConnectionRecord] = {}
    for index in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[index : index + IN_CHUNK]
        query = select(t).where(t.c.integration_id == integration_id, t.c.company.in_(chunk))
        for row in conn.execute(query):
            found[row.company] = _record(row)
    return found


def secret_token(conn: Connection, connection_id: int) -> str | None:
    return conn.execute(select(t.c.secrets).where(t.c.id == connection_id)).scalar_one_or_none()


def list_connections(
    conn: Connection,
    *,
    company: str | None = None,
    integration_ids: Iterable[str] | None = None,
    states: Iterable[str] | None = None,
) -> list[ConnectionRecord]:
    query = select(t).order_by(t.c.company, t.c.integration_id)
    if company:
        query = query.where(t.c.company == company)
    if integration_ids is not None:
        query = query.where(t.c.integration_id.in_(list(integration_ids)))
    if states is not None:
        query = query.where(t.c.state.in_(list(states)))
    return [_record(row) for row in conn.execute(query)]


def insert(
    conn: Connection,
    *,
    company: str,
    integration_id: str,
    state: str,
    settings: dict[str, Any],
    secrets_token: str | None,
    secret_fields: Iterable[str],
    start_date: date | None,
    performed_by: str,
) -> None:
    now = utcnow()
    conn.execute(
        t.insert().values(
            company=company,
            integration_id=integration_id,
            state=state,
            settings=settings,
            secrets=secrets_token,
            secret_fields=sorted(secret_fields),
            start_date=start_date,
            created_at=now,
            updated_at=now,
            updated_by=performed_by,
            connected_at=now if state == "connected" else None,
            version=1,
        )
    )


def update(conn: Connection, record: ConnectionRecord, *, performed_by: str, **values: Any) -> None:
    """Update ``record``'s row; optimistic: fails if someone changed it since it was read."""
    if "secret_fields" in values:
        values["secret_fields"] = sorted(values["secret_fields"])
    if values.get("state") == "connected" and record.connected_at is None:
        values["connected_at"] = utcnow()
    result = conn.execute(
        t.update()
        .where(t.c.id == record.id, t.c.version == record.version)
        .values(updated_at=utcnow(), updated_by=performed_by, version=record.version + 1, **values)
    )
    if result.rowcount != 1:
        raise ConcurrentChangeError(
            f"connection {record.company}/{record.integration_id} was changed by someone else; retry"
        )


def all_secret_tokens(conn: Connection) -> list[tuple[int, str]]:
    return [(row.id, row.secrets) for row in conn.execute(select(t.c.id, t.c.secrets).where(t.c.secrets.isnot(None)))]


def set_secret_token(conn: Connection, connection_id: int, token: str) -> None:
    conn.execute(t.update().where(t.c.id == connection_id).values(secrets=token))


class ConcurrentChangeError(RuntimeError):
    pass
