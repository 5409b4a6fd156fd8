"""Reading a request body the way the JAX-WS service's JAXB binding does, against :mod:`.contract`.

JAXB binds a child to a member only by its *unqualified* local name: a member sent in a namespace (the
service's, say) or under a name the type does not have is not bound at all, so the operation sees that
parameter as missing and answers with its own missing-parameter error. A member that repeats
(``List<String>``) gets one value per element; a text value is never split.

With ``strict`` (the simulator's default, see :mod:`.contract` on member order) the members it binds must
also come in the contract's order, each non-repeated member at most once; a violation is reported the way a
schema-validating Java endpoint reports it (Xerces ``cvc-complex-type.2.4.a``/``.d``) [I: that QNB would].
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from integration_hub.simulators.qnb.contract import Struct


class OrderViolation(ValueError):
    """A bound member out of the contract's order (``strict`` only)."""


@dataclass
class Bound:
    """The values JAXB would hand the operation: text members, repeated members, nested types."""

    texts: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    structs: dict[str, Bound] = field(default_factory=dict)

    def text(self, name: str) -> str:
        return self.texts.get(name, "")

    def values(self, name: str) -> list[str]:
        return self.lists.get(name, [])

    def struct(self, name: str) -> Bound | None:
        return self.structs.get(name)

    def summary(self) -> dict[str, str | list[str]]:
        """Every bound value, nested types lifted one level (for the simulator's call log)."""
        flat: dict[str, str | list[str]] = {**self.texts, **self.lists}
        for nested in self.structs.values():
            flat.update(nested.summary())
        return flat


def bind(element: etree._Element, struct: Struct, *, strict: bool) -> Bound:
    """The members of ``struct`` found among ``element``'s children (unqualified names only)."""
    bound = Bound()
    position = -1
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child)
        member = struct.member(name.localname) if name.namespace is None else None
        if member is None:
            continue  # JAXB leaves an unknown or qualified element unbound
        index = struct.index(member.name)
        if strict and (index < position or (index == position and not member.repeated)):
            raise OrderViolation(_xerces_message(member.name, [m.name for m in struct.members[position + 1 :]]))
        position = max(position, index)
        if member.type is not None:
            bound.structs[member.name] = bind(child, member.type, strict=strict)
        elif member.repeated:
            bound.lists.setdefault(member.name, []).append((child.text or "").strip())
        else:
            bound.texts[member.name] = (child.text or "").strip()
    return bound


def _xerces_message(found: str, expected: list[str]) -> str:
    """Xerces' text for an element where the sequence allows ``expected`` (or nothing more)."""
    if not expected:
        return (
            f"cvc-complex-type.2.4.d: Invalid content was found starting with element '{found}'. "
            "No child element is expected at this point."
        )
    return (
        f"cvc-complex-type.2.4.a: Invalid content was found starting with element '{found}'. "
        f"One of '{{{', '.join(expected)}}}' is expected."
    )
