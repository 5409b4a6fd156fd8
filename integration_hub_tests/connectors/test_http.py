"""The shared HTTP layer against a real loopback server: rate limits, Retry-After, retries, auth."""

from __future__ import annotations

import logging
import threading
import time

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from integration_hub.connectors.base import AuthenticationError, CollectStats, ConfigurationError, TransientError
from integration_hub.connectors.http import (
    HttpTransport,
    RetryPolicy,
    TokenBucket,
    checked_service_url,
    parse_retry_after,
)
from integration_hub.simulators.server import running


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_token_bucket_spaces_requests_at_the_configured_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(120, 60, clock=clock, sleep=clock.sleep)
    for _ in range(11):
        bucket.acquire()
    # 1 token up front, then one every 0.5 s: 10 more tokens take 5 s.
    assert clock.now == pytest.approx(5.0)


def test_token_bucket_pause_blocks_for_retry_after() -> None:
    clock = FakeClock()
    bucket = TokenBucket(2, 1, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    bucket.pause_for(10)
    bucket.acquire()
    assert clock.now >= 10.0


def test_parse_retry_after_variants() -> None:
    assert parse_retry_after("10") == 10.0
    assert parse_retry_after(None, default=3) == 3
    assert parse_retry_after("garbage", default=2) == 2
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


@pytest.fixture()
def flaky_server():
    state = {"calls": 0, "mode": "ok"}
    lock = threading.Lock()

    async def endpoint(request: Request) -> Response:
        with lock:
            state["calls"] += 1
            calls = state["calls"]
        mode = state["mode"]
        if mode == "429-once" and calls == 1:
            return JSONResponse({"statusCode": "429"}, status_code=429, headers={"Retry-After": "1"})
        if mode == "500-twice" and calls <= 2:
            return JSONResponse({"error": "boom"}, status_code=503)
        if mode == "always-500":
            return JSONResponse({"error": "boom"}, status_code=500)
        if mode == "401":
            return JSONResponse({"statusCode": "401"}, status_code=401)
        return JSONResponse({"ok": True, "calls": calls})

    app = Starlette(routes=[Route("/x", endpoint)])
    with running(app) as base:
        yield base, state


def _transport(base: str, sleeps: list[float]) -> HttpTransport:
    return HttpTransport(
        client=httpx.Client(base_url=base),
        stats=CollectStats(),
        retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02),
        provider="test",
        sleep=sleeps.append,
    )


def test_429_waits_exactly_retry_after_then_succeeds(flaky_server) -> None:
    base, state = flaky_server
    state["mode"] = "429-once"
    sleeps: list[float] = []
    transport = _transport(base, sleeps)
    response = transport.request("GET", "/x")
    assert response.json()["calls"] == 2
    assert sleeps == [1.0]
    assert transport.stats.rate_limited == 1
    assert transport.stats.requests == 2


def test_5xx_retried_with_bounded_backoff(flaky_server) -> None:
    base, state = flaky_server
    state["mode"] = "500-twice"
    sleeps: list[float] = []
    transport = _transport(base, sleeps)
    assert transport.request("GET", "/x").json()["calls"] == 3
    assert transport.stats.retries == 2
    assert all(0 <= s <= 0.02 for s in sleeps)


def test_persistent_5xx_raises_one_line_transient_error(flaky_server) -> None:
    base, state = flaky_server
    state["mode"] = "always-500"
    transport = _transport(base, [])
    with pytest.raises(TransientError) as info:
        transport.request("GET", "/x?token=secret-value")
    assert "secret-value" not in str(info.value)
    assert "\n" not in str(info.value)
    assert state["calls"] == 3


def test_auth_failure_is_not_retried(flaky_server) -> None:
    base, state = flaky_server
    state["mode"] = "401"
    transport = _transport(base, [])
    with pytest.raises(AuthenticationError):
        transport.request("GET", "/x")
    assert state["calls"] == 1


def test_connection_refused_is_transient_and_says_where_and_why(caplog: pytest.LogCaptureFixture) -> None:
    sleeps: list[float] = []
    transport = _transport("http://127.0.0.1:9", sleeps)
    started = time.monotonic()
    caplog.set_level(logging.WARNING, logger="integration_hub.connectors.http")
    with pytest.raises(TransientError) as info:
        transport.request("GET", "/x?token=secret-in-query")
    assert transport.stats.requests == 3
    assert time.monotonic() - started < 5
    assert str(info.value) == "test: GET /x failed after 3 attempts: cannot connect to 127.0.0.1:9 (Connection refused)"
    # Each failed attempt but the last is logged at once, with the same reason, before the wait.
    attempts = [r.getMessage() for r in caplog.records]
    assert len(attempts) == 2
    assert attempts[0].startswith(
        "test: GET /x attempt 1 of 3 failed: cannot connect to 127.0.0.1:9 (Connection refused); retrying in "
    )
    assert "secret-in-query" not in " ".join(attempts) + str(info.value)


def test_an_unknown_host_is_named_with_the_resolver_reason() -> None:
    transport = _transport("http://no-such-host.invalid:8123", [])
    with pytest.raises(TransientError) as info:
        transport.request("GET", "/x")
    assert "cannot connect to no-such-host.invalid:8123 (" in str(info.value)


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://api.karbonhq.com/", "https://api.karbonhq.com"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
        ("http://localhost:8765/Services/Integration", "http://localhost:8765/Services/Integration"),
        ("http://efatura.example.com", None),
        ("ftp://efatura.example.com", None),
        ("not a url", None),
    ],
)
def test_credentials_only_travel_over_https_or_loopback(url, accepted):
    if accepted is None:
        with pytest.raises(ConfigurationError, match=r"base_url must start with https://|is not a URL|has no host"):
            checked_service_url(url, "provider")
    else:
        assert checked_service_url(url, "provider") == accepted


def test_a_refused_url_is_named_without_its_user_info():
    with pytest.raises(ConfigurationError) as caught:
        checked_service_url("http://acme:s3cret-pw@efatura.example.com/Services", "provider")
    assert "s3cret-pw" not in str(caught.value) and "efatura.example.com/Services" in str(caught.value)
