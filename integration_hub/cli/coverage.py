"""``integration-hub coverage``: what the hub collected for one company and integration, per stream and day.

Answers from the hub's coverage records (one primary-key range scan), so a day that was collected empty, a day
whose collection failed and a day never attempted are told apart. Consecutive days of a stream in the same state
collapse into one line; ``--json`` prints every day.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta

import typer

from integration_hub.assets.streams import stream_names
from integration_hub.cli.activity import parse_day
from integration_hub.cli.context import JSON_OPTION, console, handle_errors, open_store, print_json, print_table
from integration_hub.service import ValidationError
from integration_hub.service.fleet import connection_coverage
from integration_hub.store.coverage import NEVER_COLLECTED, StreamDay

DEFAULT_DAYS = 7  # without --day/--from/--to: the week up to yesterday


def _range(day: str | None, first: str | None, last: str | None, today: date) -> tuple[date, date]:
    if day is not None and (first is not None or last is not None):
        raise ValidationError("give either --day or --from/--to, not both")
    if day is not None:
        one = parse_day(day, "--day")
        assert one is not None
        return one, one
    yesterday = today - timedelta(days=1)
    first_day, last_day = parse_day(first, "--from"), parse_day(last, "--to")
    if last_day is None:
        last_day = max(yesterday, first_day) if first_day else yesterday
    if first_day is None:
        first_day = last_day - timedelta(days=DEFAULT_DAYS - 1)
    if last_day < first_day:
        raise ValidationError(f"--to ({last_day}) is before --from ({first_day})")
    return first_day, last_day


def _kind(day: StreamDay) -> str:
    return "collected" if day.status == "collected" else day.status


def _groups(days: tuple[StreamDay, ...]) -> list[list[StreamDay]]:
    """Runs of consecutive days of one stream with the same status and error."""
    groups: list[list[StreamDay]] = []
    for day in days:
        last = groups[-1][-1] if groups else None
        if (
            last is not None
            and last.stream == day.stream
            and last.day + timedelta(days=1) == day.day
            and (_kind(last), last.error, last.retry_failed) == (_kind(day), day.error, day.retry_failed)
        ):
            groups[-1].append(day)
        else:
            groups.append([day])
    return groups


def _status(group: list[StreamDay]) -> str:
    first = group[0]
    if first.status != "collected":
        return first.status
    empty = sum(1 for d in group if d.rows == 0)
    text = "empty" if empty == len(group) else ("collected" if not empty else f"collected ({empty} empty)")
    return f"{text}, last attempt failed" if first.retry_failed else text


def _line(group: list[StreamDay]) -> tuple[str, ...]:
    first, last = group[0], group[-1]
    days = first.day.isoformat() if len(group) == 1 else f"{first.day} .. {last.day} ({len(group)} days)"
    collected = [d.collected_at for d in group if d.collected_at is not None]
    runs = sorted({d.run_id for d in group if d.run_id})
    run = runs[0] if len(runs) == 1 else (f"{len(runs)} runs" if runs else "")
    rows = "" if first.status == NEVER_COLLECTED else str(sum(d.rows for d in group))
    return (
        first.stream,
        days,
        _status(group),
        rows,
        max(collected).strftime("%Y-%m-%d %H:%M") if collected else "",
        run,
        first.error or "",
    )


@handle_errors
def coverage(
    company: str = typer.Argument(..., help="Company key."),
    integration: str = typer.Argument(..., help="Integration id from `integration-hub catalog`."),
    day: str | None = typer.Option(None, "--day", "-d", help="One day (YYYY-MM-DD)."),
    first: str | None = typer.Option(None, "--from", help="First day (YYYY-MM-DD)."),
    last: str | None = typer.Option(None, "--to", help="Last day, included (YYYY-MM-DD; default yesterday)."),
    stream: str | None = typer.Option(None, "--stream", "-s", help="Only this stream."),
    json_output: bool = JSON_OPTION,
) -> None:
    """What was collected for a company and integration, per stream and day (default: the last 7 days)."""
    first_day, last_day = _range(day, first, last, datetime.now(UTC).date())
    store = open_store()
    answer = connection_coverage(
        store,
        stream_names(),
        company=company,
        integration_id=integration,
        first=first_day,
        last=last_day,
        stream=stream,
    )
    if json_output:
        print_json(
            {
                "company": company,
                "integration_id": integration,
                "state": answer.state,
                "days": [asdict(d) for d in answer.days],
            }
        )
        return
    print_table(
        f"Coverage of {company}/{integration} ({answer.state}), {first_day} .. {last_day}",
        ["stream", "day(s)", "status", "rows", "collected at (UTC)", "run", "error"],
        [_line(group) for group in _groups(answer.days)],
    )
    counts: dict[str, int] = {}
    for d in answer.days:
        key = "empty" if d.status == "collected" and d.rows == 0 else d.status
        counts[key] = counts.get(key, 0) + 1
    order = ("collected", "empty", "failed", NEVER_COLLECTED)
    summary = ", ".join(f"{counts[k]} {k}" for k in order if counts.get(k))
    console.print(f"{len(answer.days)} stream-day(s): {summary}", markup=False, highlight=False)
