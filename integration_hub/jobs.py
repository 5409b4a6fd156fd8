"""One collection job per integration: every stream asset of that integration, partition-ranged runs.

In-process execution: a run is a handful of API-bound steps, so spawning a process per step (~0.6 s of
imports each on this kind of machine) would cost more than it saves; parallelism comes from the run
queue instead, and steps of one run share the provider's in-process rate limiter.
"""

from __future__ import annotations

from datetime import date

import dagster as dg

from integration_hub.assets.partitions import partition_key

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def job_name(integration_id: str) -> str:
    return f"collect_{integration_id}"


def build_collection_job(integration_id: str, assets: list[dg.AssetsDefinition]) -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        job_name(integration_id),
        selection=dg.AssetSelection.assets(*assets),
        executor_def=dg.in_process_executor,
        description=f"Collect every {integration_id} stream for a company and a range of days.",
        tags={"hub/integration": integration_id},
    )


def run_tags(integration_id: str, company: str, first: date, last: date) -> dict[str, str]:
    """Tags of a ranged collection run. ``hub/credential`` is limited to one run at a time per value in
    dagster.yaml, so one company's credential is never used by two runs at once. No secret is a tag."""
    return {
        RANGE_START_TAG: str(partition_key(company, first)),
        RANGE_END_TAG: str(partition_key(company, last)),
        "hub/integration": integration_id,
        "hub/company": company,
        "hub/credential": f"{integration_id}.{company}",
    }
