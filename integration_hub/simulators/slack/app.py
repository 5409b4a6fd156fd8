"""The Slack simulator's HTTP surface: ``/api/<method>`` for the Web API methods the hub calls.

What it reproduces (see :mod:`.contract` for where each fact comes from): every method answers HTTP 200 with
``{"ok": true, ...}`` or ``{"ok": false, "error": "<code>"}``; the token comes in ``Authorization: Bearer`` or,
in a form body or query, as ``token`` (never read from a JSON body); a missing token is ``not_authed``, an
unknown one ``invalid_auth``, a revoked one ``token_revoked``, a deactivated workspace's ``account_inactive``.
Bodies are form-encoded or JSON where the method's ``consumes`` allows it (``invalid_json``,
``json_not_object``, ``invalid_post_type`` otherwise). ``chat.postMessage`` needs ``channel`` and one of
``text``/``blocks``/``attachments`` (``no_text``), checks ``blocks`` (``invalid_blocks``) and resolves the
channel by id or ``#name`` (``channel_not_found``, ``not_in_channel``, ``is_archived``). Each method has its
tier's limit per token (``chat.postMessage`` per channel too): past it, HTTP 429 with ``Retry-After`` and
``{"ok": false, "error": "ratelimited"}``. Posted messages land in :attr:`SlackSimulator.messages`; every
request in :attr:`SlackSimulator.log`, with its raw body, so tests can prove what a client sent.
"""

from __future__ import annotations

import itertools
import json
import math
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from integration_hub.simulators.slack.blocks import parse_blocks
from integration_hub.simulators.slack.contract import FORM, JSON, MAX_TEXT_CHARS, METHODS, TIER_PER_MINUTE

TEAM_ID = "T0HUBSIM01"
TEAM_NAME = "Integration Hub Simulated Workspace"
TEAM_URL = "https://hub-sim.slack.com/"
BOT_USER_ID = "U0HUBBOT01"
BOT_ID = "B0HUBBOT001"
BOT_NAME = "integration-hub"


@dataclass
class Channel:
    id: str
    name: str
    is_member: bool = True
    is_archived: bool = False
    is_private: bool = False


def default_channels() -> list[Channel]:
    """``#ops`` (the bot is in it), ``#general`` (it is not), ``#old-alerts`` (archived), ``#secret-ops``."""
    return [
        Channel("C0HUBOPS01", "ops"),
        Channel("C0HUBGEN01", "general", is_member=False),
        Channel("C0HUBOLD01", "old-alerts", is_archived=True),
        Channel("G0HUBPRV01", "secret-ops", is_private=True),
    ]


@dataclass
class PostedMessage:
    channel: str  # the channel's id
    channel_arg: str  # what the client passed (id or #name)
    ts: str
    text: str | None
    blocks: list[dict[str, Any]] | None
    args: dict[str, Any]


@dataclass
class LoggedRequest:
    method: str
    http_method: str
    content_type: str
    query: str
    body: bytes
    authorization: str
    status: int
    error: str | None


@dataclass
class SimulatorConfig:
    bot_token: str = ""  # empty: a fresh xoxb- token
    scopes: tuple[str, ...] = ("chat:write",)  # add channels:read / groups:read to allow conversations.info
    revoked_tokens: tuple[str, ...] = ()
    inactive_tokens: tuple[str, ...] = ()
    channels: list[Channel] = field(default_factory=default_channels)
    per_minute: dict[str, int] = field(default_factory=lambda: dict(TIER_PER_MINUTE))
    rate_window: float = 60.0


