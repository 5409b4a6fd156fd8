"""The simulator's ``?wsdl``: a single-file WSDL (like WCF's ``?singleWsdl``) for the operations it serves.

It describes the subset of EDM's ~55 operations the simulator implements, with the request shapes the
public raw-SOAP clients send (``efatura.md`` §1.3): ``<Op>Request`` wrappers in ``http://tempuri.org/``
starting with ``REQUEST_HEADER``, XmlSerializer-style attributes on ``INVOICE``, SOAP 1.1 document/literal,
SOAPAction ``http://tempuri.org/EFaturaEDMPort/<Op>`` [I].
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from integration_hub.connectors.edm import settings

OPERATIONS = ("Login", "Logout", "GetInvoice", "GetInvoiceStatus", "MarkInvoice")

_HEADER_FIELDS = (
    "SESSION_ID",
    "CLIENT_TXN_ID",
    "ACTION_DATE",
    "REASON",
    "APPLICATION_NAME",
    "HOSTNAME",
    "CHANNEL_NAME",
    "COMPRESSED",
)
_SEARCH_FIELDS = (
    ("DIRECTION", "xs:string"),
    ("LIMIT", "xs:int"),
    ("FROM", "xs:string"),
    ("TO", "xs:string"),
    ("ID", "xs:string"),
    ("UUID", "xs:string"),
    ("SENDER", "xs:string"),
    ("RECEIVER", "xs:string"),
    ("ISARCHIVED", "xs:boolean"),
    ("START_DATE", "xs:date"),
    ("END_DATE", "xs:date"),
    ("CR_START_DATE", "xs:dateTime"),
    ("CR_END_DATE", "xs:dateTime"),
    ("READ_INCLUDED", "xs:boolean"),
)
# The children of an INVOICE's HEADER, in schema order (the app renders them in this order; tests check).
INVOICE_HEADER_FIELDS = (
    "SENDER",
    "RECEIVER",
    "SUPPLIER",
    "CUSTOMER",
    "ISSUE_DATE",
    "PAYABLE_AMOUNT",
    "FROM",
    "TO",
    "PROFILEID",
    "INVOICE_TYPE",
    "STATUS",
    "STATUS_DESCRIPTION",
    "GIB_STATUS_CODE",
    "GIB_STATUS_DESCRIPTION",
    "RESPONSE_CODE",
    "CDATE",
    "ENVELOPE_IDENTIFIER",
    "EARCHIVE",
    "DIRECTION",
    "MARKED",
)


def _elements(fields: tuple[str, ...] | tuple[tuple[str, str], ...]) -> str:
    rendered = []
    for item in fields:
        name, kind = (item, "xs:string") if isinstance(item, str) else item
        rendered.append(f'<xs:element minOccurs="0" name="{name}" type="{kind}"/>')
    return "".join(rendered)


def _request(name: str, body: str = "") -> str:
    return (
        f'<xs:element name="{name}"><xs:complexType><xs:sequence>'
        f'<xs:element name="REQUEST_HEADER" type="tns:REQUEST_HEADERType"/>{body}'
        "</xs:sequence></xs:complexType></xs:element>"
    )


def _response(name: str, body: str = "") -> str:
    return (
        f'<xs:element name="{name}"><xs:complexType><xs:sequence>'
        f'<xs:element minOccurs="0" name="REQUEST_RETURN" type="tns:REQUEST_RETURNType"/>{body}'
        "</xs:sequence></xs:complexType></xs:element>"
    )


def _schema() -> str:
    invoice = (
        '<xs:complexType name="INVOICE"><xs:sequence>'
        f'<xs:element minOccurs="0" name="HEADER"><xs:complexType><xs:sequence>{_elements(INVOICE_HEADER_FIELDS)}'
        "</xs:sequence></xs:complexType></xs:element>"
        '<xs:element minOccurs="0" name="CONTENT" type="xs:base64Binary"/>'
        '</xs:sequence><xs:attribute name="ID" type="xs:string"/><xs:attribute name="UUID" type="xs:string"/>'
        '<xs:attribute name="TRXID" type="xs:string"/></xs:complexType>'
    )
    invoices = '<xs:element minOccurs="0" maxOccurs="unbounded" name="INVOICE" type="tns:INVOICE"/>'
    return (
        f'<xs:schema elementFormDefault="qualified" targetNamespace="{settings.NAMESPACE}" '
        f'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:tns="{settings.NAMESPACE}">'
        f'<xs:complexType name="REQUEST_HEADERType"><xs:sequence>{_elements(_HEADER_FIELDS)}'
        "</xs:sequence></xs:complexType>"
        '<xs:complexType name="REQUEST_RETURNType"><xs:sequence>'
        '<xs:element minOccurs="0" name="INTL_TXN_ID" type="xs:long"/>'
        '<xs:element minOccurs="0" name="CLIENT_TXN_ID" type="xs:string"/>'
        '<xs:element name="RETURN_CODE" type="xs:int"/></xs:sequence></xs:complexType>'
        '<xs:complexType name="REQUEST_ERRORType"><xs:sequence>'
        '<xs:element minOccurs="0" name="ERROR_CODE" type="xs:int"/>'
        '<xs:element minOccurs="0" name="ERROR_SHORT_DES" type="xs:string"/>'
        '<xs:element minOccurs="0" name="ERROR_LONG_DES" type="xs:string"/>'
        '<xs:element minOccurs="0" name="INTL_TXN_ID" type="xs:long"/>'
        '<xs:element minOccurs="0" name="CLIENT_TXN_ID" type="xs:string"/>'
        "</xs:sequence></xs:complexType>"
        '<xs:element name="REQUEST_ERROR" type="tns:REQUEST_ERRORType"/>'
        f"{invoice}"
        + _request(
            "LoginRequest",
            '<xs:element name="USER_NAME" type="xs:string"/><xs:element name="PASSWORD" type="xs:string"/>'
            '<xs:element minOccurs="0" name="SECRET_KEY" type="xs:string"/>',
        )
        + _response("LoginResponse", '<xs:element name="SESSION_ID" type="xs:string"/>')
        + _request("LogoutRequest")
        + _response("LogoutResponse")
        + _request(
            "GetInvoiceRequest",
            f'<xs:element name="INVOICE_SEARCH_KEY"><xs:complexType><xs:sequence>{_elements(_SEARCH_FIELDS)}'
            "</xs:sequence></xs:complexType></xs:element>"
            '<xs:element minOccurs="0" name="HEADER_ONLY" type="xs:string"/>'
            '<xs:element minOccurs="0" name="INVOICE_CONTENT_TYPE" type="xs:string"/>',
        )
        + _response("GetInvoiceResponse", invoices)
        + _request("GetInvoiceStatusRequest", '<xs:element name="INVOICE" type="tns:INVOICE"/>')
        + _response(
            "GetInvoiceStatusResponse",
            '<xs:element minOccurs="0" name="INVOICE_STATUS"><xs:complexType><xs:sequence>'
            + _elements(("STATUS", "STATUS_DESCRIPTION", "GIB_STATUS_CODE", "GIB_STATUS_DESCRIPTION", "CDATE"))
            + '</xs:sequence><xs:attribute name="ID" type="xs:string"/>'
            '<xs:attribute name="UUID" type="xs:string"/></xs:complexType></xs:element>',
        )
        + _request(
            "MarkInvoiceRequest",
            '<xs:element name="MARK"><xs:complexType><xs:sequence>'
            '<xs:element maxOccurs="unbounded" name="INVOICE" type="tns:INVOICE"/></xs:sequence>'
            '<xs:attribute name="value" type="xs:string"/></xs:complexType></xs:element>',
        )
        + _response("MarkInvoiceResponse")
        + "</xs:schema>"
    )


def render_wsdl(location: str) -> bytes:
    """The WSDL with ``location`` as the SOAP 1.1 endpoint address."""
    ns = settings.NAMESPACE
    messages = "".join(
        f'<wsdl:message name="{op}In"><wsdl:part name="parameters" element="tns:{op}Request"/></wsdl:message>'
        f'<wsdl:message name="{op}Out"><wsdl:part name="parameters" element="tns:{op}Response"/></wsdl:message>'
        for op in OPERATIONS
    )
    fault_message = (
        '<wsdl:message name="RequestFault"><wsdl:part name="detail" element="tns:REQUEST_ERROR"/></wsdl:message>'
    )
    port_ops = "".join(
        f'<wsdl:operation name="{op}"><wsdl:input message="tns:{op}In"/><wsdl:output message="tns:{op}Out"/>'
        f'<wsdl:fault name="REQUEST_ERRORFault" message="tns:RequestFault"/></wsdl:operation>'
        for op in OPERATIONS
    )
    binding_ops = "".join(
        f'<wsdl:operation name="{op}"><soap:operation soapAction="{settings.ACTION_PREFIX}{op}" style="document"/>'
        '<wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output>'
        '<wsdl:fault name="REQUEST_ERRORFault"><soap:fault name="REQUEST_ERRORFault" use="literal"/></wsdl:fault>'
        "</wsdl:operation>"
        for op in OPERATIONS
    )
    text = (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<wsdl:definitions name="EFaturaEDM" targetNamespace="{ns}" xmlns:tns="{ns}" '
        'xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/">'
        f"<wsdl:types>{_schema()}</wsdl:types>{messages}{fault_message}"
        f'<wsdl:portType name="EFaturaEDMPort">{port_ops}</wsdl:portType>'
        '<wsdl:binding name="BasicHttpBinding_EFaturaEDMPort" type="tns:EFaturaEDMPort">'
        f'<soap:binding transport="http://schemas.xmlsoap.org/soap/http"/>{binding_ops}</wsdl:binding>'
        '<wsdl:service name="EFaturaEDM"><wsdl:port name="BasicHttpBinding_EFaturaEDMPort" '
        f'binding="tns:BasicHttpBinding_EFaturaEDMPort"><soap:address location={quoteattr(location)}/></wsdl:port>'
        "</wsdl:service></wsdl:definitions>"
    )
    return text.encode("utf-8")
