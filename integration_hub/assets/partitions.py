"""The two partition layouts and the translation from a run's partition keys to collection windows.

* ``company_day`` (default): company × day. Each integration has its own dynamic company dimension, so an asset
  lists only the companies connected to it; the daily dimension starts at ``HUB_PARTITIONS_START`` (default
  2020-01-01). Multi-partition keys join dimensions with ``|``, which is why company keys may never contain one.
* ``fleet``: day only. The companies are data: a run names its shard of companies in the ``shard`` resource's run
  config (:mod:`integration_hub.resources.shard`), and each company is collected over the run's days.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from functools import cache

import dagster as dg

from integration_hub.connectors.base import DateWindow
from integration_hub.settings import CollectionConfig


def companies_partitions_name(integration_id: str) -> str:
    return f"{integration_id}_companies"


@cache
def companies_def(integration_id: str) -> dg.DynamicPartitionsDefinition:
    return dg.DynamicPartitionsDefinition(name=companies_partitions_name(integration_id))


@cache
def partitions_def(integration_id: str) -> dg.MultiPartitionsDefinition:
    return dg.MultiPartitionsDefinition(
        {
            "company": companies_def(integration_id),
            "date": dg.DailyPartitionsDefinition(
                start_date=CollectionConfig.from_env().partitions_start, timezone="UTC"
            ),
        }
    )


@cache
def days_def(start: str) -> dg.DailyPartitionsDefinition:
    """The fleet layout's partitions: one per day from ``HUB_PARTITIONS_START``, shared by every integration."""
    return dg.DailyPartitionsDefinition(start_date=start, timezone="UTC")


def layout_partitions_def(integration_id: str, config: CollectionConfig) -> dg.PartitionsDefinition:
    return days_def(config.partitions_start) if config.fleet else partitions_def(integration_id)


def day_windows(keys: Iterable[str]) -> list[DateWindow]:
    """Fleet-layout day keys as maximal windows of consecutive days."""
    return [window for _, window in company_windows(f"|{key}" for key in keys)]


def partition_key(company: str, day: date) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"company": company, "date": day.isoformat()})


def company_windows(keys: Iterable[str | dg.MultiPartitionKey]) -> list[tuple[str, DateWindow]]:
    """Group partition keys by company into maximal runs of consecutive days.

    A ranged run normally covers one company and one contiguous date range (that is how the activation
    sensor, the schedule and Dagster's backfills split work), but any selection is handled correctly.
    """
    days_by_company: dict[str, set[date]] = defaultdict(set)
    for key in keys:
        dims = key.keys_by_dimension if isinstance(key, dg.MultiPartitionKey) else _split(key)
        days_by_company[dims["company"]].add(date.fromisoformat(dims["date"]))
    windows: list[tuple[str, DateWindow]] = []
    for company in sorted(days_by_company):
        days = sorted(days_by_company[company])
        start = previous = days[0]
        for day in days[1:]:
            if day != previous + timedelta(days=1):
                windows.append((company, DateWindow.inclusive(start, previous)))
                start = day
            previous = day
        windows.append((company, DateWindow.inclusive(start, previous)))
    return windows


def _split(key: str) -> dict[str, str]:
    company, _, day = key.rpartition("|")
    # MultiPartitionKey orders dimensions by name: "company|date".
    return {"company": company, "date": day}


def chunk_range(first: date, last: date, max_days: int) -> list[tuple[date, date]]:
    """``first``..``last`` (inclusive) as consecutive inclusive ranges of at most ``max_days`` days."""
    return [(w.start, w.last) for w in DateWindow.inclusive(first, last).chunks(max_days)]