def new_bot_token() -> str:
    """A token of the shape Slack issues to bots: ``xoxb-<team number>-<bot number>-<24 letters>``."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    tail = "".join(secrets.choice(alphabet) for _ in range(24))
    return f"xoxb-{secrets.randbelow(10**12):012d}-{secrets.randbelow(10**13):013d}-{tail}"


class SlackError(Exception):
    def __init__(self, code: str, status: int = 200, **extra: Any) -> None:
        super().__init__(code)
        self.code, self.status, self.extra = code, status, extra


class SlackSimulator:
    """The simulated workspace: one bot token, its channels, rate-limit windows and what was posted."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.token = self.config.bot_token or new_bot_token()
        self.channels = list(self.config.channels)
        self.messages: list[PostedMessage] = []
        self.log: list[LoggedRequest] = []
        self._windows: dict[tuple[str, ...], deque[float]] = {}
        self._failures: deque[int] = deque()
        self._limited: deque[tuple[str, int]] = deque()
        self._lock = threading.Lock()
        self._ts = itertools.count(1)

    # --- test knobs -------------------------------------------------------------------------------
    def fail_next(self, count: int, status: int = 503) -> None:
        """Answer the next ``count`` requests with ``status`` (Slack having a bad moment)."""
        with self._lock:
            self._failures.extend([status] * count)

    def rate_limit_next(self, method: str, retry_after: int = 1) -> None:
        """Answer the next call of ``method`` with 429 + ``Retry-After: retry_after``, as if over its tier."""
        with self._lock:
            self._limited.append((method, retry_after))

    def calls(self, method: str) -> list[LoggedRequest]:
        return [r for r in self.log if r.method == method]

    # --- pipeline ---------------------------------------------------------------------------------
    def channel(self, arg: str) -> Channel:
        name = arg[1:] if arg.startswith("#") else arg
        for channel in self.channels:
            if arg == channel.id or name == channel.name:
                return channel
        raise SlackError("channel_not_found")

    def authenticate(self, token: str | None) -> None:
        if not token:
            raise SlackError("not_authed")
        if token in self.config.revoked_tokens:
            raise SlackError("token_revoked")
        if token in self.config.inactive_tokens:
            raise SlackError("account_inactive")
        if not secrets.compare_digest(token.encode(), self.token.encode()):
            raise SlackError("invalid_auth")

    def admit(self, method: str, key: str) -> None:
        """Count one call against ``method``'s per-minute limit; past it, 429 with the seconds to wait."""
        with self._lock:
            for index, (limited, seconds) in enumerate(self._limited):
                if limited == method:
                    del self._limited[index]
                    raise SlackError("ratelimited", 429, retry_after=seconds)
            limit = self.config.per_minute.get(method)
            if limit is None:
                return
            now = time.monotonic()
            window = self._windows.setdefault((method, key), deque())
            while window and window[0] <= now - self.config.rate_window:
                window.popleft()
            if len(window) >= limit:
                wait = max(1, math.ceil(window[0] + self.config.rate_window - now))
                raise SlackError("ratelimited", 429, retry_after=wait)
            window.append(now)

    def injected_failure(self) -> int | None:
        with self._lock:
            return self._failures.popleft() if self._failures else None

    def next_ts(self) -> str:
        return f"{int(time.time()):010d}.{next(self._ts) % 1_000_000:06d}"


def _check_types(method: str, args: dict[str, Any]) -> None:
    """Each argument must have the spec's type: ``boolean`` ones read as true/false, the rest as text.

    ``blocks`` and ``attachments`` are "JSON-based arrays ... presented as a URL-encoded string"; in a JSON body
    Slack also takes the array itself.
    """
    for parameter in METHODS[method].parameters:
        value = args.get(parameter.name)
        if value is None:
            continue
        if parameter.type == "boolean":
            ok = isinstance(value, bool) or str(value).lower() in ("true", "false", "1", "0")
        else:
            ok = isinstance(value, str) or (parameter.name in ("blocks", "attachments") and isinstance(value, list))
        if not ok:
            raise SlackError("invalid_arguments", argument=parameter.name)


async def _read(request: Request, method: str) -> tuple[dict[str, Any], str | None, bytes]:
    """The call's arguments (query + body) and its token, as Slack reads them."""
    body = await request.body()
    args: dict[str, Any] = dict(parse_qsl(request.url.query, keep_blank_values=True))
    token = args.pop("token", None)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method == "POST" and body:
        if content_type == JSON:
            if JSON not in METHODS[method].consumes:
                raise SlackError("invalid_post_type")
            try:
                parsed = json.loads(body)
            except ValueError:
                raise SlackError("invalid_json") from None
            if not isinstance(parsed, dict):
                raise SlackError("json_not_object")
            parsed.pop("token", None)  # a token inside a JSON body is not read
            args.update(parsed)
        elif content_type == FORM:
            try:
                form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
            except (UnicodeDecodeError, ValueError):
                raise SlackError("invalid_form_data") from None
            token = form.pop("token", token)
            args.update(form)
        elif not content_type:
            raise SlackError("missing_post_type")
        else:
            raise SlackError("invalid_post_type")
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    return args, token, body


