"""A fake of Resend's e-mail API (``api.resend.com``), served over real HTTP on 127.0.0.1.

``integration-hub simulate resend --port P [--api-key re_...] [--domain alerts.example] [--rate-limit 2]``
prints the API keys it accepts (one with full access, one sending-only), then serves until interrupted.
Tests build it in-process with :class:`ResendSimulator` and :func:`create_app`.
"""

from __future__ import annotations

import argparse

from integration_hub.simulators.resend.app import Domain, ResendSimulator, SimulatorConfig, create_app
from integration_hub.simulators.server import serve

__all__ = ["Domain", "ResendSimulator", "SimulatorConfig", "create_app", "main"]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="integration-hub simulate resend", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8790, help="port on 127.0.0.1 (default 8790)")
    parser.add_argument("--api-key", help="the full-access API key to accept (default: a new random re_ key)")
    parser.add_argument("--sending-key", help="the sending-only API key to accept (default: a new random re_ key)")
    parser.add_argument(
        "--domain", action="append", default=[], help="a verified sender domain (repeatable; default alerts.example)"
    )
    parser.add_argument("--rate-limit", type=int, default=2, help="requests per second per team (Resend: 2)")
    parser.add_argument("--daily-quota", type=int, help="e-mails per day before 429 daily_quota_exceeded")
    return parser.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    config = SimulatorConfig(rate_limit=args.rate_limit, daily_quota=args.daily_quota)
    if args.api_key:
        config.api_key = args.api_key
    if args.sending_key:
        config.sending_key = args.sending_key
    if args.domain:
        config.domains = tuple(Domain(name) for name in args.domain)
    return config


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    sim = ResendSimulator(config_from_args(args))
    for line in sim.credential_lines():
        print(line, flush=True)
    print(f"serving the Resend API on http://127.0.0.1:{args.port}", flush=True)
    serve(create_app(sim), args.port)
