"""WCF DataContract (de)serialization as İşNet's service does it, including its order trap.

How DataContractSerializer reads a contract (the behaviour reproduced here): members have a fixed
order (base members first, then ordinal-alphabetical: ``ETTN`` sorts before ``Ettn``). Reading walks
the incoming elements once; each element is matched against the members *at or after* the current
position. A match is read and the position moves past it; an element that matches nothing ahead
(an unknown name, a foreign namespace, or a member that came too late) is skipped silently — it is
*not* an error, the member just keeps its default (``null``). So ``MinInvoiceDate`` followed by
``MaxInvoiceDate`` loses the upper bound. Values that cannot be converted (bad enum, bad date,
non-numeric int) are a deserialization fault, as in WCF.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree

MODEL_NAMESPACE = "http://schemas.datacontract.org/2004/07/EInvoice.Service.Model"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


class DeserializationError(Exception):
    """A member value WCF could not convert (becomes an ``a:DeserializationFailed`` fault)."""


@dataclass(frozen=True)
class Member:
    name: str
    kind: str | Contract  # "string" | "int" | "bool" | "datetime" | "enum" | nested contract
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Contract:
    name: str
    members: tuple[Member, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "members", tuple(sorted(self.members, key=lambda m: m.name)))


@dataclass
class ReadResult:
    """Members that were read (absent ones are missing from ``values``) and the elements skipped."""

    values: dict[str, Any] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)


def read(element: etree._Element | None, contract: Contract, prefix: str = "") -> ReadResult:
    result = ReadResult()
    if element is None:
        return result
    position = 0
    for child in element:
        if not isinstance(child.tag, str):
            continue  # comments, processing instructions
        qname = etree.QName(child)
        index = None
        if qname.namespace == MODEL_NAMESPACE:
            index = next(
                (i for i in range(position, len(contract.members)) if contract.members[i].name == qname.localname),
                None,
            )
        if index is None:
            result.ignored.append(prefix + qname.localname)
            continue
        member = contract.members[index]
        position = index + 1
        if child.get(etree.QName(XSI, "nil")) == "true":
            result.values[member.name] = None
            continue
        if isinstance(member.kind, Contract):
            nested = read(child, member.kind, prefix=f"{prefix}{member.name}.")
            result.values[member.name] = nested.values
            result.ignored.extend(nested.ignored)
        else:
            result.values[member.name] = _convert(member, child.text or "")
    return result


def _convert(member: Member, text: str) -> Any:
    kind = member.kind
    if kind == "string":
        return text
    value = text.strip()
    if kind == "int":
        try:
            return int(value)
        except ValueError:
            raise DeserializationError(f"The value '{value}' cannot be parsed as the type 'Int32'.") from None
    if kind == "bool":
        if value in ("true", "1"):
            return True
        if value in ("false", "0"):
            return False
        raise DeserializationError(f"The value '{value}' cannot be parsed as the type 'Boolean'.")
    if kind == "datetime":
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise DeserializationError(f"The value '{value}' cannot be parsed as the type 'DateTime'.") from None
        return moment.replace(tzinfo=None)
    if kind == "enum":
        if value not in member.choices:
            raise DeserializationError(
                f"Invalid enum value '{value}' cannot be deserialized into type '{member.name}'."
            )
        return value
    raise AssertionError(f"unknown member kind {kind!r}")


def write(parent: etree._Element, members: Mapping[str, Any]) -> None:
    """Render ``members`` as DataContract elements (ordinal order; ``None`` → ``i:nil``; dicts nest;
    lists of ``(item_name, mapping)`` become ``ArrayOfX``)."""
    for name in sorted(members):
        value = members[name]
        element = etree.SubElement(parent, etree.QName(MODEL_NAMESPACE, name))
        if value is None:
            element.set(etree.QName(XSI, "nil"), "true")
        elif isinstance(value, Mapping):
            write(element, value)
        elif isinstance(value, list):
            for item_name, item in value:
                write(etree.SubElement(element, etree.QName(MODEL_NAMESPACE, item_name)), item)
        elif isinstance(value, bool):
            element.text = "true" if value else "false"
        else:
            element.text = str(value)


PAGING_REQUEST = Contract("PagingRequest", (Member("PageNumber", "int"), Member("RecordsPerPage", "int")))
RESULT_SET = Contract(
    "InvoiceResultSet",
    (
        Member("IsAdditionalTaxIncluded", "bool"),
        Member("IsArchiveIncluded", "bool"),
        Member("IsInvoiceDetailIncluded", "bool"),
        Member("IsXMLIncluded", "bool"),
    ),
)
DIRECTIONS = ("Incoming", "Outgoing")
SEARCH_INVOICE_REQUEST = Contract(
    "SearchInvoiceRequest",
    (
        Member("CompanyTaxCode", "string"),
        Member("CompanyVendorNumber", "string"),
        Member("ETTN", "string"),
        Member("InvoiceDirection", "enum", DIRECTIONS),
        Member("InvoiceNumber", "string"),
        Member("MaxInvoiceDate", "datetime"),
        Member("MinInvoiceDate", "datetime"),
        Member("PagingRequest", PAGING_REQUEST),
        Member("ReceiverTaxCode", "string"),
        Member("ResultSet", RESULT_SET),
    ),
)
VIEWER_LINK_REQUEST = Contract(
    "DocumentViewerLinkRequest",
    (
        Member("CompanyTaxCode", "string"),
        Member("CompanyVendorNumber", "string"),
        Member("Ettn", "string"),
        Member("InvoiceDirection", "enum", DIRECTIONS),
        Member("InvoiceDocumentType", "string"),
    ),
)
# State-changing operations only need the tenant to be identified.
TENANT_REQUEST = Contract("Request", (Member("CompanyTaxCode", "string"),))
