"""Coverage per (company, integration, stream, day) and health per stream: what the hub knows it collected.

Every collection writes here: a success in the same transaction as the window's inventory rows (every day of the
window, empty days included), a failure with its one-line error. Health, alerts and back-off read only
``hub_stream_health`` (one row per company × stream), never Dagster's event log and never an aggregate over the
per-day table, so they stay cheap at 10,000 companies.

Back-off: each consecutive failure of a stream doubles the wait before the next scheduled attempt (from
:data:`BACKOFF_BASE` up to :data:`BACKOFF_MAX`); the first success clears it, and so does an edit or a resume of the
connection (:func:`clear_backoff`: the user fixed something, try again now).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, and_, delete, func, insert, select, tuple_, update

from integration_hub.connectors.base import DateWindow
from integration_hub.store import schema

cov = schema.coverage
health = schema.stream_health
BACKOFF_BASE = timedelta(minutes=15)
# Below the daily schedule's period: a stream that keeps failing is still tried at every daily tick, never every
# other day; the back-off spaces the attempts in between (sensor-requested runs, retries of the same day).
BACKOFF_MAX = timedelta(hours=12)
# Failure kinds the RetryPolicy may heal; any other kind (credentials, settings, the record contract) is final for
# the run, so health and alerts do not wait for retries that will never come.
RETRIED_KINDS = frozenset({"transient", "provider", "other"})
ERROR_LENGTH = 512
IN_CHUNK = 500  # companies per IN (...) list


@dataclass(frozen=True)
class StreamHealth:
    company: str
    integration_id: str
    stream: str
    last_attempt_at: datetime
    last_success_at: datetime | None
    last_collected_day: date | None
    last_error: str | None
    last_error_at: datetime | None
    error_kind: str | None
    consecutive_failures: int
    next_attempt_at: datetime | None
    run_id: str | None
    failed_check: str | None = None

    @property
    def failing(self) -> bool:
        """The stream's latest attempt failed (an error newer than its last success)."""
        return self.last_error_at is not None and (
            self.last_success_at is None or self.last_error_at > self.last_success_at
        )


@dataclass(frozen=True)
class DayCoverage:
    day: date
    status: str
    rows: int
    collected_at: datetime | None
    attempted_at: datetime
    error: str | None


def backoff(consecutive_failures: int) -> timedelta:
    """How long to wait after the n-th failure in a row: 15 min, 30 min, 1 h ... at most a day."""
    if consecutive_failures <= 0:
        return timedelta(0)
    return min(BACKOFF_MAX, BACKOFF_BASE * (2 ** (consecutive_failures - 1)))


