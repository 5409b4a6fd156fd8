"""The webhook inbox: verified notifications, stored once each, read by a cursor.

A provider may deliver the same notification twice (retries) or out of order; the inbox keeps one row
per distinct delivery (``delivery_key`` = SHA-256 of the raw body), and consumers only ever look at
rows after their cursor, so both are harmless.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from integration_hub.store import schema
from integration_hub.store.database import as_utc, utcnow

t = schema.webhook_inbox


@dataclass(frozen=True)
class InboxEvent:
    id: int
    integration_id: str
    company: str
    resource_type: str
    resource_key: str
    action_type: str
    event_at: datetime


def delivery_key(raw_body: bytes) -> str:
    return hashlib.sha256(raw_body).hexdigest()


def add(
    conn: Connection,
    *,
    integration_id: str,
    company: str,
    raw_body: bytes,
    resource_type: str,
    resource_key: str,
    action_type: str,
    event_at: datetime,
    payload: dict[str, Any],
) -> bool:
    """Store a delivery; ``False`` when the same delivery is already in the inbox."""
    try:
        with conn.begin_nested():
            conn.execute(
                t.insert().values(
                    integration_id=integration_id,
                    company=company,
                    delivery_key=delivery_key(raw_body),
                    resource_type=resource_type,
                    resource_key=resource_key,
                    action_type=action_type,
                    event_at=event_at,
                    received_at=utcnow(),
                    payload=payload,
                )
            )
    except IntegrityError:
        return False
    return True


def after(conn: Connection, integration_id: str, after_id: int, limit: int = 5000) -> list[InboxEvent]:
    query = (
        select(
            t.c.id, t.c.integration_id, t.c.company, t.c.resource_type, t.c.resource_key, t.c.action_type, t.c.event_at
        )
        .where(t.c.integration_id == integration_id, t.c.id > after_id)
        .order_by(t.c.id)
        .limit(limit)
    )
    return [
        InboxEvent(
            r.id, r.integration_id, r.company, r.resource_type, r.resource_key, r.action_type, as_utc(r.event_at)
        )  # type: ignore[arg-type]
        for r in conn.execute(query)
    ]
