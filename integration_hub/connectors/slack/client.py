"""Calls to Slack's Web API: one method, one answer, Slack's ``ok``/``error`` turned into the hub's errors.

Slack answers almost everything with HTTP 200 and ``{"ok": false, "error": "<code>"}``, so the transport's
status-based checks see a success; :meth:`SlackClient.call` reads the body and raises instead. Rate limiting
is the exception: HTTP 429 + ``Retry-After`` (+ ``"error": "ratelimited"``), which
:class:`~integration_hub.connectors.http.HttpTransport` waits out exactly, so nothing above it ever sees it.

The token travels only in ``Authorization: Bearer`` (Slack's recommendation; a JSON body cannot carry it and a
URL would land in proxy logs). No message this module builds contains the token: errors name the method,
Slack's error code and the channel, never the request.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import httpx

from integration_hub.connectors.base import (
    AuthenticationError,
    CollectStats,
    ConfigurationError,
    ProviderError,
)
from integration_hub.connectors.http import (
    HttpTransport,
    RetryPolicy,
    TokenBucket,
    checked_service_url,
    expect_json,
    shared_bucket,
)
from integration_hub.connectors.slack.settings import (
    AUTH_ERRORS,
    CHANNEL_ERRORS,
    DEFAULT_BASE_URL,
    DEFAULT_REQUESTS_PER_MINUTE,
    TIMEOUT_SECONDS,
)

PROVIDER = "Slack"
AUTH_HELP = (
    "Slack rejected the access_token ({code}): reconnect with the app's current bot token "
    "(xoxb-..., from the app's OAuth & Permissions page)"
)
log = logging.getLogger(__name__)


class SlackAnswerError(ProviderError):
    """Slack said ``ok: false`` with a code the caller may want to tell apart (``missing_scope``...)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def _code(value: Any) -> str:
    """Slack's error code, kept to its documented shape (lower-case words) so nothing else reaches a message."""
    text = str(value or "unknown_error")
    return text if text.replace("_", "").isalnum() and len(text) <= 64 else "unknown_error"


class SlackClient:
    """Authenticated, rate-limited calls of Web API methods for one bot token."""

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        requests_per_minute: float = DEFAULT_REQUESTS_PER_MINUTE,
        stats: CollectStats | None = None,
        retry: RetryPolicy | None = None,
        bucket: TokenBucket | None = None,
    ) -> None:
        self.base_url = checked_service_url(base_url, PROVIDER) + "/"
        self.stats = stats if stats is not None else CollectStats()
        client = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=TIMEOUT_SECONDS,
        )
        self.http = HttpTransport(
            client=client,
            stats=self.stats,
            bucket=bucket or shared_bucket("slack", token, requests_per_minute),
            retry=retry or RetryPolicy(),
            provider=PROVIDER,
            is_auth_failure=lambda r: r.status_code == 401,
            auth_message=lambda r: AUTH_HELP.format(code=f"HTTP {r.status_code}"),
        )

    def call(
        self,
        method: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        channel: str | None = None,
    ) -> dict[str, Any]:
        """Call ``method`` (GET with ``query``, or POST with a JSON ``body``) and return Slack's ``ok`` answer.

        ``channel`` is only used to name the channel in a channel error. A 5xx or a dropped connection is
        retried by the transport (at-least-once: an alert lost is worse than one shown twice).
        """
        if body is None:
            response = self.http.request("GET", method, params=dict(query or {}))
        else:
            response = self.http.request(
                "POST", method, json=dict(body), headers={"Content-Type": "application/json; charset=utf-8"}
            )
        answer = expect_json(response, PROVIDER)
        if not isinstance(answer, dict) or "ok" not in answer:
            raise ProviderError(f"{PROVIDER}: {method} answered HTTP {response.status_code} without an 'ok' field")
        if answer["ok"] is True:
            warning = answer.get("warning")
            if warning:
                log.info("%s: %s warned: %s", PROVIDER, method, _code(warning))
            return answer
        code = _code(answer.get("error"))
        if code in AUTH_ERRORS:
            raise AuthenticationError(AUTH_HELP.format(code=code))
        if code in CHANNEL_ERRORS:
            raise ConfigurationError(f"{PROVIDER}: channel '{channel or '?'}' {CHANNEL_ERRORS[code]} ({code})")
        detail = ""
        needed = str(answer.get("needed") or "")
        if code == "missing_scope" and re.fullmatch(r"[a-z0-9_.:,]{1,200}", needed):
            detail = f" (the token needs {needed})"
        raise SlackAnswerError(f"{PROVIDER}: {method} failed: {code}{detail}", code)

    def close(self) -> None:
        self.http.close()
