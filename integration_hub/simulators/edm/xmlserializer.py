"""Read requests and write answers the way .NET's ``XmlSerializer`` does for the types of :mod:`.contract`.

EDM's service is WCF with ``XmlSerializerFormat`` (REFERENCE in :mod:`.contract`), so what the service
*sees* of a request is what XmlSerializer binds, and that is stricter than "the element is somewhere in
there":

* members are ``Form=Unqualified``: an element in any namespace (``tem:USER_NAME``) is not the member; it
  is an unknown node, skipped, and the member stays unset, as if it had not been sent;
* members carry ``Order``: XmlSerializer reads a sequence forwards, so a member that comes after one with
  a higher ``Order`` (``CR_START_DATE`` before ``READ_INCLUDED``) is skipped too, and so is everything it
  overtook. That a skipped member is dropped silently rather than refused is our reading of XmlSerializer's
  sequence reader [I]; either way the service does not get the value;
* a bound value that does not parse as its type (``LIMIT=many``, an unknown enum name) makes the whole
  message unreadable: WCF answers a deserialization fault (:class:`Unreadable`).

Answers are written the same way: the body element qualified, every member unqualified, in ``Order``,
value-type members without a ``…Specified`` companion always present (XmlSerializer writes their default).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lxml import etree

from integration_hub.simulators.edm.contract import AMOUNT, ENUMS, ComplexType, Member

# xs:boolean, xs:int/long, xs:date, xs:dateTime lexical forms as XmlConvert accepts them.
_LEXICAL = {
    "boolean": re.compile(r"true|false|1|0"),
    "int": re.compile(r"[+-]?\d{1,10}"),
    "long": re.compile(r"[+-]?\d{1,19}"),
    "date": re.compile(r"\d{4}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2})?"),
    "dateTime": re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:\d{2})?"),
}
# What XmlSerializer writes for a required value-type member the service left at its default.
_DEFAULTS = {"boolean": "false", "int": "0", "long": "0", "date": "0001-01-01"}


class Unreadable(Exception):
    """The message cannot be deserialized (a bound value is not of its member's type)."""


class Bound:
    """What XmlSerializer made of one element: the members it bound (text, or :class:`Bound` for a
    complex member; a list for a repeated one) and the attributes."""

    def __init__(self, ctype: ComplexType) -> None:
        self.ctype = ctype
        self.values: dict[str, list[Any]] = {}
        self.attributes: dict[str, str] = {}

    def text(self, name: str) -> str:
        """The bound text of a simple member, ``""`` when it was not bound."""
        values = self.values.get(name)
        return values[0] if values else ""

    def child(self, name: str) -> Bound | None:
        values = self.values.get(name)
        return values[0] if values else None

    def children(self, name: str) -> list[Bound]:
        return list(self.values.get(name, []))

    def simple(self) -> dict[str, str]:
        """The bound simple members as ``{name: text}`` (for the call log)."""
        return {name: values[0] for name, values in self.values.items() if isinstance(values[0], str)}


def _check(member: Member, value: str) -> str:
    kind = member.type
    assert isinstance(kind, str)
    if kind in ENUMS:
        if value not in ENUMS[kind]:
            raise Unreadable(f"Instance validation error: '{value}' is not a valid value for {kind}.")
    elif kind in _LEXICAL and not _LEXICAL[kind].fullmatch(value):
        raise Unreadable(f"There is an error in XML document: '{value}' is not a valid {kind} for {member.name}.")
    return value


def bind(element: etree._Element, ctype: ComplexType) -> Bound:
    """Bind ``element``'s unqualified attributes and children to ``ctype``'s members, reading forwards."""
    bound = Bound(ctype)
    for attribute in ctype.attributes:
        value = element.get(attribute.name)  # XmlAttribute: unqualified by default
        if value is not None:
            bound.attributes[attribute.name] = _check(attribute, value.strip())
    position = 0
    for node in element:
        if not isinstance(node.tag, str) or etree.QName(node).namespace is not None:
            continue  # a comment, or a qualified element: not a member
        name = etree.QName(node).localname
        index = next((i for i in range(position, len(ctype.members)) if ctype.members[i].name == name), None)
        if index is None:
            continue  # unknown, or out of Order: skipped as an unknown node
        member = ctype.members[index]
        position = index if member.repeated else index + 1
        if isinstance(member.type, ComplexType):
            value: Any = bind(node, member.type)
        elif member.type == "anyType":
            value = node
        else:
            value = _check(member, (node.text or "").strip())
        bound.values.setdefault(name, []).append(value)
    return bound


def render(parent: etree._Element, name: str, ctype: ComplexType, values: Mapping[str, Any]) -> etree._Element:
    """Append ``name`` (unqualified) holding ``values`` in ``ctype``'s order; see :func:`fill`."""
    element = etree.SubElement(parent, name)
    fill(element, ctype, values)
    return element


def fill(element: etree._Element, ctype: ComplexType, values: Mapping[str, Any]) -> None:
    """Write ``values`` into ``element`` as XmlSerializer would: attributes, then members in ``Order``.

    A value is text (anything ``str``-able), a mapping for a complex member, a list for a repeated one,
    or ``(amount, currency)`` for an ``AmountType``. Unknown keys are a bug in the caller.
    """
    known = {m.name for m in ctype.members} | {a.name for a in ctype.attributes}
    unknown = set(values) - known
    if unknown:
        raise KeyError(f"{ctype.name} has no members {sorted(unknown)}")
    for attribute in ctype.attributes:
        if attribute.name in values:
            element.set(attribute.name, str(values[attribute.name]))
    for member in ctype.members:
        value = values.get(member.name)
        if value is None:
            default = _DEFAULTS.get(member.type) if isinstance(member.type, str) and member.required else None
            if default is None:
                continue
            value = default
        for item in value if member.repeated else [value]:
            if isinstance(member.type, ComplexType):
                render(element, member.name, member.type, item)
            elif member.type == AMOUNT:
                amount, currency = item
                etree.SubElement(element, member.name, currencyID=currency).text = str(amount)
            else:
                etree.SubElement(element, member.name).text = str(item)
