"""``integration-hub inventory``: rows collected per company, integration, stream and day."""

from __future__ import annotations

import typer

from integration_hub.cli.activity import parse_day
from integration_hub.cli.context import JSON_OPTION, console, handle_errors, open_store, print_json, print_table
from integration_hub.service import ValidationError
from integration_hub.store import inventory as inventory_rows


@handle_errors
def inventory(
    company: str | None = typer.Option(None, "--company", "-c"),
    integration: str | None = typer.Option(None, "--integration", "-i"),
    first: str | None = typer.Option(None, "--from", help="First day (YYYY-MM-DD)."),
    last: str | None = typer.Option(None, "--to", help="Last day, included (YYYY-MM-DD)."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Summarize the data inventory: rows per company, integration, stream and day."""
    first_day, last_day = parse_day(first, "--from"), parse_day(last, "--to")
    if first_day and last_day and last_day < first_day:
        raise ValidationError("--to is before --from")
    store = open_store()
    with store.engine.connect() as conn:
        rows = inventory_rows.summary(conn, company=company, integration_id=integration, first=first_day, last=last_day)
    if json_output:
        print_json(rows)
        return
    if not rows:
        console.print("no rows in the inventory match", markup=False)
        return
    print_table(
        "Data inventory",
        ["company", "integration", "stream", "day", "rows", "collected at (UTC)"],
        [
            (
                r["company"],
                r["integration_id"],
                r["stream"],
                r["partition_date"],
                r["rows"],
                r["collected_at"].strftime("%Y-%m-%d %H:%M") if r["collected_at"] else "",
            )
            for r in rows
        ],
    )
    console.print(f"{sum(r['rows'] for r in rows)} row(s) in {len(rows)} partition(s)", markup=False)
