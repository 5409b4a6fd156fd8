"""The ``integration-hub`` command line: catalog, connections, activity log, inventory, simulators."""

from __future__ import annotations

import typer

from integration_hub.cli.simulate import simulate

app = typer.Typer(
    name="integration-hub",
    help="Manage integration connections and the data inventory of the integration hub.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

app.command(
    "simulate",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
)(simulate)


def main() -> None:
    app()
