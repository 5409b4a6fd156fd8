"""``integration-hub overview``: how many integrations are connected, what each has collected, and the
status of every integration this deployment offers."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from integration_hub.assets.streams import stream_names
from integration_hub.catalog import catalog_for
from integration_hub.cli.context import JSON_OPTION, console, handle_errors, open_store, print_json, print_table
from integration_hub.service.health import STATES, connection_health
from integration_hub.store import connections as rows


def overview_data() -> dict[str, Any]:
    store = open_store()
    with store.engine.connect() as conn:
        records = rows.list_connections(conn)
        collected = _collected_rows(conn)
    states: dict[str, Counter[str]] = {}
    for record in records:
        states.setdefault(record.integration_id, Counter())[record.state] += 1
    health: dict[str, Counter[str]] = {}
    for checked in connection_health(store, stream_names(), today=datetime.now(UTC).date()):
        health.setdefault(checked.integration_id, Counter())[checked.state] += 1
    integrations = []
    for entry in catalog_for(store.settings):
        counts = states.get(entry.definition.id, Counter())
        integrations.append(
            {
                "id": entry.definition.id,
                "name": entry.definition.name,
                "available": entry.availability.available,
                "hidden_because": entry.availability.reason or None,
                "connected": counts["connected"],
                "paused": counts["paused"],
                "disconnected": counts["disconnected"],
                "draft": counts["draft"],
                "rows_collected": collected.get(entry.definition.id, 0),
                "health": {state: n for state, n in health.get(entry.definition.id, Counter()).items()},
            }
        )
    overall = sum(health.values(), Counter())
    return {
        "connected_integrations": sum(1 for i in integrations if i["connected"] or i["paused"]),
        "health": {state: overall[state] for state in STATES if overall[state]},
        "active_connections": sum(i["connected"] for i in integrations),
        "total_rows_collected": sum(collected.values()),
        "integrations": integrations,
    }


def _collected_rows(conn: Any) -> dict[str, int]:
    """Rows in the data inventory per integration."""
    from integration_hub.store import inventory

    return inventory.rows_per_integration(conn)


def _status(item: dict[str, Any]) -> str:
    if not item["available"]:
        return "hidden: " + item["hidden_because"]
    parts = [f"{item[k]} {k}" for k in ("connected", "paused", "disconnected", "draft") if item[k]]
    return ", ".join(parts) or "not connected"


def _health(counts: dict[str, int]) -> str:
    return ", ".join(f"{counts[state]} {state.replace('_', ' ')}" for state in STATES if counts.get(state)) or "-"


@handle_errors
def overview(json_output: bool = JSON_OPTION) -> None:
    """Connected integrations, data collected per integration, and each integration's status."""
    data = overview_data()
    if json_output:
        print_json(data)
        return
    console.print(
        f"{data['connected_integrations']} integration(s) connected, {data['active_connections']} connection(s) "
        f"collecting, {data['total_rows_collected']} row(s) in the inventory; health: {_health(data['health'])}",
        markup=False,
        highlight=False,
    )
    print_table(
        "Integrations",
        ["id", "name", "status", "health", "rows collected"],
        [
            (i["id"], i["name"], _status(i), _health(i["health"]), i["rows_collected"])
            for i in data["integrations"]
            if i["available"] or i["connected"] or i["paused"]
        ],
    )
