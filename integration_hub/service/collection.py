"""Collecting one company's stream over one window and recording what happened: the path both layouts share.

The Dagster layer decides *which* (company, stream, window) to collect; this service does the rest and returns a
:class:`WindowResult` instead of raising, so a fleet run can go on with the next company while a one-company run
turns a failure into Dagster's. For one window it

1. checks the connection may be collected (connected, a connector exists) and, when asked, clips the window to the
   connection's start date;
2. builds the connector with the credentials decrypted in memory (never in run config, tags, logs or results);
3. holds the credential's lease (:mod:`.leases`), so no two runs use one credential at once;
4. streams ``collect(stream, window)`` into the inventory's one partition-replacing transaction, which also records
   the coverage of every day; a snapshot stream writes only the window's last day;
5. records the outcome: a Sync Attempt in the activity log, and on failure the days' coverage, the stream's health
   and back-off, with a one-line error from which every secret value has been removed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import select

from integration_hub.connectors import build_connector, has_connector
from integration_hub.connectors.base import (
    AuthenticationError,
    CollectStats,
    ConfigurationError,
    Connector,
    ConnectorError,
    DateWindow,
    ProviderError,
    Record,
    TransientError,
)
from integration_hub.redact import redact
from integration_hub.service.connections import ConnectionService
from integration_hub.service.leases import CredentialBusy, CredentialLease, LeaseLost
from integration_hub.service.progress import ProgressLog
from integration_hub.store import Store, coverage, inventory, leases, schema
from integration_hub.store import activity as activity_log
from integration_hub.store import connections as rows
from integration_hub.store.activity import Action, Status
from integration_hub.store.connections import ConnectionRecord
from integration_hub.store.coverage import RETRIED_KINDS
from integration_hub.store.database import as_utc, utcnow
from integration_hub.store.inventory import InventoryError, WriteResult


class Outcome(StrEnum):
    COLLECTED = "collected"
    FAILED = "failed"  # recorded in coverage and health (back-off); the window's previous rows are kept
    REFUSED = "refused"  # the connection may not be collected (paused, disconnected, no connector)
    BUSY = "busy"  # another run held the credential for the whole wait
    SKIPPED = "skipped"  # nothing to do: before the start date, or the stream is backing off


# Watches a window's records as they stream (``integration-hub collect``'s progress bar): (connector, records,
# window) -> the same records. The connector stays unaware of it.
Observer = Callable[[Connector, Iterator[Record], DateWindow], Iterator[Record]]


class _Log(Protocol):
    def info(self, msg: str) -> None: ...


class _Quiet:
    def info(self, msg: str) -> None:
        return None


@dataclass(frozen=True)
class LeasePolicy:
    """How a collection holds its credential lease: lifetime without renewal, longest wait, polling interval."""

    ttl_seconds: float = 60
    wait_seconds: float = 900
    poll_seconds: float = 5.0


@dataclass
class WindowResult:
    """What collecting one (company, stream, window) did. ``message`` is one line, free of secrets."""

    company: str
    integration_id: str
    stream: str
    window: DateWindow | None
    outcome: Outcome
    write: WriteResult | None = None
    stats: CollectStats = field(default_factory=CollectStats)
    message: str | None = None
    error_kind: str | None = None
    consecutive_failures: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.COLLECTED

    @property
    def retryable(self) -> bool:
        """Whether trying again later can help (a provider hiccup, a busy credential), unlike a bad credential."""
        return self.outcome is Outcome.BUSY or (self.outcome is Outcome.FAILED and self.error_kind in RETRIED_KINDS)

    @property
    def rows(self) -> int:
        return self.write.total if self.write else 0

    @property
    def label(self) -> str:
        window = f" {self.window}" if self.window else ""
        return f"{self.company}/{self.integration_id} {self.stream}{window}"


def error_kind(exc: BaseException) -> str:
    """The failure's kind as health reads it: ``auth`` means the credentials need renewing."""
    if isinstance(exc, AuthenticationError):
        return "auth"
    if isinstance(exc, ConfigurationError):
        return "config"
    if isinstance(exc, InventoryError):
        return "inventory"
    if isinstance(exc, TransientError | LeaseLost):
        return "transient"
    if isinstance(exc, ProviderError):
        return "provider"
    return "other"


