"""What the four e-invoice simulators (EDM, QNB, İşNet, the Uyumsoft family) share around their protocol.

* :class:`SimulatorState` — the call log tests assert on and the fault knobs (``fail_rate``, seeded, and
  ``fail_next(n)``, deterministic) that make a request fail with a bare HTTP status instead of an answer;
* the command line every ``integration-hub simulate NAME`` takes (``--port --seed --companies --days
  --per-day --fail-rate``, ``--credentials USER:PASS``) and the lines it prints at start.

Each simulator keeps what is its own: accounts, mailboxes, its ``SimCall`` shape and the protocol.
"""

from __future__ import annotations

import argparse
import random
import threading
from datetime import date, timedelta
from typing import Any, Generic, Protocol, TypeVar


class _Call(Protocol):
    @property
    def operation(self) -> str: ...


CallT = TypeVar("CallT", bound=_Call)


class SimulatorState(Generic[CallT]):
    """Call log and fault injection behind a simulator's app (thread-safe: uvicorn serves from a thread).

    ``_rng`` (seeded) and ``_lock`` are there for the subclass too: EDM draws its session ids from the
    same generator, so a seed reproduces a whole run.
    """

    def __init__(self, *, seed: int, fail_rate: float) -> None:
        self.fail_rate = fail_rate
        self.calls: list[CallT] = []
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._failures: list[int] = []

    def fail_next(self, count: int, status: int = 503) -> None:
        """Answer the next ``count`` requests with a bare HTTP ``status`` (no SOAP fault)."""
        with self._lock:
            self._failures.extend([status] * count)

    def injected_failure(self) -> int | None:
        """The status this request must fail with (queued by :meth:`fail_next`, else drawn with
        ``fail_rate``: 503), or ``None`` to answer it."""
        with self._lock:
            if self._failures:
                return self._failures.pop(0)
            if self.fail_rate > 0 and self._rng.random() < self.fail_rate:
                return 503
        return None

    def record(self, call: CallT) -> None:
        with self._lock:
            self.calls.append(call)

    def calls_to(self, operation: str) -> list[CallT]:
        with self._lock:
            return [call for call in self.calls if call.operation == operation]


# -- command line ---------------------------------------------------------------------------------------------


def credentials(value: str) -> tuple[str, str]:
    """``USER:PASS`` → ``(user, password)``: the argparse type of ``--credentials``."""
    username, sep, password = value.partition(":")
    if not sep or not username or not password:
        raise argparse.ArgumentTypeError("expected USER:PASS")
    return username, password


def add_credentials_argument(parser: argparse.ArgumentParser, help: str, *, split: bool = True) -> None:
    """Repeatable ``--credentials USER:PASS``: ``(user, password)`` pairs, or the raw strings with
    ``split=False`` for a simulator whose constructor takes ``USER:PASS`` itself."""
    parser.add_argument(
        "--credentials",
        type=credentials if split else str,
        action="append",
        default=[],
        metavar="USER:PASS",
        help=help,
    )


def simulator_parser(name: str, doc: str | None, *, port: int, companies_help: str) -> argparse.ArgumentParser:
    """The parser of ``integration-hub simulate NAME`` with the options every simulator takes; the
    caller adds its own (``--credentials``, ``--vkn``, ...)."""
    parser = argparse.ArgumentParser(prog=f"integration-hub simulate {name}", description=(doc or "").splitlines()[0])
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--companies", type=int, default=1, help=companies_help)
    parser.add_argument("--days", type=int, default=90, help="days of invoices up to today")
    parser.add_argument("--per-day", type=int, nargs=2, default=(0, 4), metavar=("MIN", "MAX"))
    parser.add_argument("--fail-rate", type=float, default=0.0, help="share of requests answered with HTTP 503")
    return parser


def simulator_options(args: argparse.Namespace) -> dict[str, Any]:
    """Constructor options from the common arguments: ``days`` days of invoices ending today."""
    return {
        "seed": args.seed,
        "start": date.today() - timedelta(days=args.days - 1),
        "days": args.days,
        "per_day": tuple(args.per_day),
        "fail_rate": args.fail_rate,
    }


def print_fields(**fields: Any) -> None:
    """One ``key=value ...`` line (an account the simulator accepts), flushed for whoever reads stdout."""
    print(" ".join(f"{key}={value}" for key, value in fields.items()), flush=True)


def serve_announced(app: Any, port: int, what: str, path: str) -> None:
    """Print where ``what`` is served, then serve ``app`` on 127.0.0.1 until interrupted."""
    from integration_hub.simulators.server import serve

    print(f"serving {what} on http://127.0.0.1:{port}{path}", flush=True)
    serve(app, port)
