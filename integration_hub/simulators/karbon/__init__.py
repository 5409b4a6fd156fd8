"""A faithful fake of Karbon's REST API v3, served over real HTTP on 127.0.0.1.

``integration-hub simulate karbon --port P [--seed S] [--companies N] [--days D]`` prints one line per
generated firm, ``firm=<slug> application_id=<GUID> access_key=<JWT>``, then serves until interrupted.
``--credentials APP_ID:ACCESS_KEY`` maps a known pair to the first firm (tests, demos); anything else
gets 401. Tests build it in-process with :func:`create_app` and :class:`KarbonSimulator`.
"""

from __future__ import annotations

import argparse
from datetime import date

from integration_hub.simulators.karbon.app import KarbonSimulator, SimulatorConfig, create_app
from integration_hub.simulators.server import serve

__all__ = ["KarbonSimulator", "SimulatorConfig", "create_app", "main"]


def _credentials(value: str) -> tuple[str, str]:
    application_id, sep, access_key = value.partition(":")
    if not sep or not application_id or not access_key:
        raise argparse.ArgumentTypeError("expected APP_ID:ACCESS_KEY")
    return application_id, access_key


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="integration-hub simulate karbon", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    parser.add_argument("--seed", type=int, default=7, help="data seed (same seed, same data)")
    parser.add_argument("--companies", type=int, default=2, help="number of firms (tenants)")
    parser.add_argument("--days", type=int, default=120, help="days of history ending yesterday")
    parser.add_argument("--end", type=date.fromisoformat, help="first day after the history (default today)")
    parser.add_argument(
        "--credentials",
        type=_credentials,
        action="append",
        default=[],
        help="APP_ID:ACCESS_KEY accepted for the first firm (repeatable)",
    )
    parser.add_argument("--rate-limit", type=int, default=120, help="requests per window per application+account")
    parser.add_argument("--rate-window", type=float, default=60.0, help="rate-limit window in seconds")
    parser.add_argument(
        "--top-mode",
        choices=("strict", "cap"),
        default="strict",
        help="$top over the page maximum: 400 (spec) or silently capped (docs)",
    )
    parser.add_argument("--fail-rate", type=float, default=0.0, help="fraction of requests answered 503")
    parser.add_argument("--slow", type=float, default=0.0, help="seconds added to every response")
    parser.add_argument(
        "--allow-http-targets",
        action="store_true",
        help="accept http://127.0.0.1 webhook targets (Karbon itself requires https)",
    )
    parser.add_argument(
        "--no-contract",
        action="store_true",
        help="serve without checking requests against KarbonAPI.json (no openapi-core or shared/ folder needed)",
    )
    return parser.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    return SimulatorConfig(
        seed=args.seed,
        companies=args.companies,
        days=args.days,
        end=args.end,
        rate_limit=args.rate_limit,
        rate_window=args.rate_window,
        top_mode=args.top_mode,
        fail_rate=args.fail_rate,
        slow=args.slow,
        allow_http_targets=args.allow_http_targets,
        credentials=tuple(args.credentials),
        contract=not args.no_contract,
    )


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    sim = KarbonSimulator(config_from_args(args))
    for line in sim.credential_lines():
        print(line, flush=True)
    print(f"serving Karbon API v3 on http://127.0.0.1:{args.port}", flush=True)
    serve(create_app(sim), args.port)
