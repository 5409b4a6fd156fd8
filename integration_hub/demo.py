"""``make demo``: the hub end to end on the embedded default (SQLite under ``$HUB_HOME``, default ``.hub``).

Control plane part: show the catalog, connect a demo company, pause it, disconnect it, reconnect it
without re-entering credentials, and print the activity log — all through the real CLI commands, so
the demo shows exactly what a data engineer types.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import click
import typer

from integration_hub.cli import app
from integration_hub.connectors import has_connector

COMPANY = "demo-co"


def run(args: Sequence[str], *, stdin: str | None = None) -> None:
    """Run one ``integration-hub`` command in-process, echoing it like a shell transcript."""
    shown = " ".join(args)
    print(f"\n$ integration-hub {shown}" + (" <<< '********'" if stdin else ""), flush=True)
    saved = sys.stdin
    if stdin is not None:
        import io

        sys.stdin = io.StringIO(stdin + "\n")
    try:
        typer.main.get_command(app).main(list(args), prog_name="integration-hub", standalone_mode=False)
    except click.exceptions.Exit as exc:
        if exc.exit_code:
            raise SystemExit(f"demo step failed (exit {exc.exit_code}): integration-hub {shown}") from None
    finally:
        sys.stdin = saved


def control_plane() -> None:
    os.environ.setdefault("USER", "demo")
    run(["catalog"])
    run(["connections", "--company", COMPANY])
    existing = _state("uyumsoft")
    if existing in ("connected", "paused"):
        run(["disconnect", "uyumsoft", "--company", COMPANY, "--as", "demo"])
    test_flag = [] if has_connector("uyumsoft") else ["--skip-test"]
    if existing is None:
        run(
            [
                "connect",
                "uyumsoft",
                "--company",
                COMPANY,
                "--username",
                "demo",
                "--password-stdin",
                "--start-date",
                "2026-11-01",
                "--as",
                "demo",
                *test_flag,
            ],
            stdin="demo-password",
        )
    else:
        run(["connect", "uyumsoft", "--company", COMPANY, "--as", "demo", *test_flag])
    run(["pause", "uyumsoft", "--company", COMPANY, "--as", "demo"])
    run(["disconnect", "uyumsoft", "--company", COMPANY, "--as", "demo"])
    print("\n# reconnecting: the stored (encrypted) credentials are reused, nothing is asked again", flush=True)
    run(["connect", "uyumsoft", "--company", COMPANY, "--as", "demo", *test_flag])
    run(["connections", "--company", COMPANY])
    run(["log", "--company", COMPANY, "--limit", "12"])
    run(["overview"])


def _state(integration_id: str) -> str | None:
    from integration_hub.service import ConnectionService
    from integration_hub.settings import HubSettings
    from integration_hub.store import Store

    svc = ConnectionService(Store.open(HubSettings.from_env()))
    records = svc.list(company=COMPANY, integration_id=integration_id)
    return records[0].state if records else None


def main() -> None:
    control_plane()


if __name__ == "__main__":
    main()
