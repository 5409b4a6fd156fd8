"""The WS-Security checks the ``Integration`` binding's policy asks for, made as a WCF host makes them.

The policy (``Integration.wsdl``, ``BasicHttpBinding_IIntegration_policy``) is a ``TransportBinding`` with
``sp:IncludeTimestamp`` and a ``SignedSupportingTokens`` ``UsernameToken`` (``WssUsernameToken10``): every
request carries, in ``wsse:Security``, a ``wsu:Timestamp`` and a UsernameToken whose password is
``#PasswordText`` (UsernameToken Profile 1.0 §4; a digest is not a WssUsernameToken10 password WCF can
check). WCF refuses any breach of that with one generic fault that never says which check failed:
``a:InvalidSecurity`` (``a`` = the WSS 1.0 secext namespace) "An error occurred when verifying security for
the message." (reported for Uyumsoft in ``efatura.md`` §1.1 S-U4).

Timestamp rules (OASIS WSS 1.0 SOAP Message Security §10): ``wsu:Created`` and, optional there, ``wsu:Expires``
as UTC ``xs:dateTime``. WCF also refuses a message that has expired or was created in the future beyond its
clock skew (``LocalServiceSecuritySettings.MaxClockSkew``, 5 minutes by default) [I: WCF's default, the
service's own setting is not published].
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lxml import etree
from starlette.responses import Response

from integration_hub.simulators.efatura.soap import PASSWORD_TEXT, WSSE_NS, WSU_NS, SoapRequest, fault_response, q

INVALID_SECURITY = "An error occurred when verifying security for the message."
MAX_CLOCK_SKEW = timedelta(minutes=5)


class SecurityRefused(Exception):
    """The header breaks the policy; the message says why (for the call log only, never for the client)."""


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


def _instant(value: str | None, what: str) -> datetime:
    text = (value or "").strip()
    if not text.endswith("Z"):
        raise SecurityRefused(f"{what} is not a UTC xs:dateTime")
    try:
        return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
    except ValueError:
        raise SecurityRefused(f"{what} is not a UTC xs:dateTime") from None


def check_timestamp(security: etree._Element, now: datetime) -> None:
    """Exactly one ``wsu:Timestamp``, created no later than ``now`` + skew and not yet expired."""
    stamps = security.findall(q(WSU_NS, "Timestamp"))
    if len(stamps) != 1:
        raise SecurityRefused("the policy requires one wsu:Timestamp")
    created = _instant(stamps[0].findtext(q(WSU_NS, "Created")), "wsu:Created")
    if created > now + MAX_CLOCK_SKEW:
        raise SecurityRefused("wsu:Created lies in the future")
    expires_text = stamps[0].findtext(q(WSU_NS, "Expires"))
    if expires_text is not None:
        expires = _instant(expires_text, "wsu:Expires")
        if expires <= created or expires + MAX_CLOCK_SKEW < now:
            raise SecurityRefused("the message has expired")


def header_credentials(soap: SoapRequest, *, requires_timestamp: bool, now: datetime) -> Credentials:
    """The UsernameToken of a header that satisfies the policy; raises :class:`SecurityRefused`."""
    security = soap.security_header()
    if security is None:
        raise SecurityRefused("no wsse:Security header")
    if requires_timestamp:
        check_timestamp(security, now)
    username, password, password_type = soap.username_token()
    if username is None or password is None:
        raise SecurityRefused("no UsernameToken")
    if password_type not in (None, PASSWORD_TEXT):
        raise SecurityRefused(f"password type {password_type} is not PasswordText")
    return Credentials(username, password)


def invalid_security() -> Response:
    """The fault WCF answers for any breach of the security policy."""
    return fault_response("a:InvalidSecurity", INVALID_SECURITY, nsmap={"a": WSSE_NS})
