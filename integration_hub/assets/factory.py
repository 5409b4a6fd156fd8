"""One factory builds every collected asset from a :class:`StreamSpec`.

A run (one partition or a ranged backfill) is split into per-company windows of consecutive days; each
window is collected with *one* ``collect(stream, window)`` call, so the connector can fetch it with as
few requests as the provider allows, and is written with one partition-replacing transaction that also records
the coverage of every day (empty days included). Any failure leaves the window's previous rows untouched and is
recorded (a failed Sync Attempt, the days' coverage, the stream's health and back-off).

Each day partition carries its own ``dagster/row_count``; the ``run_*`` metadata are the run's totals. Days
before the connection's start date are never collected: a run of only such days ends with a skip, not a
materialization. The checks find something: provider totals against rows written, and days since the start
date that no collection has covered.
"""

import time
import warnings
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import dagster as dg

from integration_hub.assets.partitions import company_windows, partitions_def
from integration_hub.assets.progress import ProgressLog
from integration_hub.assets.streams import OWNER, StreamSpec
from integration_hub.connectors.base import (
    AuthenticationError,
    CollectStats,
    ConfigurationError,
    ConnectorError,
    DateWindow,
    ProviderError,
    TransientError,
)
from integration_hub.resources.hub import CollectionRefused, HubResource
from integration_hub.resources.leases import CredentialBusy, LeaseLost
from integration_hub.settings import CollectionConfig
from integration_hub.store.coverage import RETRIED_KINDS
from integration_hub.store.inventory import InventoryError, WriteResult

RETRY_POLICY = dg.RetryPolicy(max_retries=3, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)
COUNT_CHECK = "row_count_matches_provider"
GAPS_CHECK = "no_gaps_since_start_date"


def pool_name(integration_id: str) -> str:
    """One concurrency pool per provider: caps simultaneous steps against its API."""
    return f"{integration_id}_api"


