"""Helpers for the Dagster-layer tests: a connected company, a hub resource, ranged materializations."""

from __future__ import annotations

from datetime import date

import dagster as dg

from integration_hub.assets.partitions import companies_partitions_name
from integration_hub.jobs import fleet_run_tags, run_tags
from integration_hub.resources.hub import HubResource
from integration_hub.resources.shard import FleetShard
from integration_hub.service import ConnectionService
from integration_hub.settings import HubSettings
from integration_hub.store import Store

UYUMSOFT = {"username": "demo", "password": "GOOD-pw", "start_date": "2024-01-01"}


def hub_resource(settings: HubSettings) -> HubResource:
    return HubResource(hub_home=str(settings.home), database_url=settings.database_url)


def connect(store: Store, company: str = "acme", integration: str = "uyumsoft", **values: str) -> None:
    ConnectionService(store, today=lambda: date(2026, 11, 22)).connect(
        company, integration, {**UYUMSOFT, **values}, by="tester"
    )


def materialize_range(
    asset: dg.AssetsDefinition,
    instance: dg.DagsterInstance,
    hub: HubResource,
    company: str,
    first: date,
    last: date,
    *,
    integration: str = "uyumsoft",
    raise_on_error: bool = True,
) -> dg.ExecuteInProcessResult:
    name = companies_partitions_name(integration)
    if company not in instance.get_dynamic_partitions(name):
        instance.add_dynamic_partitions(name, [company])
    return dg.materialize(
        [asset],
        instance=instance,
        resources={"hub": hub},
        tags=run_tags(integration, company, first, last),
        raise_on_error=raise_on_error,
    )


def materialize_fleet(
    assets: list[dg.AssetsDefinition],
    instance: dg.DagsterInstance,
    hub: HubResource,
    companies: list[str],
    first: date,
    last: date,
    *,
    integration: str = "uyumsoft",
    respect_backoff: bool = False,
    raise_on_error: bool = True,
) -> dg.ExecuteInProcessResult:
    """A fleet-layout run: the days ``first``..``last`` for the shard ``companies`` (empty: every collecting one)."""
    return dg.materialize(
        assets,
        instance=instance,
        resources={"hub": hub, "shard": FleetShard(companies=companies, respect_backoff=respect_backoff)},
        tags=fleet_run_tags(integration, first, last, "1/1"),
        raise_on_error=raise_on_error,
    )
