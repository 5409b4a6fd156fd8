"""The ``integration-hub`` command line: catalog, connections, activity log, inventory, simulators."""

from __future__ import annotations

import logging
import sys
from importlib.metadata import version as package_version

import typer

from integration_hub.cli import connections
from integration_hub.cli.activity import log
from integration_hub.cli.catalog import catalog
from integration_hub.cli.collect import collect
from integration_hub.cli.coverage import coverage
from integration_hub.cli.fleet import fleet
from integration_hub.cli.inventory import inventory
from integration_hub.cli.invoices import inspect_invoice
from integration_hub.cli.karbon import karbon_app
from integration_hub.cli.keys import rotate_key
from integration_hub.cli.overview import overview
from integration_hub.cli.simulate import simulate
from integration_hub.cli.webhooks import serve as serve_webhooks

app = typer.Typer(
    name="integration-hub",
    help="Manage integration connections and the data inventory of the integration hub.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)



def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"integration-hub {package_version('integration-hub')}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Manage integration connections and the data inventory of the integration hub."""
    _log_to_stderr()


class _StderrLines(logging.Handler):
    """``warning: ...`` on whatever ``sys.stderr`` is when the record is emitted (tests swap it per command)."""

    def emit(self, record: logging.LogRecord) -> None:
        print(f"{record.levelname.lower()}: {record.getMessage()}", file=sys.stderr, flush=True)


def _log_to_stderr() -> None:
    """The hub's warnings (a connector's failed attempt, naming host:port and the reason) as they happen, so
    a wrong base_url is not ten silent seconds of retries before the error."""
    logger = logging.getLogger("integration_hub")
    if not any(isinstance(handler, _StderrLines) for handler in logger.handlers):
        logger.addHandler(_StderrLines())
    logger.setLevel(logging.WARNING)


app.command("catalog")(catalog)
app.command("connect")(connections.connect)
app.command("edit")(connections.edit)
app.command("pause")(connections.pause)
app.command("resume")(connections.resume)
app.command("disconnect")(connections.disconnect)
app.command("clear-credentials")(connections.clear_credentials)
app.command("test")(connections.test)
app.command("connections")(connections.list_connections)
app.command("overview")(overview)
app.command("inventory")(inventory)
app.command("coverage")(coverage)
app.command("fleet")(fleet)
app.command("collect")(collect)
app.command("inspect-invoice")(inspect_invoice)
app.command("log")(log)
app.command("rotate-key")(rotate_key)
webhooks_app = typer.Typer(help="Inbound provider webhooks.", no_args_is_help=True)
webhooks_app.command("serve")(serve_webhooks)
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(karbon_app, name="karbon")
app.command(
    "simulate",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
)(simulate)


def main() -> None:
    app()
