"""``integration-hub karbon subscribe|subscriptions|unsubscribe``: Karbon webhook subscriptions.

Subscriptions are made with the connection's own credentials and point at the hub's receiver
(``<receiver-url>/webhooks/karbon/<company>``), signed with the connection's ``webhook_signing_key``
(sent as the SigningKey). The hub's receiver refuses unsigned deliveries, so ``subscribe`` refuses to create
unsigned subscriptions unless ``--allow-unsigned`` says the receiver is someone else's. Every change is written to the
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
from integration_hub.connectors.karbon import KarbonConnector
from integration_hub.connectors.karbon.webhooks import WEBHOOK_TYPES, SubscriptionChange, WebhookSubscriptions
from integration_hub.service import ConnectionService, ValidationError
from integration_hub.store.activity import Action, Status

INTEGRATION = "karbon"
COMPANY = typer.Option(..., "--company", "-c", help="Company whose Karbon connection to use.")
TYPES = typer.Option(None, "--type", "-t", help=f"Webhook type (repeatable; default all: {', '.join(WEBHOOK_TYPES)}).")

karbon_app = typer.Typer(help="Karbon webhook subscriptions.", no_args_is_help=True)


def _subscriptions(svc: ConnectionService, company: str) -> tuple[WebhookSubscriptions, str | None]:
    """The account's subscriptions, reached with the connection's own (decrypted) credentials."""
    record = svc.get(company, INTEGRATION)
    if record.state != "connected":
        raise ValidationError(f"{company}/{INTEGRATION} is {record.state}; connect or resume it first")
    config = svc.connector_config(record)
    try:
        connector = KarbonConnector(config)
    except ConnectorError as exc:
        raise fail(str(exc), 2) from None
    return WebhookSubscriptions(connector.client), config.secrets.get("webhook_signing_key")


def _types(types: list[str] | None) -> list[str]:
    chosen = list(dict.fromkeys(types or WEBHOOK_TYPES))
    unknown = [t for t in chosen if t not in WEBHOOK_TYPES]
    if unknown:
        raise ValidationError(f"unknown webhook type '{unknown[0]}' (choose {', '.join(WEBHOOK_TYPES)})")
    return chosen


Step = Callable[[WebhookSubscriptions, str | None], SubscriptionChange]


def _apply(
    company: str, by: str, verb: str, steps: list[Step], *, needs_signing_key: bool = False
) -> list[SubscriptionChange]:
    """Run the steps in order; whatever happened before a failure is logged along with it."""
    svc = service()
    subscriptions, signing_key = _subscriptions(svc, company)
    if needs_signing_key and not signing_key:
        subscriptions.client.close()
        raise ValidationError(
            f"cannot subscribe: {company}/{INTEGRATION} has no webhook_signing_key, and the hub's receiver refuses "
            f"unsigned deliveries (set one with `integration-hub edit karbon -c {company} --secret-stdin "
            "webhook_signing_key`, or pass --allow-unsigned for a receiver that accepts them)"
        )
    changes: list[SubscriptionChange] = []
    try:
        for step in steps:
            changes.append(step(subscriptions, signing_key))
    except ConnectorError as exc:
        done = f"{_summary(changes)}; then " if changes else ""
        svc.record_activity(
            company, INTEGRATION, Action.WEBHOOK_SUBSCRIPTION, Status.ERROR, f"{verb}: {done}failed: {exc}", by=by
        )
        raise fail(str(exc), 1) from None
    finally:
        subscriptions.client.close()
    svc.record_activity(
        company, INTEGRATION, Action.WEBHOOK_SUBSCRIPTION, Status.SUCCESS, f"{verb}: {_summary(changes)}", by=by
    )
    return changes


def _summary(changes: list[SubscriptionChange]) -> str:
    return ", ".join(f"{c.webhook_type} {c.outcome}" for c in changes)


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
    allow_unsigned: bool = typer.Option(
        False, "--allow-unsigned", help="Subscribe without a webhook_signing_key (the hub's receiver refuses these)."
    ),
    by: str | None = AS_OPTION,
    json_output: bool = JSON_OPTION,
) -> None:
    """Point the account's webhook subscriptions at the hub's receiver for this company."""
    if not receiver_url.startswith(("https://", "http://")):
        raise ValidationError("--receiver-url must be an https:// URL (Karbon refuses plain http targets)")
    target = f"{receiver_url.rstrip('/')}/webhooks/karbon/{company}"
    chosen = _types(types)
    signed: list[bool] = []

    def step(webhook_type: str) -> Step:
        def run(subs: WebhookSubscriptions, key: str | None) -> SubscriptionChange:
            signed.append(bool(key))
            return subs.ensure(webhook_type, target, key, replace=replace)

        return run

    changes = _apply(
        company, performer(by), f"subscribe {target}", [step(t) for t in chosen], needs_signing_key=not allow_unsigned
    )
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
    changes = _apply(company, performer(by), "unsubscribe", [lambda subs, _key, t=t: subs.remove(t) for t in chosen])
    _show(changes, json_output)
