"""Commands racing on one connection, as separate processes on both databases: every one ends in one line (no
traceback, nothing of the settings or the encrypted credentials), and exactly one change wins."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from integration_hub.settings import HubSettings
from integration_hub.store import Store

RACERS = 4
# Each racer imports the CLI first (the slow part), then waits for the same instant to run its command, so the
# commands really meet in the database instead of one process finishing before the next has started.
RACER = (
    "import sys, time\n"
    "from integration_hub.cli import main\n"
    "start = float(sys.argv[1]); sys.argv = ['integration-hub', *sys.argv[2:]]\n"
    "time.sleep(max(0.0, start - time.time()))\n"
    "main()\n"
)


def _run(env: dict[str, str], *args: str, stdin: str = "", at: float = 0.0) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", RACER, str(at), *args]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, env=env, timeout=120)


def _race(env: dict[str, str], commands: list[tuple[list[str], str]]) -> list[subprocess.CompletedProcess[str]]:
    at = time.time() + 6  # every racer has imported the CLI by then
    with ThreadPoolExecutor(len(commands)) as pool:
        return list(pool.map(lambda c: _run(env, *c[0], stdin=c[1], at=at), commands))


@pytest.mark.slow
def test_simultaneous_connects_and_edits_end_in_one_line_each(hub_env: dict[str, str]) -> None:
    env = {**os.environ, **hub_env, "USER": "racer"}
    env.pop("HUB_SECRET_KEY", None)
    # The store (and its key file) exist before the race, as on any deployment.
    Store.open(HubSettings.from_env(env)).dispose()
    connect = [
        "connect", "uyumsoft", "--company", "acme", "--username", "demo", "--password-stdin",
        "--start-date", "2024-01-01", "--skip-test",
    ]
    connected = _race(env, [(connect, f"secret-pass-{n}\n") for n in range(RACERS)])
    edits = _race(
        env, [(["edit", "uyumsoft", "--company", "acme", "--start-date", f"2023-0{n + 1}-01", "--skip-test"], "")
              for n in range(RACERS)]
    )
    for result in connected + edits:
        output = (result.stdout + result.stderr).strip()
        assert "Traceback" not in output and "secret-pass" not in output and "gAAAA" not in output, output
        assert len(output.splitlines()) == 1, output
    assert sum(r.returncode == 0 for r in connected) == 1  # one connect wins; the others are told why
    losers = [r.stderr.strip() for r in connected if r.returncode != 0]
    assert all(
        "already connected" in line or "changed by another command at the same moment" in line for line in losers
    ), losers
    assert sum(r.returncode == 0 for r in edits) >= 1
    assert all(
        r.returncode == 0 or "changed by another command at the same moment" in r.stderr for r in edits
    ), [r.stderr for r in edits]
    listing = _run(env, "connections", "--json")
    assert listing.returncode == 0 and listing.stdout.count('"company": "acme"') == 1