def _auth_test(sim: SlackSimulator, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "url": TEAM_URL,
        "team": TEAM_NAME,
        "user": BOT_NAME,
        "team_id": TEAM_ID,
        "user_id": BOT_USER_ID,
        "bot_id": BOT_ID,
        "is_enterprise_install": False,
    }


def _post_message(sim: SlackSimulator, args: dict[str, Any]) -> dict[str, Any]:
    channel_arg = args.get("channel")
    if not isinstance(channel_arg, str) or not channel_arg.strip():
        raise SlackError("channel_not_found")
    text, raw_blocks, attachments = args.get("text"), args.get("blocks"), args.get("attachments")
    blocks = None
    if raw_blocks not in (None, ""):
        blocks, problems = parse_blocks(raw_blocks)
        if problems:
            raise SlackError("invalid_blocks", errors=problems)
    if not text and not blocks and not attachments:
        raise SlackError("no_text")
    if isinstance(text, str) and len(text) > MAX_TEXT_CHARS:
        raise SlackError("msg_too_long")
    channel = sim.channel(channel_arg)
    if channel.is_archived:
        raise SlackError("is_archived")
    if not channel.is_member:
        raise SlackError("not_in_channel")
    sim.admit("chat.postMessage", channel.id)  # "one message per second per channel"
    ts = sim.next_ts()
    sim.messages.append(PostedMessage(channel.id, channel_arg, ts, text, blocks, dict(args)))
    message: dict[str, Any] = {"type": "message", "text": text or "", "ts": ts, "user": BOT_USER_ID, "team": TEAM_ID}
    message["bot_id"] = BOT_ID
    if blocks:
        message["blocks"] = blocks
    return {"channel": channel.id, "ts": ts, "message": message}


def _conversations_info(sim: SlackSimulator, args: dict[str, Any]) -> dict[str, Any]:
    channel_arg = args.get("channel")
    if not ({"channels:read", "groups:read"} & set(sim.config.scopes)):
        raise SlackError("missing_scope", needed="channels:read", provided=",".join(sim.config.scopes))
    if not isinstance(channel_arg, str) or channel_arg.startswith("#"):
        raise SlackError("channel_not_found")  # the spec's channel is a conversation id, never a name
    channel = next((c for c in sim.channels if c.id == channel_arg), None)
    if channel is None:
        raise SlackError("channel_not_found")
    blank = {"value": "", "creator": "", "last_set": 0}
    return {
        "channel": {
            "id": channel.id,
            "name": channel.name,
            "name_normalized": channel.name,
            "created": 1_700_000_000,
            "creator": BOT_USER_ID,
            "is_archived": channel.is_archived,
            "is_channel": not channel.is_private,
            "is_group": channel.is_private,
            "is_general": channel.name == "general",
            "is_im": False,
            "is_mpim": False,
            "is_org_shared": False,
            "is_shared": False,
            "is_private": channel.is_private,
            "is_member": channel.is_member,
            "topic": dict(blank),
            "purpose": dict(blank),
        }
    }


HANDLERS = {"auth.test": _auth_test, "chat.postMessage": _post_message, "conversations.info": _conversations_info}


def _answer(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def create_app(sim: SlackSimulator) -> Starlette:
    async def call(request: Request) -> JSONResponse:
        method = request.path_params["method"]
        status, error, body = 200, None, b""
        try:
            if method not in HANDLERS:
                raise SlackError("unknown_method", 404)
            injected = sim.injected_failure()
            if injected is not None:
                raise SlackError("internal_error", injected)
            args, token, body = await _read(request, method)
            sim.authenticate(token)
            if method != "chat.postMessage":
                sim.admit(method, "workspace")
            _check_types(method, args)
            response = _answer({"ok": True, **HANDLERS[method](sim, args)})
        except SlackError as exc:
            status, error = exc.status, exc.code
            headers = {"Retry-After": str(exc.extra.pop("retry_after"))} if "retry_after" in exc.extra else None
            response = _answer({"ok": False, "error": exc.code, **exc.extra}, exc.status, headers)
        if not body:
            body = await request.body()
        sim.log.append(
            LoggedRequest(
                method=method,
                http_method=request.method,
                content_type=request.headers.get("content-type", ""),
                query=request.url.query,
                body=body,
                authorization=request.headers.get("authorization", ""),
                status=status,
                error=error,
            )
        )
        return response

    return Starlette(routes=[Route("/api/{method}", call, methods=["GET", "POST"])])
