"""A connection's collection as one Dagster asset backfill: what it targets, how it is tagged and titled, how it
splits into ranged runs, and which days still need collecting according to the hub's own coverage records.

The activation sensor requests these backfills from the daemon; ``local_runs`` and ``integration-hub collect``
execute them in process on the embedded instance. All three use this module, so a backfill looks the same in the
Backfills tab whoever started it: the hub's run tags (without the range tags, which each ranged run gets from
the asset's ``BackfillPolicy``) plus ``hub/trigger``, and a title naming the integration, company and days.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import dagster as dg
from dagster._core.definitions.assets.graph.asset_graph_subset import AssetGraphSubset
from dagster._core.definitions.automation_tick_evaluation_context import build_run_requests_with_backfill_policies
from dagster._core.definitions.partitions.context import partition_loading_context
from dagster._core.execution.backfill import BulkActionsFilter, BulkActionStatus, PartitionBackfill

from integration_hub.assets.partitions import company_windows, partition_key, partitions_def
from integration_hub.assets.streams import StreamSpec
from integration_hub.connectors.base import DateWindow
from integration_hub.jobs import RANGE_END_TAG, RANGE_START_TAG, run_tags
from integration_hub.store import Store, coverage

TRIGGER_TAG = "hub/trigger"
TITLE_TAG = "hub/backfill_title"  # the sensor daemon cannot give a backfill a title, so the tag carries it
IN_FLIGHT = (BulkActionStatus.REQUESTED, BulkActionStatus.CANCELING)


@dataclass(frozen=True)
class BackfillPlan:
    """One connection's days to collect, as a Dagster backfill."""

    integration_id: str
    company: str
    days: tuple[date, ...]
    trigger: str

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
        windows = ", ".join(str(w) for _, w in company_windows(str(partition_key(self.company, d)) for d in self.days))
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
        keys = [str(partition_key(self.company, day)) for day in self.days]
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
            run_config=None,
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


def in_flight_days(instance: dg.DagsterInstance, integration_id: str, company: str) -> set[date]:
    """Days an unfinished backfill of this connection already targets (one query on the backfill table)."""
    backfills = instance.get_backfills(
        filters=BulkActionsFilter(statuses=list(IN_FLIGHT), tags={"hub/credential": f"{integration_id}.{company}"})
    )
    days: set[date] = set()
    for backfill in backfills:
        data = backfill.asset_backfill_data
        if data is not None:
            days.update(day for who, day in _days_of(data.target_subset) if who == company)
    return days


def uncollected(
    store: Store,
    integration_id: str,
    streams: Sequence[StreamSpec],
    windows: Mapping[str, DateWindow],
) -> dict[str, list[date]]:
    """Per company, the days of its window that some stream has no successful collection for (``hub_coverage``,
    never Dagster's event log); see :func:`integration_hub.store.coverage.uncollected`."""
    with store.engine.connect() as conn:
        return coverage.uncollected(
            conn,
            integration_id=integration_id,
            day_streams=[s.stream for s in streams if not s.snapshot],
            snapshot_streams=[s.stream for s in streams if s.snapshot],
            windows=windows,
        )
