"""The OData query subset Karbon accepts, validated per endpoint the way its API validates it.

Karbon runs ASP.NET OData with per-endpoint whitelists: only listed properties may be filtered (each
with its own operators), only listed properties ordered by, ``$expand`` only where documented and
``$select`` nowhere. Violations answer ``400`` with code ``4002`` and the framework's messages, which
this module reproduces word for word (karbon.md §3.3 and the spec's error examples).

Supported ``$filter`` grammar (karbon.md §3.3): comparisons ``eq gt ge lt le``, ``Field in ('a','b')``,
``contains(Field,'v')``, ``startswith(Field,'v')``, ``day()/month()/year()`` on date fields, joined by
``and``; literals are single-quoted strings, unquoted ISO dates or date-times, numbers and booleans.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

COMPARISONS = ("eq", "gt", "ge", "lt", "le")
FUNCTIONS = ("contains", "startswith")
DATE_PARTS = ("day", "month", "year")
FORBIDDEN_LOGICAL = ("or", "not", "ne", "has")

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<datetime>\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?)
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<punct>[(),])
      | (?P<word>[A-Za-z_][A-Za-z0-9_/]*)
    )""",
    re.VERBOSE,
)


class ODataError(ValueError):
    """A query Karbon would reject: HTTP ``status`` with body ``{"error": {"code", "message"}}``."""

    def __init__(self, message: str, code: str = "4002", status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


def option_not_allowed(option: str) -> ODataError:
    return ODataError(
        f"Query option '{option}' is not allowed. To allow it, set the 'AllowedQueryOptions' property on "
        "EnableQueryAttribute or QueryValidationSettings."
    )


def operator_not_allowed(operator: str) -> ODataError:
    return ODataError(
        f"Logical operator '{operator}' is not allowed. To allow it, set the 'AllowedLogicalOperators' property "
        "on EnableQueryAttribute or QueryValidationSettings."
    )


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ODataError(f"Syntax error at position {position} in '{text}'.")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def parse_literal(kind: str, value: str) -> Any:
    if kind == "string":
        return value[1:-1].replace("''", "'")
    if kind == "datetime":
        return to_datetime(value)
    if kind == "number":
        return float(value) if "." in value else int(value)
    if kind == "word" and value in ("true", "false"):
        return value == "true"
    if kind == "word" and value == "null":
        return None
    raise ODataError(f"'{value}' is not a valid literal.")


def to_datetime(value: str | date | datetime) -> datetime:
    """ISO date or date-time (``Z``, offset or naive = UTC) as an aware datetime."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    text = value.replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text) if "T" in text else datetime.fromisoformat(text + "T00:00:00+00:00")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


Predicate = Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True)
class Whitelist:
    """What one list endpoint accepts: filterable fields with their operators, orderable fields."""

    entity_type: str  # e.g. KarbonService.ContactSummaryDTO, used in error messages
    filters: Mapping[str, frozenset[str]]
    orderby: frozenset[str]
    date_fields: frozenset[str] = frozenset()


def _compare(operator: str, left: Any, right: Any) -> bool:
    if left is None or right is None:
        return operator == "eq" and left is right
    if operator == "eq":
        return left == right
    if operator == "gt":
        return left > right
    if operator == "ge":
        return left >= right
    if operator == "lt":
        return left < right
    return left <= right


def _field_value(item: Mapping[str, Any], name: str, is_date: bool) -> Any:
    value = item.get(name)
    if is_date and isinstance(value, str) and value:
        return to_datetime(value)
    return value


def _allow(rules: Whitelist, name: str, operator: str) -> None:
    if name not in rules.filters:
        raise ODataError(f"Could not find a property named '{name}' on type '{rules.entity_type}'.")
    if operator not in rules.filters[name]:
        raise operator_not_allowed(operator)


def parse_filter(text: str, rules: Whitelist) -> Predicate:
    """Compile ``$filter`` into a predicate, or raise :class:`ODataError` as Karbon would."""
    tokens = _tokens(text)
    predicates: list[Predicate] = []
    position = 0

    def expect(kind: str, value: str | None = None) -> str:
        nonlocal position
        if position >= len(tokens):
            raise ODataError(f"Syntax error: unexpected end of '$filter={text}'.")
        got_kind, got_value = tokens[position]
        if got_kind != kind or (value is not None and got_value != value):
            raise ODataError(f"Syntax error at '{got_value}' in '$filter={text}'.")
        position += 1
        return got_value

    def literal() -> Any:
        nonlocal position
        if position >= len(tokens):
            raise ODataError(f"Syntax error: unexpected end of '$filter={text}'.")
        kind, value = tokens[position]
        position += 1
        return parse_literal(kind, value)

    while True:
        kind, word = tokens[position] if position < len(tokens) else ("", "")
        if kind != "word":
            raise ODataError(f"Syntax error at '{word}' in '$filter={text}'.")
        lowered = word.lower()
        if lowered in FORBIDDEN_LOGICAL:
            raise operator_not_allowed(lowered)
        position += 1
        if lowered in FUNCTIONS:
            expect("punct", "(")
            name = expect("word")
            expect("punct", ",")
            needle = literal()
            expect("punct", ")")
            _allow(rules, name, lowered)
            predicates.append(_text_function(lowered, name, str(needle)))
        elif lowered in DATE_PARTS:
            expect("punct", "(")
            name = expect("word")
            expect("punct", ")")
            operator = expect("word").lower()
            if operator in FORBIDDEN_LOGICAL:
                raise operator_not_allowed(operator)
            if operator not in COMPARISONS:
                raise ODataError(f"Syntax error at '{operator}' in '$filter={text}'.")
            _allow(rules, name, lowered)
            predicates.append(_date_part(lowered, name, operator, literal()))
        else:
            name = word
            operator = expect("word").lower()
            if operator in FORBIDDEN_LOGICAL:
                raise operator_not_allowed(operator)
            if operator == "in":
                _allow(rules, name, "in")
                expect("punct", "(")
                options = [literal()]
                while position < len(tokens) and tokens[position] == ("punct", ","):
                    position += 1
                    options.append(literal())
                expect("punct", ")")
                predicates.append(_membership(name, options))
            elif operator in COMPARISONS:
                _allow(rules, name, operator)
                predicates.append(_comparison(name, operator, literal(), name in rules.date_fields))
            else:
                raise ODataError(f"Syntax error at '{operator}' in '$filter={text}'.")
        if position >= len(tokens):
            break
        joiner = expect("word").lower()
        if joiner != "and":
            raise operator_not_allowed(joiner)

    return lambda item: all(predicate(item) for predicate in predicates)


def _comparison(name: str, operator: str, value: Any, is_date: bool) -> Predicate:
    if is_date and not isinstance(value, datetime):
        raise ODataError(f"The value for '{name}' must be an ISO-8601 date or date-time.")

    def predicate(item: Mapping[str, Any]) -> bool:
        return _compare(operator, _field_value(item, name, is_date), value)

    return predicate


def _membership(name: str, options: list[Any]) -> Predicate:
    return lambda item: item.get(name) in options


def _text_function(function: str, name: str, needle: str) -> Predicate:
    lowered = needle.lower()

    def predicate(item: Mapping[str, Any]) -> bool:
        value = str(item.get(name) or "").lower()
        return lowered in value if function == "contains" else value.startswith(lowered)

    return predicate


def _date_part(part: str, name: str, operator: str, value: Any) -> Predicate:
    def predicate(item: Mapping[str, Any]) -> bool:
        raw = item.get(name)
        if not raw:
            return False
        return _compare(operator, getattr(to_datetime(raw), part), value)

    return predicate


def parse_orderby(text: str, rules: Whitelist) -> list[tuple[str, bool]]:
    """``Field [asc|desc], ...`` → ``[(field, descending)]``; unknown fields answer Karbon's 400."""
    order: list[tuple[str, bool]] = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise ODataError(f"Syntax error in '$orderby={text}'.")
        if words[0] not in rules.orderby:
            raise ODataError(f"The property '{words[0]}' cannot be used in the $orderby query option.")
        order.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
    return order


def sort_items(items: list[dict[str, Any]], order: list[tuple[str, bool]], key_field: str, dates: frozenset[str]):
    """Stable multi-key sort; ties broken by the entity key so pages never overlap."""
    result = sorted(items, key=lambda item: str(item.get(key_field)))
    for name, descending in reversed(order):
        if name in dates:
            result.sort(
                key=lambda item, n=name: to_datetime(item[n]) if item.get(n) else datetime.min.replace(tzinfo=UTC),
                reverse=descending,
            )
        else:
            result.sort(key=lambda item, n=name: (item.get(n) is None, item.get(n) or ""), reverse=descending)
    return result
