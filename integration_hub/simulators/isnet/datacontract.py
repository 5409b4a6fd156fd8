"""WCF DataContractSerializer reading and writing, as a .NET service applies it to a request body.

How DataContractSerializer reads a contract (System.Runtime.Serialization, the behaviour reproduced
here): members have a fixed order — for İşNet's contracts ordinal-alphabetical (``ETTN`` sorts before
``Ettn``). Reading walks the incoming elements once; each one is matched, by local name *and*
namespace, against the members at or after the current position. A match is read and the position
moves past it; an element that matches nothing ahead — an unknown name, another namespace (an
unqualified element included), or a member that came too late — is skipped silently, and that member
keeps its default (``null``). So ``MinInvoiceDate`` sent before ``MaxInvoiceDate`` loses the upper
bound without any error. Only a value the serializer cannot convert (a bad enum, date, number or
boolean) fails the whole message: the service answers a ``DeserializationFailed`` fault. A missing
member is an error only for ``IsRequired`` members, and İşNet's WSDL marks none (all ``minOccurs=0``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree

from integration_hub.simulators.efatura.soap import XSI_NS, q

# xs:dateTime, and the bare xs:date .NET's XmlConvert (RoundtripKind) also accepts for a DateTime member.
_DATE_TIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})(?:T(?P<time>\d{2}:\d{2}:\d{2})(?P<fraction>\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?"
)


class DeserializationError(Exception):
    """A member value the serializer could not convert (the service answers ``DeserializationFailed``)."""


@dataclass(frozen=True)
class Member:
    """One DataMember. ``kind``: ``string``, ``int``, ``bool``, ``decimal``, ``dateTime``, ``enum`` (with
    ``choices``), ``opaque`` (a list or type the simulator reads past) or a nested :class:`Contract`."""

    name: str
    kind: str | Contract
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Contract:
    """A DataContract: its namespace and its members, kept in WCF's ordinal order."""

    name: str
    namespace: str
    members: tuple[Member, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "members", tuple(sorted(self.members, key=lambda m: m.name)))


@dataclass
class ReadResult:
    """Members that were read (absent ones are missing from ``values``) and the elements skipped, as
    dotted paths (``PagingRequest.PageNumber``)."""

    values: dict[str, Any] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)


def read(element: etree._Element | None, contract: Contract, prefix: str = "") -> ReadResult:
    """Read ``element``'s children as ``contract`` the way DataContractSerializer does."""
    result = ReadResult()
    if element is None:
        return result
    position = 0
    for child in element:
        if not isinstance(child.tag, str):
            continue  # comments, processing instructions
        qname = etree.QName(child)
        index = None
        if qname.namespace == contract.namespace:
            index = next(
                (i for i in range(position, len(contract.members)) if contract.members[i].name == qname.localname),
                None,
            )
        if index is None:
            result.ignored.append(prefix + qname.localname)
            continue
        member = contract.members[index]
        position = index + 1
        if child.get(q(XSI_NS, "nil")) == "true":
            result.values[member.name] = None
        elif isinstance(member.kind, Contract):
            nested = read(child, member.kind, prefix=f"{prefix}{member.name}.")
            result.values[member.name] = nested.values
            result.ignored.extend(nested.ignored)
        elif member.kind != "opaque":
            result.values[member.name] = _convert(member, child.text or "")
    return result


def _convert(member: Member, text: str) -> Any:
    kind = member.kind
    if kind == "string":
        return text
    value = text.strip()
    if kind == "int":
        if not re.fullmatch(r"[+-]?\d{1,10}", value):
            raise DeserializationError(f"The value '{value}' cannot be parsed as the type 'Int32'.")
        return int(value)
    if kind == "decimal":
        try:
            return Decimal(value)
        except InvalidOperation:
            raise DeserializationError(f"The value '{value}' cannot be parsed as the type 'Decimal'.") from None
    if kind == "bool":
        if value in ("true", "1", "false", "0"):
            return value in ("true", "1")
        raise DeserializationError(f"The value '{value}' cannot be parsed as the type 'Boolean'.")
    if kind == "dateTime":
        return _date_time(value)
    if kind == "enum":
        if value not in member.choices:
            raise DeserializationError(
                f"Invalid enum value '{value}' cannot be deserialized into type '{member.name}'."
            )
        return value
    raise AssertionError(f"unknown member kind {kind!r}")


def _date_time(value: str) -> datetime:
    """An xs:dateTime (or bare xs:date: midnight) as a naive local time; an offset is dropped, as İşNet
    is documented to read times as Turkish local time [I]."""
    match = _DATE_TIME.fullmatch(value)
    try:
        if match is None:
            raise ValueError(value)
        moment = datetime.combine(
            date.fromisoformat(match["date"]), time.fromisoformat(match["time"]) if match["time"] else time.min
        )
        fraction = match["fraction"]
        return moment.replace(microsecond=int(fraction[1:7].ljust(6, "0"))) if fraction else moment
    except ValueError:
        raise DeserializationError(f"The value '{value}' cannot be parsed as the type 'DateTime'.") from None


def write(parent: etree._Element, namespace: str, members: Mapping[str, Any]) -> None:
    """Render ``members`` *in the order given* as DataContract elements of ``namespace``: ``None`` is
    ``i:nil``, a mapping nests, a sequence of ``(item name, mapping)`` is an ``ArrayOfX``."""
    for name, value in members.items():
        element = etree.SubElement(parent, q(namespace, name))
        if value is None:
            element.set(q(XSI_NS, "nil"), "true")
        elif isinstance(value, Mapping):
            write(element, namespace, value)
        elif isinstance(value, Sequence) and not isinstance(value, str):
            for item_name, item in value:
                write(etree.SubElement(element, q(namespace, item_name)), namespace, item)
        elif isinstance(value, bool):
            element.text = "true" if value else "false"
        elif isinstance(value, datetime):
            element.text = value.isoformat()
        else:
            element.text = str(value)


def ordered(members: Mapping[str, Any]) -> dict[str, Any]:
    """``members`` in WCF's ordinal order: how a contract without a base type is written."""
    return {name: members[name] for name in sorted(members)}
