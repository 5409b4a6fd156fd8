"""``make demo``: the hub end to end on the embedded default (SQLite under ``$HUB_HOME``, default ``.hub``).

1. Starts the six provider simulators as a data engineer would (``integration-hub simulate NAME``), each
   a real HTTP server on 127.0.0.1 with a known demo login.
2. Control plane, through the real CLI commands: the catalog, then ``demo-co`` connected to Karbon and
   to all five e-invoice integrators — every connect runs Test Connection against its simulator — and a
   pause / disconnect / reconnect cycle that reuses the stored (encrypted) credentials.
3. Data plane, through Dagster on the embedded SQLite instance: each integration's activation sensor
   sees the new connection, adds the company partition and requests one backfill for the week since the
   start date; its ranged runs execute and land every stream in the data inventory (the backfill shows in
   the Backfills tab of ``make ui``). Re-running the demo re-collects the same week (an idempotent replace).
4. Prints the inventory, the activity log, the overview and the connections with their health.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click
import typer

from integration_hub.cli import app

COMPANY = "demo-co"
DAYS = 7
KARBON_APP_ID = "0d3b7c1e-5a2f-4c6b-9e8d-7f1a2b3c4d5e"
KARBON_ACCESS_KEY = "eyJhbGciOiJIUzI1NiJ9.eyJkZW1vIjoiaW50ZWdyYXRpb24taHViIn0.ZGVtby1zaWduYXR1cmU"
USERNAME = "demo-user"
PASSWORD = "demo-password-1"  # noqa: S105 - the simulators' demo login, sent through --password-stdin


@dataclass
class Simulator:
    name: str  # simulate NAME
    integration: str  # catalog id
    args: list[str]
    port: int = 0
    lines: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _simulators() -> list[Simulator]:
    login = ["--credentials", f"{USERNAME}:{PASSWORD}", "--companies", "1", "--days", "30"]
    return [
        Simulator(
            "karbon",
            "karbon",
            [
                "--credentials",
                f"{KARBON_APP_ID}:{KARBON_ACCESS_KEY}",
                "--companies",
                "1",
                "--days",
                "30",
                "--rate-limit",
                "600",
            ],
        ),
        Simulator("edm", "edm", login),
        Simulator("qnb", "qnb_esolutions", login),
        Simulator("crs", "crs_soft", login),
        Simulator("isnet", "isnet", ["--companies", "1", "--days", "30"]),
        Simulator("uyumsoft", "uyumsoft", login),
    ]


@contextmanager
def simulators() -> Iterator[dict[str, Simulator]]:
    """Start every simulator through the CLI; stop them all on exit."""
    executable = str(Path(sys.executable).parent / "integration-hub")
    sims = _simulators()
    with ExitStack() as stack:
        for sim in sims:
            sim.port = _free_port()
            command = [executable, "simulate", sim.name, "--port", str(sim.port), *sim.args]
            print(f"$ integration-hub simulate {sim.name} --port {sim.port} ...", flush=True)
            process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603 - our own CLI
            stack.callback(_stop, process)
            stack.callback(process.stdout.close)
            sim.lines = _read_until_serving(process, sim.name)
        for sim in sims:
            _wait_for_port(sim.port, sim.name)
        yield {sim.integration: sim for sim in sims}


def _read_until_serving(process: subprocess.Popen, name: str) -> list[str]:
    lines: list[str] = []
    while True:
        line = process.stdout.readline()
        if not line:
            raise SystemExit(f"demo: the {name} simulator exited before serving")
        lines.append(line.strip())
        if line.startswith("serving"):
            print(f"  {line.strip()}", flush=True)
            return lines


def _wait_for_port(port: int, name: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"demo: the {name} simulator did not open port {port}")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def run(args: Sequence[str], *, stdin: str | None = None, env: dict[str, str] | None = None) -> None:
    """Run one ``integration-hub`` command in-process, echoing it like a shell transcript."""
    shown = " ".join(args)
    print(f"\n$ integration-hub {shown}" + (" <<< '********'" if stdin else ""), flush=True)
    saved_stdin, saved_env = sys.stdin, dict(os.environ)
    if stdin is not None:
        sys.stdin = io.StringIO(stdin + "\n")
    os.environ.update(env or {})
    try:
        typer.main.get_command(app).main(list(args), prog_name="integration-hub", standalone_mode=False)
    except click.exceptions.Exit as exc:
        if exc.exit_code:
            raise SystemExit(f"demo step failed (exit {exc.exit_code}): integration-hub {shown}") from None
    finally:
        sys.stdin = saved_stdin
        os.environ.clear()
        os.environ.update(saved_env)


def _field(lines: list[str], name: str, containing: str = "") -> str:
    """``name=value`` from the simulator's start-up lines (the first line that contains ``containing``)."""
    for line in lines:
        if containing in line:
            for part in line.split():
                key, _, value = part.partition("=")
                if key == name:
                    return value
    raise SystemExit(f"demo: no {name} in the simulator's start-up lines")


