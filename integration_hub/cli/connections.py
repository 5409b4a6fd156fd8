"""Connection commands: connect, edit, pause, resume, disconnect, clear-credentials, test, connections.

Secrets are never taken from the command line: they come from a hidden prompt, from stdin
(``--password-stdin``, ``--secret-stdin FIELD``) or from an environment variable (``--secret-env
FIELD=VAR``). ``--set FIELD=VALUE`` sets any non-secret field; common fields have their own options.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import typer

from integration_hub.assets.streams import stream_names
from integration_hub.catalog import IntegrationDefinition
from integration_hub.cli.context import (
    AS_OPTION,
    JSON_OPTION,
    console,
    handle_errors,
    performer,
    print_json,
    print_table,
    prompt_secret,
    read_stdin_secret,
    service,
)
from integration_hub.service import ConnectionService, ValidationError
from integration_hub.service.health import ConnectionHealth, connection_health
from integration_hub.store import Store
from integration_hub.store.connections import ConnectionRecord

COMPANY = typer.Option(..., "--company", "-c", help="Company key (a slug: lowercase letters, digits, '-', '_').")
INTEGRATION = typer.Argument(..., help="Integration id from `integration-hub catalog`.")

# Options for common fields: (option name, field name).
COMMON_FIELDS = {
    "username": "username",
    "start_date": "start_date",
    "vkn": "vkn",
    "application_id": "application_id",
    "environment": "environment",
    "base_url": "base_url",
}


def _parse_assignments(items: list[str], option: str) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ValidationError(f"{option} expects FIELD=VALUE, got '{item.split('=')[0]}'")
        parsed[name.strip()] = value
    return parsed


def gather_values(
    definition: IntegrationDefinition,
    *,
    common: dict[str, str | None],
    assignments: list[str],
    password_stdin: bool,
    secret_stdin: str | None,
    secret_env: list[str],
    stored_secrets: tuple[str, ...],
    prompt_missing: bool,
) -> dict[str, Any]:
    """Collect field values from options, stdin, environment and (at a terminal) a prompt."""
    values: dict[str, Any] = {}
    for option, field in COMMON_FIELDS.items():
        value = common.get(option)
        if value is None:
            continue
        if field not in definition.field_names:
            raise ValidationError(f"{definition.id} has no field '{field}' (see `integration-hub catalog --all`)")
        values[field] = value
    for name, value in _parse_assignments(assignments, "--set").items():
        if name in definition.field_names and definition.field(name).secret:
            raise ValidationError(
                f"'{name}' is secret and cannot be given on the command line; use --secret-stdin {name} "
                f"or --secret-env {name}=VARIABLE"
            )
        values[name] = value
    stdin_targets = (["password"] if password_stdin else []) + ([secret_stdin] if secret_stdin else [])
    if len(stdin_targets) > 1:
        raise ValidationError("only one secret can be read from stdin; use --secret-env for the others")
    for name in stdin_targets:
        _require_secret_field(definition, name)
        values[name] = read_stdin_secret(name)
    for name, variable in _parse_assignments(secret_env, "--secret-env").items():
        _require_secret_field(definition, name)
        value = os.environ.get(variable)
        if not value:
            raise ValidationError(f"environment variable {variable} (for {name}) is not set or empty")
        values[name] = value
    if prompt_missing:
        for spec in definition.fields:
            missing = spec.secret and spec.required and spec.name not in values and spec.name not in stored_secrets
            if missing and spec.applies({**{f.name: f.default for f in definition.fields}, **values}):
                answer = prompt_secret(spec.label)
                if answer:
                    values[spec.name] = answer
    return values


def _require_secret_field(definition: IntegrationDefinition, name: str) -> None:
    if name not in definition.field_names:
        raise ValidationError(f"{definition.id} has no field '{name}'")
    if not definition.field(name).secret:
        raise ValidationError(f"'{name}' is not a secret field of {definition.id}; use --set {name}=VALUE")


def connection_dict(record: ConnectionRecord, health: ConnectionHealth | None = None) -> dict[str, Any]:
    return {
        "company": record.company,
        "integration": record.integration_id,
        "state": record.state,
        "start_date": record.start_date,
        "settings": record.settings,
        "stored_secrets": list(record.secret_fields),
        "updated_at": record.updated_at,
        "updated_by": record.updated_by,
        "last_test": None
        if record.last_test_at is None
        else {"at": record.last_test_at, "ok": record.last_test_ok, "message": record.last_test_message},
        **({"health": health.as_dict()} if health is not None else {}),
    }


def health_by_connection(store: Store, company: str | None, integration: str | None) -> dict[tuple[str, str], Any]:
    """Each connection's health from the hub's coverage records, keyed by (company, integration)."""
    checked = connection_health(
        store, stream_names(), today=datetime.now(UTC).date(), company=company, integration_id=integration
    )
    return {(h.company, h.integration_id): h for h in checked}


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def _show(record: ConnectionRecord, verb: str) -> None:
    stored = ", ".join(record.secret_fields) or "none"
    console.print(
        f"{record.company}/{record.integration_id}: {verb} (state={record.state}, "
        f"start_date={record.start_date or '-'}, stored secrets: {stored})",
        markup=False,
        highlight=False,
    )


def _value_options(
    svc: ConnectionService,
    integration: str,
    company: str,
    *,
    common: dict[str, str | None],
    assignments: list[str],
    password_stdin: bool,
    secret_stdin: str | None,
    secret_env: list[str],
    prompt_missing: bool,
) -> dict[str, Any]:
    definition = svc.definition(integration)
    existing = [r for r in svc.list(company=company, integration_id=integration)]
    stored = existing[0].secret_fields if existing else ()
    return gather_values(
        definition,
        common=common,
        assignments=assignments,
        password_stdin=password_stdin,
        secret_stdin=secret_stdin,
        secret_env=secret_env,
        stored_secrets=stored,
        prompt_missing=prompt_missing,
    )


# Typer options shared by connect and edit.
USERNAME = typer.Option(None, "--username", help="Username (credential-style integrations).")
START_DATE = typer.Option(None, "--start-date", help="First day to collect (YYYY-MM-DD).")
VKN = typer.Option(None, "--vkn", help="Company tax number (VKN/TCKN).")
APPLICATION_ID = typer.Option(None, "--application-id", help="Karbon Application ID (GUID).")
ENVIRONMENT = typer.Option(None, "--environment", help="Provider environment: test or production.")
BASE_URL = typer.Option(None, "--base-url", help="Override the provider's service URL.")
SET = typer.Option([], "--set", help="Set any non-secret field: FIELD=VALUE (repeatable).")
PASSWORD_STDIN = typer.Option(False, "--password-stdin", help="Read the password from stdin.")
SECRET_STDIN = typer.Option(None, "--secret-stdin", help="Read secret FIELD from stdin.")
SECRET_ENV = typer.Option([], "--secret-env", help="Read secret from an environment variable: FIELD=VAR.")
SKIP_TEST = typer.Option(False, "--skip-test", help="Do not run Test Connection first.")


@handle_errors
def connect(
    integration: str = INTEGRATION,
    company: str = COMPANY,
    username: str | None = USERNAME,
    start_date: str | None = START_DATE,
    vkn: str | None = VKN,
    application_id: str | None = APPLICATION_ID,
    environment: str | None = ENVIRONMENT,
    base_url: str | None = BASE_URL,
    set_: list[str] = SET,
    password_stdin: bool = PASSWORD_STDIN,
    secret_stdin: str | None = SECRET_STDIN,
    secret_env: list[str] = SECRET_ENV,
    skip_test: bool = SKIP_TEST,
    draft: bool = typer.Option(False, "--draft", help="Save without switching on (may be incomplete)."),
    as_: str | None = AS_OPTION,
) -> None:
    """Connect a company to an integration (tests the connection first), or save a draft."""
    svc = service()
    values = _value_options(
        svc,
        integration,
        company,
        common=dict(
            username=username,
            start_date=start_date,
            vkn=vkn,
            application_id=application_id,
            environment=environment,
            base_url=base_url,
        ),
        assignments=set_,
        password_stdin=password_stdin,
        secret_stdin=secret_stdin,
        secret_env=secret_env,
        prompt_missing=not draft,
    )
    if draft:
        _show(svc.save_draft(company, integration, values, by=performer(as_)), "draft saved")
    else:
        _show(svc.connect(company, integration, values, by=performer(as_), skip_test=skip_test), "connected")


@handle_errors
def edit(
    integration: str = INTEGRATION,
    company: str = COMPANY,
    username: str | None = USERNAME,
    start_date: str | None = START_DATE,
    vkn: str | None = VKN,
    application_id: str | None = APPLICATION_ID,
    environment: str | None = ENVIRONMENT,
    base_url: str | None = BASE_URL,
    set_: list[str] = SET,
    password_stdin: bool = PASSWORD_STDIN,
    secret_stdin: str | None = SECRET_STDIN,
    secret_env: list[str] = SECRET_ENV,
    skip_test: bool = SKIP_TEST,
    as_: str | None = AS_OPTION,
) -> None:
    """Change a connection's settings or credentials; a blank secret keeps the stored one."""
    svc = service()
    values = _value_options(
        svc,
        integration,
        company,
        common=dict(
            username=username,
            start_date=start_date,
            vkn=vkn,
            application_id=application_id,
            environment=environment,
            base_url=base_url,
        ),
        assignments=set_,
        password_stdin=password_stdin,
        secret_stdin=secret_stdin,
        secret_env=secret_env,
        prompt_missing=False,
    )
    _show(svc.edit(company, integration, values, by=performer(as_), skip_test=skip_test), "updated")


