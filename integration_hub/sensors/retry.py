"""The fleet layout's retry sensor: collects again the days a company's stream failed, once its back-off is over.

In the fleet layout a run collects a shard of companies, each in its own window with its own error handling: one
company failing fails neither the run nor the others, so Dagster's step retries never see it. The failure is
recorded instead (``hub_coverage`` days with the error, ``hub_stream_health`` with ``error_kind``,
``consecutive_failures`` and a doubling ``next_attempt_at``), and this sensor retries from those records.

Each tick makes one query (health joined with coverage and the connection): the days whose latest attempt failed
(a success rewrites a day without its error), for streams of collecting connections whose last failure kind is
retried (:data:`RETRIED_KINDS`), whose back-off has passed and whose consecutive failures are at most
``HUB_MAX_RETRIES``. A stream that succeeded on another window since its failure (its count back at 0) still has
its failed days retried if that failure is recent (:data:`RECENT_FAILURE`): an onboarding whose first block failed
and second succeeded is not left with a hole. Companies failing the same streams are grouped; their days are cut
into the same aligned blocks the activation sensor uses, and each block into shards of ``HUB_COMPANIES_PER_RUN``:
one ``collect_<id>`` run per shard, selecting the failing streams.

Retries are bounded per day: ``hub_coverage.failures`` counts a day's failed attempts since it was last collected
(a success resets it), and a day is retried while it is at most ``HUB_MAX_RETRIES``, so a day that always fails is
retried ``HUB_MAX_RETRIES`` times in total even when daily successes on other windows reset the stream's count.
Days that queued or running fleet runs already cover are left out (:func:`integration_hub.backfills.in_flight_days`),
and a run's key is derived from its failed days' own state (failure count, latest attempt), so a success on another
window while a retry is queued neither requests those days again nor changes the key.

The cursor (:class:`RetryCursor`) is the previous tick's time: a tick looks only at the streams that became due
since (see :func:`due_for_retry`). A tick that reads ``MAX_FAILED_DAYS`` rows stops there and the next ticks read on
from that (company, stream, day), as of the first page's time, before the cursor moves on; and a tick that held days
back because a run covered them keeps the cursor where it was, so they are read again once that run is over.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import dagster as dg
from sqlalchemy import ColumnElement, and_, or_, select, tuple_

from integration_hub.assets.streams import StreamSpec
from integration_hub.backfills import TRIGGER_TAG, day_blocks, first_few, in_flight_days
from integration_hub.jobs import fleet_run_tags, job_name
from integration_hub.resources.hub import HubResource
from integration_hub.resources.shard import shard_run_config, shards
from integration_hub.settings import CollectionConfig
from integration_hub.store import Store, schema
from integration_hub.store.coverage import BACKOFF_BASE, RETRIED_KINDS
from integration_hub.store.database import as_utc

TRIGGER = "retry"
# A stream whose count a success on another window reset still has its failed days retried if the failure is this
# recent (the sensor ticks every HUB_SENSOR_INTERVAL_SECONDS, so a day is plenty); older ones wait for the daily
# schedule's lookback or a person's backfill. Bounds the coverage a tick reads to recently failed streams.
RECENT_FAILURE = timedelta(days=1)
MAX_FAILED_DAYS = 200_000  # failed (company, stream, day) rows read per tick; the rest is read by the next ticks


@dataclass(frozen=True)
class FailedDay:
    """A day whose latest attempt failed: how many attempts at it failed since it was last collected, and when the
    latest one was (together they identify the attempt a retry follows)."""

    day: date
    failures: int
    attempted_at: datetime | None


@dataclass(frozen=True)
class FailedStream:
    """A company's stream that is due for a retry, with its failed days."""

    company: str
    stream: str
    failed: tuple[FailedDay, ...]

    @property
    def days(self) -> tuple[date, ...]:
        return tuple(item.day for item in self.failed)

    def attempts(self, first: date, last: date) -> list[str]:
        """The state of its failed days in ``first``..``last``: what a retry run's key is derived from."""
        return [
            f"{self.company}/{self.stream}/{item.day}#{item.failures}@"
            f"{item.attempted_at.isoformat() if item.attempted_at else '-'}"
            for item in self.failed
            if first <= item.day <= last
        ]


@dataclass(frozen=True)
class RetryPage:
    """What one tick read: the failed streams, and where reading stopped when it hit the row limit (the next tick
    reads on from there), else ``None``."""

    streams: list[FailedStream]
    stopped_at: tuple[str, str, date] | None