def asset_with_backfill_policy(**kwargs: Any) -> Any:
    """``dg.asset`` with a ``BackfillPolicy``, which Dagster 1.13 marks beta.

    The hub relies on it deliberately (a backfill runs in ranges of ``HUB_MAX_DAYS_PER_RUN`` days), so
    that one warning is silenced here, for this call only; every other Dagster warning still shows.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=dg.BetaWarning, message="Parameter `backfill_policy`")
        return dg.asset(**kwargs)


def build_stream_asset(spec: StreamSpec, config: CollectionConfig | None = None) -> dg.AssetsDefinition:
    config = config or CollectionConfig.from_env()
    check_specs = [
        dg.AssetCheckSpec(
            COUNT_CHECK,
            asset=spec.asset_key,
            description="Rows written per record type equal the totals the provider reported for the window "
            "(where it reports one).",
        ),
        dg.AssetCheckSpec(
            GAPS_CHECK,
            asset=spec.asset_key,
            description="Every day from the connection's start date to the run's last day has been collected "
            "(the hub's coverage records; a day whose collections all failed is a gap).",
        ),
    ]

    @asset_with_backfill_policy(
        key=spec.asset_key,
        partitions_def=partitions_def(spec.integration_id),
        group_name=spec.group,
        kinds=set(spec.kinds),
        owners=[OWNER],
        description=spec.description,
        retry_policy=dg.RetryPolicy(
            max_retries=config.max_retries,
            delay=config.retry_delay_seconds,
            backoff=dg.Backoff.EXPONENTIAL,
            jitter=dg.Jitter.PLUS_MINUS,
        ),
        pool=pool_name(spec.integration_id),
        backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=config.max_days_per_run),
        check_specs=check_specs,
        tags={"hub/integration": spec.integration_id, "hub/stream": spec.stream},
        output_required=False,  # partitions before the start date end with a skip, not a materialization
    )
    def _collect(context: dg.AssetExecutionContext, hub: HubResource):  # type: ignore[no-untyped-def]
        windows = company_windows(context.partition_keys)
        before_start = _before_start_date(hub, spec, windows)
        reasons = "; ".join(reason for reason, _ in before_start.values())
        if before_start and len(before_start) == len(windows) and all(whole for _, whole in before_start.values()):
            context.log.info(f"skipped, nothing collected: {reasons}")
            yield from _skipped_checks(reasons)
            return
        if before_start:  # a ranged run materializes all its partitions or none: refuse rather than mislabel
            raise dg.Failure(
                description="this run mixes days before a connection's start date with days after it: "
                f"{reasons}. Materialize only days from the start date.",
                allow_retries=False,
            )
        run = _RunTotals()
        for company, window in windows:
            written = DateWindow.single_day(window.last) if spec.snapshot else window
            result, window_stats = _collect_window(context, hub, spec, company, written)
            run.add(result, window_stats)
            _add_partition_metadata(context, company, result)
        # A snapshot stream records only each run's last day, so days between snapshots are not gaps.
        gaps = {
            company: []
            if spec.snapshot
            else hub.uncollected_since_start(company, spec.integration_id, spec.stream, window.last)
            for company, window in windows
        }
        checks = run.checks(gaps)
        failed = "; ".join(f"{c.check_name}: {c.description or 'failed'}" for c in checks if not c.passed) or None
        for company, _ in windows:  # alerts read the verdict from the hub, not from Dagster's event log
            hub.record_checks(company, spec.integration_id, spec.stream, failed)
        yield dg.MaterializeResult(metadata=run.metadata(hub, spec, windows), check_results=checks)

    return _collect


class _RunTotals:
    """What one run collected over all its windows: the run-level metadata and the check results."""

    def __init__(self) -> None:
        self.stats = CollectStats()
        self.started = time.monotonic()
        self.rows = 0
        self.days = 0
        self.empty_days = 0
        self.by_type: Counter[str] = Counter()
        self.reported: Counter[str] = Counter()
        self.reported_windows = 0

    def add(self, result: WriteResult, window_stats: CollectStats) -> None:
        _add_stats(self.stats, window_stats)
        if window_stats.reported_counts:
            self.reported_windows += 1
            self.reported.update(window_stats.reported_counts)
        self.by_type.update(result.records_by_type)
        self.rows += result.total
        self.days += len(result.rows_per_day)
        self.empty_days += sum(1 for count in result.rows_per_day.values() if count == 0)

    def metadata(self, hub: HubResource, spec: StreamSpec, windows: list[tuple[str, DateWindow]]) -> dict[str, Any]:
        """The run's totals, labelled as such: Dagster copies them onto every partition of the run, next to each
        day's own ``dagster/row_count``."""
        return {
            "run_rows": dg.MetadataValue.int(self.rows),
            "run_days": dg.MetadataValue.int(self.days),
            "run_empty_days": dg.MetadataValue.int(self.empty_days),
            "run_records_by_type": dg.MetadataValue.json(dict(self.by_type)),
            "run_windows": dg.MetadataValue.text(", ".join(f"{c} {w}" for c, w in windows)),
            "run_requests": dg.MetadataValue.int(self.stats.requests),
            "run_pages": dg.MetadataValue.int(self.stats.pages),
            "run_retries": dg.MetadataValue.int(self.stats.retries),
            "run_rate_limited": dg.MetadataValue.int(self.stats.rate_limited),
            "run_skipped_out_of_window": dg.MetadataValue.int(self.stats.skipped_out_of_window),
            "run_waited_seconds": dg.MetadataValue.float(round(self.stats.waited_seconds, 3)),
            "run_duration_seconds": dg.MetadataValue.float(round(time.monotonic() - self.started, 3)),
            "run_preview": dg.MetadataValue.md(_preview_markdown(hub, spec, windows)),
        }

    def checks(self, gaps: dict[str, list[date]]) -> list[dg.AssetCheckResult]:
        mismatches = {
            record_type: {"reported": expected, "written": self.by_type.get(record_type, 0)}
            for record_type, expected in self.reported.items()
            if self.by_type.get(record_type, 0) != expected
        }
        missing = {company: _day_ranges(days) for company, days in gaps.items() if days}
        return [
            dg.AssetCheckResult(
                check_name=COUNT_CHECK,
                passed=not mismatches,
                severity=dg.AssetCheckSeverity.ERROR,
                description=(
                    "Rows written differ from the provider's totals: "
                    + ", ".join(f"{t} reported {m['reported']}, written {m['written']}" for t, m in mismatches.items())
                )
                if mismatches
                else None
                if self.reported_windows
                else "The provider reported no totals for this window; nothing to compare.",
                metadata={"reported": dict(self.reported), "written": dict(self.by_type), "mismatches": mismatches},
            ),
            dg.AssetCheckResult(
                check_name=GAPS_CHECK,
                passed=not missing,
                severity=dg.AssetCheckSeverity.WARN,
                description=None
                if not missing
                else "Days without a successful collection: "
                + "; ".join(f"{company} {', '.join(ranges[:5])}" for company, ranges in missing.items()),
                metadata={
                    "gap_days": sum(len(days) for days in gaps.values()),
                    "gaps": {company: ranges[:20] for company, ranges in missing.items()},
                },
            ),
        ]


