"""Health of each connection, derived from the hub's own coverage records (never Dagster's event log).

A connection's state, worst first:

* ``needs_reauthorization`` — a stream's latest attempt failed because the provider rejected the credentials;
* ``failing`` — a stream's latest attempt failed after its retries (the error is the one line it failed with);
* ``behind`` — a stream's newest collected day is more than ``HUB_ALERT_BEHIND_DAYS`` before yesterday;
* ``pending`` — switched on, nothing collected yet;
* ``healthy`` — every expected stream collected up to within the allowed days;
* ``paused`` / ``off`` — not collecting (paused, draft or disconnected), whatever its history;
* ``n/a`` — the integration collects nothing (Slack, Email).

The expected streams per integration are passed in (the Dagster layer's stream table), so a stream that never
ran at all counts as behind since the start date instead of being invisible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from integration_hub.store import Store, coverage
from integration_hub.store import connections as rows
from integration_hub.store.coverage import StreamHealth


class Judged(Protocol):
    """What health judges a connection by: a full :class:`ConnectionRecord`, or the narrow
    :class:`~integration_hub.store.coverage.ConnectionStreams` the fleet summary reads."""

    @property
    def company(self) -> str: ...
    @property
    def integration_id(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def start_date(self) -> date | None: ...
    @property
    def connected_at(self) -> datetime | None: ...


STATES = ("needs_reauthorization", "failing", "behind", "pending", "healthy", "paused", "off")


@dataclass(frozen=True)
class ConnectionHealth:
    company: str
    integration_id: str
    state: str
    reason: str
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    days_behind: int | None
    next_attempt_at: datetime | None
    streams: tuple[StreamHealth, ...] = field(default_factory=tuple)
    behind: bool = False  # more than ``behind_days`` behind (judged on its own, whatever the state)
    behind_days: int = 0

    def as_dict(self) -> dict:
        return {
            "state": self.state,
            "reason": self.reason,
            "last_success_at": self.last_success_at,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at,
            "days_behind": self.days_behind,
            "next_attempt_at": self.next_attempt_at,
        }


def evaluate(
    record: Judged,
    streams: Sequence[StreamHealth],
    expected: tuple[str, ...],
    *,
    today: date,
    behind_days: int,
) -> ConnectionHealth:
    """The health of one connection from its streams' health rows."""
    by_stream = {s.stream: s for s in streams}
    yesterday = today - timedelta(days=1)
    behind: list[int] = []
    for name in expected or tuple(by_stream):
        row = by_stream.get(name)
        newest = row.last_collected_day if row is not None else None
        if newest is None:
            newest = (record.start_date - timedelta(days=1)) if record.start_date else None
        if newest is not None:
            behind.append(max(0, (yesterday - newest).days))
    days_behind = max(behind) if behind else None
    failing = [s for s in streams if s.failing]
    successes = [s.last_success_at for s in streams if s.last_success_at is not None]
    errors = sorted((s for s in streams if s.last_error_at is not None), key=lambda s: s.last_error_at)  # type: ignore[arg-type, return-value]
    latest_error = errors[-1] if errors else None
    backoffs = [s.next_attempt_at for s in failing if s.next_attempt_at is not None]
    # Behind: too many days uncollected, once there was time to collect them (a connection switched on today with a
    # two-year history is onboarding, not behind, until the allowed days have passed since it was connected).
    settled = bool(successes) or (
        record.connected_at is not None and (today - record.connected_at.date()).days > behind_days
    )
    behind = days_behind is not None and days_behind > behind_days and settled

    if not expected and not streams:
        state, reason = "n/a", "collects nothing (an alert channel or not built)"
    elif record.state == "paused":
        state, reason = "paused", "collection paused"
    elif record.state != "connected":
        state, reason = "off", f"the connection is {record.state}"
    elif any(s.error_kind == "auth" for s in failing):
        failed = next(s for s in failing if s.error_kind == "auth")
        state, reason = "needs_reauthorization", failed.last_error or "the provider rejected the credentials"
    elif failing:
        worst = max(failing, key=lambda s: s.consecutive_failures)
        state = "failing"
        reason = f"{worst.stream}: {worst.last_error} ({worst.consecutive_failures} failed attempt(s) in a row)"
    elif behind:
        state, reason = "behind", f"{days_behind} day(s) behind (allowed: {behind_days})"
    elif not successes:
        state, reason = "pending", "nothing collected yet"
    else:
        state, reason = "healthy", "collected up to date"
    return ConnectionHealth(
        company=record.company,
        integration_id=record.integration_id,
        state=state,
        reason=reason,
        last_success_at=max(successes) if successes else None,
        last_error=latest_error.last_error if latest_error else None,
        last_error_at=latest_error.last_error_at if latest_error else None,
        days_behind=days_behind,
        next_attempt_at=min(backoffs) if backoffs else None,
        streams=tuple(streams),
        behind=behind,
        behind_days=behind_days,
    )


def connection_health(
    store: Store,
    expected_streams: Mapping[str, tuple[str, ...]],
    *,
    today: date,
    company: str | None = None,
    integration_id: str | None = None,
) -> list[ConnectionHealth]:
    """Health of every connection (optionally one company or integration): two queries, whatever the count."""
    with store.engine.connect() as conn:
        records = rows.list_connections(
            conn, company=company, integration_ids=[integration_id] if integration_id else None
        )
        health_rows = coverage.stream_health(
            conn,
            companies=[company] if company else None,
            integration_ids=[integration_id] if integration_id else None,
        )
    grouped: dict[tuple[str, str], list[StreamHealth]] = {}
    for row in health_rows:
        grouped.setdefault((row.company, row.integration_id), []).append(row)
    return [
        evaluate(
            record,
            grouped.get((record.company, record.integration_id), []),
            expected_streams.get(record.integration_id, ()),
            today=today,
            behind_days=store.settings.alert_behind_days,
        )
        for record in records
    ]
