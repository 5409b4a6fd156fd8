"""``integration-hub log``: the activity log, filtered, as a table or JSON."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import typer

from integration_hub.cli.context import JSON_OPTION, handle_errors, open_store, print_json, print_table
from integration_hub.service import ValidationError
from integration_hub.store import activity
from integration_hub.store.activity import Action, Status

ACTIONS = {a.value.lower().replace(" ", "-"): a.value for a in Action}
STATUSES = {s.value.lower(): s.value for s in Status}


def parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{option} must be a date as YYYY-MM-DD, got '{value}'") from None


@handle_errors
def log(
    action: list[str] = typer.Option([], "--action", "-a", help="Action type, e.g. connect, pause, sync-attempt."),
    integration: str | None = typer.Option(None, "--integration", "--provider", "-i", help="Integration id."),
    company: str | None = typer.Option(None, "--company", "-c"),
    status: str | None = typer.Option(None, "--status", "-s", help="success, error or info."),
    performed_by: str | None = typer.Option(None, "--by", help="Who performed the action."),
    since: str | None = typer.Option(None, "--from", help="First day (YYYY-MM-DD, UTC)."),
    until: str | None = typer.Option(None, "--to", help="Last day, included (YYYY-MM-DD, UTC)."),
    limit: int = typer.Option(200, "--limit", min=1, help="Newest entries to show."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Show the activity log, newest first."""
    actions = []
    for name in action:
        key = name.lower().replace(" ", "-").replace("_", "-")
        if key not in ACTIONS:
            raise ValidationError(f"unknown action '{name}' (choose from {', '.join(sorted(ACTIONS))})")
        actions.append(ACTIONS[key])
    status_value = None
    if status is not None:
        if status.lower() not in STATUSES:
            raise ValidationError(f"unknown status '{status}' (choose from success, error, info)")
        status_value = STATUSES[status.lower()]
    first, last = parse_day(since, "--from"), parse_day(until, "--to")
    if first and last and last < first:
        raise ValidationError("--to is before --from")
    store = open_store()
    with store.engine.connect() as conn:
        entries = activity.query(
            conn,
            actions=actions or None,
            integration_id=integration,
            company=company,
            status=status_value,
            performed_by=performed_by,
            since=datetime.combine(first, time(), UTC) if first else None,
            until=datetime.combine(last + timedelta(days=1), time(), UTC) if last else None,
            limit=limit,
        )
    if json_output:
        print_json([e.as_dict() for e in entries])
        return
    print_table(
        "Activity log",
        ["when (UTC)", "action", "integration", "company", "status", "by", "details"],
        [
            (
                e.at.strftime("%Y-%m-%d %H:%M:%S"),
                e.action,
                e.integration_id or "-",
                e.company or "-",
                e.status,
                e.performed_by,
                e.details,
            )
            for e in entries
        ],
        empty="no entries match",
    )
