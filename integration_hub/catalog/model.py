"""The shape of an integration definition and the validation of a connection's settings against it.

Secrecy is declared on the field itself (``secret=True``), never in a side table, so one declaration
drives encryption at rest, masking in every output, and the "blank secret keeps the stored one" rule.

Validation has two levels, as in a mature product: a *draft* may be incomplete but every value it does
hold must be well-typed; *activation* (connect, resume, edit of a live connection) also needs every
required field. Errors name the field and the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from urllib.parse import urlparse

from integration_hub.settings import HubSettings


class ConnectionStyle(StrEnum):
    CREDENTIALS = "credentials"
    API_KEY = "api_key"
    OAUTH = "oauth"
    PROVIDER_SETTINGS = "provider_settings"


class FieldType(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    URL = "url"
    CHOICE = "choice"


EARLIEST_START_DATE = date(2000, 1, 1)
# Hosts a URL setting may name with plain http://. Every URL the hub is configured with receives
# credentials, so anything else must be https://. The same rule guards the connectors
# (``connectors.http.checked_service_url``); it is repeated here because the catalog depends on no other layer.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# Longest value a field takes unless it declares its own ``max_length``: names and usernames are short,
# URLs a little longer, secrets (JWT access keys, bot tokens) longest. A bound keeps a pasted file or a
# runaway script from being stored, echoed and logged whole.
DEFAULT_MAX_LENGTH = {"text": 256, "url": 2048, "secret": 8192}


@dataclass(frozen=True)
class FieldError:
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


@dataclass(frozen=True)
class SettingField:
    """One typed setting of an integration.

    ``visible_when`` (``{"provider": ("smtp",)}``) makes a field apply only when another field has one of
    the given values (Email's SMTP vs Resend settings); a field that does not apply is neither required
    nor kept.
    """

    name: str
    label: str
    type: FieldType = FieldType.TEXT
    required: bool = False
    default: Any = None
    secret: bool = False
    description: str = ""
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    pattern_hint: str = ""
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    visible_when: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    max_length: int | None = None

    @property
    def length_limit(self) -> int:
        """The most characters a value may have (declared, else by kind: secret, URL or other text)."""
        if self.max_length is not None:
            return self.max_length
        if self.secret:
            return DEFAULT_MAX_LENGTH["secret"]
        return DEFAULT_MAX_LENGTH["url" if self.type is FieldType.URL else "text"]

    def applies(self, values: Mapping[str, Any]) -> bool:
        return all(values.get(other) in allowed for other, allowed in self.visible_when.items())

    def coerce(self, raw: Any, *, today: date) -> Any:
        """Turn ``raw`` (CLI text or a stored JSON value) into the field's type or raise ``ValueError``."""
        if self.type is FieldType.BOOLEAN:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"true", "1", "yes", "on"}:
                return True
            if text in {"false", "0", "no", "off"}:
                return False
            raise ValueError("must be true or false")
        text = raw if isinstance(raw, str) else str(raw)
        text = text.strip()
        if len(text) > self.length_limit:
            # The value itself is never repeated: it may be a secret, and it is too long to read anyway.
            raise ValueError(f"is {len(text)} characters long; at most {self.length_limit} are allowed")
        if self.type is FieldType.INTEGER:
            if isinstance(raw, bool) or not re.fullmatch(r"[+-]?\d+", text):
                raise ValueError("must be a whole number")
            value: Any = int(text)
            self._check_range(Decimal(value))
            return value
        if self.type is FieldType.NUMBER:
            try:
                number = Decimal(text)
            except InvalidOperation:
                raise ValueError("must be a number") from None
            if not number.is_finite():
                raise ValueError("must be a finite number")
            self._check_range(number)
            return str(number)
        if self.type is FieldType.DATE:
            try:
                day = date.fromisoformat(text)
            except ValueError:
                raise ValueError("must be a date as YYYY-MM-DD") from None
            if day > today:
                raise ValueError(f"{day.isoformat()} is in the future")
            if day < EARLIEST_START_DATE:
                raise ValueError(f"must be on or after {EARLIEST_START_DATE.isoformat()}")
            return day.isoformat()
        if self.type is FieldType.URL:
            parsed = urlparse(text)
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                raise ValueError("must be an http(s) URL")
            if parsed.scheme == "http" and parsed.hostname not in LOOPBACK_HOSTS:
                raise ValueError(
                    "must start with https:// (credentials are sent to it; plain http:// only to "
                    "127.0.0.1, localhost or ::1)"
                )
            return text.rstrip("/")
        if self.type is FieldType.CHOICE:
            if text not in self.choices:
                raise ValueError(f"must be one of {', '.join(self.choices)}")
            return text
        if not text:
            raise ValueError("must not be blank")
        if self.pattern and not re.fullmatch(self.pattern, text):
            raise ValueError(self.pattern_hint or f"does not match {self.pattern}")
        return text

    def _check_range(self, number: Decimal) -> None:
        if self.minimum is not None and number < self.minimum:
            raise ValueError(f"must be at least {self.minimum}")
        if self.maximum is not None and number > self.maximum:
            raise ValueError(f"must be at most {self.maximum}")


@dataclass(frozen=True)
class Availability:
    available: bool
    reason: str = ""


AvailabilityRule = Callable[[HubSettings], Availability]


def always_available(_: HubSettings) -> Availability:
    return Availability(True)


@dataclass(frozen=True)
class IntegrationDefinition:
    """A system-wide integration definition: what a company connects and how."""

    id: str
    name: str
    category: str
    style: ConnectionStyle
    fields: tuple[SettingField, ...]
    description: str = ""
    availability: AvailabilityRule = always_available
    docs_url: str = ""

    def field(self, name: str) -> SettingField:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def secret_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.secret)

    @property
    def has_start_date(self) -> bool:
        return "start_date" in self.field_names

    def is_available(self, settings: HubSettings) -> Availability:
        return self.availability(settings)

    def validate(
        self,
        values: Mapping[str, Any],
        *,
        complete: bool,
        today: date,
        present_secrets: frozenset[str] = frozenset(),
    ) -> tuple[dict[str, Any], list[FieldError]]:
        """Check ``values`` (settings and secrets together) against the definition.

        Returns the coerced values (defaults filled in, fields that do not apply dropped) and the errors.
        ``complete`` asks for every required field; ``present_secrets`` names secrets already stored, which
        count as present although their values are not in ``values``.
        """
        errors = [FieldError(name, "is not a field of " + self.name) for name in values if name not in self.field_names]
        cleaned: dict[str, Any] = {}
        for spec in self.fields:
            raw = values.get(spec.name)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                if spec.default is not None:
                    cleaned[spec.name] = spec.default
                continue
            try:
                cleaned[spec.name] = spec.coerce(raw, today=today)
            except ValueError as exc:
                errors.append(FieldError(spec.name, str(exc)))
        for spec in self.fields:
            if not spec.applies(cleaned):
                cleaned.pop(spec.name, None)
                continue
            missing = spec.name not in cleaned and spec.name not in present_secrets
            invalid = any(error.field == spec.name for error in errors)  # one reason per field
            if complete and spec.required and missing and not invalid:
                errors.append(FieldError(spec.name, "is required"))
        return cleaned, errors
