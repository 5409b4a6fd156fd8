"""The Karbon webhook receiver: ``POST /webhooks/karbon/{company}``.

Karbon POSTs ``{ResourcePermaKey, ResourceType, ActionType, TimeStamp}`` to the subscription's
TargetUrl; when the subscription has a SigningKey it adds a ``Signature`` header, the hex HMAC-SHA256
of the raw body keyed with the SigningKey. The receiver

* answers 404 for a company without a Karbon connection,
* answers 403 for a connection without a ``webhook_signing_key``: an unsigned delivery cannot be told
  from anyone who can reach the port, so it is never queued as work,
* rejects a missing or wrong signature with 401 (constant-time comparison),
* refuses bodies over 64 KiB and any body it cannot parse (malformed, nested past the parser's depth,
  not UTF-8) with a one-line 4xx,
* stores each distinct delivery once (duplicates answer 200 "duplicate") and answers 2xx quickly —
  Karbon retries non-2xx deliveries and cancels the subscription after ten failures.

It never starts a run itself: the webhook sensor reads the inbox.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from integration_hub.service import ConnectionService
from integration_hub.service.connections import validate_company
from integration_hub.service.errors import ValidationError
from integration_hub.settings import HubSettings
from integration_hub.store import Store
from integration_hub.store import webhooks as inbox

MAX_BODY = 64 * 1024
INTEGRATION = "karbon"


def signature_for(body: bytes, signing_key: str) -> str:
    return hmac.new(signing_key.encode(), body, hashlib.sha256).hexdigest()


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _event_time(payload: dict) -> datetime:
    raw = payload.get("TimeStamp") or payload.get("Timestamp")
    if not raw:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"TimeStamp '{raw}' is not an ISO-8601 date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def create_app(store: Store | None = None) -> Starlette:
    state: dict[str, Store] = {}

    def get_store() -> Store:
        if "store" not in state:
            state["store"] = store or Store.open(HubSettings.from_env())
        return state["store"]

    async def receive(request: Request) -> JSONResponse:
        company = request.path_params["company"]
        try:
            validate_company(company)
        except ValidationError:
            return _error(404, "unknown company")
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_BODY:
            return _error(413, f"body over {MAX_BODY} bytes")
        body = await request.body()
        if len(body) > MAX_BODY:
            return _error(413, f"body over {MAX_BODY} bytes")
        service = ConnectionService(get_store())
        records = service.list(company=company, integration_id=INTEGRATION)
        if not records:
            return _error(404, "unknown company")
        signing_key = service.connector_config(records[0]).secrets.get("webhook_signing_key")
        if not signing_key:
            return _error(
                403, "the Karbon connection has no webhook_signing_key, so unsigned deliveries are refused"
            )
        given = request.headers.get("Signature", "").strip().lower()
        if not given or not hmac.compare_digest(given, signature_for(body, signing_key)):
            return _error(401, "missing or invalid Signature")
        try:
            try:
                payload = json.loads(body)
            except RecursionError:
                raise ValueError("JSON nested too deeply") from None
            if not isinstance(payload, dict):
                raise ValueError("payload is not a JSON object")
            missing = [k for k in ("ResourcePermaKey", "ResourceType", "ActionType") if not payload.get(k)]
            if missing:
                raise ValueError(f"missing {', '.join(missing)}")
            event_at = _event_time(payload)
        except ValueError as exc:
            return _error(400, f"malformed webhook: {str(exc).splitlines()[0]}")
        with get_store().engine.begin() as conn:
            stored = inbox.add(
                conn,
                integration_id=INTEGRATION,
                company=company,
                raw_body=body,
                resource_type=str(payload["ResourceType"])[:64],
                resource_key=str(payload["ResourcePermaKey"])[:128],
                action_type=str(payload["ActionType"])[:64],
                event_at=event_at,
                payload=payload,
            )
        return JSONResponse({"status": "stored" if stored else "duplicate"})

    return Starlette(routes=[Route("/webhooks/karbon/{company}", receive, methods=["POST"])])
