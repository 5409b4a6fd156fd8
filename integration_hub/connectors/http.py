"""The HTTP layer every connector shares: rate limiting, retries and request accounting.

Kept apart from the provider logic (as in dlt's verified sources) so that a client only says *what* to
ask; this module decides *when* it may be sent and how failures are retried:

* a client-side token bucket per (provider, account) so requests are spread at the provider's allowed
  rate instead of bursting into 429s;
* ``429`` waits exactly ``Retry-After`` seconds (never less, never a guessed backoff) and does not
  count against the error budget;
* ``5xx``, timeouts and connection errors are retried with exponential backoff and full jitter, a
  bounded number of times, then raise :class:`TransientError`;
* anything the caller classifies as an authentication failure raises at once, never retried;
* every attempt is counted in :class:`CollectStats` so runs can report requests, retries and waits.

Error messages name the method, the URL path and the status, never headers or bodies, so secrets
cannot leak through them. A connection that fails names the host:port and the operating system's reason
(``Connection refused``, ``Name or service not known``) at once: each failed attempt is logged on the
``integration_hub.connectors.http`` logger (the CLI prints it, Dagster puts it in the run's log), so a wrong
``base_url`` is visible in the first second, not after the last retry.
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from integration_hub.connectors.base import (
    AuthenticationError,
    CollectStats,
    ConfigurationError,
    ProviderError,
    TransientError,
)

log = logging.getLogger(__name__)
Clock = Callable[[], float]
Sleep = Callable[[float], None]


class TokenBucket:
    """A thread-safe token bucket: ``rate`` tokens per ``per`` seconds, holding at most ``capacity``.

    ``acquire()`` blocks until a token is available and returns how long it waited. The default
    capacity of 1 spaces requests evenly; a larger capacity allows a burst after idle time.
    """

    def __init__(
        self,
        rate: float,
        per: float = 60.0,
        capacity: float = 1.0,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if rate <= 0 or per <= 0 or capacity < 1:
            raise ValueError("rate and per must be positive and capacity at least 1")
        self.fill_rate = rate / per
        self.capacity = float(capacity)
        self._tokens = float(capacity)
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.fill_rate)
        self._updated = now

    def acquire(self) -> float:
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._refill(now)
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return waited
                wait = (1.0 - self._tokens) / self.fill_rate
            self._sleep(wait)
            waited += wait

    def pause_for(self, seconds: float) -> None:
        """Empty the bucket for ``seconds`` (the server said so with ``Retry-After``)."""
        with self._lock:
            self._refill(self._clock())
            self._tokens = min(self._tokens, 0.0) - seconds * self.fill_rate


_BUCKETS: dict[tuple[str, str], TokenBucket] = {}
_BUCKETS_LOCK = threading.Lock()


def shared_bucket(provider: str, account: str, rate: float, per: float = 60.0) -> TokenBucket:
    """The process-wide bucket for one (provider, account): every client of that account shares it.

    ``account`` may be a credential; only its SHA-256 is kept as the key.
    """
    key = (provider, hashlib.sha256(account.encode()).hexdigest())
    with _BUCKETS_LOCK:
        bucket = _BUCKETS.get(key)
        if bucket is None or bucket.fill_rate != rate / per:
            bucket = TokenBucket(rate, per)
            _BUCKETS[key] = bucket
        return bucket


@dataclass(frozen=True)
class RetryPolicy:
    """How transient failures are retried: ``max_attempts`` tries in all, exponential full-jitter waits."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_rate_limit_waits: int = 20
    max_retry_after: float = 600.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(max_delay, base * 2**attempt)] (AWS architecture blog)."""
        return rng.uniform(0, min(self.max_delay, self.base_delay * (2**attempt)))


def parse_retry_after(value: str | None, default: float = 1.0) -> float:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date); ``default`` if absent."""
    if not value:
        return default
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


