"""The Karbon simulator's HTTP surface: a Starlette app that behaves like ``api.karbonhq.com/v3``.

What it reproduces (karbon.md §10, the simulator checklist): dual-header auth (``Authorization:
Bearer <Application ID>`` + ``AccessKey: <JWT>``; missing, wrong or swapped → 401), list envelopes
with ``@odata.context``/``@odata.count``/``value`` and an absolute ``@odata.nextLink`` only while rows
remain, per-endpoint page maxima and ``$top`` limit errors, the OData whitelists and their 400
messages, 404 shapes, the rate limit per (application, account) with ``429`` + ``Retry-After``, gzip,
webhook subscriptions and signed webhook delivery, plus fault injection for tests (``fail_next``,
``fail_rate``, ``slow``). Every request is logged so tests can count what a client spent.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import math
import random
import re
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

import httpx
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from integration_hub.simulators.karbon.contract import Contract, Violation, karbon_contract
from integration_hub.simulators.karbon.data import Firm, generate_firm
from integration_hub.simulators.karbon.endpoints import LIST_ENDPOINTS, ListEndpoint
from integration_hub.simulators.karbon.odata import (
    ODataError,
    option_not_allowed,
    parse_filter,
    parse_orderby,
    sort_items,
)

# The option names Karbon's "Query option '<Option Name>' is not allowed" 400 uses
# (KarbonAPI.json#/components/examples/Unsupported_option; the spellings are ASP.NET OData's, inferred).
QUERY_OPTION_NAMES = {
    "$filter": "Filter",
    "$orderby": "OrderBy",
    "$top": "Top",
    "$skip": "Skip",
    "$count": "Count",
    "$expand": "Expand",
    "$select": "Select",
    "$apply": "Apply",
    "$search": "Search",
    "$format": "Format",
    "$skiptoken": "SkipToken",
}
# KarbonAPI.json#/paths/~1v3~1WebhookSubscriptions~1{WebhookType}/get path enum; POST's enum omits CustomField.
WEBHOOK_TYPES = ("Contact", "Work", "Note", "User", "IntegrationTask", "Invoice", "EstimateSummary", "CustomField")
# KarbonAPI.json#/paths/~1v3~1WebhookSubscriptions/post SigningKey: minLength 16, pattern ^[A-Za-z0-9-_]+$.
SIGNING_KEY = re.compile(r"^[A-Za-z0-9_-]{16,}$")
# IndividualTimeEntryKey: 32-hex GUID (KarbonAPI.json#/components/examples/IndividualTimeEntry_Invalid_Key_400).
GUID_HEX = re.compile(r"^[0-9a-fA-F]{32}$")


@dataclass
class LoggedRequest:
    firm: str | None
    method: str
    path: str
    query: dict[str, str]
    status: int


@dataclass
class SimulatorConfig:
    seed: int = 7
    companies: int = 2
    days: int = 120
    end: date | None = None  # exclusive; default today (UTC)
    rate_limit: int = 120  # requests per window per (application, account)
    rate_window: float = 60.0
    top_mode: str = "strict"  # strict: $top over the maximum is a 400 (spec); cap: silently capped (docs)
    fail_rate: float = 0.0
    slow: float = 0.0
    allow_http_targets: bool = False  # webhook TargetUrl must be https:// on Karbon; loopback demos need http
    credentials: tuple[tuple[str, str], ...] = ()  # extra (application_id, access_key) pairs for the first firm
    contract: bool = True  # check every request against KarbonAPI.json (needs openapi-core and shared/)
    validate_responses: bool = False  # also check every answer against its documented response (tests)


@dataclass
class KarbonSimulator:
    """The simulator's state: firms, credentials, rate-limit windows, subscriptions and the request log."""

    config: SimulatorConfig = field(default_factory=SimulatorConfig)
    firms: list[Firm] = field(init=False)
    log: list[LoggedRequest] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)  # every contract breach seen, request or answer

    def __post_init__(self) -> None:
        self.contract: Contract | None = karbon_contract() if self.config.contract else None
        end = self.config.end or datetime.now(UTC).date()
        self.firms = [
            generate_firm(self.config.seed, index, days=self.config.days, end=end)
            for index in range(self.config.companies)
        ]
        self._credentials: dict[tuple[str, str], Firm] = {(f.application_id, f.access_key): f for f in self.firms}
        for application_id, access_key in self.config.credentials:
            self._credentials[(application_id, access_key)] = self.firms[0]
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self._failures: deque[int] = deque()
        self._targeted: list[tuple[str, str, int]] = []
        self._lock = threading.Lock()
        self._rng = random.Random(self.config.seed)
        self.subscriptions: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}

    # --- test knobs -------------------------------------------------------------------------------
    def fail_next(self, count: int, status: int = 503) -> None:
        """Answer the next ``count`` authenticated requests with ``status`` (a transient failure)."""
        with self._lock:
            self._failures.extend([status] * count)

    def fail_when(self, method: str, path: str, status: int = 503, count: int = 1) -> None:
        """Answer the next ``count`` requests of ``method`` on ``path`` with ``status``."""
        with self._lock:
            self._targeted.extend([(method.upper(), path, status)] * count)

    def requests_to(self, entity_path: str, firm: str | None = None) -> list[LoggedRequest]:
        """Logged requests whose path starts with ``/v3/<entity_path>``."""
        prefix = f"/v3/{entity_path}"
        return [r for r in self.log if r.path.startswith(prefix) and (firm is None or r.firm == firm)]

    def credential_lines(self) -> Iterable[str]:
        for firm in self.firms:
            yield f"firm={firm.slug} application_id={firm.application_id} access_key={firm.access_key}"

    # --- request pipeline -------------------------------------------------------------------------
    def authenticate(self, request: Request) -> Firm | None:
        authorization = request.headers.get("Authorization", "")
        access_key = request.headers.get("AccessKey", "")
        token = authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""
        return self._credentials.get((token, access_key.strip()))

    def admit(self, firm: Firm, request: Request) -> int | None:
        """Count the request against its (application, account) window; seconds to wait if over the limit."""
        key = (request.headers.get("Authorization", ""), firm.tenant_key)
        now = time.monotonic()
        with self._lock:
            window = self._windows.setdefault(key, deque())
            while window and window[0] <= now - self.config.rate_window:
                window.popleft()
            if len(window) >= self.config.rate_limit:
                return max(1, math.ceil(window[0] + self.config.rate_window - now))
            window.append(now)
            return None

    def injected_failure(self, method: str, path: str) -> int | None:
        with self._lock:
            for index, (rule_method, rule_path, status) in enumerate(self._targeted):
                if rule_method == method and rule_path == path:
                    del self._targeted[index]
                    return status
            if self._failures:
                return self._failures.popleft()
            if self.config.fail_rate and self._rng.random() < self.config.fail_rate:
                return 503
        return None

    def deliver(self, firm_slug: str, webhook_type: str, payload: dict[str, Any]) -> int | None:
        """POST one webhook notification to every subscription of ``webhook_type`` (signed when keyed)."""
        status = None
        for (slug, _application), subscriptions in self.subscriptions.items():
            subscription = subscriptions.get(webhook_type)
            if slug != firm_slug or subscription is None:
                continue
            body = json.dumps(payload).encode()
            headers = {"Content-Type": "application/json"}
            if subscription.get("SigningKey"):
                headers["Signature"] = hmac.new(subscription["SigningKey"].encode(), body, hashlib.sha256).hexdigest()
            status = httpx.post(subscription["TargetUrl"], content=body, headers=headers, timeout=10).status_code
        return status


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _not_found_route(request: Request) -> JSONResponse:
    return _error(
        404,
        "4002",
        f"No HTTP resource was found that matches the request URI 'https://api.karbonhq.com{request.url.path}'.",
    )


