"""A connection's collection as one Dagster asset backfill: what it targets, how it is tagged and titled, how it
splits into ranged runs, and which days still need collecting according to the hub's own coverage records.

The activation sensor requests these backfills from the daemon; ``local_runs`` and ``integration-hub collect``
execute them in process on the embedded instance. All three use this module, so a backfill looks the same in the
Backfills tab whoever started it: the hub's run tags (without the range tags, which each ranged run gets from
the asset's ``BackfillPolicy``) plus ``hub/trigger``, and a title naming the integration, company and days.

In the fleet layout (assets keyed by day) a company's backfill targets the days only and names the company in its
run config (``shard_run_config([company])``); Dagster's asset backfill daemon gives a backfill's ``run_config`` to
every run it launches (``execute_asset_backfill_iteration_inner(run_config=backfill.run_config)`` in
``dagster/_core/execution/asset_backfill.py``), so the daemon's ranged runs collect that company only.
:func:`day_blocks` is how the fleet sensors cut many companies' missing days into runs.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import dagster as dg
from dagster._core.definitions.assets.graph.asset_graph_subset import AssetGraphSubset
from dagster._core.definitions.automation_tick_evaluation_context import build_run_requests_with_backfill_policies
from dagster._core.definitions.partitions.context import partition_loading_context
from dagster._core.execution.backfill import BulkActionsFilter, BulkActionStatus, PartitionBackfill
from sqlalchemy import select

from integration_hub.assets.partitions import day_windows, days_def, partitions_def
from integration_hub.assets.streams import StreamSpec
from integration_hub.connectors.base import DateWindow
from integration_hub.jobs import INTEGRATION_TAG, RANGE_END_TAG, RANGE_START_TAG, run_tags
from integration_hub.resources.shard import SHARD_RESOURCE, shard_run_config
from integration_hub.store import Store, coverage, schema

TRIGGER_TAG = "hub/trigger"
TITLE_TAG = "hub/backfill_title"  # the sensor daemon cannot give a backfill a title, so the tag carries it
IN_FLIGHT = (BulkActionStatus.REQUESTED, BulkActionStatus.CANCELING)
UNFINISHED_RUNS = (
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
)


@dataclass(frozen=True)
class BackfillPlan:
    """One connection's days to collect, as a Dagster backfill.

    ``fleet_start`` is the fleet layout's ``HUB_PARTITIONS_START`` (its assets are keyed by day from there); left
    ``None``, the backfill targets the company × day partitions of the default layout."""

    integration_id: str
    company: str
    days: tuple[date, ...]
    trigger: str
    fleet_start: str | None = None

    @property
    def fleet(self) -> bool:
        return self.fleet_start is not None

    @property
    def run_config(self) -> dict[str, Any] | None:
        """Fleet: the run config naming the company (given to each of the backfill's runs); else none."""
        return shard_run_config([self.company]) if self.fleet else None

    @property
    def first(self) -> date:
        return self.days[0]

    @property
    def last(self) -> date:
        return self.days[-1]

    @property
    def title(self) -> str:
        span = str(self.first) if self.first == self.last else f"{self.first}..{self.last}"
        return f"{self.integration_id} {self.company} {span} ({len(self.days)} days, {self.trigger})"[:100]

    @property
    def description(self) -> str:
        windows = ", ".join(str(w) for w in day_windows(d.isoformat() for d in self.days))
        return (
            f"Collects every {self.integration_id} stream of {self.company} for {len(self.days)} day(s): {windows}. "
            f"Started by {self.trigger}; split into ranged runs by the assets' BackfillPolicy."
        )

    def tags(self) -> dict[str, str]:
        """The hub's run tags minus the range (each ranged run gets its own), plus the trigger and title."""
        tags = run_tags(self.integration_id, self.company, self.first, self.last)
        tags.pop(RANGE_START_TAG)
        tags.pop(RANGE_END_TAG)
        return {**tags, TRIGGER_TAG: self.trigger, TITLE_TAG: self.title.replace('"', "'")}

    def subset(self, asset_keys: Iterable[dg.AssetKey]) -> AssetGraphSubset:
        if self.fleet_start is not None:
            keys = [day.isoformat() for day in self.days]
            partitions = days_def(self.fleet_start).subset_with_partition_keys(keys)
        else:
            # str(partition_key(company, day)), written out: a MultiPartitionKey object per day costs 60 µs, which
            # is a minute for a tick of 1,000 three-year onboardings (dimensions join by name: company|date).
            keys = [f"{self.company}|{day.isoformat()}" for day in self.days]
            partitions = partitions_def(self.integration_id).subset_with_partition_keys(keys)
        return AssetGraphSubset(partitions_subsets_by_asset_key={key: partitions for key in asset_keys})

    def run_request(self, asset_keys: Iterable[dg.AssetKey]) -> dg.RunRequest:
        """What a sensor returns for the daemon to create the backfill."""
        return dg.RunRequest.for_asset_graph_subset(self.subset(asset_keys), tags=self.tags())

    def backfill(
        self, backfill_id: str, asset_keys: Iterable[dg.AssetKey], instance: dg.DagsterInstance, now: float
    ) -> PartitionBackfill:
        """The backfill record itself (with a title and description), for an instance without a sensor tick."""
        return PartitionBackfill.from_asset_graph_subset(
            backfill_id=backfill_id,
            backfill_timestamp=now,
            tags=self.tags(),
            dynamic_partitions_store=instance,
            asset_graph_subset=self.subset(asset_keys),
            title=self.title,
            description=self.description,
            run_config=self.run_config,
        )


def ranged_runs(
    subset: AssetGraphSubset, asset_graph, instance: dg.DagsterInstance  # type: ignore[no-untyped-def]
) -> list[dg.RunRequest]:
    """The ranged runs the backfill daemon makes of ``subset`` (the assets' ``BackfillPolicy``), in day order."""
    with partition_loading_context(dynamic_partitions_store=instance):
        partitions = list(subset.iterate_asset_partitions())
        requests = build_run_requests_with_backfill_policies(partitions, asset_graph, instance)
    return sorted(requests, key=lambda r: r.tags[RANGE_START_TAG])


def backfill_request_days(request: dg.RunRequest) -> list[tuple[str, date]]:
    """(company, day) pairs a backfill request targets (any of its assets)."""
    subset = request.asset_graph_subset
    assert subset is not None
    return _days_of(subset)


def _days_of(subset: AssetGraphSubset) -> list[tuple[str, date]]:
    pairs: set[tuple[str, date]] = set()
    for partition in subset.iterate_asset_partitions():
        if partition.partition_key is not None:
            company, _, day = partition.partition_key.rpartition("|")
            pairs.add((company, date.fromisoformat(day)))
    return sorted(pairs)


def in_flight_days(
    instance: dg.DagsterInstance, integration_id: str, companies: Iterable[str] | None = None, *, runs: bool = False
) -> dict[str, set[date]]:
    """Per company, the days unfinished work of ``integration_id`` already targets: one query on the backfill
    table (unfinished, tagged with the integration), grouped by company here, and with ``runs`` (the fleet layout,
    whose sensors request runs, not backfills) one on the run table for queued and running runs. A fleet
    backfill or run names its companies in run config; one naming none (every company) is listed under ``""``.
    ``companies`` narrows the answer."""
    wanted = None if companies is None else set(companies)
    days: dict[str, set[date]] = defaultdict(set)

    def add(who: str, targeted: Iterable[date]) -> None:
        if wanted is None or who in wanted or who == "":
            days[who].update(targeted)

    backfills = instance.get_backfills(
        filters=BulkActionsFilter(statuses=list(IN_FLIGHT), tags={INTEGRATION_TAG: integration_id})
    )
    for backfill in backfills:
        data = backfill.asset_backfill_data
        if data is None:
            continue
        by_company: dict[str, set[date]] = defaultdict(set)
        for who, day in _days_of(data.target_subset):
            by_company[who].add(day)
        for who, targeted in by_company.items():
            for company in [who] if who else shard_companies(backfill.run_config) or [""]:
                add(company, targeted)
    if runs:
        for run in instance.get_runs(
            filters=dg.RunsFilter(statuses=list(UNFINISHED_RUNS), tags={INTEGRATION_TAG: integration_id})
        ):
            first, last = run.tags.get(RANGE_START_TAG, ""), run.tags.get(RANGE_END_TAG, "")
            if "|" in first or not first or not last:
                continue  # a company × day run (its backfill, if any, is counted above)
            targeted = DateWindow.inclusive(date.fromisoformat(first), date.fromisoformat(last)).days()
            span = set(targeted)
            for company in shard_companies(run.run_config) or [""]:
                add(company, span)
    return dict(days)


def first_few(names: Sequence[str], shown: int = 5) -> str:
    """``names`` for a log line: the first ``shown`` and how many more (a tick's summary, never 10,000 names)."""
    listed = ", ".join(names[:shown])
    return listed + (f" and {len(names) - shown} more" if len(names) > shown else "")


def shard_companies(run_config: Mapping[str, Any] | None) -> list[str]:
    """The companies a fleet run or backfill names in its run config (empty: every company, or not fleet)."""
    shard = ((run_config or {}).get("resources") or {}).get(SHARD_RESOURCE) or {}
    return list((shard.get("config") or {}).get("companies") or [])


@dataclass(frozen=True)
class DayBlock:
    """Some companies' missing days inside one aligned block of ``max_days_per_run`` days: one fleet run's range
    (``first``..``last``, the first and last missing day of the block across them) and its companies."""

    first: date
    last: date
    companies: tuple[str, ...]


def day_blocks(days_by_company: Mapping[str, Iterable[date]], start: date, max_days: int) -> list[DayBlock]:
    """Cut each company's days into blocks of ``max_days`` days aligned on ``start`` (``HUB_PARTITIONS_START``),
    so repeated ticks and companies with different start dates give the same block boundaries; per block, the
    companies with a day in it and the block's range narrowed to the days asked for. In day order.

    Work per company is per block, not per day (a bisection finds where each block ends): 1,000 onboardings of three
    years are 13,000 steps, not 1.1 million."""
    spans: dict[int, tuple[date, date]] = {}
    members: dict[int, list[str]] = defaultdict(list)
    for company, days in days_by_company.items():
        ordered = sorted(days)
        at = 0
        while at < len(ordered):
            index = (ordered[at] - start).days // max_days
            end = bisect_left(ordered, start + timedelta(days=(index + 1) * max_days), at)
            first, last = ordered[at], ordered[end - 1]
            known = spans.get(index)
            spans[index] = (min(known[0], first), max(known[1], last)) if known else (first, last)
            members[index].append(company)
            at = end
    return [DayBlock(spans[i][0], spans[i][1], tuple(sorted(members[i]))) for i in sorted(spans)]


def uncollected(
    store: Store,
    integration_id: str,
    streams: Sequence[StreamSpec],
    windows: Mapping[str, DateWindow],
) -> dict[str, list[date]]:
    """Per company, the days of its window that some stream has no successful collection for (``hub_coverage``,
    never Dagster's event log); see :func:`integration_hub.store.coverage.uncollected`.

    Companies without a ``hub_stream_health`` row for the integration were never collected (every collection writes
    its health in the transaction that writes its coverage), so their whole window is missing without asking the
    per-day table: an onboarding tick of 1,000 companies reads one small index instead of a grouped query over a
    table of 10,000 companies × 1,095 days (which PostgreSQL answers with a sequential scan)."""
    day_streams = [s.stream for s in streams if not s.snapshot]
    snapshot_streams = [s.stream for s in streams if s.snapshot]
    companies = sorted(windows)
    health = schema.stream_health
    with store.engine.connect() as conn:
        seen: set[str] = set()
        for index in range(0, len(companies), coverage.IN_CHUNK):
            chunk = companies[index : index + coverage.IN_CHUNK]
            query = select(health.c.company).where(
                health.c.integration_id == integration_id, health.c.company.in_(chunk)
            )
            seen.update(conn.execute(query.distinct()).scalars())
        missing = coverage.uncollected(
            conn,
            integration_id=integration_id,
            day_streams=day_streams,
            snapshot_streams=snapshot_streams,
            windows={company: windows[company] for company in companies if company in seen},
        )
    never = [company for company in companies if company not in seen]
    if never:
        first = min(windows[company].start for company in never)
        calendar = list(DateWindow(first, max(windows[company].end for company in never)).days())
        for company in never:
            window = windows[company]
            days = calendar[(window.start - first).days : (window.end - first).days] if day_streams else []
            missing[company] = days if day_streams or not snapshot_streams else [window.last]
    return missing
