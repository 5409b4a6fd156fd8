"""What every e-invoice provider client shares: its SOAP client, reading answers, masking the password.

The four provider clients (EDM, İşNet, QNB, the Uyumsoft family) each speak their own operations, but
they read answers the same way — by *local* element name, because WCF and JAX-WS hosts differ in
prefixes and namespaces — decode base64 documents the same way, and must never let a password that a
server echoes reach an error message. Those rules live here once.
"""

from __future__ import annotations

import base64
import binascii

from lxml import etree

from integration_hub.connectors.base import CollectStats, ProviderError
from integration_hub.connectors.efatura.soap import SoapClient, SoapFault


def local_name(element: etree._Element) -> str:
    """The tag without its namespace."""
    return etree.QName(element).localname


def is_element(element: etree._Element, name: str) -> bool:
    """Whether ``element`` is an element (not a comment) with local name ``name``."""
    return isinstance(element.tag, str) and local_name(element) == name


def child(parent: etree._Element | None, name: str) -> etree._Element | None:
    """The first child element of ``parent`` with local name ``name`` (``None`` for a missing parent)."""
    if parent is None:
        return None
    return next((element for element in parent if is_element(element, name)), None)


def child_text(parent: etree._Element | None, name: str) -> str:
    """The stripped text of :func:`child`, ``""`` when there is no such child."""
    element = child(parent, name)
    return (element.text or "").strip() if element is not None else ""


def decode_base64(text: str, error: str) -> bytes:
    """Strictly decode base64 that may be wrapped over lines; ``error`` is the :class:`ProviderError`
    message when it is not base64."""
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ProviderError(error) from None


class ProviderClient:
    """Base of a provider client: holds the :class:`SoapClient` the connector built, routes its faults
    to :meth:`classify_fault`, and masks ``password`` in any text shown to people."""

    def __init__(self, soap: SoapClient, *, password: str = "") -> None:
        self.soap = soap
        self._password = password
        soap.classify_fault = self.classify_fault

    @property
    def endpoint(self) -> str:
        return self.soap.endpoint

    @property
    def provider(self) -> str:
        return self.soap.provider

    @property
    def stats(self) -> CollectStats:
        return self.soap.stats

    def classify_fault(self, fault: SoapFault) -> Exception | None:
        """The error a provider's SOAP fault means; ``None`` lets :class:`SoapFault` itself propagate."""
        return None

    def scrub(self, text: str) -> str:
        """``text`` with the password replaced by ``***`` (servers do echo credentials)."""
        return text.replace(self._password, "***") if self._password else text

    def close(self) -> None:
        self.soap.close()