def _before_start_date(
    hub: HubResource, spec: StreamSpec, windows: list[tuple[str, DateWindow]]
) -> dict[str, tuple[str, bool]]:
    """Per company whose window reaches before its connection's start date: why it may not be collected, and
    whether the whole window lies before it (a skip) or only its first days (a run to refuse)."""
    reasons: dict[str, tuple[str, bool]] = {}
    for company, window in windows:
        start = hub.start_date(company, spec.integration_id)
        if start is not None and window.start < start:
            before = DateWindow(window.start, min(window.end, start))
            where = f"{company}/{spec.integration_id} {spec.stream}"
            reasons[company] = (f"{where} {before} is before the connection's start date {start}", window.end <= start)
    return reasons


def _skipped_checks(message: str) -> Iterator[dg.AssetCheckResult]:
    for name in (COUNT_CHECK, GAPS_CHECK):
        yield dg.AssetCheckResult(
            check_name=name, passed=True, description=f"Skipped: {message}.", metadata={"skipped": True}
        )


def _collect_window(
    context: dg.AssetExecutionContext, hub: HubResource, spec: StreamSpec, company: str, window: DateWindow
) -> tuple[WriteResult, CollectStats]:
    """Collect and write one company's window; a failure is recorded (activity log, coverage, back-off) and
    raised as a ``dg.Failure`` that is retried only when a retry can help."""
    try:
        opened = hub.open_connector(company, spec.integration_id)
    except CollectionRefused as refused:
        hub.log_sync_attempt(
            company=company,
            integration_id=spec.integration_id,
            ok=False,
            details=f"{spec.stream} {window}: refused: {refused.description}",
            run_id=context.run.run_id,
        )
        raise
    except ConnectorError as exc:  # the connector cannot even be built (a setting it refuses): health must know
        raise _recorded_failure(context, hub, spec, company, window, exc, str(exc)) from None
    lease = hub.hold_credential(company, spec.integration_id, context.run.run_id, log=context.log)
    try:
        lease.acquire()  # waits (bounded) while another run uses the credential; CredentialBusy when too long
    except CredentialBusy as busy:
        opened.connector.close()
        hub.log_sync_attempt(
            company=company,
            integration_id=spec.integration_id,
            ok=False,
            details=f"{spec.stream} {window}: not started: {busy.description}",
            run_id=context.run.run_id,
        )
        raise
    except BaseException:
        opened.connector.close()
        raise
    started = time.monotonic()
    progress = ProgressLog(context.log, f"{company} {spec.stream} {window}", window, opened.connector.stats)
    try:
        result = hub.replace_window(
            company=company,
            integration_id=spec.integration_id,
            stream=spec.stream,
            window=window,
            records=lease.guard(progress.follow(opened.connector.collect(spec.stream, window))),
            run_id=context.run.run_id,
        )
    except Exception as exc:
        message = opened.redact(f"{type(exc).__name__}: {exc}" if not isinstance(exc, ConnectorError) else str(exc))
        raise _recorded_failure(context, hub, spec, company, window, exc, message) from None
    finally:
        opened.connector.close()
        lease.release()
    stats = opened.connector.stats
    hub.log_sync_attempt(
        company=company,
        integration_id=spec.integration_id,
        ok=True,
        details=f"{spec.stream} {window}: {result.total} rows in {stats.requests} requests, "
        f"{time.monotonic() - started:.1f}s",
        run_id=context.run.run_id,
    )
    return result, stats


