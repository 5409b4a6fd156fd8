"""Server-side SOAP 1.1 helpers shared by the e-invoice simulators.

Reads request envelopes with the same hardened parser the connectors use and renders responses and
faults the way WCF / JAX-WS services do (``text/xml``, HTTP 500 for faults).
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree
from starlette.requests import Request
from starlette.responses import Response

from integration_hub.connectors.efatura.soap import SOAP11_NS, WSSE_NS, parse_xml, q

XML_CONTENT_TYPE = "text/xml; charset=utf-8"


class SoapRequest:
    """A parsed request envelope: its header blocks, the operation element and the SOAPAction."""

    def __init__(self, root: etree._Element, soap_action: str) -> None:
        self.root = root
        self.soap_action = soap_action.strip('"')
        header = root.find(q(SOAP11_NS, "Header"))
        self.headers: list[etree._Element] = list(header) if header is not None else []
        body = root.find(q(SOAP11_NS, "Body"))
        if body is None or len(body) == 0:
            raise ValueError("request has no SOAP body")
        self.operation_element: etree._Element = body[0]

    @property
    def operation(self) -> str:
        """The operation's local name (``GetInboxInvoiceList``), from the body element."""
        return etree.QName(self.operation_element).localname

    def username_token(self) -> tuple[str | None, str | None, str | None]:
        """``(username, password, password type)`` from ``wsse:Security``, or Nones when absent."""
        for block in self.headers:
            if block.tag == q(WSSE_NS, "Security"):
                token = block.find(q(WSSE_NS, "UsernameToken"))
                if token is None:
                    return None, None, None
                password = token.find(q(WSSE_NS, "Password"))
                return (
                    token.findtext(q(WSSE_NS, "Username")),
                    password.text if password is not None else None,
                    password.get("Type") if password is not None else None,
                )
        return None, None, None


async def read_soap_request(request: Request) -> SoapRequest:
    """Parse the request body as a SOAP envelope (raises ``ValueError`` with a short reason)."""
    body = await request.body()
    try:
        root = parse_xml(body, "request")
    except Exception as exc:  # the simulator answers malformed requests with a client fault
        raise ValueError(str(exc)) from None
    if root.tag != q(SOAP11_NS, "Envelope"):
        raise ValueError("root element is not a SOAP 1.1 Envelope")
    return SoapRequest(root, request.headers.get("SOAPAction", ""))


def soap_response(elements: etree._Element | Iterable[etree._Element], status: int = 200) -> Response:
    """Wrap one or more body elements in an envelope."""
    env = etree.Element(q(SOAP11_NS, "Envelope"), nsmap={"s": SOAP11_NS})
    body = etree.SubElement(env, q(SOAP11_NS, "Body"))
    for element in [elements] if isinstance(elements, etree._Element) else elements:
        body.append(element)
    return Response(etree.tostring(env, xml_declaration=True, encoding="utf-8"), status, media_type=XML_CONTENT_TYPE)


def fault_response(code: str, message: str, detail: etree._Element | None = None, status: int = 500) -> Response:
    """A SOAP 1.1 fault (``faultcode``/``faultstring``/``detail``) with HTTP 500 by default."""
    fault = etree.Element(q(SOAP11_NS, "Fault"))
    etree.SubElement(fault, "faultcode").text = code
    etree.SubElement(fault, "faultstring").text = message
    if detail is not None:
        etree.SubElement(fault, "detail").append(detail)
    return soap_response(fault, status)
