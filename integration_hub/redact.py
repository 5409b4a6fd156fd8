"""Defence in depth for messages: whatever a provider echoed, no secret value leaves in a message."""

from __future__ import annotations

from collections.abc import Iterable


def redact(message: str, secrets: Iterable[str]) -> str:
    """``message`` on one line with every secret value (4+ characters) replaced by ``***``."""
    for value in secrets:
        if value and len(value) >= 4:
            message = message.replace(value, "***")
    return " ".join(message.split())
