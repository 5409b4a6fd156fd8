"""The Email channel's settings: recipients and sender checked address by address, SMTP security modes.

The catalog already checks the *shape* of ``from_email`` and ``to_emails``; the connector checks them again
address by address because it is also built from stored settings and by tests, and because a person fixing
"recipient 3 of 7 is wrong" needs the error to name that address.
"""

from __future__ import annotations

import re

from integration_hub.connectors.base import ConfigurationError, ConnectorConfig, required_setting

PROVIDER = "Email"
PROVIDERS = ("resend", "smtp")
SECURITY_MODES = ("starttls", "tls", "none")
DEFAULT_SMTP_PORT = 587
IMPLICIT_TLS_PORT = 465
DEFAULT_RESEND_URL = "https://api.resend.com"
TIMEOUT_SECONDS = 30.0
RESEND_MAX_RECIPIENTS = 50  # SendEmailRequest.to maxItems in Resend's OpenAPI (resend/resend-openapi)

# local@domain.tld: no whitespace, commas or angle brackets (those would split or smuggle a header).
_ADDRESS = re.compile(r"[^@\s,<>\"]+@[^@\s,<>\"]+\.[^@\s,<>\".]+")


def checked_address(value: str, field: str) -> str:
    """``value`` stripped if it is one plain e-mail address, else a ConfigurationError naming it."""
    address = value.strip()
    if not _ADDRESS.fullmatch(address):
        shown = address if len(address) <= 80 else address[:77] + "..."
        raise ConfigurationError(f"{PROVIDER}: {field} '{shown}' is not an e-mail address")
    return address


def recipients(config: ConnectorConfig) -> tuple[str, ...]:
    """``to_emails`` split on commas, each address checked, duplicates dropped (first kept)."""
    raw = required_setting(config, "to_emails", PROVIDER)
    found: list[str] = []
    for part in raw.split(","):
        if not part.strip():
            raise ConfigurationError(f"{PROVIDER}: to_emails has an empty entry between commas")
        address = checked_address(part, "recipient")
        if address.lower() not in {a.lower() for a in found}:
            found.append(address)
    return tuple(found)


def sender(config: ConnectorConfig) -> str:
    return checked_address(required_setting(config, "from_email", PROVIDER), "from_email")


def provider(config: ConnectorConfig) -> str:
    chosen = str(config.setting("provider", "resend")).strip()
    if chosen not in PROVIDERS:
        raise ConfigurationError(f"{PROVIDER}: provider must be one of {', '.join(PROVIDERS)}, got '{chosen}'")
    return chosen
