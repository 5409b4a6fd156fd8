"""Binding a SOAP body to a contract's types, and writing answers from them: the one model the e-invoice
simulators share.

EDM (.NET ``XmlSerializer``), İşNet (WCF ``DataContractSerializer``) and QNB (JAX-WS/JAXB) differ in
three settings only, so each simulator keeps just its contract tables and its error texts on top of this:

* the members' namespace (:attr:`Type.namespace`): ``None`` for ``Form=Unqualified``/JAXB members, the
  DataContract namespace for İşNet. A child in any other namespace is not the member: it is skipped;
* the order policy (:class:`Order`): read forwards and skip what comes too late (XmlSerializer,
  DataContractSerializer), refuse it (a schema-validating endpoint), or bind by name in any order (JAXB);
* the members themselves: XSD scalar type (checked against one table, :data:`SCALARS`), enum choices,
  repetition, nesting.

A value that does not parse as its type fails the whole message (:class:`InvalidValue`); ``xsi:nil``
binds a member to ``None``. The writer (:func:`write`) renders the same model back: attributes, members in
the type's order, ``None`` as ``xsi:nil`` or left out, a list as one element per item.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from lxml import etree

from integration_hub.simulators.efatura.soap import XSI_NS, q

# The member type of content the simulator reads past (kept for its position) or hands on as the element.
ANY = "anyType"
# The key of a simple-content element's own text in :func:`write`'s values (an amount beside its currencyID).
TEXT = "#text"


class Order(Enum):
    """What a serializer does with a known member that comes after one it follows in the contract."""

    SKIP = "skip"  # XmlSerializer, DataContractSerializer: read forwards; it is skipped like an unknown node
    RAISE = "raise"  # a schema-validating endpoint: the message is refused (:class:`OutOfOrder`)
    IGNORE = "ignore"  # plain JAXB: bound by name wherever it stands


@dataclass(frozen=True)
class Member:
    """One element (or attribute) of a type: its name, XSD scalar type (or a nested :class:`Type`), enum
    ``choices``, whether it repeats, and ``required`` (a value-type member always written, at its default)."""

    name: str
    type: str | Type = "string"
    repeated: bool = False
    required: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Type:
    """A complex type: element members in contract order, attributes, the members' namespace (``None``:
    unqualified) and, for simple content, the XSD type of its own text."""

    name: str
    members: tuple[Member, ...] = ()
    attributes: tuple[Member, ...] = ()
    namespace: str | None = None
    content: str | None = None

    def member(self, name: str) -> Member | None:
        return next((m for m in self.members if m.name == name), None)

    def index(self, name: str, start: int = 0) -> int | None:
        """The position of member ``name`` at or after ``start``."""
        return next((i for i in range(start, len(self.members)) if self.members[i].name == name), None)


@dataclass(frozen=True)
class Scalar:
    """An XSD scalar type: its parser (raising ``ValueError``), its CLR name (what .NET faults quote) and
    the lexical default a serializer writes for a required value-type member left unset."""

    parse: Callable[[str], Any]
    clr: str
    default: str


def _pattern(regex: str, convert: Callable[[str], Any]) -> Callable[[str], Any]:
    compiled = re.compile(regex)

    def parse(text: str) -> Any:
        if not compiled.fullmatch(text):
            raise ValueError(text)
        return convert(text)

    return parse


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(text) from None


# xs:dateTime, and the bare xs:date .NET's XmlConvert also accepts for a DateTime member.
_DATE_TIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})(?:T(?P<time>\d{2}:\d{2}:\d{2})(?P<fraction>\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?"
)


def _date_time(text: str) -> datetime:
    """A naive local time; an offset is dropped (the services read times as Turkish local time [I])."""
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        raise ValueError(text)
    moment = datetime.combine(
        date.fromisoformat(match["date"]), time.fromisoformat(match["time"]) if match["time"] else time.min
    )
    fraction = match["fraction"]
    return moment.replace(microsecond=int(fraction[1:7].ljust(6, "0"))) if fraction else moment


# The XSD scalar types the contracts use, as the .NET readers (XmlConvert) accept their lexical forms.
# String-like types (string, token, normalizedString, base64Binary) are not checked.
SCALARS: dict[str, Scalar] = {
    "boolean": Scalar(_pattern(r"true|false|1|0", lambda text: text in ("true", "1")), "Boolean", "false"),
    "int": Scalar(_pattern(r"[+-]?\d{1,10}", int), "Int32", "0"),
    "long": Scalar(_pattern(r"[+-]?\d{1,19}", int), "Int64", "0"),
    "decimal": Scalar(_decimal, "Decimal", "0"),
    "date": Scalar(
        _pattern(r"\d{4}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2})?", lambda text: date.fromisoformat(text[:10])),
        "DateTime",
        "0001-01-01",
    ),
    "dateTime": Scalar(_date_time, "DateTime", "0001-01-01T00:00:00"),
}


class InvalidValue(Exception):
    """A bound value that is not of its member's type: the message cannot be deserialized. Each simulator
    words it the way its service does."""

    def __init__(self, member: Member, value: str) -> None:
        self.member = member
        self.value = value
        super().__init__(f"'{value}' is not a valid {member.type} for {member.name}")


class OutOfOrder(Exception):
    """A member ``found`` where the sequence allows only ``expected`` (:attr:`Order.RAISE`)."""

    def __init__(self, found: str, expected: list[str]) -> None:
        self.found = found
        self.expected = expected
        super().__init__(f"{found} where {expected} is expected")


def _check(member: Member, text: str) -> str:
    value = text.strip()
    if member.choices:
        if value not in member.choices:
            raise InvalidValue(member, value)
    elif isinstance(member.type, str) and member.type in SCALARS:
        try:
            SCALARS[member.type].parse(value)
        except ValueError:
            raise InvalidValue(member, value) from None
    return text


@dataclass
class Bound:
    """What the serializer made of one element: per member the values it bound in arrival order (raw text,
    a nested :class:`Bound`, the element itself for :data:`ANY`, ``None`` for ``xsi:nil``), the attributes,
    and the children it skipped as dotted paths (``PagingRequest.PageNumber``)."""

    type: Type
    values: dict[str, list[Any]] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def texts(self, name: str) -> list[str]:
        """The stripped texts of a simple member, one per element."""
        return [(value or "").strip() for value in self.values.get(name, [])]

    def text(self, name: str) -> str:
        """The stripped text of a simple member, ``""`` when it was not bound."""
        return next(iter(self.texts(name)), "")

    def children(self, name: str) -> list[Bound]:
        return [value for value in self.values.get(name, []) if isinstance(value, Bound)]

    def child(self, name: str) -> Bound | None:
        return next(iter(self.children(name)), None)

    def summary(self) -> dict[str, str | list[str]]:
        """Every bound simple value as text (a list for a repeated member), nested types lifted into it:
        what the simulators' call logs keep."""
        flat: dict[str, str | list[str]] = {}
        for member in self.type.members:
            values = self.values.get(member.name)
            if values is None or member.type == ANY:
                continue
            if isinstance(member.type, Type):
                for nested in self.children(member.name):
                    flat.update(nested.summary())
            else:
                flat[member.name] = self.texts(member.name) if member.repeated else self.text(member.name)
        return flat

    def typed(self) -> dict[str, Any]:
        """The bound members as the service's objects: scalars parsed (a string as sent, unstripped), nested
        types as dicts, ``xsi:nil`` as ``None``; :data:`ANY` members and repeats beyond the first left out."""
        result: dict[str, Any] = {}
        for member in self.type.members:
            values = self.values.get(member.name)
            if not values or member.type == ANY:
                continue
            value = values[0]
            if value is None or isinstance(value, Bound):
                result[member.name] = value if value is None else value.typed()
            elif member.choices:
                result[member.name] = value.strip()
            elif isinstance(member.type, str) and member.type in SCALARS:
                result[member.name] = SCALARS[member.type].parse(value.strip())
            else:
                result[member.name] = value
        return result


