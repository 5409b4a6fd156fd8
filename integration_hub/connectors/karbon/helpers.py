"""Turning Karbon JSON into inventory records, and the OData literals for a date window.

Every record keeps its PermaKey as ``external_key`` and the raw fields as ``payload`` (with the
cross-pillar PermaKeys such as ``ClientKey``, ``WorkItemKey``, ``UserKey``), so the inventory can join
invoices to client contacts and time entries to work items even though Karbon has no foreign keys.
Money arrives as JSON numbers; it becomes :class:`~decimal.Decimal` through ``str`` so no binary
floating-point noise (``0.1 + 0.2``) reaches the inventory.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from integration_hub.connectors.base import DateWindow, ProviderError, Record


def odata_datetime(day: date) -> str:
    """Midnight UTC of ``day`` as an unquoted OData date-time literal."""
    return f"{day.isoformat()}T00:00:00Z"


def odata_end_of_day(day: date) -> str:
    return f"{day.isoformat()}T23:59:59Z"


def parse_moment(value: Any, field: str) -> datetime:
    """An ISO-8601 date or date-time from Karbon (``Z``, offsets and 7 fractional digits all occur)."""
    if not isinstance(value, str) or not value:
        raise ProviderError(f"Karbon: field {field} is missing or not a date ({value!r})")
    text = value.strip().replace("Z", "+00:00")
    if "." in text:  # Python accepts at most 6 fractional digits; Karbon sends 7
        head, _, tail = text.partition(".")
        digits = "".join(ch for ch in tail if ch.isdigit())
        zone = tail[len(digits) :]
        text = f"{head}.{digits[:6]}{zone}"
    try:
        moment = datetime.fromisoformat(text) if "T" in text else datetime.fromisoformat(f"{text}T00:00:00+00:00")
    except ValueError:
        raise ProviderError(f"Karbon: field {field} is not an ISO-8601 date ({value!r})") from None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def business_day(value: Any, field: str) -> date:
    return parse_moment(value, field).date()


def decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ProviderError(f"Karbon: {value!r} is not a number") from None


def require_key(row: Mapping[str, Any], field: str, what: str) -> str:
    key = row.get(field)
    if not isinstance(key, str) or not key:
        raise ProviderError(f"Karbon: a {what} without {field}")
    return key


def record(
    record_type: str,
    row: Mapping[str, Any],
    key_field: str,
    day: date,
    **columns: Any,
) -> Record:
    payload = {k: v for k, v in row.items() if not k.startswith("@odata")}
    return Record(
        record_type=record_type,
        external_key=require_key(row, key_field, record_type),
        record_date=day,
        payload=payload,
        **columns,
    )


def window_filter(field: str, window: DateWindow, *, upper: str = "lt") -> str:
    """``Field ge <start> and Field lt <end>`` (or ``le <last day 23:59:59>`` where only ``le`` exists)."""
    high = odata_datetime(window.end) if upper == "lt" else odata_end_of_day(window.end - timedelta(days=1))
    return f"{field} ge {odata_datetime(window.start)} and {field} {upper} {high}"
