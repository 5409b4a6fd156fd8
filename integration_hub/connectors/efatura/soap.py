"""SOAP 1.1 plumbing shared by the five e-invoice connectors: envelopes, WS-Security, faults.

Why hand-built envelopes over httpx instead of zeep: each integrator has quirks a generic WSDL client
fights (İşNet wants DataContract elements in alphabetical order, EDM repeats a session header,
Uyumsoft's flags are attributes and its nullable query fields go as ``xsi:nil``), responses carry
multi-megabyte base64 payloads, and we want every request to go through the shared
:class:`~integration_hub.connectors.http.HttpTransport` (rate limits, retries, request accounting).
Building the few operations we call with lxml keeps each request explicit, testable against the
simulators, and free of WSDL downloads at run time.

Parsing is hardened: no DTDs, no entity expansion, no network, ``huge_tree`` only for big base64 text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

import httpx
from lxml import etree

from integration_hub.connectors.base import AuthenticationError, CollectStats, ProviderError
from integration_hub.connectors.http import HttpTransport, RetryPolicy, TokenBucket

SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
# A URI naming the token type, not a password.
PASSWORD_TEXT = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"  # noqa: S105
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

MAX_RESPONSE_BYTES = 256 * 1024 * 1024
# Fault codes (local part) with which WS-Security stacks refuse a missing, unsupported or wrong token.
WS_SECURITY_FAULT_CODES = frozenset({"FailedAuthentication", "InvalidSecurity", "InvalidSecurityToken"})
# WCF dispatcher fault codes (local part): the service could not read the request at all, a contract mismatch
# (wrong SOAPAction, a body its formatter cannot deserialize), never a verdict on the credentials.
WCF_DISPATCHER_FAULT_CODES = frozenset({"ActionNotSupported", "DeserializationFailed", "ContractFilterMismatch"})


def hardened_parser() -> etree.XMLParser:
    """An lxml parser that cannot be turned against us (XXE, billion laughs, network fetches)."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=True,
        remove_blank_text=True,
    )