@handle_errors
def pause(integration: str = INTEGRATION, company: str = COMPANY, as_: str | None = AS_OPTION) -> None:
    """Stop collecting data; the connection stays connected."""
    _show(service().pause(company, integration, by=performer(as_)), "paused")


@handle_errors
def resume(integration: str = INTEGRATION, company: str = COMPANY, as_: str | None = AS_OPTION) -> None:
    """Resume collecting where it stopped."""
    _show(service().resume(company, integration, by=performer(as_)), "resumed")


@handle_errors
def disconnect(integration: str = INTEGRATION, company: str = COMPANY, as_: str | None = AS_OPTION) -> None:
    """Switch the connection off; settings and credentials are kept for reconnecting."""
    _show(service().disconnect(company, integration, by=performer(as_)), "disconnected")


@handle_errors
def clear_credentials(integration: str = INTEGRATION, company: str = COMPANY, as_: str | None = AS_OPTION) -> None:
    """Remove stored credentials entirely (only when disconnected or a draft)."""
    _show(service().clear_credentials(company, integration, by=performer(as_)), "credentials cleared")


@handle_errors
def test(integration: str = INTEGRATION, company: str = COMPANY, as_: str | None = AS_OPTION) -> None:
    """Run Test Connection with the stored settings."""
    result = service().test(company, integration, by=performer(as_))
    console.print(
        f"{company}/{integration}: {'ok' if result.ok else 'FAILED'} — {result.message}", markup=False, highlight=False
    )
    if not result.ok:
        raise typer.Exit(1)


