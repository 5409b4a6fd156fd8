"""The activity log: every action on a connection, who did it, and how it went.

Entries are append-only. ``details`` is written by the service layer from field *names* and non-secret
values only; the log never sees a credential.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, select

from integration_hub.store import schema
from integration_hub.store.database import as_utc, utcnow

t = schema.activity_log


class Action(StrEnum):
    SAVE_DRAFT = "Save Draft"
    CONNECT = "Connect"
    EDIT = "Edit"
    PAUSE = "Pause"
    RESUME = "Resume"
    DISCONNECT = "Disconnect"
    CLEAR_CREDENTIALS = "Clear Credentials"
    TEST_CONNECTION = "Test Connection"
    SYNC_ATTEMPT = "Sync Attempt"
    ROTATE_KEY = "Rotate Key"
    WEBHOOK_SUBSCRIPTION = "Webhook Subscription"


class Status(StrEnum):
    SUCCESS = "Success"
    ERROR = "Error"
    INFO = "Info"


@dataclass(frozen=True)
class ActivityEntry:
    id: int
    at: datetime
    action: str
    company: str | None
    integration_id: str | None
    status: str
    details: str
    performed_by: str
    run_id: str | None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return data


def append(
    conn: Connection,
    *,
    action: Action,
    status: Status,
    details: str,
    performed_by: str,
    company: str | None = None,
    integration_id: str | None = None,
    run_id: str | None = None,
) -> int:
    result = conn.execute(
        t.insert().values(
            at=utcnow(),
            action=str(action),
            company=company,
            integration_id=integration_id,
            status=str(status),
            details=" ".join(details.split()),
            performed_by=performed_by,
            run_id=run_id,
        )
    )
    return int(result.inserted_primary_key[0])


def query(
    conn: Connection,
    *,
    actions: list[str] | None = None,
    integration_id: str | None = None,
    company: str | None = None,
    status: str | None = None,
    performed_by: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after_id: int | None = None,
    limit: int | None = None,
    newest_first: bool = True,
) -> list[ActivityEntry]:
    stmt = select(t)
    if actions:
        stmt = stmt.where(t.c.action.in_(actions))
    if integration_id:
        stmt = stmt.where(t.c.integration_id == integration_id)
    if company:
        stmt = stmt.where(t.c.company == company)
    if status:
        stmt = stmt.where(t.c.status == status)
    if performed_by:
        stmt = stmt.where(t.c.performed_by == performed_by)
    if since:
        stmt = stmt.where(t.c.at >= since)
    if until:
        stmt = stmt.where(t.c.at < until)
    if after_id is not None:
        stmt = stmt.where(t.c.id > after_id)
    stmt = stmt.order_by(t.c.id.desc() if newest_first else t.c.id)
    if limit:
        stmt = stmt.limit(limit)
    return [
        ActivityEntry(
            id=row.id,
            at=as_utc(row.at),  # type: ignore[arg-type]
            action=row.action,
            company=row.company,
            integration_id=row.integration_id,
            status=row.status,
            details=row.details,
            performed_by=row.performed_by,
            run_id=row.run_id,
        )
        for row in conn.execute(stmt)
    ]