def _clip(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= ERROR_LENGTH else line[: ERROR_LENGTH - 1] + "…"


def _key(company: str, integration_id: str, stream: str, table=cov) -> list:  # type: ignore[no-untyped-def]
    return [table.c.company == company, table.c.integration_id == integration_id, table.c.stream == stream]


def _day_row(
    company: str,
    integration_id: str,
    stream: str,
    day: date,
    status: str,
    rows: int,
    now: datetime,
    run_id: str | None,
    error: str | None,
) -> dict:
    """One coverage row; a collected day's ``collected_at`` is its attempt time, a failed new day has none."""
    return {
        "company": company,
        "integration_id": integration_id,
        "stream": stream,
        "day": day,
        "status": status,
        "rows": rows,
        "collected_at": now if status == "collected" else None,
        "attempted_at": now,
        "run_id": run_id,
        "error": error,
    }


def record_collected(
    conn: Connection,
    *,
    company: str,
    integration_id: str,
    stream: str,
    rows_per_day: Mapping[date, int],
    run_id: str | None,
    now: datetime,
) -> None:
    """Every day of a successful window, with its row count (0 included), and the stream's health.

    Called inside the transaction that replaced the window's inventory rows: the two can never disagree.
    """
    days = sorted(rows_per_day)
    if not days:
        return
    conn.execute(delete(cov).where(*_key(company, integration_id, stream), cov.c.day.in_(days)))
    conn.execute(
        insert(cov),
        [
            _day_row(company, integration_id, stream, day, "collected", rows_per_day[day], now, run_id, None)
            for day in days
        ],
    )
    current = _health_row(conn, company, integration_id, stream)
    known_last = current.last_collected_day if current is not None else None
    last_day = max(days) if known_last is None else max(max(days), known_last)
    values = {
        "last_attempt_at": now,
        "last_success_at": now,
        "last_collected_day": last_day,
        "consecutive_failures": 0,
        "next_attempt_at": None,
        "run_id": run_id,
    }
    _upsert_health(conn, company, integration_id, stream, current, values)


def record_failed(
    conn: Connection,
    *,
    company: str,
    integration_id: str,
    stream: str,
    window: DateWindow,
    error: str,
    error_kind: str,
    run_id: str | None,
    now: datetime,
) -> StreamHealth:
    """A window whose collection failed: its days keep their last successful rows (and say so), days never
    collected are marked failed; the stream's failure count grows and its next attempt backs off."""
    message = _clip(error)
    days = list(window.days())
    key = _key(company, integration_id, stream)
    known = set(conn.execute(select(cov.c.day).where(*key, cov.c.day.in_(days))).scalars())
    if known:
        conn.execute(
            update(cov)
            .where(*key, cov.c.day.in_(sorted(known)))
            .values(attempted_at=now, error=message, run_id=run_id)
        )
    fresh = [day for day in days if day not in known]
    if fresh:
        conn.execute(
            insert(cov),
            [_day_row(company, integration_id, stream, day, "failed", 0, now, run_id, message) for day in fresh],
        )
    current = _health_row(conn, company, integration_id, stream)
    failures = (current.consecutive_failures if current else 0) + 1
    values = {
        "last_attempt_at": now,
        "last_error": message,
        "last_error_at": now,
        "error_kind": error_kind,
        "consecutive_failures": failures,
        "next_attempt_at": now + backoff(failures),
        "run_id": run_id,
    }
    _upsert_health(conn, company, integration_id, stream, current, values)
    result = _health_row(conn, company, integration_id, stream)
    assert result is not None
    return result


def record_checks(
    conn: Connection, *, company: str, integration_id: str, stream: str, failed: str | None
) -> None:
    """The latest run's asset-check verdict for a stream: one line naming what failed, or ``None`` when all passed."""
    conn.execute(
        update(health)
        .where(*_key(company, integration_id, stream, health))
        .values(failed_check=None if failed is None else _clip(failed))
    )


def clear_backoff(conn: Connection, *, company: str, integration_id: str) -> None:
    """Let the next scheduled collection of every stream of a connection run at once."""
    conn.execute(
        update(health)
        .where(health.c.company == company, health.c.integration_id == integration_id)
        .values(next_attempt_at=None)
    )


def _health_row(conn: Connection, company: str, integration_id: str, stream: str) -> StreamHealth | None:
    row = conn.execute(select(health).where(*_key(company, integration_id, stream, health))).first()
    return _as_health(row) if row is not None else None


def _upsert_health(
    conn: Connection,
    company: str,
    integration_id: str,
    stream: str,
    current: StreamHealth | None,
    values: dict,
) -> None:
    if current is None:
        base = {"last_success_at": None, "last_collected_day": None, "consecutive_failures": 0}
        conn.execute(
            insert(health).values(company=company, integration_id=integration_id, stream=stream, **{**base, **values})
        )
    else:
        conn.execute(update(health).where(*_key(company, integration_id, stream, health)).values(**values))


def _as_health(row) -> StreamHealth:  # type: ignore[no-untyped-def]
    from integration_hub.store.database import as_utc

    return StreamHealth(
        company=row.company,
        integration_id=row.integration_id,
        stream=row.stream,
        last_attempt_at=as_utc(row.last_attempt_at),  # type: ignore[arg-type]
        last_success_at=as_utc(row.last_success_at),
        last_collected_day=row.last_collected_day,
        last_error=row.last_error,
        last_error_at=as_utc(row.last_error_at),
        error_kind=row.error_kind,
        consecutive_failures=row.consecutive_failures,
        next_attempt_at=as_utc(row.next_attempt_at),
        run_id=row.run_id,
        failed_check=row.failed_check,
    )


def stream_health(
    conn: Connection,
    *,
    integration_ids: Iterable[str] | None = None,
    companies: Iterable[str] | None = None,
    pairs: Iterable[tuple[str, str]] | None = None,
) -> list[StreamHealth]:
    """Health rows, optionally narrowed to integrations, companies or (company, integration) pairs."""
    query = select(health)
    if integration_ids is not None:
        query = query.where(health.c.integration_id.in_(list(integration_ids)))
    if companies is not None:
        query = query.where(health.c.company.in_(list(companies)))
    if pairs is not None:
        wanted = list(pairs)
        if not wanted:
            return []
        query = query.where(tuple_(health.c.company, health.c.integration_id).in_(wanted))
    query = query.order_by(health.c.company, health.c.integration_id, health.c.stream)
    return [_as_health(row) for row in conn.execute(query)]


def days(
    conn: Connection, *, company: str, integration_id: str, stream: str | None = None, window: DateWindow | None = None
) -> list[DayCoverage]:
    """Per-day coverage of one connection (one stream, or all), optionally in a window."""
    conditions = [cov.c.company == company, cov.c.integration_id == integration_id]
    if stream is not None:
        conditions.append(cov.c.stream == stream)
    if window is not None:
        conditions += [cov.c.day >= window.start, cov.c.day < window.end]
    query = select(cov).where(and_(*conditions)).order_by(cov.c.day, cov.c.stream)
    from integration_hub.store.database import as_utc

    return [
        DayCoverage(
            day=row.day,
            status=row.status,
            rows=row.rows,
            collected_at=as_utc(row.collected_at),
            attempted_at=as_utc(row.attempted_at),  # type: ignore[arg-type]
            error=row.error,
        )
        for row in conn.execute(query)
    ]


def uncollected(
    conn: Connection,
    *,
    integration_id: str,
    day_streams: Sequence[str],
    snapshot_streams: Sequence[str] = (),
    windows: Mapping[str, DateWindow],
) -> dict[str, list[date]]:
    """Per company, the days of its window that some stream has no successful collection for.

    One grouped query per :data:`IN_CHUNK` companies. A snapshot stream records only a window's last day, so its
    earlier days are never missing; it asks for the last day only when it was never collected at all.
    """
    if not windows:
        return {}
    first = min(w.start for w in windows.values())
    complete: dict[str, set[date]] = defaultdict(set)
    seen_snapshot: set[str] = set()
    companies = sorted(windows)
    for index in range(0, len(companies), IN_CHUNK):
        chunk = companies[index : index + IN_CHUNK]
        base = and_(cov.c.integration_id == integration_id, cov.c.company.in_(chunk), cov.c.status == "collected")
        if day_streams:
            query = (
                select(cov.c.company, cov.c.day)
                .where(base, cov.c.stream.in_(list(day_streams)), cov.c.day >= first)
                .group_by(cov.c.company, cov.c.day)
                .having(func.count() == len(day_streams))
            )
            for company, day in conn.execute(query):
                complete[company].add(day)
        if snapshot_streams:
            query = select(cov.c.company).where(base, cov.c.stream.in_(list(snapshot_streams))).distinct()
            seen_snapshot.update(conn.execute(query).scalars())
    missing: dict[str, list[date]] = {}
    for company, window in windows.items():
        days = [day for day in window.days() if day not in complete[company]] if day_streams else []
        if snapshot_streams and company not in seen_snapshot and window.last not in days:
            days.append(window.last)
        missing[company] = days
    return missing


# ------------------------------------------------------------------------------------------ read-only answers
NEVER_COLLECTED = "never collected"


@dataclass(frozen=True)
class StreamDay:
    """What the hub knows of one (stream, day) of a connection: its coverage row, or that it has none.

    ``status`` is ``collected``, ``failed`` (no success yet) or :data:`NEVER_COLLECTED` (never attempted);
    a collected day whose latest attempt failed keeps ``collected`` and carries that attempt's ``error``.
    """

    stream: str
    day: date
    status: str
    rows: int
    collected_at: datetime | None
    attempted_at: datetime | None
    run_id: str | None
    error: str | None

    @property
    def retry_failed(self) -> bool:
        """Collected once, but the latest attempt at the day failed (the earlier rows are kept)."""
        return (
            self.status == "collected"
            and self.error is not None
            and self.collected_at is not None
            and self.attempted_at is not None
            and self.attempted_at > self.collected_at
        )


def lookup(
    conn: Connection, *, company: str, integration_id: str, streams: Sequence[str], first: date, last: date
) -> list[StreamDay]:
    """Every (stream, day) of ``first``..``last`` (included) for the given streams, ordered by stream then day.

    One range scan of the primary key (company, integration, stream, day), whatever the table's size; days without
    a row come back as :data:`NEVER_COLLECTED`.
    """
    from integration_hub.store.database import as_utc

    if not streams or last < first:
        return []
    query = select(cov).where(
        cov.c.company == company,
        cov.c.integration_id == integration_id,
        cov.c.stream.in_(list(streams)),
        cov.c.day >= first,
        cov.c.day <= last,
    )
    found = {(row.stream, row.day): row for row in conn.execute(query)}
    answer = []
    for stream in streams:
        day = first
        while day <= last:
            row = found.get((stream, day))
            if row is None:
                answer.append(StreamDay(stream, day, NEVER_COLLECTED, 0, None, None, None, None))
            else:
                answer.append(
                    StreamDay(
                        stream=stream,
                        day=day,
                        status=row.status,
                        rows=row.rows,
                        collected_at=as_utc(row.collected_at),
                        attempted_at=as_utc(row.attempted_at),
                        run_id=row.run_id,
                        error=row.error,
                    )
                )
            day += timedelta(days=1)
    return answer


@dataclass(frozen=True)
class ConnectionStreams:
    """A connection's collection-relevant facts and its streams' health rows (nothing secret, no settings)."""

    company: str
    integration_id: str
    state: str
    start_date: date | None
    connected_at: datetime | None
    streams: tuple[StreamHealth, ...]


def connection_streams(conn: Connection, *, integration_ids: Iterable[str] | None = None) -> list[ConnectionStreams]:
    """Every connection (optionally of some integrations) with its stream health: one query, whatever the count.

    ``hub_connections`` LEFT JOIN ``hub_stream_health`` on their keys, only the columns health judges by, so a
    fleet of 10,000 companies is read without their settings and encrypted credentials.
    """
    from integration_hub.store.database import as_utc

    c = schema.connections
    query = select(
        c.c.company,
        c.c.integration_id,
        c.c.state,
        c.c.start_date,
        c.c.connected_at,
        health.c.stream,
        health.c.last_attempt_at,
        health.c.last_success_at,
        health.c.last_collected_day,
        health.c.last_error,
        health.c.last_error_at,
        health.c.error_kind,
        health.c.consecutive_failures,
        health.c.next_attempt_at,
        health.c.run_id,
        health.c.failed_check,
    ).select_from(
        c.outerjoin(health, and_(health.c.company == c.c.company, health.c.integration_id == c.c.integration_id))
    )
    if integration_ids is not None:
        query = query.where(c.c.integration_id.in_(list(integration_ids)))
    query = query.order_by(c.c.integration_id, c.c.company, health.c.stream)
    answer: list[ConnectionStreams] = []
    head: tuple | None = None
    streams: list[StreamHealth] = []

    def close() -> None:
        if head is not None:
            company, integration_id, state, start_date, connected_at = head
            answer.append(
                ConnectionStreams(company, integration_id, state, start_date, as_utc(connected_at), tuple(streams))
            )

    for row in conn.execute(query):
        if head is None or row[0] != head[0] or row[1] != head[1]:
            close()
            head, streams = row[:5], []
        if row[5] is not None:
            streams.append(
                StreamHealth(
                    company=row[0],
                    integration_id=row[1],
                    stream=row[5],
                    last_attempt_at=as_utc(row[6]),  # type: ignore[arg-type]
                    last_success_at=as_utc(row[7]),
                    last_collected_day=row[8],
                    last_error=row[9],
                    last_error_at=as_utc(row[10]),
                    error_kind=row[11],
                    consecutive_failures=row[12],
                    next_attempt_at=as_utc(row[13]),
                    run_id=row[14],
                    failed_check=row[15],
                )
            )
    close()
    return answer