@handle_errors
def list_connections(
    company: str | None = typer.Option(None, "--company", "-c"),
    integration: str | None = typer.Option(None, "--integration", "-i"),
    json_output: bool = JSON_OPTION,
) -> None:
    """List connections with their state, start date and which secrets are stored (never their values)."""
    svc = service()
    records = svc.list(company=company, integration_id=integration)
    health = health_by_connection(svc.store, company, integration)
    if json_output:
        print_json([connection_dict(r, health.get((r.company, r.integration_id))) for r in records])
        return
    rows = []
    for r in records:
        h = health.get((r.company, r.integration_id))
        rows.append(
            (
                r.company,
                r.integration_id,
                r.state,
                h.state if h else "-",
                _when(h.last_success_at) if h else "-",
                "-" if h is None or h.days_behind is None else h.days_behind,
                h.reason if h and h.state not in ("healthy", "paused") else "",
                r.start_date,
                ", ".join(r.secret_fields) or "-",
                "-" if r.last_test_ok is None else ("ok" if r.last_test_ok else "failed"),
            )
        )
    print_table(
        "Connections",
        [
            "company",
            "integration",
            "state",
            "health",
            "last success (UTC)",
            "days behind",
            "why",
            "start date",
            "stored secrets",
            "last test",
        ],
        rows,
        empty="no connections match",
    )