def _connect_args(sim: Simulator, start: date) -> tuple[list[str], str | None, dict[str, str]]:
    """Arguments, stdin and environment of ``connect`` for one provider."""
    common = ["--company", COMPANY, "--start-date", start.isoformat(), "--base-url", sim.url, "--as", "demo"]
    if sim.integration == "karbon":
        return (
            [
                "connect",
                "karbon",
                *common,
                "--application-id",
                KARBON_APP_ID,
                "--secret-env",
                "access_key=DEMO_KARBON_KEY",
                "--set",
                "requests_per_minute=600",
            ],
            None,
            {"DEMO_KARBON_KEY": KARBON_ACCESS_KEY},
        )
    if sim.integration == "isnet":
        return ["connect", "isnet", *common, "--vkn", _field(sim.lines, "vkn")], None, {}
    extra = ["--vkn", _field(sim.lines, "vkn", f"username={USERNAME}")] if sim.integration == "qnb_esolutions" else []
    return ["connect", sim.integration, *common, "--username", USERNAME, "--password-stdin", *extra], PASSWORD, {}


def control_plane(sims: dict[str, Simulator], start: date) -> None:
    run(["catalog"])
    for sim in sims.values():
        if _state(sim.integration) in ("connected", "paused"):
            run(["disconnect", sim.integration, "--company", COMPANY, "--as", "demo"])
        args, stdin, env = _connect_args(sim, start)
        run(args, stdin=stdin, env=env)
    print("\n# pause, disconnect and reconnect: the stored (encrypted) credentials are reused", flush=True)
    run(["pause", "uyumsoft", "--company", COMPANY, "--as", "demo"])
    run(["disconnect", "uyumsoft", "--company", COMPANY, "--as", "demo"])
    run(["connect", "uyumsoft", "--company", COMPANY, "--as", "demo"])
    run(["connections", "--company", COMPANY])


def _state(integration_id: str) -> str | None:
    from integration_hub.service import ConnectionService
    from integration_hub.settings import HubSettings
    from integration_hub.store import Store

    store = Store.open(HubSettings.from_env())
    try:
        records = ConnectionService(store).list(company=COMPANY, integration_id=integration_id)
    finally:
        store.dispose()
    return records[0].state if records else None


def data_plane(first: date, last: date) -> None:
    """What the daemons do: evaluate each activation sensor, apply its partitions, run its backfill's ranged runs."""
    import dagster as dg

    from integration_hub.assets.streams import streams_of
    from integration_hub.backfills import BackfillPlan
    from integration_hub.connectors.base import DateWindow
    from integration_hub.definitions import build_definitions
    from integration_hub.executors import ExecutorConfig
    from integration_hub.instance import ensure_embedded_instance
    from integration_hub.local_runs import activation_tick, execute_backfill
    from integration_hub.resources.hub import HubResource
    from integration_hub.settings import HubSettings

    settings = HubSettings.from_env()
    dagster_home = Path(os.environ.setdefault("DAGSTER_HOME", str(settings.home / "dagster")))
    ensure_embedded_instance(dagster_home)
    hub = HubResource(hub_home=str(settings.home), database_url=settings.database_url)
    defs = build_definitions(hub=hub, executor=ExecutorConfig())  # in this process, whatever HUB_EXECUTOR says
    print(f"\n# collecting {first} .. {last} through Dagster (instance: {dagster_home})", flush=True)
    with dg.DagsterInstance.get() as instance:
        for integration_id, requests in activation_tick(defs, instance, hub).items():
            if not requests:  # already collected: re-collect the week, an idempotent replace
                plan = BackfillPlan(integration_id, COMPANY, tuple(DateWindow.inclusive(first, last).days()), "demo")
                requests = [plan.run_request([spec.asset_key for spec in streams_of(integration_id)])]
            for request in requests:
                outcome = execute_backfill(
                    defs,
                    instance,
                    integration_id,
                    request,
                    on_start=lambda backfill_id, runs: print(
                        f"  backfill {backfill_id}: {len(runs)} ranged run(s)", flush=True
                    ),
                    on_run=lambda summary: print(f"    {summary.line()}", flush=True),
                )
                if not outcome.success:
                    raise SystemExit(f"demo: backfill {outcome.backfill_id} ({outcome.title}) failed; see `make ui`")


def main() -> None:
    os.environ.setdefault("USER", "demo")
    today = datetime.now(UTC).date()
    start = today - timedelta(days=DAYS)
    with simulators() as sims:
        control_plane(sims, start)
        data_plane(start, today - timedelta(days=1))
        run(["inventory", "--company", COMPANY, "--from", start.isoformat()])
        run(["log", "--company", COMPANY, "--limit", "15"])
        run(["overview"])
        print("\n# the health of the six connections, from the hub's coverage records", flush=True)
        run(["connections", "--company", COMPANY])


if __name__ == "__main__":
    main()