def bind(element: etree._Element, ctype: Type, order: Order = Order.SKIP, path: str = "") -> Bound:
    """Bind ``element``'s attributes and children to ``ctype``'s members under ``order``."""
    bound = Bound(ctype)
    for attribute in ctype.attributes:
        value = element.get(attribute.name)  # attributes are unqualified
        if value is not None:
            bound.attributes[attribute.name] = _check(attribute, value).strip()
    last = -1  # the index of the member bound last
    for node in element:
        if not isinstance(node.tag, str):
            continue  # comments, processing instructions
        qname = etree.QName(node)
        following = last if last >= 0 and ctype.members[last].repeated else last + 1
        index = None
        if qname.namespace == ctype.namespace:
            index = ctype.index(qname.localname, following if order is Order.SKIP else 0)
        if index is None:
            bound.skipped.append(path + qname.localname)
            continue
        member = ctype.members[index]
        if order is Order.RAISE and index < following:
            raise OutOfOrder(member.name, [m.name for m in ctype.members[last + 1 :]])
        last = index
        value: Any
        if node.get(q(XSI_NS, "nil")) == "true":
            value = None
        elif isinstance(member.type, Type):
            value = bind(node, member.type, order, f"{path}{member.name}.")
            bound.skipped.extend(value.skipped)
        elif member.type == ANY:
            value = node
        else:
            value = _check(member, node.text or "")
        if member.repeated:
            bound.values.setdefault(member.name, []).append(value)
        else:
            bound.values[member.name] = [value]
    return bound


