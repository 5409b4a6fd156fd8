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
    name: str = typer.Argument(None, help="Simulator: " + ", ".join(sorted(SIMULATORS)), show_default=False),
) -> None:
    """Serve a faithful fake of a provider's API on 127.0.0.1 (for tests, demos and benchmarks).

    Run `integration-hub simulate NAME --help` for a simulator's own options.
    """
    if name is None or name in ("--help", "-h"):
        # The command hands every option to the simulator, so it answers --help itself.
        typer.echo(ctx.get_help())
        raise typer.Exit(0 if name is not None else 2)
    if name not in SIMULATORS:
        typer.echo(f"error: unknown simulator '{name}' (choose from {', '.join(sorted(SIMULATORS))})", err=True)
        raise typer.Exit(2)
    try:
        module = import_module(SIMULATORS[name])
    except ModuleNotFoundError:
        typer.echo(f"error: the '{name}' simulator is not available in this build", err=True)
        raise typer.Exit(2) from None
    module.main(list(ctx.args))
