"""Server-side SOAP 1.1 helpers shared by the e-invoice simulators.

Written from the SOAP 1.1 note (W3C, 2000-05-08) and OASIS WS-Security 1.0, never from the connectors:
the simulators import nothing from ``integration_hub.connectors`` (a test reads their imports), so a
connector that gets a namespace or an element wrong cannot pass because both sides share one guess.

It reads request envelopes with its own hardened lxml parser and renders answers and faults the way
the services do: ``text/xml``, HTTP 500 for a fault, and for the WCF services (Uyumsoft, İşNet) the
dispatcher faults a .NET endpoint really sends for an action it does not know or a body it cannot
deserialize.
"""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree
from starlette.requests import Request
from starlette.responses import Response

XML_CONTENT_TYPE = "text/xml; charset=utf-8"
# SOAP 1.1 envelope namespace (SOAP 1.1 note §4.1.2).
SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
# OASIS WSS 1.0 SOAP Message Security, secext and utility schemas.
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
# OASIS WSS UsernameToken Profile 1.0 §4: the Type URI of a clear-text password (a URI, not a secret).
PASSWORD_TEXT = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"  # noqa: S105
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

# WCF's dispatcher faults (System.ServiceModel): the code namespaces and texts a .NET endpoint answers with.
WCF_ADDRESSING_NONE_NS = "http://schemas.microsoft.com/ws/2005/05/addressing/none"
WCF_DISPATCHER_NS = "http://schemas.microsoft.com/net/2005/12/windowscommunicationfoundation/dispatcher"
MAX_REQUEST_BYTES = 16 * 1024 * 1024


class SoapClientError(ValueError):
    """A request the service cannot read: answered with a ``s:Client`` fault (or the WCF equivalent)."""


def q(ns: str, tag: str) -> str:
    """Clark notation ``{ns}tag``."""
    return f"{{{ns}}}{tag}"


def _parser() -> etree.XMLParser:
    # No DTDs, no entities, no network: a request is untrusted input even in a simulator.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse_request_xml(content: bytes) -> etree._Element:
    """Parse a request body; raises :class:`SoapClientError` with a one-line reason."""
    if len(content) > MAX_REQUEST_BYTES:
        raise SoapClientError(f"request of {len(content)} bytes exceeds {MAX_REQUEST_BYTES}")
    if b"<!DOCTYPE" in content[:4096] or b"<!ENTITY" in content[:4096]:
        raise SoapClientError("DTDs are not allowed in SOAP messages")
    try:
        root = etree.fromstring(content, _parser())
    except etree.XMLSyntaxError as exc:
        raise SoapClientError(f"malformed XML ({exc.msg})") from None
    if root is None:
        raise SoapClientError("empty request")
    return root


class SoapRequest:
    """A parsed request envelope: its header blocks, the operation element and the SOAPAction."""

    def __init__(self, root: etree._Element, soap_action: str | None) -> None:
        self.root = root
        # SOAP 1.1 §6.1.1: the header is required on every request; its value may be the empty string ("").
        self.has_soap_action = soap_action is not None
        self.soap_action = (soap_action or "").strip().strip('"')
        header = root.find(q(SOAP11_NS, "Header"))
        self.headers: list[etree._Element] = list(header) if header is not None else []
        body = root.find(q(SOAP11_NS, "Body"))
        elements = [child for child in body if isinstance(child.tag, str)] if body is not None else []
        if not elements:
            raise SoapClientError("request has no SOAP body")
        self.body: etree._Element = body
        self.operation_element: etree._Element = elements[0]

    @property
    def operation(self) -> str:
        """The operation's local name (``GetInboxInvoiceList``), from the body element."""
        return etree.QName(self.operation_element).localname

    @property
    def operation_namespace(self) -> str | None:
        return etree.QName(self.operation_element).namespace

    def security_header(self) -> etree._Element | None:
        for block in self.headers:
            if block.tag == q(WSSE_NS, "Security"):
                return block
        return None

    def username_token(self) -> tuple[str | None, str | None, str | None]:
        """``(username, password, password type)`` from ``wsse:Security``, or Nones when absent."""
        security = self.security_header()
        token = security.find(q(WSSE_NS, "UsernameToken")) if security is not None else None
        if token is None:
            return None, None, None
        password = token.find(q(WSSE_NS, "Password"))
        return (
            token.findtext(q(WSSE_NS, "Username")),
            password.text if password is not None else None,
            password.get("Type") if password is not None else None,
        )


async def read_soap_request(request: Request) -> SoapRequest:
    """Parse the request body as a SOAP 1.1 envelope (raises :class:`SoapClientError` with a short reason)."""
    root = parse_request_xml(await request.body())
    if root.tag != q(SOAP11_NS, "Envelope"):
        raise SoapClientError("root element is not a SOAP 1.1 Envelope")
    return SoapRequest(root, request.headers.get("SOAPAction"))


def soap_response(elements: etree._Element | Iterable[etree._Element], status: int = 200) -> Response:
    """Wrap one or more body elements in an envelope."""
    env = etree.Element(q(SOAP11_NS, "Envelope"), nsmap={"s": SOAP11_NS})
    body = etree.SubElement(env, q(SOAP11_NS, "Body"))
    for element in [elements] if isinstance(elements, etree._Element) else elements:
        body.append(element)
    return Response(etree.tostring(env, xml_declaration=True, encoding="utf-8"), status, media_type=XML_CONTENT_TYPE)


def fault_response(
    code: str,
    message: str,
    detail: etree._Element | None = None,
    status: int = 500,
    nsmap: dict[str, str] | None = None,
) -> Response:
    """A SOAP 1.1 fault (``faultcode``/``faultstring``/``detail``) with HTTP 500 by default.

    ``nsmap`` declares the prefix of a qualified ``code`` (``a:ActionNotSupported``) on the fault element.
    """
    fault = etree.Element(q(SOAP11_NS, "Fault"), nsmap=nsmap or {})
    etree.SubElement(fault, "faultcode").text = code
    faultstring = etree.SubElement(fault, "faultstring")
    faultstring.text = message
    faultstring.set("{http://www.w3.org/XML/1998/namespace}lang", "en-US")
    if detail is not None:
        etree.SubElement(fault, "detail").append(detail)
    return soap_response(fault, status)


def wcf_action_not_supported(action: str) -> Response:
    """What a WCF endpoint answers for a SOAPAction no operation of its contract has."""
    return fault_response(
        "a:ActionNotSupported",
        f"The message with Action '{action}' cannot be processed at the receiver, due to a ContractFilter "
        "mismatch at the EndpointDispatcher. This may be because of either a contract mismatch (mismatched "
        "Actions between sender and receiver) or a binding/security mismatch between the sender and the "
        "receiver.  Check that sender and receiver have the same contract and the same binding (including "
        "security requirements, e.g. Message, Transport, None).",
        nsmap={"a": WCF_ADDRESSING_NONE_NS},
    )


def wcf_deserialization_failed(operation: str, namespace: str, reason: str) -> Response:
    """What a WCF endpoint answers when the formatter cannot read the operation's body."""
    return fault_response(
        "a:DeserializationFailed",
        "The formatter threw an exception while trying to deserialize the message: There was an error while "
        f"trying to deserialize parameter {namespace}:{operation}. {reason}",
        nsmap={"a": WCF_DISPATCHER_NS},
    )


def client_fault(message: str) -> Response:
    """A generic ``s:Client`` fault for a request that is not a readable SOAP 1.1 message at all."""
    return fault_response("s:Client", message)
