"""``integration-hub catalog``: what this deployment offers, and (``--all``) why something is hidden."""

from __future__ import annotations

from typing import Any

import typer

from integration_hub.catalog import CatalogEntry, catalog_for
from integration_hub.cli.context import JSON_OPTION, handle_errors, print_json, print_table
from integration_hub.connectors import has_alert_channel, has_connector
from integration_hub.settings import HubSettings


def role(integration_id: str) -> str:
    """What the hub does with an integration today: ``collects`` data, delivers ``alerts``, or ``not built``
    (its settings can be stored, nothing uses them yet)."""
    if has_connector(integration_id):
        return "collects"
    if has_alert_channel(integration_id):
        return "alerts"
    return "not built"


def entry_dict(entry: CatalogEntry) -> dict[str, Any]:
    d = entry.definition
    return {
        "id": d.id,
        "name": d.name,
        "category": d.category,
        "style": str(d.style),
        "available": entry.availability.available,
        "hidden_because": entry.availability.reason or None,
        "has_connector": has_connector(d.id),
        "role": role(d.id),
        "description": d.description,
        "fields": [
            {
                "name": f.name,
                "label": f.label,
                "type": str(f.type),
                "required": f.required,
                "secret": f.secret,
                "default": f.default,
                "choices": list(f.choices) or None,
                "applies_when": {k: list(v) for k, v in f.visible_when.items()} or None,
                "description": f.description or None,
            }
            for f in d.fields
        ],
    }


def _field_summary(entry: CatalogEntry) -> str:
    parts = []
    for f in entry.definition.fields:
        mark = "*" if f.required else ""
        secret = " (secret)" if f.secret else ""
        parts.append(f"{f.name}{mark}{secret}")
    return ", ".join(parts)


@handle_errors
def catalog(
    show_all: bool = typer.Option(False, "--all", help="Also list hidden integrations and why they are hidden."),
    json_output: bool = JSON_OPTION,
) -> None:
    """List the integrations this deployment offers (fields marked * are required)."""
    entries = [e for e in catalog_for(HubSettings.from_env()) if show_all or e.availability.available]
    if json_output:
        print_json([entry_dict(e) for e in entries])
        return
    columns = ["id", "name", "category", "style", "works", "fields"]
    if show_all:
        columns.append("available")
    rows = []
    for e in entries:
        d = e.definition
        row = [d.id, d.name, d.category, str(d.style), role(d.id), _field_summary(e)]
        if show_all:
            row.append("yes" if e.availability.available else f"no: {e.availability.reason}")
        rows.append(row)
    print_table("Integration catalog", columns, rows)