@dataclass
class HttpTransport:
    """An ``httpx.Client`` wrapped with rate limiting, retries and stats.

    ``is_auth_failure(response)`` decides which responses are credential problems (default: 401/403);
    ``auth_message(response)`` gives the one-line message for them. ``is_retryable(response)`` decides
    which non-429 responses are transient (default: any 5xx); SOAP clients narrow it so that a 500
    carrying a SOAP fault is not retried.
    """

    client: httpx.Client
    stats: CollectStats = field(default_factory=CollectStats)
    bucket: TokenBucket | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    provider: str = "provider"
    is_auth_failure: Callable[[httpx.Response], bool] = lambda r: r.status_code in (401, 403)
    auth_message: Callable[[httpx.Response], str] | None = None
    is_retryable: Callable[[httpx.Response], bool] = lambda r: r.status_code >= 500
    sleep: Sleep = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def request(self, method: str, url: str, *, idempotent: bool = True, **kwargs: Any) -> httpx.Response:
        """Send one logical request; returns a response the caller may use (2xx-4xx but auth).

        ``idempotent=False`` (a create) is sent once: after a timeout or 5xx the server may have acted, so
        resending could act twice; the caller re-reads instead. 429s are still waited out (nothing happened).
        """
        max_attempts = self.retry.max_attempts if idempotent else 1
        errors = 0
        rate_limit_waits = 0
        while True:
            if self.bucket is not None:
                self.stats.waited_seconds += self.bucket.acquire()
            self.stats.requests += 1
            try:
                response = self.client.request(method, url, **kwargs)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                errors += 1
                reason = transport_failure(exc, url)
                if errors >= max_attempts:
                    raise TransientError(
                        f"{self.provider}: {method} {_path(url)} failed after {errors} attempts: {reason}"
                    ) from None
                wait = self._backoff(errors)
                log.warning(
                    "%s: %s %s attempt %d of %d failed: %s; retrying in %.1f s",
                    self.provider,
                    method,
                    _path(url),
                    errors,
                    max_attempts,
                    reason,
                    wait,
                )
                continue

            if response.status_code == 429:
                self.stats.rate_limited += 1
                rate_limit_waits += 1
                if rate_limit_waits > self.retry.max_rate_limit_waits:
                    raise TransientError(
                        f"{self.provider}: still rate limited after {rate_limit_waits - 1} waits on "
                        f"{method} {_path(url)}"
                    )
                wait = min(parse_retry_after(response.headers.get("Retry-After")), self.retry.max_retry_after)
                if self.bucket is not None:
                    self.bucket.pause_for(wait)
                else:
                    self.sleep(wait)
                    self.stats.waited_seconds += wait
                self.stats.retries += 1
                continue

            if self.is_auth_failure(response):
                message = (
                    self.auth_message(response)
                    if self.auth_message
                    else f"{self.provider}: the provider rejected the credentials (HTTP {response.status_code})"
                )
                raise AuthenticationError(message)

            if self.is_retryable(response):
                errors += 1
                if errors >= max_attempts:
                    raise TransientError(
                        f"{self.provider}: {method} {_path(url)} answered HTTP {response.status_code} "
                        f"{errors} times; giving up"
                    )
                self._backoff(errors)
                continue
            return response

    def _backoff(self, attempt: int) -> float:
        self.stats.retries += 1
        wait = self.retry.backoff(attempt, self.rng)
        self.stats.waited_seconds += wait
        self.sleep(wait)
        return wait

    def close(self) -> None:
        self.client.close()


def transport_failure(exc: Exception, url: str) -> str:
    """One line for a request that got no answer: what failed, where (host:port) and the OS's reason.

    ``ConnectError`` to ``127.0.0.1:9`` reads "cannot connect to 127.0.0.1:9 (Connection refused)"; the
    errno prefix is dropped and nothing of the path, query or headers is included.
    """
    try:
        parsed = exc.request.url if isinstance(exc, httpx.RequestError) else httpx.URL(url)
    except RuntimeError:  # an error raised before httpx attached the request: a relative url names no host
        parsed = httpx.URL(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    where = f"{parsed.host}:{port}" if parsed.host else "the provider"
    reason = re.sub(r"^\[Errno -?\d+\]\s*", "", str(exc).splitlines()[0] if str(exc) else "").strip()
    if isinstance(exc, httpx.ConnectTimeout):
        return f"no connection to {where} within the timeout" + (f" ({reason})" if reason else "")
    if isinstance(exc, httpx.TimeoutException):
        return f"{where} did not answer within the timeout ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect to {where}" + (f" ({reason})" if reason else "")
    return f"{type(exc).__name__} talking to {where}" + (f" ({reason})" if reason else "")


def _path(url: str) -> str:
    """The path of a URL without its query (queries may carry tokens)."""
    try:
        return httpx.URL(url).path or "/"
    except Exception:
        return "?"


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def checked_service_url(url: str, provider: str) -> str:
    """``url`` without a trailing slash, if credentials may be sent to it.

    Every provider authenticates with secrets in clear inside the request (WS-Security ``#PasswordText``,
    EDM's Login body, Karbon's AccessKey header), so only ``https://`` is accepted — except for loopback
    hosts, where the simulators and local tunnels live.
    """
    try:
        parsed = httpx.URL(url)
    except Exception:
        raise ConfigurationError(f"{provider}: base_url is not a URL") from None
    shown = str(parsed.copy_with(userinfo=b""))  # a user:password@ part never reaches a message
    if parsed.scheme == "https" or (parsed.scheme == "http" and parsed.host in LOOPBACK_HOSTS):
        if not parsed.host:
            raise ConfigurationError(f"{provider}: base_url '{shown}' has no host")
        return url.rstrip("/")
    raise ConfigurationError(
        f"{provider}: base_url must start with https:// (plain http:// only to 127.0.0.1/localhost), got '{shown}'"
    )


def expect_json(response: httpx.Response, provider: str) -> Any:
    """Decode a JSON body or raise :class:`ProviderError` with one clear line."""
    try:
        return response.json()
    except ValueError:
        raise ProviderError(
            f"{provider}: expected JSON from {_path(str(response.request.url))}, "
            f"got {response.headers.get('content-type', 'no content type')} (HTTP {response.status_code})"
        ) from None
