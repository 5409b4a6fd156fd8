"""One factory builds every collected asset from a :class:`StreamSpec`, in either partition layout.

The asset body only turns the collection service's results (:mod:`integration_hub.service.collection`) into
Dagster's: the collection of a (company, stream, window), its credentials, lease, error handling, redaction and
activity log all live in the service.

* ``company_day`` (default): a run (one partition or a ranged backfill) is one company's consecutive days, each
  window collected with *one* ``collect(stream, window)`` call and written in one partition-replacing transaction
  that also records the coverage of every day. A failure fails the run (retried when a retry can help) and leaves
  the window's previous rows. Days before the connection's start date are never collected: a run of only such days
  ends with a skip, a run mixing them is refused.
* ``fleet``: a run is a day range for a shard of companies (the ``shard`` resource's run config). Each company is
  collected in its own window, clipped to its start date, with its own error handling: a company that fails is
  recorded (coverage, health, back-off), named in the run's metadata and in the ``every_company_collected`` check,
  and retried later; the run fails only when no company of the shard could be collected.

Each day partition carries its own ``dagster/row_count``; the ``run_*`` metadata are the run's totals. The checks
find something: provider totals against rows written, days since the start date no collection has covered, and
(fleet) companies of the shard whose collection failed.
"""

import time
import warnings
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import dagster as dg

from integration_hub.assets.partitions import company_windows, day_windows, days_def, partitions_def
from integration_hub.assets.streams import OWNER, StreamSpec, streams_of
from integration_hub.connectors.base import CollectStats, DateWindow
from integration_hub.executors import queue_tags
from integration_hub.resources.hub import HubResource
from integration_hub.resources.shard import FleetShard
from integration_hub.service.collection import CollectionService, Outcome, WindowResult
from integration_hub.settings import CollectionConfig
from integration_hub.store.connections import ConnectionRecord
from integration_hub.store.database import utcnow

RETRY_POLICY = dg.RetryPolicy(max_retries=3, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)
COUNT_CHECK = "row_count_matches_provider"
GAPS_CHECK = "no_gaps_since_start_date"
COMPANIES_CHECK = "every_company_collected"
FAILURES_SHOWN = 20  # failed companies listed in a fleet run's metadata (the count is always complete)


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
    if config.fleet:
        check_specs.append(
            dg.AssetCheckSpec(
                COMPANIES_CHECK,
                asset=spec.asset_key,
                description="Every company of the run's shard was collected (a company that failed is recorded, "
                "retried after its back-off and named here).",
            )
        )
    options: dict[str, Any] = dict(
        key=spec.asset_key,
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
        op_tags=queue_tags(spec.integration_id),  # on Celery, backfill runs' steps go to the provider's queue
        output_required=False,  # partitions before the start date end with a skip, not a materialization
    )
    if config.fleet:

        @asset_with_backfill_policy(partitions_def=days_def(config.partitions_start), **options)
        def _fleet(context: dg.AssetExecutionContext, hub: HubResource, shard: FleetShard):  # type: ignore[no-untyped-def]
            yield from _collect_fleet(context, hub.collection(), shard, spec)

        return _fleet

    @asset_with_backfill_policy(partitions_def=partitions_def(spec.integration_id), **options)
    def _collect(context: dg.AssetExecutionContext, hub: HubResource):  # type: ignore[no-untyped-def]
        yield from _collect_company_day(context, hub.collection(), spec)

    return _collect


