"""A provider simulator in its own process, so the server never competes with the client for the GIL.

    python -m bench.simproc karbon --days D --end 2026-11-01 [--rate-limit 120 --rate-window 6] [--logins N]
    python -m bench.simproc edm --days D --end 2026-11-01 [--per-day 0 4]

The child builds the simulator exactly as tests do (``KarbonSimulator(SimulatorConfig(...))`` /
``EdmSimulator(...)``), serves it with :func:`integration_hub.simulators.server.running`, prints one JSON
line (base URL, logins, data volumes) and serves until its stdin closes. In front of the simulator's app it
adds two bench-only routes, never seen by a connector: ``GET /__bench/stats`` (the requests the simulator
logged, by status and path) and ``POST /__bench/reset`` (clear that log), which is how a benchmark counts
what a client really sent, including requests answered 429.

Karbon rate-limits per (API application, account): ``--logins N`` registers N extra application IDs for the
first firm, so each repetition can start on a fresh rate window without waiting for the last one to drain.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
BENCH_PREFIX = "/__bench/"


def with_bench_routes(app: Any, stats: Callable[[], dict[str, Any]], reset: Callable[[], None]) -> Any:
    """Wrap an ASGI app with ``/__bench/stats`` and ``/__bench/reset``; everything else goes to ``app``."""
    from starlette.responses import JSONResponse

    async def wrapper(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith(BENCH_PREFIX):
            if scope["path"] == BENCH_PREFIX + "reset":
                reset()
                response = JSONResponse({"ok": True})
            else:
                response = JSONResponse(stats())
            await response(scope, receive, send)
            return
        await app(scope, receive, send)

    return wrapper


def _karbon(args: argparse.Namespace) -> tuple[Any, dict[str, Any], Callable[[], dict[str, Any]], Callable[[], None]]:
    from integration_hub.simulators.karbon import KarbonSimulator, SimulatorConfig, create_app

    rng = random.Random(f"bench-logins:{args.seed}")
    logins = [(str(uuid.UUID(int=rng.getrandbits(128), version=4)), f"eyJbench.{i}.sig") for i in range(args.logins)]
    sim = KarbonSimulator(
        SimulatorConfig(
            seed=args.seed,
            companies=1,
            days=args.days,
            end=args.end,
            rate_limit=args.rate_limit,
            rate_window=args.rate_window,
            credentials=tuple(logins),
            # The benchmarks time the connectors, not the simulator: the suite proves the requests keep the
            # contract; its 4-10 ms openapi-core check per request would be measured as the hub's time here.
            contract=False,
        )
    )
    firm = sim.firms[0]
    info = {
        "firm": firm.slug,
        "application_id": firm.application_id,
        "access_key": firm.access_key,
        "logins": logins,
        "volumes": {
            "time_entries": len(firm.time_entries),
            "work_items": len(firm.work_items),
            "contacts": len(firm.contacts),
            "organizations": len(firm.organizations),
            "client_groups": len(firm.client_groups),
            "invoices": len(firm.invoices),
            "payments": len(firm.payments),
        },
    }

    def stats() -> dict[str, Any]:
        log = list(sim.log)
        return {
            "requests": len(log),
            "by_status": dict(Counter(str(r.status) for r in log)),
            "status_sequence": [r.status for r in log],
        }

    return create_app(sim), info, stats, sim.log.clear


def _edm(args: argparse.Namespace) -> tuple[Any, dict[str, Any], Callable[[], dict[str, Any]], Callable[[], None]]:
    from integration_hub.simulators.edm import EdmAccount, EdmSimulator, create_app

    account = EdmAccount("bench", "bench.edm", "Bench-secret-1", "1234567803", "Bench Enerji A.Ş.")
    start = args.end - timedelta(days=args.days)
    sim = EdmSimulator(seed=args.seed, accounts=[account], start=start, days=args.days, per_day=tuple(args.per_day))
    entries = sim.mailboxes[account.slug].entries
    info = {
        "username": account.username,
        "password": account.password,
        "volumes": {
            "invoices_in": sum(1 for e in entries if e.invoice.direction == "in"),
            "invoices_out": sum(1 for e in entries if e.invoice.direction == "out"),
        },
    }

    def stats() -> dict[str, Any]:
        with sim._lock:  # the simulator's own lock: calls are appended from the server thread
            calls = list(sim.calls)
        return {
            "requests": len(calls),
            "by_status": dict(Counter(str(c.status) for c in calls)),
        }

    def reset() -> None:
        with sim._lock:
            sim.calls.clear()

    return create_app(sim), info, stats, reset


def main(argv: list[str]) -> None:
    from integration_hub.simulators.server import running

    parser = argparse.ArgumentParser(prog="python -m bench.simproc")
    parser.add_argument("kind", choices=("karbon", "edm"))
    parser.add_argument("--days", type=int, required=True)
    parser.add_argument("--end", type=date.fromisoformat, required=True, help="first day after the history")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rate-limit", type=int, default=120)
    parser.add_argument("--rate-window", type=float, default=60.0)
    parser.add_argument("--logins", type=int, default=0)
    parser.add_argument("--per-day", type=int, nargs=2, default=(0, 4))
    args = parser.parse_args(argv)
    app, info, stats, reset = (_karbon if args.kind == "karbon" else _edm)(args)
    with running(with_bench_routes(app, stats, reset)) as url:
        print(json.dumps({"url": url, **info}), flush=True)
        sys.stdin.read()  # serve until the parent closes our stdin


class SimProcess:
    """Start ``python -m bench.simproc KIND ...`` and talk to it; a context manager that always stops it."""

    def __init__(self, kind: str, **options: Any) -> None:
        self.argv = [sys.executable, "-m", "bench.simproc", kind]
        for name, value in options.items():
            flag = "--" + name.replace("_", "-")
            values = value if isinstance(value, list | tuple) else [value]
            self.argv += [flag, *(str(v) for v in values)]
        self.process: subprocess.Popen[str] | None = None
        self.info: dict[str, Any] = {}

    def __enter__(self) -> SimProcess:
        self.process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            self.argv, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.__exit__(None, None, None)
            raise RuntimeError(f"simulator {' '.join(self.argv[3:5])} exited before serving")
        self.info = json.loads(line)
        return self

    @property
    def url(self) -> str:
        return str(self.info["url"])

    def stats(self) -> dict[str, Any]:
        return httpx.get(self.url + BENCH_PREFIX + "stats", timeout=30).json()

    def reset(self) -> None:
        httpx.post(self.url + BENCH_PREFIX + "reset", timeout=30).raise_for_status()

    def __exit__(self, *exc: object) -> None:
        if self.process is None:
            return
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        self.process = None


if __name__ == "__main__":
    main(sys.argv[1:])
