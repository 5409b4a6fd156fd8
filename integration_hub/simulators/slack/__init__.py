"""A fake of Slack's Web API (``auth.test``, ``chat.postMessage``, ``conversations.info``) on 127.0.0.1.

Written from Slack's published OpenAPI description (see :mod:`.contract`), never from the hub's connector.
``integration-hub simulate slack --port P`` prints the bot token it accepts and the channels of its workspace,
then serves ``http://127.0.0.1:P/api/<method>`` until interrupted; point a connection's ``base_url`` at
``http://127.0.0.1:P/api``. Tests build it in-process with :func:`create_app` and :class:`SlackSimulator`.
"""

from __future__ import annotations

import argparse

from integration_hub.simulators.server import serve
from integration_hub.simulators.slack.app import (
    Channel,
    PostedMessage,
    SimulatorConfig,
    SlackSimulator,
    create_app,
)

__all__ = ["Channel", "PostedMessage", "SimulatorConfig", "SlackSimulator", "create_app", "main"]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="integration-hub simulate slack", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8790, help="port on 127.0.0.1 (default 8790)")
    parser.add_argument("--token", default="", help="the xoxb- bot token to accept (default: a fresh one)")
    parser.add_argument(
        "--scope",
        action="append",
        default=[],
        help="an extra scope of the token besides chat:write (channels:read lets conversations.info answer)",
    )
    parser.add_argument("--post-limit", type=int, default=60, help="chat.postMessage calls per minute per channel")
    args = parser.parse_args(argv)
    if args.token and not args.token.startswith("xoxb-"):
        parser.error("--token must be a bot token starting with xoxb-")
    return args


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    config = SimulatorConfig(bot_token=args.token, scopes=("chat:write", *args.scope))
    config.per_minute["chat.postMessage"] = args.post_limit
    sim = SlackSimulator(config)
    print(f"token={sim.token}", flush=True)
    for channel in sim.channels:
        state = "archived" if channel.is_archived else ("member" if channel.is_member else "bot not in channel")
        print(f"channel={channel.id} name=#{channel.name} ({state})", flush=True)
    print(f"serving the Slack Web API on http://127.0.0.1:{args.port}/api", flush=True)
    serve(create_app(sim), args.port)
