"""In-process backfills (``make demo``, ``integration-hub collect``): one backfill in the instance with its title,
tags and ranged runs, marked complete with what it materialized."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg
from dagster._core.execution.backfill import BulkActionStatus

from integration_hub.assets.streams import streams_of
from integration_hub.backfills import BackfillPlan
from integration_hub.definitions import build_definitions
from integration_hub.local_runs import BACKFILL_TAG, activation_tick, execute_backfill, execute_run
from integration_hub.service import ConnectionService
from integration_hub.settings import CollectionConfig
from integration_hub.store import Store
from integration_hub_tests.support import fake_connector
from integration_hub_tests.support.dagster_helpers import connect, hub_resource

CONFIG = CollectionConfig(max_days_per_run=2, max_retries=0, retry_delay_seconds=0)


def test_activation_backfill_runs_in_process_and_is_recorded_with_its_runs(
    store: Store, hub_settings, fake_connectors
) -> None:
    start = datetime.now(UTC).date() - timedelta(days=3)
    ConnectionService(store).connect(
        "acme", "uyumsoft", {"username": "demo", "password": "GOOD-pw", "start_date": start.isoformat()}, by="tester"
    )
    hub = hub_resource(hub_settings)
    defs = build_definitions(CONFIG, hub=hub)
    lines: list[str] = []
    with dg.instance_for_test() as instance:
        requests = activation_tick(defs, instance, hub)["uyumsoft"]
        assert len(requests) == 1
        outcome = execute_backfill(defs, instance, "uyumsoft", requests[0], on_run=lambda s: lines.append(s.line()))
        assert outcome.success and len(outcome.runs) == 2  # 3 days in runs of at most 2
        assert lines[0].startswith(f"collect_uyumsoft acme|{start} .. acme|{start + timedelta(days=1)}: SUCCESS")
        assert sum(run.rows for run in outcome.runs) == 9  # 3 records a day
        backfill = instance.get_backfill(outcome.backfill_id)
        assert backfill.status == BulkActionStatus.COMPLETED_SUCCESS
        assert backfill.title.startswith(f"uyumsoft acme {start}..")
        assert backfill.tags["hub/trigger"] == "activation" and backfill.tags["hub/credential"] == "uyumsoft.acme"
        runs = instance.get_runs(filters=dg.RunsFilter(tags={BACKFILL_TAG: outcome.backfill_id}))
        assert len(runs) == 2 and all(run.tags["hub/company"] == "acme" for run in runs)
        data = backfill.asset_backfill_data
        assert data.materialized_subset.num_partitions_and_non_partitioned_assets == 3
        # Collected: the next activation finds nothing left to do.
        assert activation_tick(defs, instance, hub)["uyumsoft"] == []


def test_a_failed_run_marks_the_backfill_failed_and_the_other_runs_still_run(
    store: Store, hub_settings, fake_connectors
) -> None:
    connect(store, start_date="2024-01-01")
    hub = hub_resource(hub_settings)
    defs = build_definitions(CONFIG, hub=hub)
    fake_connector.FAIL_ON.add(date(2024, 1, 2))
    plan = BackfillPlan("uyumsoft", "acme", tuple(date(2024, 1, d) for d in (1, 2, 3, 4)), "cli")
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("uyumsoft_companies", ["acme"])
        outcome = execute_backfill(
            defs, instance, "uyumsoft", plan.run_request([s.asset_key for s in streams_of("uyumsoft")])
        )
        assert [run.success for run in outcome.runs] == [False, True]
        assert "page for 2024-01-02 failed" in (outcome.runs[0].error or "")
        assert instance.get_backfill(outcome.backfill_id).status == BulkActionStatus.COMPLETED_FAILED


def test_a_backfills_run_config_is_recorded_and_given_to_each_of_its_runs(
    store: Store, hub_settings, fake_connectors
) -> None:
    """What a fleet company backfill relies on (its company in run config), as the backfill daemon does it."""
    from integration_hub.resources.shard import shard_run_config

    connect(store, start_date="2024-01-01")
    hub = hub_resource(hub_settings)
    defs = build_definitions(CONFIG, hub=hub)
    plan = BackfillPlan("uyumsoft", "acme", tuple(date(2024, 1, d) for d in (1, 2, 3)), "cli")
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("uyumsoft_companies", ["acme"])
        outcome = execute_backfill(
            defs,
            instance,
            "uyumsoft",
            plan.run_request([s.asset_key for s in streams_of("uyumsoft")]),
            run_config=shard_run_config(["acme"]),
        )
        assert outcome.success and len(outcome.runs) == 2
        assert instance.get_backfill(outcome.backfill_id).run_config == shard_run_config(["acme"])
        runs = instance.get_runs(filters=dg.RunsFilter(tags={BACKFILL_TAG: outcome.backfill_id}))
        assert len(runs) == 2
        shard = shard_run_config(["acme"])["resources"]["shard"]
        assert all(run.run_config["resources"]["shard"] == shard for run in runs)


def test_in_the_fleet_layout_the_activation_tick_returns_shard_runs_and_adds_no_partitions(
    store: Store, hub_settings, fake_connectors
) -> None:
    from integration_hub.backfills import shard_companies

    start = datetime.now(UTC).date() - timedelta(days=3)
    for company in ("acme", "globex"):
        values = {"username": "demo", "password": "GOOD-pw", "start_date": start.isoformat()}
        ConnectionService(store).connect(company, "uyumsoft", values, by="tester")
    hub = hub_resource(hub_settings)
    config = CollectionConfig(partitioning="fleet", max_days_per_run=92, companies_per_run=500)
    defs = build_definitions(config, hub=hub)
    assert {s.name for s in defs.sensors} >= {"uyumsoft_activation_sensor", "uyumsoft_retry_sensor"}
    with dg.instance_for_test() as instance:
        requests = activation_tick(defs, instance, hub)["uyumsoft"]
        assert all(r.asset_graph_subset is None and r.job_name == "collect_uyumsoft" for r in requests)
        assert requests and all(shard_companies(r.run_config) == ["acme", "globex"] for r in requests)
        assert instance.get_dynamic_partitions("uyumsoft_companies") == []
        # Executed in process with their run config, the shard runs collect both companies' three days.
        summaries = [execute_run(defs, instance, "uyumsoft", request) for request in requests]
        assert all(summary.success for summary in summaries), [s.line() for s in summaries]
        assert sum(summary.rows for summary in summaries) == 2 * 3 * 3
        assert activation_tick(defs, instance, hub)["uyumsoft"] == []  # collected: coverage says nothing is missing