def _recorded_failure(
    context: dg.AssetExecutionContext,
    hub: HubResource,
    spec: StreamSpec,
    company: str,
    window: DateWindow,
    exc: BaseException,
    message: str,
) -> dg.Failure:
    """Record a failed window (activity log, coverage, health and back-off) and the ``dg.Failure`` to raise."""
    health = hub.record_failure(
        company=company,
        integration_id=spec.integration_id,
        stream=spec.stream,
        window=window,
        error=message,
        error_kind=error_kind(exc),
        details=f"{spec.stream} {window}: failed, previous rows kept: {message}",
        run_id=context.run.run_id,
    )
    # Retrying cannot fix a rejected credential, a bad setting or a connector breaking the record contract;
    # transient provider trouble is what the RetryPolicy is for.
    return dg.Failure(
        description=f"{company}/{spec.integration_id} {spec.stream} {window}: {message}",
        metadata={"consecutive_failures": health.consecutive_failures},
        allow_retries=error_kind(exc) in RETRIED_KINDS,
    )


def error_kind(exc: BaseException) -> str:
    """The failure's kind as health reads it: ``auth`` means the credentials need renewing."""
    if isinstance(exc, AuthenticationError):
        return "auth"
    if isinstance(exc, ConfigurationError | CollectionRefused):
        return "config"
    if isinstance(exc, InventoryError):
        return "inventory"
    if isinstance(exc, TransientError | LeaseLost):
        return "transient"
    if isinstance(exc, ProviderError):
        return "provider"
    return "other"


def _add_partition_metadata(context: dg.AssetExecutionContext, company: str, result: WriteResult) -> None:
    """Each day partition's own row count (``dagster/row_count``; 0 for a day collected empty).

    Dagster's public ``add_asset_metadata(partition_key=...)`` re-lists the run's whole partition range on every
    call (~7 ms each, 0.6 s for a 92-day run); the accumulator it feeds is written directly, once per day, with
    the same effect. Dagster is pinned exactly, and a test reads the per-day values back from the event log.
    """
    step = context.op_execution_context._step_execution_context
    accumulator = step._metadata_accumulator
    for day, count in result.rows_per_day.items():
        accumulator = accumulator.with_additional_asset_metadata(
            asset_key=context.asset_key,
            partition_key=f"{company}|{day.isoformat()}",
            metadata={"dagster/row_count": dg.MetadataValue.int(count), "day_rows": dg.MetadataValue.int(count)},
        )
    step._metadata_accumulator = accumulator


def _day_ranges(days: list[date]) -> list[str]:
    """``[2024-01-01, 2024-01-02, 2024-01-05]`` → ``["2024-01-01..2024-01-02", "2024-01-05"]``."""
    ranges: list[str] = []
    start = previous = None
    for day in sorted(days):
        if previous is not None and day == previous + timedelta(days=1):
            previous = day
            continue
        if start is not None:
            ranges.append(_range_text(start, previous))
        start = previous = day
    if start is not None:
        ranges.append(_range_text(start, previous))
    return ranges


def _range_text(first: date, last: date | None) -> str:
    return first.isoformat() if last is None or last == first else f"{first.isoformat()}..{last.isoformat()}"


def _add_stats(total: CollectStats, part: CollectStats) -> None:
    total.requests += part.requests
    total.pages += part.pages
    total.retries += part.retries
    total.rate_limited += part.rate_limited
    total.waited_seconds += part.waited_seconds
    total.skipped_out_of_window += part.skipped_out_of_window


def _preview_markdown(hub: HubResource, spec: StreamSpec, windows: list) -> str:
    rows: list[dict[str, Any]] = []
    for company, window in windows:
        rows.extend(
            hub.preview(
                company=company,
                integration_id=spec.integration_id,
                stream=spec.stream,
                window=window,
                limit=5 - len(rows),
            )
        )
        if len(rows) >= 5:
            break
    if not rows:
        return "_no rows in this window_"
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = ["" if row[c] is None else str(row[c]).replace("|", "\\|")[:60] for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
