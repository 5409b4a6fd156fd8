"""Collection in this process the way the daemons do it: one activation-sensor tick, then its backfills' runs.

``make demo``, ``integration-hub collect`` on the embedded instance and the Dagster backfill benchmark use it to
exercise exactly what production does without a daemon: the sensor decides the partitions and the backfills, the
assets' ``BackfillPolicy`` splits each backfill into ranged runs (Dagster's own splitting, as the backfill daemon
does it), and the runs write the inventory. Each backfill is recorded in the instance with its title, its runs
carry ``dagster/backfill``, and it is marked complete at the end, so the Backfills tab of ``make ui`` shows it.
In production dagster-daemon ticks the sensors, the backfill daemon launches the runs and the queue runs them.

In the fleet layout the activation sensor requests runs, not backfills (:func:`execute_run` runs one, its shard
in the run config), and a company's backfill carries its run config (``shard_run_config([company])``), which
every ranged run gets, as the backfill daemon does it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
from dagster._core.definitions.assets.graph.asset_graph_subset import AssetGraphSubset
from dagster._core.definitions.events import AssetKeyPartitionKey
from dagster._core.definitions.partitions.context import partition_loading_context
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
from dagster._core.utils import make_new_backfill_id

from integration_hub.backfills import TITLE_TAG, ranged_runs
from integration_hub.instance import enable_event_batching
from integration_hub.jobs import RANGE_END_TAG, RANGE_START_TAG, job_name
from integration_hub.resources.hub import HubResource

ACTIVATION_SUFFIX = "_activation_sensor"
BACKFILL_TAG = "dagster/backfill"
# In-process runs log every event to the console at DEBUG by default; warnings are what a person needs.
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def activation_tick(
    defs: dg.Definitions, instance: dg.DagsterInstance, hub: HubResource
) -> dict[str, list[dg.RunRequest]]:
    """Evaluate every activation sensor once, add the company partitions it asks for to ``instance`` and
    return its backfill requests per integration (an empty list when it has nothing to collect)."""
    requests: dict[str, list[dg.RunRequest]] = {}
    for sensor in defs.sensors:
        if not sensor.name.endswith(ACTIVATION_SUFFIX):
            continue
        with dg.build_sensor_context(instance=instance, resources={"hub": hub}, definitions=defs) as context:
            result = sensor(context)
        runs: list[dg.RunRequest] = []
        if isinstance(result, dg.SensorResult):
            for request in result.dynamic_partitions_requests or []:
                instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
            runs = list(result.run_requests or [])
        requests[sensor.name.removesuffix(ACTIVATION_SUFFIX)] = runs
    return requests


@dataclass
class RunSummary:
    """One finished ranged run: its range, outcome and the totals its assets reported."""

    job_name: str
    first_key: str
    last_key: str
    success: bool
    rows: int
    requests: int
    seconds: float
    materializations: int
    error: str | None
    result: dg.ExecuteInProcessResult = field(repr=False)

    def line(self) -> str:
        status = "SUCCESS" if self.success else "FAILURE"
        text = (
            f"{self.job_name} {self.first_key} .. {self.last_key}: {status}, {self.materializations} partition "
            f"materializations, {self.rows} rows, {self.requests} requests in {self.seconds:.1f}s"
        )
        return text + (f": {self.error}" if self.error else "")


def execute_run(
    defs: dg.Definitions, instance: dg.DagsterInstance, integration_id: str, request: dg.RunRequest
) -> RunSummary:
    """Execute one ranged collection run in process (failures are returned, not raised), with the per-partition
    events written in batches as ``make ui`` has them, and the request's run config (a fleet run's shard)."""
    enable_event_batching()
    job = defs.resolve_job_def(request.job_name or job_name(integration_id))
    started = time.monotonic()
    result = job.execute_in_process(
        instance=instance,
        tags=request.tags,
        run_config={**QUIET_RUN_CONFIG, **(request.run_config or {})},
        asset_selection=list(request.asset_selection) if request.asset_selection else None,
        raise_on_error=False,
    )
    return summarize(result, request, time.monotonic() - started)


def summarize(result: dg.ExecuteInProcessResult, request: dg.RunRequest, seconds: float) -> RunSummary:
    """Totals of one run: every partition's materialization carries its asset's run totals, so one per asset."""
    events = result.get_asset_materialization_events()
    per_asset: dict[dg.AssetKey, tuple[int, int]] = {}
    for event in events:
        metadata = event.materialization.metadata
        if "run_rows" in metadata:
            per_asset[event.asset_key] = (int(metadata["run_rows"].value), int(metadata["run_requests"].value))
    error = None
    for failure in result.get_step_failure_events():
        data = failure.step_failure_data
        described = data.user_failure_data.description if data.user_failure_data else None
        error = " ".join((described or (data.error.message if data.error else "failed")).split())
        break
    return RunSummary(
        job_name=result.dagster_run.job_name,
        first_key=request.tags.get(RANGE_START_TAG, ""),
        last_key=request.tags.get(RANGE_END_TAG, ""),
        success=result.success,
        rows=sum(rows for rows, _ in per_asset.values()),
        requests=sum(calls for _, calls in per_asset.values()),
        seconds=seconds,
        materializations=len(events),
        error=error,
        result=result,
    )


@dataclass
class BackfillOutcome:
    backfill_id: str
    title: str
    runs: list[RunSummary]

    @property
    def success(self) -> bool:
        return all(run.success for run in self.runs)


def execute_backfill(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    integration_id: str,
    request: dg.RunRequest,
    *,
    description: str | None = None,
    run_config: Mapping[str, Any] | None = None,
    on_start: Callable[[str, list[dg.RunRequest]], None] | None = None,
    on_run: Callable[[RunSummary], None] | None = None,
) -> BackfillOutcome:
    """Record the requested backfill in ``instance`` (title from the request's tags, ``run_config`` for each of
    its runs), execute its ranged runs in day order (a failed run does not stop the others, as with the backfill
    daemon) and mark it complete."""
    subset = request.asset_graph_subset
    assert subset is not None, "not a backfill request"
    graph = defs.get_repository_def().asset_graph
    tags = dict(request.tags)
    title = tags.get(TITLE_TAG, f"{integration_id} collection")
    backfill_id = make_new_backfill_id()
    backfill = PartitionBackfill.from_asset_graph_subset(
        backfill_id=backfill_id,
        backfill_timestamp=time.time(),
        tags=tags,
        dynamic_partitions_store=instance,
        asset_graph_subset=subset,
        title=title,
        description=description,
        run_config=dict(run_config) if run_config else None,
    )
    data = backfill.asset_backfill_data
    assert data is not None
    # Every run is requested here, in this process: a daemon watching the same instance only follows them.
    requested = data.replace_requested_subset(subset).with_requested_runs_for_target_roots(True)
    instance.add_backfill(backfill.with_asset_backfill_data(requested, instance, graph))
    runs = ranged_runs(subset, graph, instance)
    if on_start is not None:
        on_start(backfill_id, runs)
    summaries: list[RunSummary] = []
    for run in runs:
        ranged = dg.RunRequest(
            job_name=job_name(integration_id),
            asset_selection=run.asset_selection,
            tags={**tags, **run.tags, BACKFILL_TAG: backfill_id},
            run_config=dict(run_config) if run_config else None,
        )
        summary = execute_run(defs, instance, integration_id, ranged)
        summaries.append(summary)
        if on_run is not None:
            on_run(summary)
    _finish(instance, backfill_id, requested, summaries, graph)
    return BackfillOutcome(backfill_id, title, summaries)


def _finish(instance: dg.DagsterInstance, backfill_id: str, data, summaries: list[RunSummary], graph) -> None:  # type: ignore[no-untyped-def]
    """Mark the backfill complete with what its runs materialized (and the rest failed, if a run failed)."""
    materialized = {
        AssetKeyPartitionKey(event.asset_key, event.partition)
        for summary in summaries
        for event in summary.result.get_asset_materialization_events()
    }
    with partition_loading_context(dynamic_partitions_store=instance):
        done = AssetGraphSubset.from_asset_partition_set(materialized, graph)
        failed = AssetGraphSubset.create_empty_subset()
        if not all(s.success for s in summaries):
            failed = data.target_subset - done
    backfill = instance.get_backfill(backfill_id)
    assert backfill is not None
    status = BulkActionStatus.COMPLETED_SUCCESS if failed.is_empty else BulkActionStatus.COMPLETED_FAILED
    finished = data._replace(materialized_subset=done, failed_and_downstream_subset=failed)
    instance.update_backfill(
        backfill.with_asset_backfill_data(finished, instance, graph)
        .with_status(status)
        .with_end_timestamp(time.time())
    )
