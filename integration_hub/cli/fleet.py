"""``integration-hub fleet``: per integration, how many connections are behind, failing, never collected or
backing off, and the worst of them, from the hub's stream health (one query, whatever the company count)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

import typer

from integration_hub.assets.streams import stream_names
from integration_hub.cli.context import JSON_OPTION, console, handle_errors, open_store, print_json, print_table
from integration_hub.service.fleet import fleet_summary


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


@handle_errors
def fleet(
    integration: str | None = typer.Option(None, "--integration", "-i", help="Only this integration."),
    worst: int = typer.Option(10, "--worst", "-n", min=0, help="How many of the worst connections to list."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Fleet summary: connections collecting, behind, failing, never collected and backing off per integration."""
    now = datetime.now(UTC)
    summary = fleet_summary(
        open_store(), stream_names(), today=now.date(), now=now, integration_id=integration, worst=worst
    )
    if json_output:
        print_json(
            {
                "today": summary.today,
                "behind_days": summary.behind_days,
                "integrations": [
                    {
                        **{k: v for k, v in asdict(i).items() if k != "worst"},
                        "worst": [{"company": h.company, **h.as_dict()} for h in i.worst],
                    }
                    for i in summary.integrations
                ],
            }
        )
        return
    if not summary.integrations:
        console.print("no connections collect anything yet", markup=False)
        return
    print_table(
        f"Fleet on {summary.today} (behind = more than {summary.behind_days} day(s) before yesterday)",
        [
            "integration",
            "connections",
            "collecting",
            "behind",
            "failing",
            "needs reauth",
            "never collected",
            "backing off",
            "paused",
        ],
        [
            (
                i.integration_id,
                i.connections,
                i.collecting,
                i.behind,
                i.failing,
                i.needs_reauthorization,
                i.never_collected,
                i.backing_off,
                i.paused,
            )
            for i in summary.integrations
        ],
    )
    worst_rows = [
        (
            h.integration_id,
            h.company,
            h.state,
            "" if h.days_behind is None else h.days_behind,
            h.reason,
            _when(h.next_attempt_at),
        )
        for i in summary.integrations
        for h in i.worst
    ]
    if worst_rows:
        print_table(
            "Worst connections",
            ["integration", "company", "health", "days behind", "reason", "next attempt (UTC)"],
            worst_rows,
        )