def due_for_retry(
    store: Store,
    integration_id: str,
    streams: Sequence[str],
    *,
    now: datetime,
    max_retries: int,
    floor: date,
    since: datetime | None = None,
    after: tuple[str, str, date] | None = None,
    limit: int = MAX_FAILED_DAYS,
) -> RetryPage:
    """Failed streams of collecting ``integration_id`` connections that may be retried now, with their failed days
    (a day whose latest attempt failed keeps its error until a success rewrites it) that failed at most
    ``max_retries`` times since last collected: a day is retried ``max_retries`` times in total, even when
    successes on other windows reset the stream's count in between. One bounded query, over the partial index of
    failed days.

    ``since`` (the previous tick) narrows it to the streams that became due after it: back-off ended, a success on
    another window, or the connection edited or resumed (which clears the back-off). Those due earlier were
    requested then. ``after`` reads on from the (company, stream, day) where a previous page hit ``limit``."""
    if max_retries < 1 or not streams:
        return RetryPage([], None)
    cov, health, conns = schema.coverage, schema.stream_health, schema.connections
    query = (
        select(cov.c.company, cov.c.stream, cov.c.day, cov.c.failures, cov.c.attempted_at)
        .select_from(
            health.join(
                cov,
                and_(
                    cov.c.company == health.c.company,
                    cov.c.integration_id == health.c.integration_id,
                    cov.c.stream == health.c.stream,
                ),
            ).join(conns, and_(conns.c.company == health.c.company, conns.c.integration_id == health.c.integration_id))
        )
        .where(
            health.c.integration_id == integration_id,
            health.c.stream.in_(list(streams)),
            health.c.error_kind.in_(sorted(RETRIED_KINDS)),
            health.c.consecutive_failures <= max_retries,
            # Failing now, or failed within RECENT_FAILURE and succeeded on another window since: only those
            # streams' coverage is read, never the whole table's.
            or_(health.c.consecutive_failures >= 1, health.c.last_error_at >= now - RECENT_FAILURE),
            or_(health.c.next_attempt_at.is_(None), health.c.next_attempt_at <= now),
            *_became_due_after(since),
            conns.c.state == "connected",
            cov.c.integration_id == integration_id,
            cov.c.error.is_not(None),
            cov.c.failures <= max_retries,
            cov.c.day >= floor,
            *([tuple_(cov.c.company, cov.c.stream, cov.c.day) > tuple_(*after)] if after else []),
        )
        .order_by(cov.c.company, cov.c.stream, cov.c.day)
        .limit(limit)
    )
    days: dict[tuple[str, str], list[FailedDay]] = defaultdict(list)
    read = 0
    last: tuple[str, str, date] | None = None
    with store.engine.connect() as conn:
        for company, stream, day, failures, attempted_at in conn.execute(query):
            days[(company, stream)].append(FailedDay(day, failures, as_utc(attempted_at)))
            read += 1
            last = (company, stream, day)
    found = [FailedStream(company, stream, tuple(items)) for (company, stream), items in days.items()]
    return RetryPage(found, last if read >= limit else None)


def _became_due_after(since: datetime | None) -> list[ColumnElement[bool]]:
    if since is None:
        return []
    health, conns = schema.stream_health, schema.connections
    return [
        or_(
            and_(health.c.consecutive_failures >= 1, health.c.next_attempt_at > since),
            and_(health.c.consecutive_failures == 0, health.c.last_success_at > since),
            conns.c.updated_at > since,
        )
    ]


def not_in_flight(failed: Sequence[FailedStream], busy: Mapping[str, set[date]]) -> tuple[list[FailedStream], bool]:
    """``failed`` without the days queued or running fleet runs already cover (``busy``, from
    :func:`integration_hub.backfills.in_flight_days`; ``""`` is a run of every company), and whether any were
    held back."""
    kept: list[FailedStream] = []
    held = False
    everyone = busy.get("", set())
    for item in failed:
        covered = busy.get(item.company, set()) | everyone
        rest = tuple(day for day in item.failed if day.day not in covered)
        held = held or len(rest) < len(item.failed)
        if rest:
            kept.append(FailedStream(item.company, item.stream, rest))
    return kept, held


@dataclass(frozen=True)
class RetryCursor:
    """Where the sensor stands. ``since``: streams that became due before it were read. While a big tick reads in
    pages, ``now`` is the time its first page read at (every page reads as of then) and ``after`` where the last
    page stopped. ``held``: some days were held back because a queued or running run covered them, so ``since``
    does not move on (the next ticks look at them again, until that run records what happened)."""

    since: datetime | None = None
    now: datetime | None = None
    after: tuple[str, str, date] | None = None
    held: bool = False

    @classmethod
    def parse(cls, text: str | None) -> RetryCursor:
        if not text:
            return cls()
        if not text.startswith("{"):  # a cursor written before pages: the previous tick's time
            return cls(since=datetime.fromisoformat(text))
        data = json.loads(text)
        after = data.get("after")
        return cls(
            since=datetime.fromisoformat(data["since"]) if data.get("since") else None,
            now=datetime.fromisoformat(data["now"]) if data.get("now") else None,
            after=(after[0], after[1], date.fromisoformat(after[2])) if after else None,
            held=bool(data.get("held")),
        )

    def dump(self) -> str:
        return json.dumps(
            {
                "since": self.since.isoformat() if self.since else None,
                "now": self.now.isoformat() if self.now else None,
                "after": [self.after[0], self.after[1], self.after[2].isoformat()] if self.after else None,
                "held": self.held,
            }
        )

    def next(self, read_at: datetime, stopped_at: tuple[str, str, date] | None, held: bool) -> RetryCursor:
        """After a page read as of ``read_at``: read on from where it stopped, or start over from ``read_at`` (or
        from ``since`` again if any day was held back)."""
        held = self.held or held
        if stopped_at is not None:
            return RetryCursor(since=self.since, now=read_at, after=stopped_at, held=held)
        return RetryCursor(since=self.since if held else read_at)


