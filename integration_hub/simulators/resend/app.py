"""The Resend simulator's state and HTTP surface: a Starlette app behaving like ``api.resend.com``.

Written from Resend's API reference (resend.com/docs/api-reference: introduction, errors, rate-limit,
dashboard/emails/idempotency-keys) and its OpenAPI file (github.com/resend/resend-openapi ``resend.yaml``):

* Bearer API keys: none -> ``401 missing_api_key``; unknown -> ``403 invalid_api_key``; a *sending-only* key on
  anything but ``POST /emails`` -> ``401 restricted_api_key``. A request without ``User-Agent`` -> ``403`` (the
  docs' "error 1010").
* ``POST /emails`` validated as ``SendEmailRequest`` (:mod:`.validation`); the sender's domain must be one of
  the team's verified domains (``403 validation_error`` otherwise); answers ``200 {"id"}``.
* ``Idempotency-Key`` (1-256 characters, ``400 invalid_idempotency_key`` otherwise) kept 24 h: same key and
  body answer the first id and send nothing; another body -> ``409 invalid_idempotent_request``.
* Rate limit per team (default 2 requests per second): every answer carries ``ratelimit-limit``,
  ``ratelimit-remaining`` and ``ratelimit-reset``; over it -> ``429 rate_limit_exceeded`` plus ``retry-after``.
  A daily quota, when set, answers ``429 daily_quota_exceeded``.
* ``GET /domains`` (``limit`` 1-100) lists the team's domains as ``{"object": "list", "has_more", "data"}``.
* Unknown paths ``404 not_found``, wrong methods ``405 method_not_allowed``.

Tests read what was accepted from :attr:`ResendSimulator.emails` and every request from
:attr:`ResendSimulator.requests`, and inject faults with :meth:`ResendSimulator.rate_limit_next` and
:meth:`ResendSimulator.fail_next`.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from integration_hub.simulators.resend.validation import ApiError, check_send_request

IDEMPOTENCY_TTL = 24 * 3600.0


@dataclass(frozen=True)
class Domain:
    name: str
    status: str = "verified"  # pending | verified | failed | not_started | partially_verified | partially_failed
    region: str = "us-east-1"
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00"))


@dataclass(frozen=True)
class SentEmail:
    id: str
    body: dict[str, Any]
    idempotency_key: str | None
    received_at: float


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    status: int
    idempotency_key: str | None


@dataclass
class SimulatorConfig:
    api_key: str = field(default_factory=lambda: "re_" + secrets.token_urlsafe(24))
    sending_key: str = field(default_factory=lambda: "re_" + secrets.token_urlsafe(24))
    domains: tuple[Domain, ...] = (Domain("alerts.example"),)
    rate_limit: int = 2  # requests per second per team (Resend's default)
    daily_quota: int | None = None  # e-mails per day; None = unlimited


class ResendSimulator:
    """One Resend team: its keys, domains, sent e-mails, idempotency keys and rate-limit window."""

    def __init__(self, config: SimulatorConfig | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config or SimulatorConfig()
        self.emails: list[SentEmail] = []
        self.requests: list[LoggedRequest] = []
        self._clock = clock
        self._lock = threading.Lock()
        self._window: deque[float] = deque()
        self._idempotency: dict[str, tuple[str, str, float]] = {}  # key -> (body digest, email id, stored at)
        self._forced_429: deque[float] = deque()
        self._failures: deque[int] = deque()

    # --- test knobs -------------------------------------------------------------------------------
    def rate_limit_next(self, count: int, retry_after: float = 1.0) -> None:
        """Answer the next ``count`` authenticated requests ``429 rate_limit_exceeded`` with ``retry-after``."""
        with self._lock:
            self._forced_429.extend([retry_after] * count)

    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next ``count`` authenticated requests with ``status`` (``application_error``)."""
        with self._lock:
            self._failures.extend([status] * count)

    def credential_lines(self) -> list[str]:
        return [
            f"api_key={self.config.api_key} (full access)",
            f"api_key={self.config.sending_key} (sending access only)",
        ]

    # --- request handling -------------------------------------------------------------------------
    def _rate_headers(self, now: float) -> dict[str, str]:
        limit = self.config.rate_limit
        while self._window and now - self._window[0] >= 1.0:
            self._window.popleft()
        reset = 1.0 - (now - self._window[0]) if self._window else 1.0
        return {
            "ratelimit-limit": str(limit),
            "ratelimit-remaining": str(max(0, limit - len(self._window))),
            "ratelimit-reset": str(max(1, math.ceil(reset))),
        }

    def _authenticate(self, request: Request) -> str:
        """The key's access (``full`` or ``sending``) or an :class:`ApiError`."""
        if not request.headers.get("user-agent"):
            raise ApiError(403, "", "error code: 1010")
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "missing_api_key", "Missing API key in the authorization header")
        token = token.strip()
        if secrets.compare_digest(token, self.config.api_key):
            return "full"
        if secrets.compare_digest(token, self.config.sending_key):
            return "sending"
        raise ApiError(403, "invalid_api_key", "API key is invalid")

    def _throttle(self, now: float) -> dict[str, str] | None:
        """Count the request in the window; the 429 headers if it is over the limit (or forced to be)."""
        if self._forced_429:
            wait = self._forced_429.popleft()
            return {**self._rate_headers(now), "ratelimit-remaining": "0", "retry-after": f"{wait:g}"}
        headers = self._rate_headers(now)
        if len(self._window) >= self.config.rate_limit:
            wait = max(1, math.ceil(1.0 - (now - self._window[0])))
            return {**headers, "retry-after": str(wait)}
        self._window.append(now)
        return None

    def handle(self, method: str, path: str, access: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        """Route one authenticated, not-throttled request; returns ``(status, json)`` or raises ApiError."""
        if self._failures:
            status = self._failures.popleft()
            raise ApiError(status, "application_error", "An unexpected error occurred.")
        if path == "/emails" and method == "POST":
            return self._send(body, headers.get("idempotency-key"))
        if access != "full":
            raise ApiError(401, "restricted_api_key", "This API key is restricted to only send emails")
        if path == "/domains":
            if method != "GET":
                raise ApiError(405, "method_not_allowed", "Method is not allowed for the requested path.")
            return self._domains(headers.get("query-limit"))
        if path == "/emails":
            if method != "GET":
                raise ApiError(405, "method_not_allowed", "Method is not allowed for the requested path.")
            listed = [self._retrieve(email.id)[1] for email in reversed(self.emails)]
            return 200, {"object": "list", "has_more": False, "data": listed}
        if path.startswith("/emails/") and method == "GET":
            return self._retrieve(path.removeprefix("/emails/"))
        raise ApiError(404, "not_found", "The requested endpoint does not exist.")

    def _send(self, raw: bytes, key: str | None) -> tuple[int, Any]:
        if key is not None and not 1 <= len(key) <= 256:
            raise ApiError(400, "invalid_idempotency_key", "The key must be between 1-256 chars.")
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            raise ApiError(400, "validation_error", "The request body is not valid JSON.") from None
        addresses = check_send_request(body)
        domain = addresses["from"][0].rpartition("@")[2].lower()
        verified = {d.name.lower() for d in self.config.domains if d.status == "verified"}
        if domain not in verified:
            raise ApiError(
                403,
                "validation_error",
                f"The {domain} domain is not verified. Please, add and verify your domain on https://resend.com/domains",
            )
        now = self._clock()
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        if key is not None:
            stored = self._idempotency.get(key)
            if stored and now - stored[2] < IDEMPOTENCY_TTL:
                if stored[0] != digest:
                    raise ApiError(
                        409, "invalid_idempotent_request", "Same idempotency key used with a different request payload."
                    )
                return 200, {"id": stored[1]}
        if self.config.daily_quota is not None:
            today = [e for e in self.emails if now - e.received_at < 24 * 3600]
            if len(today) >= self.config.daily_quota:
                raise ApiError(429, "daily_quota_exceeded", "You have reached your daily email sending quota.")
        email_id = str(uuid.uuid4())
        self.emails.append(SentEmail(email_id, body, key, now))
        if key is not None:
            self._idempotency[key] = (digest, email_id, now)
        return 200, {"id": email_id}

    def _domains(self, limit: str | None) -> tuple[int, Any]:
        if limit is not None and (not limit.isdigit() or not 1 <= int(limit) <= 100):
            raise ApiError(422, "validation_error", "The `limit` parameter must be between 1 and 100.")
        shown = list(self.config.domains)[: int(limit) if limit else 100]
        data = [
            {"id": d.id, "name": d.name, "status": d.status, "created_at": d.created_at, "region": d.region}
            for d in shown
        ]
        return 200, {"object": "list", "has_more": len(shown) < len(self.config.domains), "data": data}

    def _retrieve(self, email_id: str) -> tuple[int, Any]:
        for email in self.emails:
            if email.id == email_id:
                to = email.body["to"]
                return 200, {
                    "object": "email",
                    "id": email.id,
                    "from": email.body["from"],
                    "to": [to] if isinstance(to, str) else to,
                    "subject": email.body["subject"],
                    "html": email.body.get("html"),
                    "text": email.body.get("text"),
                    "last_event": "delivered",
                }
        raise ApiError(404, "not_found", "Email not found")


def create_app(sim: ResendSimulator) -> Starlette:
    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        path = "/" + request.path_params.get("path", "").strip("/")
        key = request.headers.get("idempotency-key")
        headers = {"idempotency-key": key} if key is not None else {}
        if "limit" in request.query_params:
            headers["query-limit"] = request.query_params["limit"]
        with sim._lock:
            now = sim._clock()
            rate: dict[str, str] = {}
            try:
                access = sim._authenticate(request)
                throttled = sim._throttle(now)
                if throttled is not None:
                    rate = throttled
                    raise ApiError(
                        429,
                        "rate_limit_exceeded",
                        f"Too many requests. You can only make {sim.config.rate_limit} requests per second. "
                        "See rate limit response headers for more information.",
                    )
                rate = sim._rate_headers(now)
                status, payload = sim.handle(request.method, path, access, raw, headers)
            except ApiError as error:
                status, payload = error.status, error.body()
            sim.requests.append(LoggedRequest(request.method, path, status, key))
        if status == 403 and payload.get("name") == "":
            return PlainTextResponse(payload["message"], status_code=403)
        return JSONResponse(payload, status_code=status, headers=rate)

    methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]
    return Starlette(routes=[Route("/{path:path}", endpoint, methods=methods)])
