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

The cursor is the previous tick's time: a tick looks only at the streams that became due since (see
:func:`due_for_retry`). It cannot loop forever or queue a retry twice: each failed attempt raises
``consecutive_failures`` until it passes ``HUB_MAX_RETRIES`` (then only the daily schedule's lookback tries again),
and a run's key is derived from its streams, days and companies with each one's failure count and last failure
time, so even a tick that looks again (no cursor yet) while a retry is queued or running (nothing recorded yet) gets
the same key and Dagster does not launch it again; the next failure changes the key, the back-off spaces attempts.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import dagster as dg
from sqlalchemy import ColumnElement, and_, or_, select

from integration_hub.assets.streams import StreamSpec
from integration_hub.backfills import TRIGGER_TAG, day_blocks, first_few
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
MAX_FAILED_DAYS = 200_000  # failed (company, stream, day) rows read per tick; the rest waits for the next ticks


@dataclass(frozen=True)
class FailedStream:
    """A company's stream that is due for a retry: its failed days, and which attempt failed last (how many in a
    row, when): together they identify the attempt a retry follows."""

    company: str
    stream: str
    consecutive_failures: int
    last_error_at: datetime | None
    days: tuple[date, ...]

    @property
    def attempt(self) -> str:
        at = self.last_error_at.isoformat() if self.last_error_at else "-"
        return f"{self.company}/{self.stream}#{self.consecutive_failures}@{at}"


def due_for_retry(
    store: Store,
    integration_id: str,
    streams: Sequence[str],
    *,
    now: datetime,
    max_retries: int,
    floor: date,
    since: datetime | None = None,
) -> list[FailedStream]:
    """Failed streams of collecting ``integration_id`` connections that may be retried now, with their failed days
    (a day whose latest attempt failed keeps its error until a success rewrites it). One bounded query.

    ``since`` (the previous tick) narrows it to the streams that became due after it: back-off ended, a success on
    another window, or the connection edited or resumed (which clears the back-off). Those due earlier were
    requested then. So a tick reads the coverage of a few streams, not of every failing one (≈9 ms each on
    PostgreSQL, whose coverage table has no index on failed days)."""
    if max_retries < 1 or not streams:
        return []
    cov, health, conns = schema.coverage, schema.stream_health, schema.connections
    query = (
        select(cov.c.company, cov.c.stream, health.c.consecutive_failures, health.c.last_error_at, cov.c.day)
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
            cov.c.error.is_not(None),
            cov.c.day >= floor,
        )
        .order_by(cov.c.company, cov.c.stream, cov.c.day)
        .limit(MAX_FAILED_DAYS)
    )
    days: dict[tuple[str, str, int, datetime | None], list[date]] = defaultdict(list)
    with store.engine.connect() as conn:
        for company, stream, failures, failed_at, day in conn.execute(query):
            days[(company, stream, failures, as_utc(failed_at))].append(day)
    return [FailedStream(*key, days=tuple(found)) for key, found in days.items()]


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
                attempts = ";".join(item.attempt for company in shard for item in per_company[company])
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
) -> dg.SensorDefinition:
    """``<id>_retry_sensor`` (fleet layout only: in ``company_day`` a failed window fails its run, and Dagster's
    ``RetryPolicy`` and the backfill daemon retry it)."""
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
        f"retried error kind, once its back-off is over, at most {config.max_retries} time(s) in a row.",
    )
    def _sensor(context: dg.SensorEvaluationContext, hub: HubResource) -> dg.SensorResult:
        at = now()
        since = datetime.fromisoformat(context.cursor) if context.cursor else None
        failed = due_for_retry(
            hub.store, integration_id, names, now=at, max_retries=config.max_retries, floor=floor, since=since
        )
        if not failed:
            return dg.SensorResult(
                skip_reason=f"no failed {integration_id} collection became due for a retry", cursor=at.isoformat()
            )
        requests = retry_requests(integration_id, streams, failed, config)
        companies = sorted({item.company for item in failed})
        context.log.info(
            f"retrying {sum(len(item.days) for item in failed)} failed stream-day(s) of {len(companies)} "
            f"{integration_id} compan(y/ies) ({first_few(companies)}) in {len(requests)} run(s)"
        )
        return dg.SensorResult(run_requests=requests, cursor=at.isoformat())

    return _sensor