def retry_requests(
    integration_id: str, specs: Sequence[StreamSpec], failed: Sequence[FailedStream], config: CollectionConfig
) -> list[dg.RunRequest]:
    """One run per shard of the companies failing the same streams, per aligned block of their failed days."""
    keys = {spec.stream: spec.asset_key for spec in specs}
    per_company: dict[str, list[FailedStream]] = defaultdict(list)
    for item in failed:
        per_company[item.company].append(item)
    groups: dict[tuple[str, ...], dict[str, set[date]]] = defaultdict(dict)
    for company, items in per_company.items():
        streams = tuple(sorted(item.stream for item in items))
        groups[streams][company] = {day for item in items for day in item.days}
    start = date.fromisoformat(config.partitions_start)
    requests: list[dg.RunRequest] = []
    for streams, days_by_company in sorted(groups.items()):
        for block in day_blocks(days_by_company, start, config.max_days_per_run):
            parts = shards(block.companies, config.companies_per_run)
            for number, shard in enumerate(parts, start=1):
                label = f"{number}/{len(parts)}"
                attempts = ";".join(
                    attempt
                    for company in shard
                    for item in per_company[company]
                    for attempt in item.attempts(block.first, block.last)
                )
                digest = hashlib.sha256(attempts.encode()).hexdigest()[:16]
                requests.append(
                    dg.RunRequest(
                        run_key=f"{integration_id}:{TRIGGER}:{'+'.join(streams)}:{block.first}..{block.last}:"
                        f"{label}:{digest}",
                        job_name=job_name(integration_id),
                        asset_selection=[keys[stream] for stream in streams],
                        tags={
                            **fleet_run_tags(integration_id, block.first, block.last, shard=label),
                            TRIGGER_TAG: TRIGGER,
                        },
                        run_config=shard_run_config(shard),
                    )
                )
    return requests


def make_retry_sensor(
    integration_id: str,
    streams: Sequence[StreamSpec],
    config: CollectionConfig,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    max_failed_days: int = MAX_FAILED_DAYS,
) -> dg.SensorDefinition:
    """``<id>_retry_sensor`` (fleet layout only: in ``company_day`` a failed window fails its run, and Dagster's
    ``RetryPolicy`` and the backfill daemon retry it). ``max_failed_days`` bounds the rows a tick reads."""
    floor = date.fromisoformat(config.partitions_start)
    names = [spec.stream for spec in streams]
    # No back-off is shorter than BACKOFF_BASE (15 min), so ticking more often than a third of it finds nothing new.
    interval = max(config.sensor_interval_seconds, int(BACKOFF_BASE.total_seconds()) // 3)

    @dg.sensor(
        name=f"{integration_id}_retry_sensor",
        job_name=job_name(integration_id),
        minimum_interval_seconds=interval,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Collects again the failed days of {integration_id} companies whose stream failed with a "
        f"retried error kind, once its back-off is over, at most {config.max_retries} time(s) per day.",
    )
    def _sensor(context: dg.SensorEvaluationContext, hub: HubResource) -> dg.SensorResult:
        cursor = RetryCursor.parse(context.cursor)
        read_at = cursor.now or now()
        page = due_for_retry(
            hub.store,
            integration_id,
            names,
            now=read_at,
            max_retries=config.max_retries,
            floor=floor,
            since=cursor.since,
            after=cursor.after,
            limit=max_failed_days,
        )
        held = False
        failed = page.streams
        if failed:
            busy = in_flight_days(context.instance, integration_id, {item.company for item in failed}, runs=True)
            failed, held = not_in_flight(failed, busy)
        following = cursor.next(read_at, page.stopped_at, held).dump()
        if not failed:
            return dg.SensorResult(
                skip_reason=f"no failed {integration_id} collection became due for a retry"
                + (" (some are queued or running already)" if held else ""),
                cursor=following,
            )
        requests = retry_requests(integration_id, streams, failed, config)
        companies = sorted({item.company for item in failed})
        context.log.info(
            f"retrying {sum(len(item.failed) for item in failed)} failed stream-day(s) of {len(companies)} "
            f"{integration_id} compan(y/ies) ({first_few(companies)}) in {len(requests)} run(s)"
            + (f"; reading on after {page.stopped_at[0]}/{page.stopped_at[1]} next tick" if page.stopped_at else "")
        )
        return dg.SensorResult(run_requests=requests, cursor=following)

    return _sensor
