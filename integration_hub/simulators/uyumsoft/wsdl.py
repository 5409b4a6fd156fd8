"""The WSDL the simulator serves at ``?wsdl``: the operations it implements, as WCF publishes them.

Same shape as Uyumsoft's ``BasicHttpBinding_IIntegration`` document (document/literal, target namespace
``http://tempuri.org/``, SOAPAction ``http://tempuri.org/IIntegration/<Operation>``), so a WSDL-driven
client such as zeep can load it. Types are kept open (``xs:any``): the simulator is the contract's
reference for its own answers, and the connector never downloads a WSDL at run time.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from integration_hub.connectors.uyumsoft.settings import ACTION_PREFIX, NAMESPACE

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
SOAP_BINDING_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
XS_NS = "http://www.w3.org/2001/XMLSchema"


def _open_element(schema: etree._Element, name: str) -> None:
    element = etree.SubElement(schema, f"{{{XS_NS}}}element", name=name)
    complex_type = etree.SubElement(element, f"{{{XS_NS}}}complexType")
    sequence = etree.SubElement(complex_type, f"{{{XS_NS}}}sequence")
    etree.SubElement(
        sequence, f"{{{XS_NS}}}any", minOccurs="0", maxOccurs="unbounded", processContents="lax", namespace="##any"
    )
    etree.SubElement(complex_type, f"{{{XS_NS}}}anyAttribute", processContents="lax")


def render_wsdl(operations: Iterable[str], address: str) -> bytes:
    """A WSDL 1.1 document for ``operations`` served at ``address``."""
    ops = sorted(operations)
    definitions = etree.Element(
        f"{{{WSDL_NS}}}definitions",
        nsmap={"wsdl": WSDL_NS, "soap": SOAP_BINDING_NS, "xs": XS_NS, "tns": NAMESPACE},
        name="Integration",
        targetNamespace=NAMESPACE,
    )
    schema = etree.SubElement(
        etree.SubElement(definitions, f"{{{WSDL_NS}}}types"),
        f"{{{XS_NS}}}schema",
        elementFormDefault="qualified",
        targetNamespace=NAMESPACE,
    )
    for op in ops:
        _open_element(schema, op)
        _open_element(schema, f"{op}Response")
    for op in ops:
        for suffix, element in (("InputMessage", op), ("OutputMessage", f"{op}Response")):
            message = etree.SubElement(definitions, f"{{{WSDL_NS}}}message", name=f"IIntegration_{op}_{suffix}")
            etree.SubElement(message, f"{{{WSDL_NS}}}part", name="parameters", element=f"tns:{element}")
    port_type = etree.SubElement(definitions, f"{{{WSDL_NS}}}portType", name="IIntegration")
    for op in ops:
        operation = etree.SubElement(port_type, f"{{{WSDL_NS}}}operation", name=op)
        etree.SubElement(operation, f"{{{WSDL_NS}}}input", message=f"tns:IIntegration_{op}_InputMessage")
        etree.SubElement(operation, f"{{{WSDL_NS}}}output", message=f"tns:IIntegration_{op}_OutputMessage")
    binding = etree.SubElement(
        definitions, f"{{{WSDL_NS}}}binding", name="BasicHttpBinding_IIntegration", type="tns:IIntegration"
    )
    etree.SubElement(binding, f"{{{SOAP_BINDING_NS}}}binding", transport="http://schemas.xmlsoap.org/soap/http")
    for op in ops:
        operation = etree.SubElement(binding, f"{{{WSDL_NS}}}operation", name=op)
        etree.SubElement(
            operation, f"{{{SOAP_BINDING_NS}}}operation", soapAction=f"{ACTION_PREFIX}{op}", style="document"
        )
        for direction in ("input", "output"):
            etree.SubElement(
                etree.SubElement(operation, f"{{{WSDL_NS}}}{direction}"), f"{{{SOAP_BINDING_NS}}}body", use="literal"
            )
    service = etree.SubElement(definitions, f"{{{WSDL_NS}}}service", name="Integration")
    port = etree.SubElement(
        service, f"{{{WSDL_NS}}}port", name="BasicHttpBinding_IIntegration", binding="tns:BasicHttpBinding_IIntegration"
    )
    etree.SubElement(port, f"{{{SOAP_BINDING_NS}}}address", location=address)
    return etree.tostring(definitions, xml_declaration=True, encoding="utf-8")
