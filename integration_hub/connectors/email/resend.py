"""Alerts through Resend's HTTP API (``POST /emails``), on the shared rate-limited, retrying transport.

What this relies on, from Resend's published reference (resend.com/docs/api-reference and the OpenAPI file
in github.com/resend/resend-openapi, ``resend.yaml``):

* ``Authorization: Bearer re_...``; a missing key is ``401 missing_api_key``, a wrong one ``403
  invalid_api_key``; a sending-only key calling anything but sending gets ``401 restricted_api_key``.
  Errors are ``{"statusCode", "name", "message"}``. Other 403s (``invalid_from_address``, an unverified
  domain, the testing sender writing to strangers) are configuration problems, not bad keys.
* ``POST /emails`` takes ``from``, ``to`` (at most 50), ``subject``, ``html``/``text`` and ``headers`` and
  answers ``200 {"id"}``; validation errors are 400/422.
* ``Idempotency-Key`` (at most 256 characters, kept 24 h): the same key and body answer the first id without
  sending again; the same key with another body is ``409 invalid_idempotent_request``; a key still in flight is
  ``409 concurrent_idempotent_requests`` (retry later). With the key the POST is safe to retry, so the
  transport retries it like a read.
* The rate limit (2 requests per second per team by default) answers ``429 rate_limit_exceeded`` with
  ``retry-after``; ``429 daily_quota_exceeded`` will not heal within a retry and fails at once.

``test_connection`` calls ``GET /domains``: authenticated, sends nothing, and shows whether the sender's domain
is verified. A sending-only key (the least privilege an alerting hub needs) is answered ``restricted_api_key``
there, which still proves Resend knows the key, so it passes with a note.
"""

from __future__ import annotations

from typing import Any

import httpx

from integration_hub.connectors.alerts import Alert, Delivery
from integration_hub.connectors.base import (
    CollectStats,
    ConfigurationError,
    ConnectionTestResult,
    ConnectorConfig,
    ConnectorError,
    ProviderError,
    TransientError,
)
from integration_hub.connectors.email.render import idempotency_key, render, thread_reference
from integration_hub.connectors.email.settings import (
    DEFAULT_RESEND_URL,
    RESEND_MAX_RECIPIENTS,
    TIMEOUT_SECONDS,
    recipients,
    sender,
)
from integration_hub.connectors.http import (
    HttpTransport,
    RetryPolicy,
    TokenBucket,
    checked_service_url,
    shared_bucket,
)

PROVIDER = "Resend"
REQUESTS_PER_MINUTE = 120  # Resend's default: 2 requests per second per team
USER_AGENT = "integration-hub/0.1 (alerts)"  # Resend rejects requests without a User-Agent (403)
# An alert should not sit behind minutes of 429s: a few waits of at most 30 s, then a TransientError.
ALERT_RETRY = RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=8.0, max_rate_limit_waits=6, max_retry_after=30.0)
QUOTA_ERRORS = frozenset({"daily_quota_exceeded", "monthly_quota_exceeded"})


def error_of(response: httpx.Response) -> tuple[str, str]:
    """Resend's ``(name, message)`` from an error body; ``("", "")`` when the body is not Resend's shape."""
    try:
        body = response.json()
    except ValueError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("name") or ""), " ".join(str(body.get("message") or "").split())


def _is_auth_failure(response: httpx.Response) -> bool:
    name, _ = error_of(response)
    if response.status_code == 401:
        return name != "restricted_api_key"
    return response.status_code == 403 and name == "invalid_api_key"


def _auth_message(response: httpx.Response) -> str:
    name, _ = error_of(response)
    return (
        f"{PROVIDER} rejected the API key (HTTP {response.status_code} {name or 'unauthorized'}): "
        "check api_key (it starts with 're_' and must not be revoked)"
    )


def _is_retryable(response: httpx.Response) -> bool:
    if response.status_code >= 500:
        return True
    return response.status_code == 409 and error_of(response)[0] == "concurrent_idempotent_requests"


def _quota_guard(response: httpx.Response) -> None:
    """Fail at once on a used-up quota: waiting out ``retry-after`` would hold the alert for hours."""
    if response.status_code != 429:
        return
    response.read()
    name, _ = error_of(response)
    if name in QUOTA_ERRORS:
        period = name.split("_")[0]
        raise TransientError(f"{PROVIDER}: the {period} sending quota is used up (429 {name}); no e-mail was sent")


