"""One collection job per integration: every stream asset of that integration, partition-ranged runs.

In-process execution by default: a run is a handful of API-bound steps, so spawning a process per step (~0.6 s
of imports each on this kind of machine) would cost more than it saves; parallelism comes from the run queue
instead, and steps of one run share the provider's in-process rate limiter. With ``HUB_EXECUTOR=celery`` the
steps go to the integration's own Celery queue instead (``executors.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

import dagster as dg

from integration_hub.assets.partitions import partition_key
from integration_hub.assets.streams import STREAMS
from integration_hub.executors import ExecutorConfig, collection_executor

# Asset key -> integration, for runs that name their assets but not their integration (UI, backfills).
STREAM_INTEGRATIONS: dict[dg.AssetKey, str] = {spec.asset_key: spec.integration_id for spec in STREAMS}

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"
INTEGRATION_TAG = "hub/integration"
COMPANY_TAG = "hub/company"
CREDENTIAL_TAG = "hub/credential"
SHARD_TAG = "hub/shard"  # fleet layout: "3/20", the run's shard of the integration's companies
HUB_TAGS = (INTEGRATION_TAG, COMPANY_TAG, CREDENTIAL_TAG)


def job_name(integration_id: str) -> str:
    return f"collect_{integration_id}"


def build_collection_job(
    integration_id: str, assets: list[dg.AssetsDefinition], executor: ExecutorConfig | None = None
) -> dg.UnresolvedAssetJobDefinition:
    """``collect_<id>``: on Celery, its steps default to the integration's queue (one queue per provider)."""
    return dg.define_asset_job(
        job_name(integration_id),
        selection=dg.AssetSelection.assets(*assets),
        executor_def=collection_executor(executor or ExecutorConfig(), default_queue=integration_id),
        description=f"Collect every {integration_id} stream for a company and a range of days.",
        tags={INTEGRATION_TAG: integration_id},
    )


def run_tags(integration_id: str, company: str, first: date, last: date) -> dict[str, str]:
    """Tags of a ranged collection run (what the sensors and schedules request)."""
    return {
        RANGE_START_TAG: str(partition_key(company, first)),
        RANGE_END_TAG: str(partition_key(company, last)),
        **credential_tags(integration_id, company),
    }


def fleet_run_tags(integration_id: str, first: date, last: date, shard: str) -> dict[str, str]:
    """Tags of a fleet-layout run: a day range (the companies are in its run config) and which shard it is."""
    return {
        RANGE_START_TAG: first.isoformat(),
        RANGE_END_TAG: last.isoformat(),
        INTEGRATION_TAG: integration_id,
        SHARD_TAG: shard,
    }


def credential_tags(integration_id: str, company: str) -> dict[str, str]:
    """The run-queue tags of a run using one company's credential. ``hub/credential`` is limited to one run at a
    time per value in dagster.yaml, so the credential is never used by two runs at once. No secret is a tag."""
    return {INTEGRATION_TAG: integration_id, COMPANY_TAG: company, CREDENTIAL_TAG: f"{integration_id}.{company}"}


def inferred_hub_tags(tags: Mapping[str, str], asset_keys: Iterable[dg.AssetKey], job: str) -> dict[str, str]:
    """The hub tags a run lacks, read from what every run has: its asset selection (or ``collect_<id>`` job) and
    its partition tags. A run launched from the UI's Materialize dialog or a backfill (``__ASSET_JOB``) gets the
    same tags as a sensor's run. A run over several companies gets ``hub/integration`` only (the per-window
    credential lease still keeps it off a credential in use); a run of no collected asset gets nothing."""
    integrations = {STREAM_INTEGRATIONS[key] for key in asset_keys if key in STREAM_INTEGRATIONS}
    if not integrations and job.startswith("collect_"):
        integrations = {job.removeprefix("collect_")}
    if tags.get(INTEGRATION_TAG):
        integrations = {tags[INTEGRATION_TAG]}
    if len(integrations) != 1:
        return {}
    (integration_id,) = integrations
    keys = [tags[t] for t in (PARTITION_TAG, RANGE_START_TAG, RANGE_END_TAG) if tags.get(t)]
    companies = {key.rpartition("|")[0] for key in keys}
    if len(companies) == 1 and "" not in companies:
        wanted = credential_tags(integration_id, companies.pop())
    else:
        wanted = {INTEGRATION_TAG: integration_id}
    return {key: value for key, value in wanted.items() if not tags.get(key)}
