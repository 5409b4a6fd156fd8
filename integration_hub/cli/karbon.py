"""``integration-hub karbon subscribe|subscriptions|unsubscribe``: Karbon webhook subscriptions.

Subscriptions are made with the connection's own credentials and point at the hub's receiver
(``<receiver-url>/webhooks/karbon/<company>``); when the connection has a ``webhook_signing_key`` it is
sent as the SigningKey, so the receiver can reject unsigned deliveries. Every change is written to the
activity log; the signing key itself never appears in output or in the log.
"""

from __future__ import annotations

from collections.abc import Callable

import typer

from integration_hub.cli.context import (
    AS_OPTION,
    JSON_OPTION,
    fail,
    handle_errors,
    performer,
    print_json,
    print_table,
    service,
)
from integration_hub.connectors.base import ConnectorError
from integration_hub.connectors.karbon.client import KarbonClient
from integration_hub.connectors.karbon.settings import DEFAULT_BASE_URL, DEFAULT_REQUESTS_PER_MINUTE
from integration_hub.connectors.karbon.webhooks import WEBHOOK_TYPES, SubscriptionChange, WebhookSubscriptions
from integration_hub.service import ConnectionService, ValidationError
from integration_hub.store.activity import Action, Status

INTEGRATION = "karbon"
COMPANY = typer.Option(..., "--company", "-c", help="Company whose Karbon connection to use.")
TYPES = typer.Option(None, "--type", "-t", help=f"Webhook type (repeatable; default all: {', '.join(WEBHOOK_TYPES)}).")

karbon_app = typer.Typer(help="Karbon webhook subscriptions.", no_args_is_help=True)


def _subscriptions(svc: ConnectionService, company: str) -> tuple[WebhookSubscriptions, str | None]:
    record = svc.get(company, INTEGRATION)
    if record.state != "connected":
        raise ValidationError(f"{company}/{INTEGRATION} is {record.state}; connect or resume it first")
    config = svc.connector_config(record)
    client = KarbonClient(
        str(config.setting("application_id", "")),
        config.secret("access_key"),
        base_url=str(config.setting("base_url", DEFAULT_BASE_URL)),
        requests_per_minute=float(config.setting("requests_per_minute", DEFAULT_REQUESTS_PER_MINUTE)),
    )
    return WebhookSubscriptions(client), config.secrets.get("webhook_signing_key")


def _types(types: list[str] | None) -> list[str]:
    chosen = list(dict.fromkeys(types or WEBHOOK_TYPES))
    unknown = [t for t in chosen if t not in WEBHOOK_TYPES]
    if unknown:
        raise ValidationError(f"unknown webhook type '{unknown[0]}' (choose {', '.join(WEBHOOK_TYPES)})")
    return chosen


def _apply(
    company: str, by: str, verb: str, action: Callable[[WebhookSubscriptions, str | None], list[SubscriptionChange]]
) -> list[SubscriptionChange]:
    svc = service()
    subscriptions, signing_key = _subscriptions(svc, company)
    try:
        changes = action(subscriptions, signing_key)
    except ConnectorError as exc:
        svc.record_activity(company, INTEGRATION, Action.WEBHOOK_SUBSCRIPTION, Status.ERROR, f"{verb}: {exc}", by=by)
        raise fail(str(exc), 1) from None
    finally:
        subscriptions.client.close()
    summary = ", ".join(f"{c.webhook_type} {c.outcome}" for c in changes)
    svc.record_activity(company, INTEGRATION, Action.WEBHOOK_SUBSCRIPTION, Status.SUCCESS, f"{verb}: {summary}", by=by)
    return changes


def _show(changes: list[SubscriptionChange], json_output: bool, signed: bool | None = None) -> None:
    rows = [
        {"type": c.webhook_type, "target_url": c.target_url or "", "outcome": c.outcome}
        | ({"signed": "yes" if signed else "no"} if signed is not None else {})
        for c in changes
    ]
    if json_output:
        print_json(rows)
    else:
        columns = list(rows[0]) if rows else ["type", "target_url", "outcome"]
        print_table("Karbon webhook subscriptions", columns, [list(r.values()) for r in rows])


@karbon_app.command("subscribe")
@handle_errors
def subscribe(
    company: str = COMPANY,
    receiver_url: str = typer.Option(
        ..., "--receiver-url", help="Public base URL of `integration-hub webhooks serve` (Karbon requires https)."
    ),
    types: list[str] | None = TYPES,
    replace: bool = typer.Option(False, "--replace", help="Recreate existing subscriptions (e.g. after a new key)."),
    by: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Point the account's webhook subscriptions at the hub's receiver for this company."""
    if not receiver_url.startswith(("https://", "http://")):
        raise ValidationError("--receiver-url must start with https://")
    target = f"{receiver_url.rstrip('/')}/webhooks/karbon/{company}"
    chosen = _types(types)
    signed: list[bool] = []

    def act(subs: WebhookSubscriptions, key: str | None) -> list[SubscriptionChange]:
        signed.append(bool(key))
        return [subs.ensure(t, target, key, replace=replace) for t in chosen]

    changes = _apply(company, performer(by), f"subscribe {target}", act)
    _show(changes, json_output, signed[0])


@karbon_app.command("subscriptions")
@handle_errors
def subscriptions(company: str = COMPANY, json_output: bool = JSON_OPTION) -> None:
    """Show where each webhook type of the account is delivered."""
    svc = service()
    subs, _ = _subscriptions(svc, company)
    try:
        changes = []
        for webhook_type in WEBHOOK_TYPES:
            target = subs.target_of(webhook_type)
            changes.append(SubscriptionChange(webhook_type, target, "subscribed" if target else "absent"))
    except ConnectorError as exc:
        raise fail(str(exc), 1) from None
    finally:
        subs.client.close()
    _show(changes, json_output)


@karbon_app.command("unsubscribe")
@handle_errors
def unsubscribe(
    company: str = COMPANY, types: list[str] | None = TYPES, by: str | None = AS_OPTION, json_output: bool = JSON_OPTION
) -> None:
    """Delete the account's webhook subscriptions (all types unless --type is given)."""
    chosen = _types(types)
    changes = _apply(company, performer(by), "unsubscribe", lambda subs, _key: [subs.remove(t) for t in chosen])
    _show(changes, json_output)