def _context(request: Request, suffix: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/v3/$metadata#{suffix}"


def _int_option(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not raw.isdigit():
        raise ODataError(f"Invalid value '{raw}' for {name} query option found.")
    return int(raw)


def _check_options(request: Request, endpoint: ListEndpoint) -> None:
    for name in request.query_params:
        if not name.startswith("$"):
            continue
        if name not in ("$filter", "$orderby", "$top", "$skip", "$count"):
            raise option_not_allowed(QUERY_OPTION_NAMES.get(name, name.lstrip("$")))
        if name == "$filter" and not endpoint.filterable:
            raise option_not_allowed("Filter")
        if name == "$orderby" and not endpoint.orderable:
            raise option_not_allowed("OrderBy")


def list_response(sim: KarbonSimulator, firm: Firm, endpoint: ListEndpoint, request: Request) -> JSONResponse:
    _check_options(request, endpoint)
    params = request.query_params
    top = _int_option(request, "$top")
    skip = _int_option(request, "$skip") or 0
    if top is not None and top > endpoint.page_max:
        if sim.config.top_mode == "strict":
            raise ODataError(
                f"The limit of '{endpoint.page_max}' for Top query has been exceeded. "
                f"The value from the incoming request is '{top}'."
            )
        top = endpoint.page_max
    size = endpoint.page_max if top is None else top
    rows = endpoint.rows(firm)
    if "$filter" in params:
        predicate = parse_filter(params["$filter"], endpoint.rules)
        rows = [row for row in rows if predicate(row)]
    order = parse_orderby(params["$orderby"], endpoint.rules) if "$orderby" in params else list(endpoint.default_order)
    rows = sort_items(rows, order, endpoint.key, endpoint.rules.date_fields)
    page = rows[skip : skip + size]
    suffix = endpoint.entity_set + (f"/{endpoint.odata_type}" if endpoint.odata_type else "")
    body: dict[str, Any] = {"@odata.context": _context(request, suffix)}
    if not endpoint.count_opt_in or params.get("$count", "").lower() == "true":
        body["@odata.count"] = len(rows)
    body["value"] = [{k: v for k, v in row.items() if k not in endpoint.hidden} for row in page]
    if skip + size < len(rows):
        query = dict(params)
        query["$skip"] = str(skip + size)
        body["@odata.nextLink"] = (
            f"{str(request.base_url).rstrip('/')}{request.url.path}?{urlencode(query, safe='$,:')}"
        )
    return JSONResponse(body)


def _expand(request: Request, allowed: set[str]) -> set[str]:
    raw = request.query_params.get("$expand")
    for name in request.query_params:
        if name.startswith("$") and name != "$expand":
            raise option_not_allowed(QUERY_OPTION_NAMES.get(name, name.lstrip("$")))
    if raw is None:
        return set()
    if not allowed:
        raise option_not_allowed("Expand")
    parts = {part.strip() for part in raw.split(",") if part.strip()}
    unknown = parts - allowed
    if unknown:
        name = sorted(unknown)[0]
        raise ODataError(f"Could not find a property named '{name}' on type 'KarbonService.Entity'.")
    return parts


def _client_detail(request: Request, firm: Firm, key: str, kind: str) -> Response:
    """``GET /v3/Contacts/{key}`` or ``/v3/Organizations/{key}``: the entity DTO with its AccountingDetail."""
    contact = kind == "Contact"
    rows = firm.contacts if contact else firm.organizations
    summary = next((row for row in rows if row[f"{kind}Key"] == key), None)
    if summary is None:
        return _error(404, "4004", f"No {kind} found for provided key")
    expand = _expand(request, {"BusinessCards", "ClientTeam", "ClientAccess" if contact else "Contacts"})
    names = (
        ("FirstName", "LastName", "PreferredName", "Salutation", "ClientOwner", "ClientManager")
        if contact
        else ("FullName",)
    )
    body = {
        "@odata.context": _context(request, f"{kind}s/KarbonService.{kind}DTO/$entity"),
        "@odata.type": f"#KarbonService.{kind}DTO",
        f"{kind}Key": key,
        **{name: summary[name] for name in names},
        "ContactType": summary["ContactType"],
        "UserDefinedIdentifier": summary["UserDefinedIdentifier"],
        "RestrictionLevel": "Public",
        "LastModifiedDateTime": summary["LastModifiedDateTime"],
        "EntityDescription": {"Text": ""},
        "AccountingDetail": firm.accounting[key],
    }
    if "BusinessCards" in expand:
        body["BusinessCards"] = firm.business_cards.get(key, [])
    if "ClientTeam" in expand:
        body["ClientTeam"] = [{"MemberKey": firm.users[0]["Id"], "MemberType": "User", "RoleType": "ClientOwner"}]
    for empty in ("ClientAccess", "Contacts"):
        if empty in expand:
            body[empty] = []
    return JSONResponse(body)


def _invoice(request: Request, firm: Firm, key: str) -> Response:
    invoice = next((i for i in firm.invoices if i["InvoiceKey"] == key), None)
    if invoice is None:
        return _error(404, "4004", f"Invoice with key {key} not found.")
    expand = _expand(request, {"LineItems", "Payments", "Data"})
    body = {"@odata.context": _context(request, "Invoices/$entity"), **invoice}
    if "LineItems" in expand:
        body["LineItems"] = firm.invoice_lines[key]
    if "Payments" in expand:
        body["Payments"] = firm.invoice_payments[key]
    if "Data" in expand:
        body["Data"] = []
    body["InvoiceMagicLink"] = None
    body["InvoicePdfUrl"] = None
    return JSONResponse(body)


def _work_item(request: Request, firm: Firm, key: str) -> Response:
    item = next((w for w in firm.work_items if w["WorkItemKey"] == key), None)
    if item is None:
        return _error(404, "4004", "No Work Item found for provided key")
    _expand(request, set())
    body = {k: v for k, v in item.items() if k != "@odata.type"}
    # Single GETs answer the spec's no-space enum where the list answers 'In Progress' (karbon.md §3.3).
    body["PrimaryStatus"] = item["PrimaryStatus"].replace(" ", "")
    return JSONResponse(
        {
            "@odata.context": _context(request, "WorkItems/KarbonService.WorkItemDTO/$entity"),
            "@odata.type": "#KarbonService.WorkItemDTO",
            **body,
        }
    )


def _time_entry(request: Request, firm: Firm, key: str) -> Response:
    if not GUID_HEX.match(key):
        return _error(400, "4002", "Provided key must be a valid GUID.")
    entry = next((t for t in firm.time_entries if t["IndividualTimeEntryKey"] == key.lower()), None)
    if entry is None:
        return _error(404, "4004", "No Individual Time Entry found for provided key")
    return JSONResponse({"@odata.context": _context(request, "IndividualTimeEntries/$entity"), **entry})


def _file_list(request: Request, firm: Firm, entity_type: str) -> Response:
    if entity_type not in ("WorkItem", "Contact", "Organization"):
        return _error(
            400,
            "4002",
            f"EntityType '{entity_type}' is not supported. Valid values are WorkItem, Contact, Organization.",
        )
    key = request.query_params.get("EntityKey", "")
    if not key:
        return _error(400, "4005", "Required payload data is missing: EntityKey")
    if key not in firm.files:
        return _error(404, "4004", f"No {entity_type} found for provided key")
    return JSONResponse({"EntityKey": key, "EntityType": entity_type, "Attachments": firm.files[key]})


def _custom_field_values(firm: Firm, key: str) -> Response:
    if key not in firm.custom_field_values:
        return _error(404, "4004", "No entity found for provided key")
    return JSONResponse({"EntityKey": key, "CustomFieldValues": firm.custom_field_values[key]})


async def _webhooks(sim: KarbonSimulator, firm: Firm, request: Request, webhook_type: str | None) -> Response:
    bucket = sim.subscriptions.setdefault((firm.slug, request.headers.get("Authorization", "")), {})
    if request.method == "POST" and webhook_type is None:
        try:
            payload = json.loads(await request.body() or b"{}")
        except ValueError:
            return _error(400, "4003", "Invalid Model.")
        target, kind, key = payload.get("TargetUrl"), payload.get("WebhookType"), payload.get("SigningKey")
        if not target or not kind:
            return _error(400, "4005", "Required payload data is missing: TargetUrl, WebhookType")
        if kind not in WEBHOOK_TYPES[:-1]:
            return _error(400, "4003", f"WebhookType must be one of {', '.join(WEBHOOK_TYPES[:-1])}")
        secure = target.startswith("https://")
        loopback = sim.config.allow_http_targets and target.startswith(("http://127.0.0.1", "http://localhost"))
        if not (secure or loopback):
            return _error(400, "4002", "Target URL must begin with https://")
        if key is not None and not SIGNING_KEY.match(str(key)):
            return _error(400, "4003", "SigningKey must be at least 16 characters of A-Z, a-z, 0-9, '-' and '_'.")
        if kind in bucket:
            return _error(400, "4002", f"A webhook subscription for {kind} already exists. Delete it first.")
        bucket[kind] = {"TargetUrl": target, "WebhookType": kind, "SigningKey": key}
        body = {
            "@odata.context": _context(request, "WebhookSubscriptions/$entity"),
            "TargetUrl": target,
            "WebhookType": kind,
        }
        return JSONResponse(
            body, 201, headers={"Location": f"https://api.karbonhq.com/v3/WebhookSubscriptions('{target}')"}
        )
    if request.method == "DELETE" and webhook_type is None:
        bucket.clear()
        return Response(status_code=204)
    if webhook_type not in WEBHOOK_TYPES:
        return _error(
            404,
            "4002",
            f"No Webhook Type found for the provided WebhookType input value : {webhook_type}. "
            "Valid WebhookTypes are Contact, Work, Note",
        )
    subscription = bucket.get(webhook_type)
    if subscription is None:
        return _error(404, "4004", f"No existing webhook subscription for {webhook_type}")
    if request.method == "DELETE":
        del bucket[webhook_type]
        return Response(status_code=204)
    return JSONResponse(
        {
            "@odata.context": _context(request, "WebhookSubscriptions/$entity"),
            "TargetUrl": subscription["TargetUrl"],
            "WebhookType": webhook_type,
        }
    )


async def route(sim: KarbonSimulator, firm: Firm, request: Request) -> Response:
    parts = [p for p in request.url.path.split("/") if p]
    if len(parts) < 2 or parts[0].lower() != "v3":
        return _not_found_route(request)
    name, rest = parts[1], parts[2:]
    if request.method != "GET" and name != "WebhookSubscriptions":
        return _error(405, "4002", f"The requested resource does not support http method '{request.method}'.")
    if name in LIST_ENDPOINTS and not rest:
        return list_response(sim, firm, LIST_ENDPOINTS[name], request)
    if name == "TenantSettings" and not rest:
        return JSONResponse(firm.tenant_settings)
    if name == "WebhookSubscriptions" and len(rest) <= 1:
        return await _webhooks(sim, firm, request, rest[0] if rest else None)
    if len(rest) == 1:
        key = rest[0]
        handlers = {
            "Contacts": lambda: _client_detail(request, firm, key, "Contact"),
            "Organizations": lambda: _client_detail(request, firm, key, "Organization"),
            "Invoices": lambda: _invoice(request, firm, key),
            "WorkItems": lambda: _work_item(request, firm, key),
            "IndividualTimeEntries": lambda: _time_entry(request, firm, key),
            "FileList": lambda: _file_list(request, firm, key),
            "CustomFieldValues": lambda: _custom_field_values(firm, key),
        }
        if name in handlers:
            return handlers[name]()
    return _not_found_route(request)


def _unauthorized(request: Request) -> JSONResponse:
    # KarbonAPI.json#/components/examples/UnauthorizedAccess (the 401 body is nested under "error").
    denied = "Authorization has been denied for this request."
    message = "JWT not present." if not request.headers.get("AccessKey") else denied
    return JSONResponse({"error": {"statusCode": "401", "message": message}}, status_code=401)


def _refusal(request: Request, violations: list[Violation]) -> Response | None:
    """Karbon's answer to a request the contract refuses before any handler runs, if it is that kind.

    Unknown paths answer ``HTTP_Resource_Not_Found``; an undeclared query option the
    ``Unsupported_option`` 400 (KarbonAPI.json#/components/examples); an undeclared plain parameter, an
    unknown method and a body outside its schema (``4003 Invalid Model.``, karbon.md §3.5) are refused too,
    with wording inferred from ASP.NET, so a connector that breaks the contract cannot pass unnoticed.
    Parameter values outside their schema are left to the handlers, whose messages are Karbon's own.
    """
    for violation in violations:
        if violation.kind == "path":
            return _not_found_route(request)
        if violation.kind == "method":
            return _error(405, "4002", f"The requested resource does not support http method '{request.method}'.")
        if violation.kind == "undeclared":
            name = violation.message
            if name in QUERY_OPTION_NAMES:
                return _error(400, "4002", option_not_allowed(QUERY_OPTION_NAMES[name]).message)
            return _error(400, "4002", f"The query parameter '{name}' is not supported.")
        if violation.kind == "body":
            return _error(400, "4003", "Invalid Model.")
    return None


def create_app(sim: KarbonSimulator | None = None) -> Starlette:
    """The ASGI app; ``app.state.sim`` is the :class:`KarbonSimulator` behind it."""
    sim = sim or KarbonSimulator()

    async def answer(firm: Firm | None, request: Request, violations: list[Violation]) -> Response:
        if firm is None or any(v.kind == "security" for v in violations):
            return _unauthorized(request)
        if (wait := sim.admit(firm, request)) is not None:
            return JSONResponse(
                {"statusCode": "429", "message": f"Rate limit is exceeded. Try again in {wait} seconds."},
                status_code=429,
                headers={"Retry-After": str(wait)},
            )
        if (status := sim.injected_failure(request.method, request.url.path)) is not None:
            return _error(status, "5001", "Unexpected Internal Error. Please contact Karbon HQ Technical support.")
        if (refused := _refusal(request, violations)) is not None:
            return refused
        if sim.config.slow:
            await asyncio.sleep(sim.config.slow)
        try:
            response = await route(sim, firm, request)
        except ODataError as exc:
            return _error(exc.status, exc.code, exc.message)
        invalid = [v for v in violations if v.kind != "security"]
        if invalid and response.status_code < 400:
            return _error(400, "4002", invalid[0].message)
        return response

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        violations: list[Violation] = []
        if sim.contract is not None:
            violations = sim.contract.check_request(
                request.method,
                request.url.path,
                request.query_params,
                request.headers,
                body,
                request.headers.get("content-type", "application/json"),
            )
        firm = sim.authenticate(request)
        response = await answer(firm, request, violations)
        if sim.contract is not None and sim.config.validate_responses:
            violations += sim.contract.check_response(
                request.method, request.url.path, response.status_code, bytes(response.body)
            )
        sim.violations += violations
        sim.log.append(
            LoggedRequest(
                firm.slug if firm else None,
                request.method,
                request.url.path,
                dict(request.query_params),
                response.status_code,
            )
        )
        return response

    app = Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])])
    app.add_middleware(GZipMiddleware, minimum_size=512)
    app.state.sim = sim
    return app
