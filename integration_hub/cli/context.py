"""What every CLI command shares: opening the hub, who is acting, printing, and one-line errors."""

from __future__ import annotations

import functools
import getpass
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from integration_hub.service import ConnectionService, HubError, ValidationError
from integration_hub.settings import HubSettings, SettingsError
from integration_hub.store import Store
from integration_hub.store.database import DatabaseError
from integration_hub.store.secrets import SecretKeyError

F = TypeVar("F", bound=Callable[..., Any])

AS_OPTION = typer.Option(None, "--as", help="Who performs the action (default: $USER, else 'system').")
JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")

console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True, soft_wrap=True)


def performer(explicit: str | None) -> str:
    if explicit and explicit.strip():
        return explicit.strip()
    return os.environ.get("USER") or os.environ.get("USERNAME") or "system"


def open_store() -> Store:
    return Store.open(HubSettings.from_env())


def service() -> ConnectionService:
    return ConnectionService(open_store())


def fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"error: {' '.join(message.split())}", markup=False, highlight=False)
    return typer.Exit(code)


def handle_errors(func: F) -> F:
    """Turn the hub's errors into one line on stderr and the documented exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except HubError as exc:
            raise fail(str(exc), exc.exit_code) from None
        except (SettingsError, SecretKeyError) as exc:
            raise fail(str(exc), 2) from None
        except DatabaseError as exc:
            raise fail(str(exc), 1) from None

    return wrapper  # type: ignore[return-value]


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=_default, indent=2, ensure_ascii=False) + "\n")


def print_table(
    title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, empty: str | None = None
) -> None:
    """A rich table; with ``empty`` a listing that matched nothing says so instead of drawing a bare header."""
    materialized = [list(row) for row in rows]
    if not materialized and empty is not None:
        console.print(empty)
        return
    table = Table(title=title, show_lines=False, header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in materialized:
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)


def read_stdin_secret(what: str) -> str:
    if sys.stdin is None or sys.stdin.closed:
        raise ValidationError(f"cannot read {what} from stdin: stdin is closed")
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise ValidationError(f"no {what} on stdin")
    return value


def prompt_secret(label: str) -> str | None:
    """Ask for a secret without echo, only when a person is at a terminal."""
    if not sys.stdin or not sys.stdin.isatty():
        return None
    return getpass.getpass(f"{label}: ") or None
