"""The Karbon HTTP client: both auth headers, the shared rate limiter, OData paging by ``nextLink``.

Every request goes through :class:`~integration_hub.connectors.http.HttpTransport`, so the client
spends at most ``requests_per_minute`` per (API application, account) across every connector of the
process, waits exactly ``Retry-After`` on a 429, retries 5xx and timeouts with jittered backoff, and
counts requests, pages and retries in :class:`~integration_hub.connectors.base.CollectStats`.

Paging follows ``@odata.nextLink`` verbatim (Karbon: "the server may include additional state in the
URL"), but only on the configured host: a link to another origin would carry the credentials away.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from integration_hub.connectors.base import CollectStats, ProviderError
from integration_hub.connectors.http import (
    HttpTransport,
    RetryPolicy,
    TokenBucket,
    checked_service_url,
    expect_json,
    shared_bucket,
)
from integration_hub.connectors.karbon.settings import DEFAULT_BASE_URL, TIMEOUT_SECONDS

PROVIDER = "Karbon"
AUTH_HELP = (
    "Karbon rejected the credentials (HTTP {status}): check application_id (the Bearer GUID) and access_key "
    "(the JWT starting with 'eyJ'); swapping the two is a common cause"
)


@dataclass(frozen=True)
class Page:
    """One page of a list endpoint: its rows and, where the endpoint reports it, the total count."""

    rows: list[dict[str, Any]]
    count: int | None


def error_message(response: httpx.Response) -> str:
    """Karbon's ``{"error": {"code", "message"}}`` or ``{"statusCode", "message"}``, as one line."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    error = body.get("error", body) if isinstance(body, dict) else {}
    if not isinstance(error, dict):
        return f"HTTP {response.status_code}"
    code = error.get("code") or error.get("statusCode") or response.status_code
    return f"{code}: {error.get('message', 'no message')}"


class KarbonClient:
    """Authenticated, rate-limited GETs against one Karbon account."""

    def __init__(
        self,
        application_id: str,
        access_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        requests_per_minute: float = 120,
        stats: CollectStats | None = None,
        retry: RetryPolicy | None = None,
        bucket: TokenBucket | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = httpx.URL(checked_service_url(base_url, PROVIDER))
        self.stats = stats if stats is not None else CollectStats()
        client = httpx.Client(
            base_url=str(self.base_url),
            headers={
                "Authorization": f"Bearer {application_id}",
                "AccessKey": access_key,
                "Accept": "application/json",
                "Accept-Encoding": "gzip",
            },
            timeout=TIMEOUT_SECONDS,
            transport=transport,
        )
        self.http = HttpTransport(
            client=client,
            stats=self.stats,
            bucket=bucket or shared_bucket("karbon", f"{application_id}:{access_key}", requests_per_minute),
            retry=retry or RetryPolicy(),
            provider=PROVIDER,
            is_auth_failure=lambda r: r.status_code == 401,
            auth_message=lambda r: AUTH_HELP.format(status=r.status_code),
        )

    def get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        """GET one resource; 404 returns ``None``, other 4xx raise :class:`ProviderError`."""
        response = self.http.request("GET", path, params=dict(params or {}))
        if response.status_code == 404:
            return None
        return self._json(response, path)

    def send(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> httpx.Response:
        """A write through the same limiter; a POST is never resent (the caller re-reads after a failure)."""
        return self.http.request(
            method, path, idempotent=method != "POST", json=dict(body) if body is not None else None
        )

    def _json(self, response: httpx.Response, what: str) -> Any:
        if response.status_code >= 400:
            raise ProviderError(f"{PROVIDER}: GET {httpx.URL(what).path} answered {error_message(response)}")
        return expect_json(response, PROVIDER)

    def pages(self, path: str, params: Mapping[str, str] | None = None, *, key: str) -> Iterator[Page]:
        """Yield pages of a list endpoint, following ``@odata.nextLink`` until it is absent.

        ``$skip`` paging over live data can repeat a row when another row is inserted ahead of it between
        two pages; rows whose ``key`` field was already yielded by this listing are dropped, so a window
        never holds the same PermaKey twice.
        """
        url: str | None = path
        query: dict[str, str] | None = dict(params or {})
        seen: set[Any] = set()
        visited: set[str] = set()
        while url is not None:
            response = self.http.request("GET", url, params=query)
            body = self._json(response, url)
            rows = body.get("value") if isinstance(body, dict) else None
            if rows is None and isinstance(body, dict):
                rows = body.get("values")  # the spec's Invoices/Payments schemas name the array 'values'
            if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
                raise ProviderError(f"{PROVIDER}: {httpx.URL(str(url)).path} returned no 'value' array of objects")
            self.stats.pages += 1
            fresh = []
            for row in rows:
                if row.get(key) not in seen:
                    seen.add(row.get(key))
                    fresh.append(row)
            link = self._next(body.get("@odata.nextLink"))
            if link is not None and (link in visited or (rows and not fresh)):
                # A server that repeats a page would otherwise be followed forever.
                raise ProviderError(f"{PROVIDER}: paging of {httpx.URL(path).path} made no progress; stopped")
            if link is not None:
                visited.add(link)
            yield Page(fresh, body.get("@odata.count"))
            url, query = link, None

    def _next(self, link: Any) -> str | None:
        if not link:
            return None
        try:
            target = self.base_url.join(str(link))  # also resolves '//host/...' and relative links
        except Exception:
            raise ProviderError(f"{PROVIDER}: @odata.nextLink is not a URL") from None
        if (target.scheme, target.host, target.port) != (self.base_url.scheme, self.base_url.host, self.base_url.port):
            raise ProviderError(f"{PROVIDER}: refused an @odata.nextLink to another host ({target.host})")
        return str(target)

    def rows(self, path: str, params: Mapping[str, str] | None = None, *, key: str) -> Iterator[dict[str, Any]]:
        for page in self.pages(path, params, key=key):
            yield from page.rows

    def close(self) -> None:
        self.http.close()
