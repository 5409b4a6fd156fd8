"""Collection run in this process the way the daemon runs it: one tick of each activation sensor, then its runs.

``make demo`` and the Dagster backfill benchmark use it to exercise exactly what production does (the
sensors decide the partitions and the ranged runs, the jobs write the inventory) without a daemon; in
production dagster-daemon ticks the sensors and the run queue launches the runs.
"""

from __future__ import annotations

import dagster as dg

from integration_hub.instance import enable_event_batching
from integration_hub.jobs import job_name
from integration_hub.resources.hub import HubResource

ACTIVATION_SUFFIX = "_activation_sensor"
# In-process runs log every event to the console at DEBUG by default; warnings are what a person needs.
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def activation_tick(
    defs: dg.Definitions, instance: dg.DagsterInstance, hub: HubResource
) -> dict[str, list[dg.RunRequest]]:
    """Evaluate every activation sensor once, add the company partitions it asks for to ``instance`` and
    return its run requests per integration (an empty list when it has nothing to collect)."""
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


def execute_run(
    defs: dg.Definitions, instance: dg.DagsterInstance, integration_id: str, request: dg.RunRequest
) -> dg.ExecuteInProcessResult:
    """Execute one requested collection run in process (failures are returned, not raised), with the
    per-partition events written in batches as ``make ui`` has them."""
    enable_event_batching()
    job = defs.resolve_job_def(request.job_name or job_name(integration_id))
    return job.execute_in_process(
        instance=instance, tags=request.tags, run_config=QUIET_RUN_CONFIG, raise_on_error=False
    )
