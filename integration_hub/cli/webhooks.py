"""``integration-hub webhooks serve``: run the webhook receiver (put it behind your HTTPS reverse proxy)."""

from __future__ import annotations

import typer
import uvicorn

from integration_hub.cli.context import console, handle_errors


@handle_errors
def serve(
    port: int = typer.Option(8088, "--port", min=1, max=65535),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (default loopback only)."),
) -> None:
    """Receive provider webhooks at /webhooks/karbon/{company} and store them in the inbox."""
    from integration_hub.webhooks.karbon import create_app

    console.print(f"webhook receiver on http://{host}:{port}/webhooks/karbon/<company>", markup=False)
    uvicorn.run(create_app(), host=host, port=port, log_level="warning", access_log=False)
