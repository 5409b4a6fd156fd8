"""Karbon webhook subscriptions: make the account's subscriptions point at the hub's receiver.

Karbon allows one subscription per webhook type and API application, shows no SigningKey on GET and
asks that an existing one be deleted first (karbon.md §8). :meth:`WebhookSubscriptions.ensure` is
therefore idempotent on the target URL: an identical subscription is left alone (``unchanged``) unless
``replace`` is asked for — the way to roll a new signing key — and a subscription pointing elsewhere is
deleted and recreated (``replaced``). Karbon cancels a subscription after ten failed deliveries, so
running ``ensure`` again is also how a cancelled one comes back (``created``).
"""

from __future__ import annotations

from dataclasses import dataclass

from integration_hub.connectors.base import ProviderError, TransientError
from integration_hub.connectors.karbon.client import KarbonClient, error_message

# The types POST accepts; CustomField is listed by GET/DELETE only.
WEBHOOK_TYPES: tuple[str, ...] = ("Contact", "Work", "Note", "User", "IntegrationTask", "Invoice", "EstimateSummary")


@dataclass(frozen=True)
class SubscriptionChange:
    webhook_type: str
    target_url: str | None
    outcome: str  # created | replaced | unchanged | deleted | absent


class WebhookSubscriptions:
    """Read and change one Karbon account's webhook subscriptions."""

    def __init__(self, client: KarbonClient) -> None:
        self.client = client

    def target_of(self, webhook_type: str) -> str | None:
        """The subscription's TargetUrl, or ``None`` when there is none."""
        body = self.client.get(f"/v3/WebhookSubscriptions/{_checked(webhook_type)}")
        return None if body is None else body.get("TargetUrl")

    def ensure(
        self, webhook_type: str, target_url: str, signing_key: str | None, *, replace: bool = False
    ) -> SubscriptionChange:
        current = self.target_of(webhook_type)
        if current == target_url and not replace:
            return SubscriptionChange(webhook_type, target_url, "unchanged")
        if current is not None:
            self._delete(webhook_type)
        outcome = "created" if current is None else "replaced"
        lost = "" if current is None else f"; the previous subscription to {current} was deleted"
        body = {"TargetUrl": target_url, "WebhookType": webhook_type}
        if signing_key:
            body["SigningKey"] = signing_key
        try:
            response = self.client.send("POST", "/v3/WebhookSubscriptions", body)
        except TransientError as exc:
            # The create may have landed before the failure: look before reporting it lost.
            if self.target_of(webhook_type) == target_url:
                return SubscriptionChange(webhook_type, target_url, outcome)
            raise ProviderError(f"Karbon did not confirm the {webhook_type} subscription ({exc}){lost}") from None
        if response.status_code != 201:
            raise ProviderError(f"Karbon refused the {webhook_type} subscription: {error_message(response)}{lost}")
        return SubscriptionChange(webhook_type, target_url, outcome)

    def remove(self, webhook_type: str) -> SubscriptionChange:
        current = self.target_of(webhook_type)
        if current is None:
            return SubscriptionChange(webhook_type, None, "absent")
        self._delete(webhook_type)
        return SubscriptionChange(webhook_type, current, "deleted")

    def _delete(self, webhook_type: str) -> None:
        response = self.client.send("DELETE", f"/v3/WebhookSubscriptions/{webhook_type}")
        if response.status_code not in (204, 404):
            raise ProviderError(f"Karbon refused to delete the {webhook_type} subscription: {error_message(response)}")


def _checked(webhook_type: str) -> str:
    if webhook_type not in WEBHOOK_TYPES:
        raise ProviderError(f"unknown Karbon webhook type '{webhook_type}' (choose {', '.join(WEBHOOK_TYPES)})")
    return webhook_type