def parse_xml(content: bytes, what: str) -> etree._Element:
    """Parse untrusted XML with :func:`hardened_parser`; DOCTYPEs are refused outright."""
    if len(content) > MAX_RESPONSE_BYTES:
        raise ProviderError(f"{what}: response of {len(content)} bytes exceeds the {MAX_RESPONSE_BYTES} byte limit")
    head = content[:4096].lstrip()
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise ProviderError(f"{what}: refused a document with a DOCTYPE/ENTITY declaration")
    try:
        root = etree.fromstring(content, hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise ProviderError(f"{what}: malformed XML ({exc.msg})") from None
    if root is None:
        raise ProviderError(f"{what}: empty XML document")
    return root


def q(ns: str, tag: str) -> str:
    """Clark notation ``{ns}tag``."""
    return f"{{{ns}}}{tag}"


def sub(parent: etree._Element, ns: str, tag: str, text: object | None = None, **attrs: str) -> etree._Element:
    """Append a child element (text converted with ``str`` unless ``None``)."""
    return _with_text(etree.SubElement(parent, q(ns, tag), {k: str(v) for k, v in attrs.items()}), text)


def unqualified(parent: etree._Element, tag: str, text: object | None = None) -> etree._Element:
    """Append a child in no namespace, even under a qualified parent: the members of XmlSerializer's
    ``Form=Unqualified`` (EDM) and of JAXB's default ``elementFormDefault="unqualified"`` (QNB), which a
    service binds by their unqualified name only."""
    return _with_text(etree.SubElement(parent, tag), text)


def _with_text(element: etree._Element, text: object | None) -> etree._Element:
    if text is not None:
        element.text = str(text)
    return element


def ws_security_header(
    username: str, password: str, *, timestamp: timedelta | None = None, now: datetime | None = None
) -> etree._Element:
    """``wsse:Security`` with a ``UsernameToken`` and a ``#PasswordText`` password.

    With ``timestamp`` (the message's lifetime) a ``wsu:Timestamp`` comes first, as a binding whose policy
    says ``sp:IncludeTimestamp`` requires (WS-SecurityPolicy 1.1 §6.2; OASIS WSS 1.0 SOAP Message Security
    §10): ``wsu:Created`` = ``now`` and ``wsu:Expires`` = ``now + timestamp``, UTC with milliseconds and
    ``Z``, and a ``wsu:Id`` (``_0``, the id WCF's own clients give it) so a signature could reference it.
    """
    security = etree.Element(q(WSSE_NS, "Security"), nsmap={"wsse": WSSE_NS, "wsu": WSU_NS})
    security.set(q(SOAP11_NS, "mustUnderstand"), "1")
    if timestamp is not None:
        created = (now or datetime.now(UTC)).astimezone(UTC)
        stamp = sub(security, WSU_NS, "Timestamp")
        stamp.set(q(WSU_NS, "Id"), "_0")
        sub(stamp, WSU_NS, "Created", _utc(created))
        sub(stamp, WSU_NS, "Expires", _utc(created + timestamp))
    token = sub(security, WSSE_NS, "UsernameToken")
    sub(token, WSSE_NS, "Username", username)
    sub(token, WSSE_NS, "Password", password, Type=PASSWORD_TEXT)
    return security


def _utc(moment: datetime) -> str:
    """``xs:dateTime`` in UTC with milliseconds: ``2025-01-31T08:00:00.000Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def nil(parent: etree._Element, ns: str, tag: str) -> etree._Element:
    """An empty element with ``xsi:nil="true"``: present (``minOccurs="1"``) but without a value
    (``nillable="true"``). The ``xsi`` prefix must be declared by an ancestor or lxml adds it here."""
    return sub(parent, ns, tag, **{q(XSI_NS, "nil"): "true"})


def envelope(body_child: etree._Element, headers: Iterable[etree._Element] = ()) -> bytes:
    """Serialize a SOAP 1.1 envelope around ``body_child`` with optional header blocks."""
    env = etree.Element(q(SOAP11_NS, "Envelope"), nsmap={"soapenv": SOAP11_NS})
    header_blocks = list(headers)
    if header_blocks:
        header = sub(env, SOAP11_NS, "Header")
        for block in header_blocks:
            header.append(block)
    body = sub(env, SOAP11_NS, "Body")
    body.append(body_child)
    return etree.tostring(env, xml_declaration=True, encoding="utf-8")


class SoapFault(Exception):
    """A SOAP fault as the service sent it: ``code`` (e.g. ``s:Client``), ``message``, flattened ``detail``."""

    def __init__(self, code: str, message: str, detail: str = "") -> None:
        super().__init__(code, message, detail)
        self.code = code
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return f"SOAP fault {self.code}: {self.message}"

    @property
    def local_code(self) -> str:
        """``code`` without its namespace prefix (``a:InvalidSecurity`` → ``InvalidSecurity``)."""
        return self.code.rpartition(":")[2]


def find_fault(root: etree._Element) -> SoapFault | None:
    """The fault in an envelope, or ``None``."""
    fault = root.find(f"{{{SOAP11_NS}}}Body/{{{SOAP11_NS}}}Fault")
    if fault is None:
        return None
    code = (fault.findtext("faultcode") or "").strip()
    message = " ".join((fault.findtext("faultstring") or "").split())
    detail_el = fault.find("detail")
    detail = " ".join("".join(detail_el.itertext()).split()) if detail_el is not None else ""
    return SoapFault(code=code, message=message, detail=detail)


def body_child(root: etree._Element, what: str) -> etree._Element:
    """The first element inside ``soap:Body`` (the operation's response)."""
    body = root.find(f"{{{SOAP11_NS}}}Body")
    if body is None or len(body) == 0:
        raise ProviderError(f"{what}: response has no SOAP body")
    return body[0]


def _looks_like_fault(response: httpx.Response) -> bool:
    return b"Fault" in response.content[:2048] and b"Envelope" in response.content[:2048]


XML_MEDIA_TYPES = frozenset({"text/xml", "application/xml", "application/soap+xml"})


def is_xml_answer(response: httpx.Response) -> bool:
    """Whether ``response`` can be a SOAP answer at all: an XML content type (or none) and a body that
    starts like XML, not like an HTML page.

    A wrong ``base_url`` or environment typically answers with a web server's HTML 404 or a portal's
    HTML 200; handed to the XML parser those read as "refused a DOCTYPE declaration" or "no SOAP body",
    which send a person looking in the wrong place.
    """
    media_type = response.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type and media_type not in XML_MEDIA_TYPES and not media_type.endswith("+xml"):
        return False
    head = response.content[:256].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<") and not head.startswith((b"<html", b"<!doctype html"))


class SoapClient:
    """Posts SOAP 1.1 envelopes through the shared :class:`HttpTransport`.

    A ``500`` that carries a SOAP fault is an answer (bad credentials, expired session, unknown id), not
    a transport failure, so it is *not* retried; a ``5xx`` without a fault, a timeout or a connection
    error is. ``classify_fault`` turns a provider's fault into the right error type (for example an
    :class:`AuthenticationError`); unclassified faults raise :class:`SoapFault` for the caller.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        provider: str,
        action_prefix: str,
        fixed_action: str | None = None,
        stats: CollectStats | None = None,
        bucket: TokenBucket | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        classify_fault: Callable[[SoapFault], Exception | None] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.provider = provider
        self.action_prefix = action_prefix
        # A service whose WSDL declares one soapAction for every operation (QNB's JAX-WS: ``""``) names it here;
        # otherwise each operation's SOAPAction is ``<action_prefix><operation>``.
        self.fixed_action = fixed_action
        self.classify_fault = classify_fault
        self.http = HttpTransport(
            client=httpx.Client(timeout=timeout, transport=transport),
            stats=stats or CollectStats(),
            bucket=bucket,
            retry=retry or RetryPolicy(),
            provider=provider,
            is_auth_failure=lambda r: r.status_code in (401, 403) and not _looks_like_fault(r),
            auth_message=lambda r: f"{provider}: HTTP {r.status_code} — the service refused this client",
            is_retryable=lambda r: r.status_code >= 500 and not _looks_like_fault(r),
        )

    @property
    def stats(self) -> CollectStats:
        return self.http.stats

    def soap_action(self, operation: str) -> str:
        """The SOAPAction header value (unquoted) for ``operation``."""
        return self.fixed_action if self.fixed_action is not None else f"{self.action_prefix}{operation}"

    def call(self, operation: str, body: etree._Element, headers: Iterable[etree._Element] = ()) -> etree._Element:
        """Send one operation; return the response element inside ``soap:Body``."""
        response = self.http.request(
            "POST",
            self.endpoint,
            content=envelope(body, headers),
            headers={
                "Content-Type": "text/xml; charset=utf-8",
                "SOAPAction": f'"{self.soap_action(operation)}"',
            },
        )
        what = f"{self.provider} {operation}"
        if not response.content:
            raise ProviderError(f"{what}: empty response (HTTP {response.status_code})")
        if not is_xml_answer(response):
            content_type = response.headers.get("content-type") or "without a content type"
            raise ProviderError(
                f"{what}: HTTP {response.status_code} {content_type}, not a SOAP answer — check base_url/environment"
            )
        root = parse_xml(response.content, what)
        fault = find_fault(root)
        if fault is not None:
            mapped = self.classify_fault(fault) if self.classify_fault else None
            raise mapped if mapped is not None else fault
        if response.status_code >= 400:
            raise ProviderError(f"{what}: HTTP {response.status_code} without a SOAP fault")
        return body_child(root, what)

    def close(self) -> None:
        self.http.close()


__all__ = [
    "PASSWORD_TEXT",
    "SOAP11_NS",
    "WSSE_NS",
    "WSU_NS",
    "WS_SECURITY_FAULT_CODES",
    "XSI_NS",
    "AuthenticationError",
    "SoapClient",
    "SoapFault",
    "body_child",
    "envelope",
    "find_fault",
    "hardened_parser",
    "nil",
    "parse_xml",
    "q",
    "sub",
    "ws_security_header",
]
