"""The simulator's ``?wsdl``: a single-file WSDL (like WCF's ``?singleWsdl``) of the operations it serves.

Written from the tables of :mod:`.contract` (EDM's generated client), so it says what the service
enforces: ``elementFormDefault="unqualified"`` (every member ``Form=Unqualified``), sequences in ``Order``,
SOAP 1.1 document/literal with the bare request name as SOAPAction, ``REQUEST_ERRORType`` as the fault
detail. Two liberties, neither visible in an instance document: request types are flattened (the
``REQUEST_HEADER`` of base class ``REQUEST`` first) instead of extending ``REQUEST``, and the generated
client's anonymous types (``INVOICEHEADER``, ``GetInvoiceRequestINVOICE_SEARCH_KEY``…) are named after
their generated classes. Members the simulator never reads or writes are ``xs:anyType``.
"""

from __future__ import annotations

from lxml import etree

from integration_hub.simulators.edm.contract import (
    ENUMS,
    NAMESPACE,
    OPERATIONS,
    PORT_TYPE,
    REQUEST_ERROR,
    Type,
)

XS_NS = "http://www.w3.org/2001/XMLSchema"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
SOAP_BINDING_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
HTTP_TRANSPORT = "http://schemas.xmlsoap.org/soap/http"
FAULT_NAME = "RequestFault"  # FaultContract(..., Name="RequestFault") in the generated client


def _xs(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{XS_NS}}}{tag}", attrs)


def _wsdl(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{WSDL_NS}}}{tag}", attrs)


def _types() -> list[Type]:
    """Every complex type reachable from the served operations and the fault, each once."""
    found: dict[str, Type] = {}

    def visit(ctype: Type) -> None:
        if ctype.name in found:
            return
        found[ctype.name] = ctype
        for member in ctype.members:
            if isinstance(member.type, Type):
                visit(member.type)

    for operation in OPERATIONS.values():
        visit(operation.request)
        visit(operation.response)
    visit(REQUEST_ERROR)
    return list(found.values())


def _type_name(kind: str | Type) -> str:
    if isinstance(kind, Type):
        return f"tns:{kind.name}"
    return f"tns:{kind}" if kind in ENUMS else f"xs:{kind}"


def _schema(types: etree._Element) -> None:
    schema = _xs(types, "schema", targetNamespace=NAMESPACE, elementFormDefault="unqualified")
    for name, values in ENUMS.items():
        restriction = _xs(_xs(schema, "simpleType", name=name), "restriction", base="xs:string")
        for value in values:
            _xs(restriction, "enumeration", value=value)
    for ctype in _types():
        complex_type = _xs(schema, "complexType", name=ctype.name)
        if ctype.content is not None:  # AmountType: text with attributes
            complex_type = _xs(_xs(complex_type, "simpleContent"), "extension", base=f"xs:{ctype.content}")
        else:
            sequence = _xs(complex_type, "sequence")
            for member in ctype.members:
                _xs(
                    sequence,
                    "element",
                    name=member.name,
                    type=_type_name(member.type),
                    minOccurs="1" if member.required else "0",
                    maxOccurs="unbounded" if member.repeated else "1",
                )
        for attribute in ctype.attributes:
            _xs(
                complex_type,
                "attribute",
                name=attribute.name,
                type=_type_name(attribute.type),
                use="required" if attribute.required else "optional",
            )
    for operation in OPERATIONS.values():
        for ctype in (operation.request, operation.response):
            _xs(schema, "element", name=ctype.name, type=f"tns:{ctype.name}")
    _xs(schema, "element", name=REQUEST_ERROR.name, type=f"tns:{REQUEST_ERROR.name}")


def render_wsdl(location: str) -> bytes:
    """The WSDL with ``location`` as the SOAP 1.1 endpoint address."""
    nsmap = {"wsdl": WSDL_NS, "soap": SOAP_BINDING_NS, "xs": XS_NS, "tns": NAMESPACE}
    definitions = etree.Element(f"{{{WSDL_NS}}}definitions", name="EFaturaEDM", targetNamespace=NAMESPACE, nsmap=nsmap)
    _schema(_wsdl(definitions, "types"))
    for operation in OPERATIONS.values():
        for ctype in (operation.request, operation.response):
            _wsdl(_wsdl(definitions, "message", name=ctype.name), "part", name=ctype.name, element=f"tns:{ctype.name}")
    _wsdl(_wsdl(definitions, "message", name=FAULT_NAME), "part", name="detail", element=f"tns:{REQUEST_ERROR.name}")

    port_type = _wsdl(definitions, "portType", name=PORT_TYPE)
    binding = _wsdl(definitions, "binding", name=f"BasicHttpBinding_{PORT_TYPE}", type=f"tns:{PORT_TYPE}")
    etree.SubElement(binding, f"{{{SOAP_BINDING_NS}}}binding", transport=HTTP_TRANSPORT)
    for operation in OPERATIONS.values():
        abstract = _wsdl(port_type, "operation", name=operation.name)
        _wsdl(abstract, "input", message=f"tns:{operation.request.name}")
        _wsdl(abstract, "output", message=f"tns:{operation.response.name}")
        _wsdl(abstract, "fault", name=FAULT_NAME, message=f"tns:{FAULT_NAME}")
        concrete = _wsdl(binding, "operation", name=operation.name)
        etree.SubElement(concrete, f"{{{SOAP_BINDING_NS}}}operation", soapAction=operation.action, style="document")
        for direction in ("input", "output"):
            etree.SubElement(_wsdl(concrete, direction), f"{{{SOAP_BINDING_NS}}}body", use="literal")
        fault = _wsdl(concrete, "fault", name=FAULT_NAME)
        etree.SubElement(fault, f"{{{SOAP_BINDING_NS}}}fault", name=FAULT_NAME, use="literal")
    port = _wsdl(_wsdl(definitions, "service", name="EFaturaEDM"), "port", name=f"BasicHttpBinding_{PORT_TYPE}")
    port.set("binding", f"tns:BasicHttpBinding_{PORT_TYPE}")
    etree.SubElement(port, f"{{{SOAP_BINDING_NS}}}address", location=location)
    return etree.tostring(definitions, xml_declaration=True, encoding="utf-8")