class ResendChannel:
    """One Resend API key and its recipients."""

    def __init__(
        self,
        config: ConnectorConfig,
        *,
        retry: RetryPolicy | None = None,
        bucket: TokenBucket | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._api_key = config.secret("api_key")
        self.base_url = checked_service_url(str(config.setting("base_url", DEFAULT_RESEND_URL)), PROVIDER)
        self.sender = sender(config)
        self.recipients = recipients(config)
        if len(self.recipients) > RESEND_MAX_RECIPIENTS:
            raise ConfigurationError(
                f"{PROVIDER}: takes at most {RESEND_MAX_RECIPIENTS} recipients per e-mail, "
                f"to_emails has {len(self.recipients)}"
            )
        self.stats = CollectStats()
        client = httpx.Client(
            base_url=self.base_url,
            headers={
                "Authorization": f"Bearer {self._api_key}",
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
            },
            timeout=TIMEOUT_SECONDS,
            transport=transport,
            event_hooks={"response": [_quota_guard]},
        )
        self.http = HttpTransport(
            client=client,
            stats=self.stats,
            bucket=bucket or shared_bucket("resend", self._api_key, REQUESTS_PER_MINUTE),
            retry=retry or ALERT_RETRY,
            provider=PROVIDER,
            is_auth_failure=_is_auth_failure,
            auth_message=_auth_message,
            is_retryable=_is_retryable,
        )

    def _hide(self, text: str) -> str:
        return text.replace(self._api_key, "***")

    def _refusal(self, response: httpx.Response, what: str) -> ConnectorError:
        name, message = error_of(response)
        detail = self._hide(
            f"HTTP {response.status_code} {name}: {message}" if name else f"HTTP {response.status_code}"
        )
        if response.status_code == 409 and name == "invalid_idempotent_request":
            return ProviderError(
                f"{PROVIDER}: an e-mail for this incident and kind was already sent with other content in the "
                f"last 24 h ({detail}); not sent again"
            )
        if response.status_code in (400, 403, 422):
            return ConfigurationError(f"{PROVIDER} refused {what} ({detail}); check from_email and to_emails")
        return ProviderError(f"{PROVIDER}: {what} answered {detail}")

    def body(self, alert: Alert) -> dict[str, Any]:
        """The ``SendEmailRequest`` for ``alert``."""
        rendered = render(alert)
        headers = {**rendered.headers, "References": thread_reference(alert, self.sender.rpartition("@")[2])}
        return {
            "from": self.sender,
            "to": list(self.recipients),
            "subject": rendered.subject,
            "html": rendered.html,
            "text": rendered.text,
            "headers": headers,
        }

    def send(self, alert: Alert) -> Delivery:
        response = self.http.request(
            "POST", "/emails", json=self.body(alert), headers={"Idempotency-Key": idempotency_key(alert)}
        )
        if response.status_code != 200:
            raise self._refusal(response, "the e-mail")
        try:
            email_id = response.json().get("id")
        except (ValueError, AttributeError):
            email_id = None
        if not email_id:
            raise ProviderError(f"{PROVIDER}: POST /emails answered 200 without an e-mail id")
        return Delivery(channel="email", message_id=str(email_id))

    def test_connection(self) -> ConnectionTestResult:
        """``GET /domains``: the key is accepted and the sender's domain is verified; nothing is sent."""
        domain = self.sender.rpartition("@")[2].lower()
        try:
            response = self.http.request("GET", "/domains")
        except ConnectorError as exc:
            return ConnectionTestResult(False, str(exc))
        name, _ = error_of(response)
        if response.status_code == 401 and name == "restricted_api_key":
            return ConnectionTestResult(
                True,
                f"{PROVIDER} accepted the sending-only API key (so the domain {domain} could not be checked); "
                "no e-mail was sent",
            )
        if response.status_code != 200:
            return ConnectionTestResult(False, str(self._refusal(response, "GET /domains")))
        try:
            listed = response.json().get("data") or []
        except (ValueError, AttributeError):
            return ConnectionTestResult(False, f"{PROVIDER}: GET /domains answered no domain list")
        status = {str(d.get("name", "")).lower(): str(d.get("status", "")) for d in listed if isinstance(d, dict)}
        if domain not in status:
            return ConnectionTestResult(
                False,
                f"{PROVIDER} accepted the API key, but {domain} (from_email) is not one of its domains: add and "
                "verify it in Resend",
            )
        if status[domain] != "verified":
            return ConnectionTestResult(
                False, f"{PROVIDER} accepted the API key, but the domain {domain} is {status[domain]}, not verified"
            )
        return ConnectionTestResult(
            True, f"{PROVIDER} accepted the API key and the domain {domain} is verified; no e-mail was sent"
        )

    def close(self) -> None:
        self.http.close()
