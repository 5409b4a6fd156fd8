"""Resend's ``SendEmailRequest`` checks, written from Resend's published contract.

Sources (read, not copied): the OpenAPI file ``resend.yaml`` in github.com/resend/resend-openapi
(``components.schemas.SendEmailRequest``: ``from``, ``to``, ``subject`` required; ``to`` a string or an array of
1 to 50 strings; ``cc``/``bcc``/``reply_to`` string or array; ``html``, ``text`` strings; ``headers`` an
object) and resend.com/docs/api-reference/errors (``missing_required_field`` 422, ``validation_error``
400/422/403, the ``email@example.com`` / ``Name <email@example.com>`` address forms, and the body shape
``{"statusCode", "name", "message"}`` also parsed by Resend's own SDKs). The exact message wording is the
docs' where they give one and ours otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MAX_RECIPIENTS = 50
_ADDRESS = re.compile(r"[^@\s<>,\"]+@[^@\s<>,\"]+\.[^@\s<>,\".]+")
_NAMED = re.compile(r"[^<>]*<\s*([^<>]+?)\s*>")


@dataclass(frozen=True)
class ApiError(Exception):
    """An error answer: HTTP status, Resend's error ``name`` and its message."""

    status: int
    name: str
    message: str

    def body(self) -> dict[str, Any]:
        return {"statusCode": self.status, "name": self.name, "message": self.message}


def address_of(value: str) -> str | None:
    """The bare address of ``email@x.com`` or ``Name <email@x.com>``; ``None`` when it is neither."""
    text = value.strip()
    named = _NAMED.fullmatch(text)
    if named:
        text = named.group(1)
    return text if _ADDRESS.fullmatch(text) else None


def _addresses(body: dict[str, Any], field: str, *, required: bool) -> list[str]:
    value = body.get(field)
    if value is None:
        if required:
            raise ApiError(422, "missing_required_field", f"Missing `{field}` field.")
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise ApiError(422, "validation_error", f"The `{field}` field must be a string or an array of strings.")
    if required and not items:
        raise ApiError(422, "validation_error", f"The `{field}` field must contain at least one address.")
    if field == "to" and len(items) > MAX_RECIPIENTS:
        raise ApiError(422, "validation_error", f"Too many recipients in `to`: at most {MAX_RECIPIENTS} are allowed.")
    found = []
    for item in items:
        address = address_of(item)
        if address is None:
            raise ApiError(
                422,
                "validation_error",
                f"Invalid `{field}` field. The email address needs to follow the `email@example.com` or "
                "`Name <email@example.com>` format.",
            )
        found.append(address)
    return found


def check_send_request(body: Any) -> dict[str, list[str]]:
    """Validate a ``POST /emails`` body; returns its addresses by field or raises :class:`ApiError`."""
    if not isinstance(body, dict):
        raise ApiError(422, "validation_error", "The request body must be a JSON object.")
    for field in ("from", "subject"):
        if body.get(field) is None:
            raise ApiError(422, "missing_required_field", f"Missing `{field}` field.")
    if not isinstance(body["subject"], str):
        raise ApiError(422, "validation_error", "The `subject` field must be a string.")
    if not isinstance(body["from"], str):
        raise ApiError(422, "validation_error", "The `from` field must be a string.")
    sender = address_of(body["from"])
    if sender is None:
        raise ApiError(
            422,
            "validation_error",
            "Invalid `from` field. The email address needs to follow the `email@example.com` or "
            "`Name <email@example.com>` format.",
        )
    addresses = {"from": [sender], "to": _addresses(body, "to", required=True)}
    for field in ("cc", "bcc", "reply_to"):
        addresses[field] = _addresses(body, field, required=False)
    if body.get("template") is None and body.get("html") is None and body.get("text") is None:
        raise ApiError(422, "missing_required_field", "Missing `html` or `text` field.")
    for field in ("html", "text"):
        if body.get(field) is not None and not isinstance(body[field], str):
            raise ApiError(422, "validation_error", f"The `{field}` field must be a string.")
    headers = body.get("headers")
    if headers is not None and (not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values())):
        raise ApiError(422, "validation_error", "The `headers` field must be an object of string values.")
    return addresses
