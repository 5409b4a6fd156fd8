"""The hub's answers at fleet scale, from its own records only (never Dagster's event log).

* :func:`connection_coverage` — what was collected for one company, integration and day (or range): per stream and
  day its status, rows, collection time, run and error; one primary-key range scan of ``hub_coverage``.
* :func:`fleet_summary` — per integration, how many connections are collecting, behind, failing, never collected
  and backing off, with the worst few: one query over ``hub_connections`` ⟕ ``hub_stream_health`` (one row per
  company × stream, never an aggregate of the per-day table), judged by :func:`health.evaluate`, so a connection
  is "behind" or "failing" here exactly when ``connections`` and the alerts say so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from integration_hub.service.errors import NotFoundError, ValidationError
from integration_hub.service.health import STATES, ConnectionHealth, evaluate
from integration_hub.store import Store, coverage
from integration_hub.store import connections as rows
from integration_hub.store.coverage import StreamDay

MAX_DAYS = 3660  # a lookup longer than ten years is a typo, not a question
# Worst first: the state's rank in health's order, then the most days behind, then the most failures in a row.
_RANK = {state: index for index, state in enumerate(STATES)}


@dataclass(frozen=True)
class ConnectionCoverage:
    company: str
    integration_id: str
    state: str
    first: date
    last: date
    days: tuple[StreamDay, ...]  # ordered by stream, then day


def connection_coverage(
    store: Store,
    expected_streams: Mapping[str, tuple[str, ...]],
    *,
    company: str,
    integration_id: str,
    first: date,
    last: date,
    stream: str | None = None,
) -> ConnectionCoverage:
    """Per stream × day of ``first``..``last`` (included) what the hub collected for one connection.

    Raises :class:`NotFoundError` for a connection that does not exist, :class:`ValidationError` for a reversed or
    absurdly long range or a stream the integration does not collect.
    """
    if last < first:
        raise ValidationError(f"the range ends ({last}) before it starts ({first})")
    if (last - first).days >= MAX_DAYS:
        raise ValidationError(f"the range {first}..{last} is longer than {MAX_DAYS} days")
    streams = expected_streams.get(integration_id, ())
    if stream is not None:
        if stream not in streams:
            known = ", ".join(streams) or "nothing"
            raise ValidationError(f"{integration_id} has no stream '{stream}' (it collects: {known})")
        streams = (stream,)
    with store.engine.connect() as conn:
        record = rows.get(conn, company, integration_id)
        if record is None:
            raise NotFoundError(f"no {integration_id} connection for company '{company}'")
        if not streams:
            raise ValidationError(f"{integration_id} collects nothing: it has no coverage")
        found = coverage.lookup(
            conn, company=company, integration_id=integration_id, streams=streams, first=first, last=last
        )
    return ConnectionCoverage(company, integration_id, record.state, first, last, tuple(found))


@dataclass(frozen=True)
class IntegrationSummary:
    """One integration's connections, counted by what their health rows say (a connection can be in several)."""

    integration_id: str
    connections: int
    collecting: int  # connected (not paused, draft or disconnected)
    behind: int  # collecting, newest collected day more than HUB_ALERT_BEHIND_DAYS before yesterday
    failing: int  # collecting, some stream's latest attempt failed (needs_reauthorization included)
    needs_reauthorization: int  # collecting, the provider rejected the credentials
    never_collected: int  # collecting, no stream ever collected
    backing_off: int  # collecting, failing, its next attempt waits past ``now``
    paused: int
    states: dict[str, int] = field(default_factory=dict)  # health state -> connections (exclusive)
    worst: tuple[ConnectionHealth, ...] = ()


@dataclass(frozen=True)
class FleetSummary:
    today: date
    now: datetime
    behind_days: int
    integrations: tuple[IntegrationSummary, ...]


def fleet_summary(
    store: Store,
    expected_streams: Mapping[str, tuple[str, ...]],
    *,
    today: date,
    now: datetime,
    integration_id: str | None = None,
    worst: int = 10,
) -> FleetSummary:
    """Per collecting integration (or only ``integration_id``): counts and the ``worst`` connections, worst first.

    Integrations that collect nothing (alert channels) are left out.
    """
    collected = [i for i, names in expected_streams.items() if names and integration_id in (None, i)]
    if integration_id is not None and not collected:
        raise ValidationError(f"{integration_id} collects nothing: it has no fleet summary")
    with store.engine.connect() as conn:
        fleet = coverage.connection_streams(conn, integration_ids=collected)
    behind_days = store.settings.alert_behind_days
    judged: dict[str, list[ConnectionHealth]] = {i: [] for i in collected}
    for connection in fleet:
        judged[connection.integration_id].append(
            evaluate(
                connection,
                connection.streams,
                expected_streams[connection.integration_id],
                today=today,
                behind_days=behind_days,
            )
        )
    summaries = tuple(
        _summarize(name, judged[name], now=now, worst=worst) for name in collected if judged[name] or integration_id
    )
    return FleetSummary(today=today, now=now, behind_days=behind_days, integrations=summaries)


def _summarize(integration_id: str, health: list[ConnectionHealth], *, now: datetime, worst: int) -> IntegrationSummary:
    counts: Counter[str] = Counter()
    collecting = [h for h in health if h.state not in ("paused", "off")]
    for h in collecting:
        failing = [s for s in h.streams if s.failing]
        counts["behind"] += h.behind
        counts["failing"] += bool(failing)
        counts["needs_reauthorization"] += h.state == "needs_reauthorization"
        counts["never_collected"] += h.last_success_at is None
        counts["backing_off"] += any(s.next_attempt_at is not None and s.next_attempt_at > now for s in failing)
    problems = [h for h in collecting if h.state not in ("healthy", "pending") or h.behind]
    problems.sort(
        key=lambda h: (
            _RANK.get(h.state, len(_RANK)),
            -(h.days_behind or 0),
            -max((s.consecutive_failures for s in h.streams), default=0),
            h.company,
        )
    )
    return IntegrationSummary(
        integration_id=integration_id,
        connections=len(health),
        collecting=len(collecting),
        behind=counts["behind"],
        failing=counts["failing"],
        needs_reauthorization=counts["needs_reauthorization"],
        never_collected=counts["never_collected"],
        backing_off=counts["backing_off"],
        paused=sum(h.state == "paused" for h in health),
        states=dict(Counter(h.state for h in health)),
        worst=tuple(problems[:worst]),
    )
