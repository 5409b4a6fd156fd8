"""Runs launched without the hub's tags (UI Materialize, backfills) get them before they are queued.

The coordinator itself is exercised end to end (a run launched like the UI's, queued and dequeued by the daemon)
in ``test_credential_lease_e2e.py``; these are the tag rules and the instance settings."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import yaml

from integration_hub.instance import RUN_COORDINATOR, RUN_MONITORING, embedded_instance_config
from integration_hub.jobs import inferred_hub_tags
from integration_hub_tests.conftest import PROJECT_ROOT

UYUMSOFT = dg.AssetKey(["efatura", "uyumsoft"])
RANGE = {
    "dagster/asset_partition_range_start": "acme|2024-01-01",
    "dagster/asset_partition_range_end": "acme|2024-01-31",
}


def test_a_ui_run_of_one_companys_range_gets_its_credential_tag() -> None:
    assert inferred_hub_tags(RANGE, [UYUMSOFT], "__ASSET_JOB") == {
        "hub/integration": "uyumsoft",
        "hub/company": "acme",
        "hub/credential": "uyumsoft.acme",
    }
    assert inferred_hub_tags({"dagster/partition": "beta|2024-02-01"}, [UYUMSOFT], "__ASSET_JOB")["hub/credential"] == (
        "uyumsoft.beta"
    )


def test_tags_already_present_are_kept_and_unknown_runs_get_none() -> None:
    sensor_tags = {**RANGE, "hub/integration": "uyumsoft", "hub/company": "acme", "hub/credential": "uyumsoft.acme"}
    assert inferred_hub_tags(sensor_tags, [UYUMSOFT], "collect_uyumsoft") == {}
    assert inferred_hub_tags(RANGE, [dg.AssetKey("something_else")], "__ASSET_JOB") == {}
    # Two companies in one run: the integration's limit applies; the per-window lease guards each credential.
    two = {**RANGE, "dagster/asset_partition_range_end": "beta|2024-01-31"}
    assert inferred_hub_tags(two, [UYUMSOFT], "__ASSET_JOB") == {"hub/integration": "uyumsoft"}


def test_production_and_embedded_instances_share_coordinator_and_monitoring() -> None:
    production = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
    embedded = embedded_instance_config(Path("home"))
    assert production["run_coordinator"] == RUN_COORDINATOR == embedded["run_coordinator"]
    assert production["run_monitoring"] == RUN_MONITORING == embedded["run_monitoring"]
