"""The fleet layout's shard: which companies a run collects, given as run config (companies are data there).

In the ``fleet`` layout an asset is partitioned by day only; the schedule and the sensors request runs over a day
range for a shard of at most ``HUB_COMPANIES_PER_RUN`` companies, named here. Company keys are not secrets, and
a run's config is where a data engineer expects to read and edit what it does: in the UI launchpad, listing one
company under ``resources.shard.config.companies`` is that company's backfill; an empty list means every
collecting connection of the integration.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dagster as dg

SHARD_RESOURCE = "shard"


class FleetShard(dg.ConfigurableResource):
    """The companies of a fleet-layout run (empty: every collecting connection of the run's integration).

    ``respect_backoff`` is set by the daily schedule: streams backing off after failures are left out for the
    companies concerned. A backfill a person asks for collects regardless.
    """

    companies: list[str] = []  # noqa: RUF012 (a pydantic field: copied per instance)
    respect_backoff: bool = False


def shard_run_config(companies: Sequence[str], *, respect_backoff: bool = False) -> dict[str, Any]:
    """The run config naming a fleet run's companies."""
    return {
        "resources": {
            SHARD_RESOURCE: {"config": {"companies": list(companies), "respect_backoff": respect_backoff}}
        }
    }


def shards(companies: Sequence[str], size: int) -> list[list[str]]:
    """``companies`` (sorted, de-duplicated) in consecutive shards of at most ``size``."""
    ordered = sorted(set(companies))
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]
