"""One factory builds every collected asset from a :class:`StreamSpec`.

A run (one partition or a ranged backfill) is split into per-company windows of consecutive days; each
window is collected with *one* ``collect(stream, window)`` call, so the connector can fetch it with as
few requests as the provider allows, and is written with one partition-replacing transaction. Any
failure leaves the window's previous rows untouched and is logged as a failed Sync Attempt.
"""

import time
import warnings
from collections import Counter
from typing import Any

import dagster as dg

from integration_hub.assets.partitions import company_windows, partitions_def
from integration_hub.assets.streams import OWNER, StreamSpec
from integration_hub.connectors.base import (
    AuthenticationError,
    CollectStats,
    ConfigurationError,
    ConnectorError,
    DateWindow,
)
from integration_hub.resources.hub import CollectionRefused, HubResource
from integration_hub.settings import CollectionConfig
from integration_hub.store.inventory import InventoryError

RETRY_POLICY = dg.RetryPolicy(max_retries=3, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)
DUPLICATES_CHECK = "no_duplicate_record_keys"
COUNT_CHECK = "row_count_matches_provider"


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
            DUPLICATES_CHECK,
            asset=spec.asset_key,
            description="No (day, record type, external key) appears twice in the collected partitions.",
        ),
        dg.AssetCheckSpec(
            COUNT_CHECK,
            asset=spec.asset_key,
            description="Rows written per record type equal the totals the provider reported for the window "
            "(where it reports one).",
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
    )
    def _collect(context: dg.AssetExecutionContext, hub: HubResource):  # type: ignore[no-untyped-def]
        stats = CollectStats()
        rows_per_day: dict[str, int] = {}
        by_type: Counter[str] = Counter()
        reported: Counter[str] = Counter()
        reported_windows = 0
        duplicates = 0
        windows = company_windows(context.partition_keys)
        started = time.monotonic()
        for company, window in windows:
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
            window_started = time.monotonic()
            written = DateWindow.single_day(window.last) if spec.snapshot else window
            try:
                result = hub.replace_window(
                    company=company,
                    integration_id=spec.integration_id,
                    stream=spec.stream,
                    window=written,
                    records=opened.connector.collect(spec.stream, written),
                    run_id=context.run.run_id,
                )
            except Exception as exc:
                message = opened.redact(
                    f"{type(exc).__name__}: {exc}" if not isinstance(exc, ConnectorError) else str(exc)
                )
                hub.log_sync_attempt(
                    company=company,
                    integration_id=spec.integration_id,
                    ok=False,
                    details=f"{spec.stream} {written}: failed, previous rows kept: {message}",
                    run_id=context.run.run_id,
                )
                # Retrying cannot fix a rejected credential, a bad setting or a connector breaking the
                # record contract; transient provider trouble is what the RetryPolicy is for.
                retryable = not isinstance(
                    exc, AuthenticationError | ConfigurationError | CollectionRefused | InventoryError
                )
                raise dg.Failure(
                    description=f"{company}/{spec.integration_id} {spec.stream} {written}: {message}",
                    allow_retries=retryable,
                ) from None
            finally:
                opened.connector.close()
            window_stats = opened.connector.stats
            _add_stats(stats, window_stats)
            if window_stats.reported_counts:
                reported_windows += 1
                reported.update(window_stats.reported_counts)
            by_type.update(result.records_by_type)
            for day, count in result.rows_per_day.items():
                rows_per_day[f"{company}|{day.isoformat()}"] = count
            duplicates += hub.duplicate_keys(
                company=company, integration_id=spec.integration_id, stream=spec.stream, window=window
            )
            hub.log_sync_attempt(
                company=company,
                integration_id=spec.integration_id,
                ok=True,
                details=f"{spec.stream} {written}: {result.total} rows in {window_stats.requests} requests, "
                f"{time.monotonic() - window_started:.1f}s",
                run_id=context.run.run_id,
            )
        preview = _preview_markdown(hub, spec, windows)
        count_mismatches = {
            record_type: {"reported": expected, "written": by_type.get(record_type, 0)}
            for record_type, expected in reported.items()
            if by_type.get(record_type, 0) != expected
        }
        # Dagster copies this onto the materialization of every partition the run covers (92 for a
        # backfill run), so it describes the run in a few numbers; rows per day are in the inventory
        # (``integration-hub inventory``), not repeated 92 times on each of 92 events.
        yield dg.MaterializeResult(
            metadata={
                "rows_in_run": dg.MetadataValue.int(sum(rows_per_day.values())),
                "days_in_run": dg.MetadataValue.int(sum(w.num_days for _, w in windows)),
                "days_with_rows": dg.MetadataValue.int(sum(1 for count in rows_per_day.values() if count)),
                "records_by_type": dg.MetadataValue.json(dict(by_type)),
                "windows": dg.MetadataValue.text(", ".join(f"{c} {w}" for c, w in windows)),
                "requests": dg.MetadataValue.int(stats.requests),
                "pages": dg.MetadataValue.int(stats.pages),
                "retries": dg.MetadataValue.int(stats.retries),
                "rate_limited": dg.MetadataValue.int(stats.rate_limited),
                "skipped_out_of_window": dg.MetadataValue.int(stats.skipped_out_of_window),
                "waited_seconds": dg.MetadataValue.float(round(stats.waited_seconds, 3)),
                "duration_seconds": dg.MetadataValue.float(round(time.monotonic() - started, 3)),
                "preview": dg.MetadataValue.md(preview),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name=DUPLICATES_CHECK,
                    passed=duplicates == 0,
                    metadata={"duplicate_keys": duplicates},
                ),
                dg.AssetCheckResult(
                    check_name=COUNT_CHECK,
                    passed=not count_mismatches,
                    severity=dg.AssetCheckSeverity.ERROR,
                    description=None
                    if reported_windows
                    else "The provider reported no totals for this window; nothing to compare.",
                    metadata={
                        "reported": dict(reported),
                        "written": dict(by_type),
                        "mismatches": count_mismatches,
                    },
                ),
            ],
        )

    return _collect


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