class CollectionService:
    """Collects windows for the Dagster layer (both partition layouts) and answers what it needs around them."""

    def __init__(self, store: Store, lease: LeasePolicy | None = None, *, observe: Observer | None = None) -> None:
        self.store = store
        self.lease = lease or LeasePolicy()
        self.observe = observe

    # ------------------------------------------------------------------ the connections of a run
    def connections(self, integration_id: str, companies: Iterable[str]) -> dict[str, ConnectionRecord]:
        """The stored connections of ``companies`` for ``integration_id`` (one query per 500 companies)."""
        with self.store.engine.connect() as conn:
            return rows.get_many(conn, integration_id, companies)

    def collecting(self, integration_id: str) -> list[ConnectionRecord]:
        """Connections of ``integration_id`` that are switched on and not paused (one query)."""
        with self.store.engine.connect() as conn:
            return rows.list_connections(conn, integration_ids=[integration_id], states=["connected"])

    def backing_off(self, integration_id: str, stream: str, now: datetime) -> dict[str, datetime]:
        """Companies whose ``stream`` waits after failures, with when it is due again (one query)."""
        health = schema.stream_health
        query = select(health.c.company, health.c.next_attempt_at).where(
            health.c.integration_id == integration_id, health.c.stream == stream, health.c.next_attempt_at > now
        )
        with self.store.engine.connect() as conn:
            return {company: as_utc(due) for company, due in conn.execute(query)}  # type: ignore[misc]

    # ------------------------------------------------------------------ one window
    def collect(
        self,
        *,
        company: str,
        integration_id: str,
        stream: str,
        window: DateWindow,
        run_id: str,
        record: ConnectionRecord | None = None,
        snapshot: bool = False,
        clip_to_start: bool = False,
        lease_wait: float | None = None,
        on_busy: str = "log",
        log: _Log | None = None,
    ) -> WindowResult:
        """Collect and write one window; never raises for a failure of the collection (it is recorded).

        ``on_busy``, when another run holds the credential past the wait: ``log`` a Sync Attempt and return BUSY,
        stay ``quiet`` (a first try that will be repeated), or ``fail``: record it as a transient failure, so coverage,
        back-off and the retry sensor see the days (a fleet run has no later attempt of its own)."""
        log = log or _Quiet()
        record = record if record is not None else self._connection(company, integration_id)
        result = WindowResult(company, integration_id, stream, window, Outcome.SKIPPED)
        refusal = _refusal(record, company, integration_id)
        if refusal:
            return self._refused(result, refusal, run_id)
        assert record is not None
        if clip_to_start and record.start_date and window.start < record.start_date:
            if window.end <= record.start_date:
                result.message = f"{window} is before the connection's start date {record.start_date}"
                return result
            window = DateWindow(record.start_date, window.end)
        written = DateWindow.single_day(window.last) if snapshot else window
        result.window = written
        config = None
        try:
            config = ConnectionService(self.store).connector_config(record)
            connector = build_connector(integration_id, config)
        except Exception as exc:  # a setting the connector refuses, a credential that cannot be decrypted
            secrets = tuple(config.secrets.values()) if config else ()
            if isinstance(exc, ConnectorError):
                return self._failed(result, exc, redact(str(exc), secrets), run_id)
            message = f"cannot open the connection: {type(exc).__name__}: {exc}"
            return self._failed(result, exc, redact(message, secrets), run_id, kind="config")
        secrets = tuple(config.secrets.values())
        lease = CredentialLease(
            self,
            company=company,
            integration_id=integration_id,
            # The holder is the run *and* the stream: two steps of one run on two Celery workers must not share a
            # credential (its rate limit is per process), nor release each other's lease. A sibling step of the same
            # run is waited for without the bound: it is this run's own work, not someone else's stuck run.
            run_id=f"{run_id}/{stream}",
            siblings=f"{run_id}/",
            ttl=timedelta(seconds=self.lease.ttl_seconds),
            wait=self.lease.wait_seconds if lease_wait is None else lease_wait,
            poll=self.lease.poll_seconds,
            log=log,
        )
        try:
            lease.acquire()  # waits (bounded) while another run uses the credential
        except CredentialBusy as busy:
            connector.close()
            if on_busy == "fail":
                return self._failed(result, busy, busy.description, run_id, kind="transient")
            result.outcome, result.message = Outcome.BUSY, busy.description
            if on_busy == "log":
                self.log_sync_attempt(result, ok=False, details=f"not started: {busy.description}", run_id=run_id)
            return result
        except BaseException:
            connector.close()
            raise
        started = time.monotonic()
        progress = ProgressLog(log, f"{company} {stream} {written}", written, connector.stats)
        try:
            records = connector.collect(stream, written)  # may raise at once (an unknown stream)
            if self.observe is not None:
                records = self.observe(connector, records, written)
            result.write = inventory.replace_window(
                self.store.engine,
                company=company,
                integration_id=integration_id,
                stream=stream,
                window=written,
                records=lease.guard(progress.follow(records)),
                run_id=run_id,
            )
        except Exception as exc:
            message = f"{type(exc).__name__}: {exc}" if not isinstance(exc, ConnectorError) else str(exc)
            result.stats, result.seconds = connector.stats, time.monotonic() - started
            return self._failed(result, exc, redact(message, secrets), run_id)
        finally:
            connector.close()
            lease.release()
        result.outcome, result.stats, result.seconds = Outcome.COLLECTED, connector.stats, time.monotonic() - started
        self.log_sync_attempt(
            result,
            ok=True,
            details=f"{result.rows} rows in {result.stats.requests} requests, {result.seconds:.1f}s",
            run_id=run_id,
        )
        return result

    def _connection(self, company: str, integration_id: str) -> ConnectionRecord | None:
        with self.store.engine.connect() as conn:
            return rows.get(conn, company, integration_id)

    def _refused(self, result: WindowResult, refusal: str, run_id: str) -> WindowResult:
        result.outcome, result.message, result.error_kind = Outcome.REFUSED, refusal, "config"
        self.log_sync_attempt(result, ok=False, details=f"refused: {refusal}", run_id=run_id)
        return result

    def _failed(
        self, result: WindowResult, exc: BaseException, message: str, run_id: str, *, kind: str | None = None
    ) -> WindowResult:
        """Record a failed window (activity log, coverage, health and back-off) in one transaction."""
        assert result.window is not None
        result.outcome, result.message, result.error_kind = Outcome.FAILED, message, kind or error_kind(exc)
        with self.store.engine.begin() as conn:
            activity_log.append(
                conn,
                action=Action.SYNC_ATTEMPT,
                status=Status.ERROR,
                details=f"{result.stream} {result.window}: failed, previous rows kept: {message}",
                performed_by="system",
                company=result.company,
                integration_id=result.integration_id,
                run_id=run_id,
            )
            health = coverage.record_failed(
                conn,
                company=result.company,
                integration_id=result.integration_id,
                stream=result.stream,
                window=result.window,
                error=message,
                error_kind=result.error_kind,
                run_id=run_id,
                now=utcnow(),
            )
        result.consecutive_failures = health.consecutive_failures
        return result

    def log_sync_attempt(self, result: WindowResult, *, ok: bool, details: str, run_id: str) -> None:
        window = f" {result.window}" if result.window else ""
        with self.store.engine.begin() as conn:
            activity_log.append(
                conn,
                action=Action.SYNC_ATTEMPT,
                status=Status.SUCCESS if ok else Status.ERROR,
                details=f"{result.stream}{window}: {details}",
                performed_by="system",
                company=result.company,
                integration_id=result.integration_id,
                run_id=run_id,
            )

    # ------------------------------------------------------------------ credential leases (LeaseStore)
    def take_lease(self, company: str, integration_id: str, run_id: str, ttl: timedelta) -> leases.Lease | None:
        with self.store.engine.begin() as conn:
            return leases.acquire(
                conn, integration_id=integration_id, company=company, run_id=run_id, ttl=ttl, now=utcnow()
            )

    def renew_lease(self, company: str, integration_id: str, run_id: str, ttl: timedelta) -> bool:
        with self.store.engine.begin() as conn:
            return leases.renew(
                conn, integration_id=integration_id, company=company, run_id=run_id, ttl=ttl, now=utcnow()
            )

    def release_lease(self, company: str, integration_id: str, run_id: str) -> bool:
        with self.store.engine.begin() as conn:
            return leases.release(conn, integration_id=integration_id, company=company, run_id=run_id)

    # ------------------------------------------------------------------ after the windows
    def gaps(
        self,
        integration_id: str,
        stream: str,
        until: Mapping[str, date],
        *,
        since: Mapping[str, date] | None = None,
    ) -> dict[str, list[date]]:
        """Per company, the days from its connection's start date (or ``since[company]``, if later) to
        ``until[company]`` without a successful collection (one connections query and one grouped coverage query)."""
        records = self.connections(integration_id, until)
        windows: dict[str, DateWindow] = {}
        for company, record in records.items():
            if record.start_date is None:
                continue
            first = max(record.start_date, since[company]) if since and company in since else record.start_date
            if first <= until[company]:
                windows[company] = DateWindow.inclusive(first, until[company])
        found: dict[str, list[date]] = {company: [] for company in until}
        if windows:
            with self.store.engine.connect() as conn:
                found.update(
                    coverage.uncollected(conn, integration_id=integration_id, day_streams=[stream], windows=windows)
                )
        return found

    def record_checks(self, integration_id: str, stream: str, verdicts: Mapping[str, str | None]) -> None:
        """The latest run's asset-check verdict per company (``None``: all passed), in one transaction; alerts
        read it from the hub, not from Dagster's event log."""
        with self.store.engine.begin() as conn:
            for company, failed in verdicts.items():
                coverage.record_checks(
                    conn, company=company, integration_id=integration_id, stream=stream, failed=failed
                )

    def preview(
        self, integration_id: str, stream: str, windows: Iterable[tuple[str, DateWindow]], limit: int = 5
    ) -> list:
        """Up to ``limit`` inventory rows of the windows, for the materialization's preview table."""
        found: list[dict[str, Any]] = []
        with self.store.engine.connect() as conn:
            for company, window in windows:
                found.extend(
                    inventory.preview(
                        conn,
                        company=company,
                        integration_id=integration_id,
                        stream=stream,
                        window=window,
                        limit=limit - len(found),
                    )
                )
                if len(found) >= limit:
                    break
        return found


def _refusal(record: ConnectionRecord | None, company: str, integration_id: str) -> str | None:
    if record is None:
        return f"{company} has no {integration_id} connection"
    if not record.collecting:
        return f"{company}/{integration_id} is {record.state}; collection happens only while connected"
    if not has_connector(integration_id):
        return f"no connector is implemented for {integration_id} yet"
    return None