def _lexical(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _arranged(element: etree._Element, ctype: Type, values: Mapping[str, Any]) -> dict[str, Any]:
    """Set ``ctype``'s attributes on ``element``; its member values in order, required scalars defaulted."""
    known = {m.name for m in ctype.members} | {a.name for a in ctype.attributes} | {TEXT}
    unknown = set(values) - known
    if unknown:
        raise KeyError(f"{ctype.name} has no members {sorted(unknown)}")  # a bug in the caller
    for attribute in ctype.attributes:
        if attribute.name in values:
            element.set(attribute.name, _lexical(values[attribute.name]))
    arranged = {TEXT: values[TEXT]} if TEXT in values else {}
    for member in ctype.members:
        value = values.get(member.name)
        if value is None and member.required and isinstance(member.type, str) and member.type in SCALARS:
            value = SCALARS[member.type].default
        arranged[member.name] = value
    return arranged


def write(
    parent: etree._Element,
    values: Mapping[str, Any],
    ctype: Type | None = None,
    *,
    namespace: str | None = None,
    nil: bool = False,
) -> None:
    """Append ``values`` to ``parent`` as member elements.

    With ``ctype`` the members come in its order, in its namespace, with its attributes and defaults;
    without one, in the order given, in ``namespace``. A value is text (``str``-able; booleans
    ``true``/``false``), a mapping for a nested type, a list for one element per item, :data:`TEXT` for the
    element's own text. ``None`` is ``xsi:nil`` with ``nil`` (DataContractSerializer), else left out.
    """
    if ctype is not None:
        namespace = ctype.namespace
        values = _arranged(parent, ctype, values)
    for name, value in values.items():
        if name == TEXT:
            parent.text = _lexical(value)
            continue
        member = ctype.member(name) if ctype is not None else None
        nested = member.type if member is not None and isinstance(member.type, Type) else None
        for item in value if isinstance(value, list) else [value]:
            if item is None and not nil:
                continue
            element = etree.SubElement(parent, q(namespace, name) if namespace else name)
            if item is None:
                element.set(q(XSI_NS, "nil"), "true")
            elif isinstance(item, Mapping):
                write(element, item, nested, namespace=namespace, nil=nil)
            else:
                element.text = _lexical(item)