def _collect_company_day(
    context: dg.AssetExecutionContext, svc: CollectionService, spec: StreamSpec
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """One company's consecutive days per window; the first failure fails the run."""
    windows = company_windows(context.partition_keys)
    records = svc.connections(spec.integration_id, [company for company, _ in windows])
    before_start = _before_start_date(records, spec, windows)
    reasons = "; ".join(reason for reason, _ in before_start.values())
    if before_start and len(before_start) == len(windows) and all(whole for _, whole in before_start.values()):
        context.log.info(f"skipped, nothing collected: {reasons}")
        yield from _skipped_checks(reasons, fleet=False)
        return
    if before_start:  # a ranged run materializes all its partitions or none: refuse rather than mislabel
        raise dg.Failure(
            description="this run mixes days before a connection's start date with days after it: "
            f"{reasons}. Materialize only days from the start date.",
            allow_retries=False,
        )
    run = _RunTotals()
    results: list[WindowResult] = []
    for company, window in windows:
        result = _collect_window(context, svc, spec, company, window, records.get(company), fleet=False)
        if not result.ok:
            raise _failure(result)
        run.add(result)
        results.append(result)
        _add_partition_metadata(context, {f"{company}|{day.isoformat()}": n for day, n in _rows_per_day(result)})
    yield from _finish(context, svc, spec, run, results, fleet=False)


def _collect_fleet(
    context: dg.AssetExecutionContext, svc: CollectionService, shard: FleetShard, spec: StreamSpec
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Every company of the shard over the run's days, each in its own window with its own error handling."""
    windows = day_windows(context.partition_keys)
    if shard.companies:
        companies = sorted(set(shard.companies))
        records = svc.connections(spec.integration_id, companies)
    else:
        records = {record.company: record for record in svc.collecting(spec.integration_id)}
        companies = sorted(records)
    held = svc.backing_off(spec.integration_id, spec.stream, utcnow()) if shard.respect_backoff else {}
    run = _RunTotals()
    waiting = sorted(company for company in companies if company in held)
    if waiting:
        context.log.info(f"{len(waiting)} companies' {spec.stream} back off after failures: {', '.join(waiting[:10])}")
    todo = [(company, window) for company in _rotated(companies, spec) if company not in held for window in windows]
    results: list[WindowResult] = []
    busy: list[tuple[str, DateWindow]] = []
    for company, window in todo:
        result = _collect_window(context, svc, spec, company, window, records.get(company), fleet=True)
        if result.outcome is Outcome.BUSY:
            busy.append((company, window))  # another step or run has it: come back once the pass is done
        else:
            results.append(result)
    for company, window in busy:
        results.append(
            _collect_window(context, svc, spec, company, window, records.get(company), fleet=True, wait=True)
        )
    per_day: Counter[str] = Counter()
    for result in results:
        if result.ok:
            run.add(result)
            per_day.update({day.isoformat(): n for day, n in _rows_per_day(result)})
        elif result.outcome is not Outcome.SKIPPED:
            context.log.warning(f"{result.label}: {result.outcome}: {result.message}")
    problems = [r for r in results if r.outcome in (Outcome.FAILED, Outcome.BUSY, Outcome.REFUSED)]
    if not any(r.ok for r in results):
        if problems:
            # Not retried by the step's RetryPolicy: every failure is recorded (coverage, back-off), and the retry
            # sensor requests the failed days once the back-off has passed, without hammering a provider that is down.
            raise dg.Failure(
                description=f"no company of this {spec.integration_id} shard was collected "
                f"({len(problems)} failed); first: {problems[0].label}: {problems[0].message}",
                metadata={"failed_companies": len({r.company for r in problems})},
                allow_retries=False,
            )
        reasons = "; ".join(sorted({f"{r.company}: {r.message}" for r in results if r.message})[:5])
        context.log.info(f"skipped, nothing collected: {reasons or 'no companies'}")
        yield from _skipped_checks(reasons or "no companies to collect", fleet=True)
        return
    _add_partition_metadata(context, dict(per_day))
    run.problems = problems
    yield from _finish(context, svc, spec, run, results, fleet=True)


def _collect_window(
    context: dg.AssetExecutionContext,
    svc: CollectionService,
    spec: StreamSpec,
    company: str,
    window: DateWindow,
    record: ConnectionRecord | None,
    *,
    fleet: bool,
    wait: bool = False,
) -> WindowResult:
    """One window through the service. A fleet run clips it to the start date (the run's days are the shard's, not
    the company's) and first tries its companies without waiting for a credential in use elsewhere (``wait``: the
    second try, with the lease's bounded wait)."""
    return svc.collect(
        company=company,
        integration_id=spec.integration_id,
        stream=spec.stream,
        window=window,
        run_id=context.run.run_id,
        record=record,
        snapshot=spec.snapshot,
        clip_to_start=fleet,
        lease_wait=0 if fleet and not wait else None,
        # A fleet run's second try records a credential still busy as a failure: no later attempt of its own.
        on_busy=("fail" if wait else "quiet") if fleet else "log",
        log=context.log,
    )


def _rotated(companies: list[str], spec: StreamSpec) -> list[str]:
    """The shard's companies starting at an offset per stream, so that the steps of one run executing in parallel
    (Celery) start on different companies instead of queueing on the same credential."""
    streams = streams_of(spec.integration_id)
    position = next((i for i, other in enumerate(streams) if other.stream == spec.stream), 0)
    offset = len(companies) * position // max(len(streams), 1)
    return companies[offset:] + companies[:offset]


def _finish(
    context: dg.AssetExecutionContext,
    svc: CollectionService,
    spec: StreamSpec,
    run: "_RunTotals",
    results: list[WindowResult],
    *,
    fleet: bool,
) -> Iterator[dg.MaterializeResult]:
    """The checks, each company's own verdict recorded in the hub (alerts read it there: never another company's
    names), and the materialization with the run's totals.

    Gaps: company_day looks back to the start date (one company); a fleet shard looks at each company's days in
    this run only (500 companies' whole history per step would cost more than the collection; the fleet summary
    and ``integration-hub coverage`` answer for the rest)."""
    attempted = [r for r in results if r.window is not None and r.outcome in (Outcome.COLLECTED, Outcome.FAILED)]
    until: dict[str, date] = {}
    since: dict[str, date] = {}
    for r in attempted:
        assert r.window is not None
        until[r.company] = max(until.get(r.company, r.window.last), r.window.last)
        since[r.company] = min(since.get(r.company, r.window.start), r.window.start)
    # A snapshot stream records only each run's last day, so days between snapshots are not gaps.
    gaps = {} if spec.snapshot else svc.gaps(spec.integration_id, spec.stream, until, since=since if fleet else None)
    checks = run.checks(gaps, fleet=fleet)
    svc.record_checks(spec.integration_id, spec.stream, _verdicts(attempted, gaps))
    windows = [(r.company, r.window) for r in results if r.ok and r.window is not None]
    yield dg.MaterializeResult(metadata=run.metadata(svc, spec, windows, fleet=fleet), check_results=checks)


def _verdicts(results: list[WindowResult], gaps: dict[str, list[date]]) -> dict[str, str | None]:
    """Per company, one line naming what failed for *it* (its failure, its rows against its provider's totals, its
    gaps), or ``None``."""
    found: dict[str, list[str]] = {r.company: [] for r in results}
    for r in results:
        if r.outcome is Outcome.FAILED:
            found[r.company].append(f"{COMPANIES_CHECK}: {r.message}")
        elif r.write is not None:
            written = r.write.records_by_type
            wrong = [
                f"{kind} reported {n}, written {written.get(kind, 0)}"
                for kind, n in r.stats.reported_counts.items()
                if written.get(kind, 0) != n
            ]
            if wrong:
                found[r.company].append(f"{COUNT_CHECK}: " + ", ".join(wrong))
    for company, days in gaps.items():
        if days and company in found:
            found[company].append(
                f"{GAPS_CHECK}: days without a successful collection: {', '.join(_day_ranges(days)[:5])}"
            )
    return {company: "; ".join(lines) or None for company, lines in found.items()}


def _failure(result: WindowResult) -> dg.Failure:
    """A one-company run's failure as Dagster's, retried only when a retry can help (not a rejected credential, a
    bad setting or a connector breaking the record contract)."""
    if result.outcome is Outcome.FAILED:
        return dg.Failure(
            description=f"{result.label}: {result.message}",
            metadata={"consecutive_failures": result.consecutive_failures},
            allow_retries=result.retryable,
        )
    return dg.Failure(description=result.message or str(result.outcome), allow_retries=result.retryable)


def _rows_per_day(result: WindowResult) -> list[tuple[date, int]]:
    return list(result.write.rows_per_day.items()) if result.write else []


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
        self.problems: list[WindowResult] = []

    def add(self, result: WindowResult) -> None:
        assert result.write is not None
        _add_stats(self.stats, result.stats)
        if result.stats.reported_counts:
            self.reported_windows += 1
            self.reported.update(result.stats.reported_counts)
        self.by_type.update(result.write.records_by_type)
        self.rows += result.write.total
        self.days += len(result.write.rows_per_day)
        self.empty_days += sum(1 for count in result.write.rows_per_day.values() if count == 0)

    def metadata(
        self, svc: CollectionService, spec: StreamSpec, windows: list[tuple[str, DateWindow]], *, fleet: bool
    ) -> dict[str, Any]:
        """The run's totals, labelled as such: Dagster copies them onto every partition of the run, next to each
        day's own ``dagster/row_count``."""
        metadata: dict[str, Any] = {
            "run_rows": dg.MetadataValue.int(self.rows),
            "run_days": dg.MetadataValue.int(self.days),
            "run_empty_days": dg.MetadataValue.int(self.empty_days),
            "run_records_by_type": dg.MetadataValue.json(dict(self.by_type)),
            "run_requests": dg.MetadataValue.int(self.stats.requests),
            "run_pages": dg.MetadataValue.int(self.stats.pages),
            "run_retries": dg.MetadataValue.int(self.stats.retries),
            "run_rate_limited": dg.MetadataValue.int(self.stats.rate_limited),
            "run_skipped_out_of_window": dg.MetadataValue.int(self.stats.skipped_out_of_window),
            "run_waited_seconds": dg.MetadataValue.float(round(self.stats.waited_seconds, 3)),
            "run_duration_seconds": dg.MetadataValue.float(round(time.monotonic() - self.started, 3)),
            "run_preview": dg.MetadataValue.md(
                _preview_markdown(svc.preview(spec.integration_id, spec.stream, windows))
            ),
        }
        if fleet:  # 500 companies per run: counts and the failures, not every window
            metadata["run_companies_collected"] = dg.MetadataValue.int(len({company for company, _ in windows}))
            metadata["run_companies_failed"] = dg.MetadataValue.int(len({p.company for p in self.problems}))
            if self.problems:
                metadata["run_failures"] = dg.MetadataValue.md(_failures_markdown(self.problems))
        else:
            metadata["run_windows"] = dg.MetadataValue.text(", ".join(f"{c} {w}" for c, w in windows))
        return metadata

    def checks(self, gaps: dict[str, list[date]], *, fleet: bool) -> list[dg.AssetCheckResult]:
        mismatches = {
            record_type: {"reported": expected, "written": self.by_type.get(record_type, 0)}
            for record_type, expected in self.reported.items()
            if self.by_type.get(record_type, 0) != expected
        }
        missing = {company: _day_ranges(days) for company, days in gaps.items() if days}
        results = [
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
                else f"Days without a successful collection ({len(missing)} companies): "
                + "; ".join(f"{company} {', '.join(ranges[:5])}" for company, ranges in list(missing.items())[:10]),
                metadata={
                    "gap_days": sum(len(days) for days in gaps.values()),
                    "gaps": {company: ranges[:20] for company, ranges in list(missing.items())[:FAILURES_SHOWN]},
                },
            ),
        ]
        if fleet:
            failed = sorted({p.company for p in self.problems if p.outcome is Outcome.FAILED})
            results.append(
                dg.AssetCheckResult(
                    check_name=COMPANIES_CHECK,
                    passed=not failed,
                    severity=dg.AssetCheckSeverity.ERROR,
                    description=None
                    if not failed
                    else f"{len(failed)} companies failed and are retried after their back-off: "
                    + ", ".join(failed[:10]),
                    metadata={"failed_companies": len(failed), "failed": failed[:FAILURES_SHOWN]},
                )
            )
        return results


def _before_start_date(
    records: dict[str, ConnectionRecord], spec: StreamSpec, windows: list[tuple[str, DateWindow]]
) -> dict[str, tuple[str, bool]]:
    """Per company whose window reaches before its connection's start date: why it may not be collected, and
    whether the whole window lies before it (a skip) or only its first days (a run to refuse)."""
    reasons: dict[str, tuple[str, bool]] = {}
    for company, window in windows:
        record = records.get(company)
        start = record.start_date if record else None
        if start is not None and window.start < start:
            before = DateWindow(window.start, min(window.end, start))
            where = f"{company}/{spec.integration_id} {spec.stream}"
            reasons[company] = (f"{where} {before} is before the connection's start date {start}", window.end <= start)
    return reasons


def _skipped_checks(message: str, *, fleet: bool) -> Iterator[dg.AssetCheckResult]:
    for name in (COUNT_CHECK, GAPS_CHECK, *((COMPANIES_CHECK,) if fleet else ())):
        yield dg.AssetCheckResult(
            check_name=name, passed=True, description=f"Skipped: {message}.", metadata={"skipped": True}
        )


def _add_partition_metadata(context: dg.AssetExecutionContext, rows_by_key: dict[str, int]) -> None:
    """Each day partition's own row count (``dagster/row_count``; 0 for a day collected empty).

    Dagster's public ``add_asset_metadata(partition_key=...)`` re-lists the run's whole partition range on every
    call (~7 ms each, 0.6 s for a 92-day run); the accumulator it feeds is written directly, once per day, with
    the same effect. Dagster is pinned exactly, and a test reads the per-day values back from the event log.
    """
    step = context.op_execution_context._step_execution_context
    accumulator = step._metadata_accumulator
    for key, count in rows_by_key.items():
        accumulator = accumulator.with_additional_asset_metadata(
            asset_key=context.asset_key,
            partition_key=key,
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


def _preview_markdown(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "_no rows in this window_"
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = ["" if row[c] is None else str(row[c]).replace("|", "\\|")[:60] for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _failures_markdown(problems: list[WindowResult]) -> str:
    lines = ["| company | window | outcome | error |", "|---|---|---|---|"]
    for problem in problems[:FAILURES_SHOWN]:
        message = (problem.message or "").replace("|", "\\|")[:200]
        lines.append(f"| {problem.company} | {problem.window or ''} | {problem.outcome} | {message} |")
    if len(problems) > FAILURES_SHOWN:
        lines.append(f"| … {len(problems) - FAILURES_SHOWN} more | | | |")
    return "\n".join(lines)
