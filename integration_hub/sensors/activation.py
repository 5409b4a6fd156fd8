"""The activation sensor: turns new activations into company partitions and one asset backfill per connection.

Each tick reads the Connect / Resume / Edit entries of the activity log after the cursor for this integration.
For each company concerned that is connected (not paused) it

* adds the company to the integration's dynamic partitions (if it is new), and
* requests **one Dagster backfill** (the Backfills tab shows it with its progress) over the days from the
  connection's start date to yesterday that the hub's coverage records say some stream has not collected yet;
  the assets' ``BackfillPolicy.multi_run(HUB_MAX_DAYS_PER_RUN)`` splits it into ranged runs. A first connect
  backfills the whole history, a resume continues where collection stopped, an earlier start date fills the
  new gap, and days an unfinished backfill of the same connection already targets are not requested twice.

The work is decided from the hub's own tables (one grouped coverage query per tick) and the backfill table, never
from Dagster's event log. The cursor is the last activity entry seen, so a tick never requests the same work
twice. Paused and disconnected connections get nothing.
"""

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from integration_hub.assets.partitions import companies_def, companies_partitions_name
from integration_hub.assets.streams import StreamSpec
from integration_hub.backfills import BackfillPlan, in_flight_days, uncollected
from integration_hub.connectors.base import DateWindow
from integration_hub.resources.hub import HubResource
from integration_hub.settings import CollectionConfig

TRIGGER = "activation"


def make_activation_sensor(
    integration_id: str,
    streams: Sequence[StreamSpec],
    config: CollectionConfig,
    *,
    today: Callable[[], date] = lambda: datetime.now(UTC).date(),
) -> dg.SensorDefinition:
    partitions_name = companies_partitions_name(integration_id)
    start_floor = date.fromisoformat(config.partitions_start)
    asset_keys = [spec.asset_key for spec in streams]

    @dg.sensor(
        name=f"{integration_id}_activation_sensor",
        asset_selection=asset_keys,
        minimum_interval_seconds=config.sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Backfills newly connected or resumed {integration_id} connections from their start date, "
        "one asset backfill per connection.",
    )
    def _sensor(context: dg.SensorEvaluationContext, hub: HubResource) -> dg.SensorResult | dg.SkipReason:
        cursor = int(context.cursor or 0)
        events = hub.activations_after(integration_id, cursor)
        if not events:
            return dg.SkipReason(f"no new {integration_id} activations after entry {cursor}")
        known = set(context.instance.get_dynamic_partitions(partitions_name))
        yesterday = today() - timedelta(days=1)
        companies = sorted({event.company for event in events if event.company})
        to_add: list[str] = []
        windows: dict[str, DateWindow] = {}
        for company in companies:
            record = hub.connection(company, integration_id)
            if record is None or not record.collecting or record.start_date is None:
                continue
            if company not in known:
                to_add.append(company)
            first = max(record.start_date, start_floor)
            if first <= yesterday:
                windows[company] = DateWindow.inclusive(first, yesterday)
        requests: list[dg.RunRequest] = []
        for company, days in sorted(uncollected(hub.store, integration_id, streams, windows).items()):
            busy = in_flight_days(context.instance, integration_id, company) if company in known else set()
            todo = tuple(day for day in days if day not in busy)
            if busy and len(todo) < len(days):
                context.log.info(f"{company}: {len(days) - len(todo)} day(s) already in an unfinished backfill")
            if todo:
                plan = BackfillPlan(integration_id, company, todo, TRIGGER)
                context.log.info(f"requesting backfill {plan.title}")
                requests.append(plan.run_request(asset_keys))
        return dg.SensorResult(
            run_requests=requests,
            cursor=str(events[-1].id),
            dynamic_partitions_requests=[companies_def(integration_id).build_add_request(to_add)] if to_add else [],
        )

    return _sensor
