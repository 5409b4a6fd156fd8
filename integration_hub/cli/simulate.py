"""``integration-hub simulate NAME [simulator options]``: serve a provider simulator on 127.0.0.1.

The simulator is imported only here, by name, so no production path depends on simulator code.
Everything after NAME is handed to the simulator's own ``main(argv)`` (run ``... NAME --help``).
"""

from __future__ import annotations

from importlib import import_module

import typer

from integration_hub.simulators import SIMULATORS


def simulate(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Simulator: " + ", ".join(sorted(SIMULATORS))),
) -> None:
    """Serve a faithful fake of a provider's API on 127.0.0.1 (for tests, demos and benchmarks)."""
    if name not in SIMULATORS:
        typer.echo(f"error: unknown simulator '{name}' (choose from {', '.join(sorted(SIMULATORS))})", err=True)
        raise typer.Exit(2)
    try:
        module = import_module(SIMULATORS[name])
    except ModuleNotFoundError:
        typer.echo(f"error: the '{name}' simulator is not available in this build", err=True)
        raise typer.Exit(2) from None
    module.main(list(ctx.args))
