"""The Starlette app of the QNB simulator: ``connectorService`` and ``userService`` over SOAP 1.1.

The protocol comes from :mod:`.contract` (the WSDL as public clients record it), never from the connector:

* dispatch on the body element's *qualified* name, as the JAX-WS RI does: an operation element outside
  :data:`~.contract.NAMESPACE`, or one the contract does not have, is answered ``S:Client`` "Cannot find
  dispatch method for {ns}op";
* members are bound as JAXB binds them (:mod:`integration_hub.simulators.efatura.binding`): only unqualified
  children with the contract's names count, so a qualified member is a missing one and gets the service's
  missing-parameter fault; ETTN lists are repeated elements and a comma-joined value is one (unknown) ETTN;
* with ``strict_contract`` (default) the members must come in the contract's order and the SOAPAction must be
  the WSDL's ``""``; without it the simulator tolerates both like a plain JAX-WS/JAXB endpoint would;
* answers are ``ns2:<op>Response`` with unqualified ``<return>`` rows whose fields follow the contract's
  answer types (inherited fields first) with their ``xsi:type``.

Service behaviour (efatura.md §1.4, §4): HTTP 500 faults whose ``faultstring`` starts with ``[EFxxxx]``,
compact dates (``20200610``, ``20200616143630561``), base64 zips from the ``...Indir`` operations, at most
100 rows per incoming list call with a strictly-greater ``belgeSiraNo`` cursor. Fault texts not seen in
public material are marked *[I]*.
"""

from __future__ import annotations

import base64
import functools
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from integration_hub.simulators.efatura.binding import Bound, Order, OutOfOrder, bind, write
from integration_hub.simulators.efatura.soap import (
    PASSWORD_TEXT,
    SOAP11_NS,
    XSI_NS,
    SoapClientError,
    SoapRequest,
    fault_response,
    read_soap_request,
    soap_response,
)
from integration_hub.simulators.qnb import contract
from integration_hub.simulators.qnb.mailbox import APPROVED, PENDING

if TYPE_CHECKING:
    from integration_hub.simulators.efatura.documents import GeneratedInvoice
    from integration_hub.simulators.qnb.mailbox import Mailbox
    from integration_hub.simulators.qnb.simulator import QnbAccount, QnbSimulator

NAMESPACE = contract.NAMESPACE
CONNECTOR_PATHS = ("/efatura/ws/connectorService", "/connector/ws/connectorService")
USER_PATHS = ("/efatura/ws/userService", "/connector/ws/userService")
SESSION_COOKIE = "JSESSIONID"

# Fault texts. EF0556 is verbatim from public material; the others are [I].
LOGIN_FAILED = (
    "EF0003",
    'Oturum açma işlemi başarısız. "Şifremi Unuttum" butonuna basarak işleminize devam edebilir ya da '
    "firma yöneticiniz ile iletişime geçebilirsiniz.",
)
SESSION_EXPIRED = ("EF0004", "Oturum süresi dolmuştur. Lütfen tekrar giriş yapınız.")
UNVERIFIED = ("EF0556", "Mali mühür veya e-imza doğrulaması gereklidir.")
VKN_NOT_AUTHORISED = ("EF0010", "{vkn} vergi numarası için işlem yetkiniz bulunmamaktadır.")
MISSING_FIELD = ("EF0101", "{field} alanı zorunludur.")
BAD_VALUE = ("EF0102", "{field} alanının değeri geçersiz: {value}")
NOT_FOUND = ("EF0120", "{ettn} ETTN numaralı belge bulunamadı.")
TOO_MANY = ("EF0121", "Tek seferde en fazla {limit} belge indirilebilir.")
NOT_WITH_CURSOR = ("EF0103", "sonAlinanBelgeSiraNumarasi ile birlikte {field} kullanılamaz.")
# Filters QNB's docs say must not be combined with the sequence-number cursor.
CURSOR_EXCLUSIVE = ("gelisTarihiBaslangic", "gelisTarihiBitis", "onayDurum", "subeKodu", "alanEtiket")
APPROVAL_FILTERS: dict[str, frozenset[str] | None] = {
    "": frozenset({APPROVED}),  # QNB docs: without a cursor, a blank onayDurum lists approved documents only
    "ONAYLANAN": frozenset({APPROVED}),
    "ONAYBEKLEYEN": frozenset({PENDING}),
    "HEPSI": None,
}


@dataclass(frozen=True)
class SimCall:
    """One request the simulator answered: what a test asserts on."""

    operation: str
    user: str | None
    status: int
    fault: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


class QnbFault(Exception):
    """Raised by a handler; rendered as an HTTP 500 SOAP fault ``S:Server`` with ``[EFxxxx] text``."""

    def __init__(self, template: tuple[str, str], **values: object) -> None:
        self.code = template[0]
        self.message = f"[{self.code}] {template[1].format(**values)}"
        super().__init__(self.message)


def _compact(params: Bound, name: str) -> date | None:
    value = params.text(name)
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        raise QnbFault(BAD_VALUE, field=name, value=value) from None


def _range(params: Bound, first: str, last: str) -> tuple[date | None, date | None]:
    return _compact(params, first), _compact(params, last)


def _required(params: Bound, name: str) -> str:
    value = params.text(name)
    if not value:
        raise QnbFault(MISSING_FIELD, field=name)
    return value


def _parameters(request: Bound) -> Bound:
    params = request.child("parametreler")
    if params is None:
        raise QnbFault(MISSING_FIELD, field="parametreler")
    return params


def _stamp(moment: datetime) -> str:
    """yyyyMMddHHmmssSSS."""
    return moment.strftime("%Y%m%d%H%M%S") + f"{moment.microsecond // 1000:03d}"


def _response(operation: str) -> etree._Element:
    return etree.Element(etree.QName(NAMESPACE, f"{operation}Response"), nsmap={"ns2": NAMESPACE})


def _row(response: etree._Element, type_name: str, fields: Iterable[str], values: dict[str, object]) -> None:
    """One ``<return xsi:type="ns2:type">`` with ``fields`` in contract order (JAXB omits null fields)."""
    row = etree.SubElement(response, "return", nsmap={"xsi": XSI_NS})
    row.set(etree.QName(XSI_NS, "type"), f"ns2:{type_name}")
    write(row, {name: values.get(name) for name in fields})


class ConnectorService:
    """Authenticates a request and runs one operation against the caller's mailbox."""

    def __init__(self, sim: QnbSimulator) -> None:
        self.sim = sim
        self.handlers: dict[str, Callable[[QnbAccount, Bound], etree._Element]] = {
            "gelenBelgeleriListeleExt": self.list_incoming_ext,
            "gelenBelgeleriListele": self.list_incoming,
            "gelenBelgeleriIndir": self.download_incoming,
            "gelenBelgeleriIndirExt": self.download_incoming_ext,
            "gidenBelgeleriListele": self.list_outgoing,
            "gidenBelgeleriIndirEttn": self.download_outgoing,
            **{name: functools.partial(self.state_changing, name) for name in contract.STATE_CHANGING_OPERATIONS},
        }

    # -- auth -----------------------------------------------------------------------------------------

    def authenticate(self, soap: SoapRequest, cookies: dict[str, str]) -> QnbAccount:
        """The caller's account: WS-Security ``UsernameToken`` (plain text), else a ``wsLogin`` cookie."""
        username, password, kind = soap.username_token()
        if username is not None:
            account = self.sim.account(username)
            if account is None or kind not in (None, PASSWORD_TEXT) or password != account.password:
                raise QnbFault(LOGIN_FAILED)
            return account
        token = cookies.get(SESSION_COOKIE)
        session = self.sim.sessions.get(token or "")
        if session is None:
            raise QnbFault(LOGIN_FAILED)
        username, expires = session
        if time.monotonic() > expires:
            del self.sim.sessions[token or ""]
            raise QnbFault(SESSION_EXPIRED)
        account = self.sim.account(username)
        if account is None:
            raise QnbFault(LOGIN_FAILED)
        return account

    def mailbox_for(self, account: QnbAccount, vkn: str, member: str = "vergiTcKimlikNo") -> Mailbox:
        """The mailbox of ``vkn`` (sent as ``member``), which the account must be allowed to act for."""
        if not vkn:
            raise QnbFault(MISSING_FIELD, field=member)
        company = self.sim.company_of(vkn)
        if vkn != account.vkn or company is None:
            raise QnbFault(VKN_NOT_AUTHORISED, vkn=vkn)
        return self.sim.mailboxes[company.slug]

    # -- incoming -------------------------------------------------------------------------------------

    def list_incoming_ext(self, account: QnbAccount, request: Bound) -> etree._Element:
        """Two modes, as QNB documents them: the ``sonAlinanBelgeSiraNumarasi`` cursor (which must not be
        combined with the arrival-date, approval, branch or mailbox-label filters; it lists every approval
        state) or, without a cursor, a filtered listing where a blank ``onayDurum`` means approved only."""
        params = _parameters(request)
        mailbox = self.mailbox_for(account, params.text("vergiTcKimlikNo"))
        cursor = params.text("sonAlinanBelgeSiraNumarasi")
        approval_filter = params.text("onayDurum").upper()
        if approval_filter not in APPROVAL_FILTERS:
            raise QnbFault(BAD_VALUE, field="onayDurum", value=approval_filter)
        if cursor:
            clash = next((name for name in CURSOR_EXCLUSIVE if params.text(name)), None)
            if clash is not None:
                raise QnbFault(NOT_WITH_CURSOR, field=clash)
        return self._incoming_rows(
            mailbox,
            "gelenBelgeleriListeleExt",
            cursor=cursor or "0",
            document_type=_required(params, "belgeTuru"),
            issued=_range(params, "faturaTarihiBaslangic", "faturaTarihiBitis"),
            arrived=_range(params, "gelisTarihiBaslangic", "gelisTarihiBitis"),
            approvals=None if cursor else APPROVAL_FILTERS[approval_filter],
            version=params.text("donusTipiVersiyon") or "1.0",
        )

    def list_incoming(self, account: QnbAccount, request: Bound) -> etree._Element:
        """The original operation: cursor only, no filters, ``belge`` rows."""
        return self._incoming_rows(
            self.mailbox_for(account, request.text("vergiTcKimlikNo")),
            "gelenBelgeleriListele",
            cursor=_required(request, "sonAlinanBelgeSiraNumarasi"),
            document_type=_required(request, "belgeTuru"),
            issued=(None, None),
            arrived=(None, None),
            approvals=None,
            version="1.0",
        )

    def _incoming_rows(
        self,
        mailbox: Mailbox,
        operation: str,
        *,
        cursor: str,
        document_type: str,
        issued: tuple[date | None, date | None],
        arrived: tuple[date | None, date | None],
        approvals: frozenset[str] | None,
        version: str,
    ) -> etree._Element:
        if not cursor.isdigit():
            raise QnbFault(BAD_VALUE, field="sonAlinanBelgeSiraNumarasi", value=cursor)
        try:
            level = int(float(version))
        except ValueError:
            raise QnbFault(BAD_VALUE, field="donusTipiVersiyon", value=version) from None
        if not 1 <= level <= len(contract.BELGE_LEVELS):
            raise QnbFault(BAD_VALUE, field="donusTipiVersiyon", value=version)
        response = _response(operation)
        if document_type != "FATURA":  # the simulated accounts hold invoices only
            return response
        type_name, fields = contract.belge_fields(level)
        for sequence, invoice in mailbox.list_incoming(int(cursor), issued, arrived, approvals, self.sim.list_limit):
            _row(response, type_name, fields, self._incoming_values(sequence, invoice, mailbox))
        return response

    @staticmethod
    def _incoming_values(sequence: int, invoice: GeneratedInvoice, mailbox: Mailbox) -> dict[str, object]:
        """Every ``belge``…``belgev6`` field the simulator fills; a row of a lower version shows fewer."""
        return {
            "belgeNo": invoice.number,
            "belgeSiraNo": sequence,
            "belgeTarihi": invoice.issue_date.strftime("%Y%m%d"),
            "belgeTuru": "FATURA",
            "ettn": invoice.ettn.upper(),
            "gonderenEtiket": f"urn:mail:defaultgb@{invoice.supplier_vkn}.com.tr",
            "gonderenVknTckn": invoice.supplier_vkn,
            "alanEtiket": "urn:mail:defaultpk@qnbesolutions.com.tr",
            "aliciUnvan": invoice.customer_name,
            "saticiUnvan": invoice.supplier_name,
            "zarfId": invoice.ettn.lower()[::-1],
            "odenecekTutar": f"{invoice.payable:.2f}",
            "odenecekTutarDovizCinsi": invoice.currency,
            "arsivlenmis": "1" if invoice.ettn.lower() in mailbox.received else "0",
            "belgeHash": invoice.ettn.replace("-", "").upper(),
            "faturaGelisTarihi": _stamp(invoice.created_at),
            "profileId": invoice.profile_id,
        }

    def download_incoming(self, account: QnbAccount, request: Bound) -> etree._Element:
        mailbox = self.mailbox_for(account, request.text("vergiTcKimlikNo"))
        return self._zip("gelenBelgeleriIndir", mailbox, "in", request.texts("ettnler"), request, "ettnler")

    def download_incoming_ext(self, account: QnbAccount, request: Bound) -> etree._Element:
        params = _parameters(request)
        mailbox = self.mailbox_for(account, params.text("vergiTcKimlikNo"))
        ettns = [params.text("ettn")] if params.text("ettn") else []
        return self._zip("gelenBelgeleriIndirExt", mailbox, "in", ettns, params, "ettn")

    # -- outgoing -------------------------------------------------------------------------------------

    def list_outgoing(self, account: QnbAccount, request: Bound) -> etree._Element:
        params = _parameters(request)
        mailbox = self.mailbox_for(account, params.text("vkn"), member="vkn")
        document_type = _required(params, "belgeTuru")
        rows = mailbox.list_outgoing(
            _range(params, "baslangicBelgeTarihi", "bitisBelgeTarihi"),
            _range(params, "baslangicGonderimTarihi", "bitisGonderimTarihi"),
            self.sim.outgoing_limit,
        )
        response = _response("gidenBelgeleriListele")
        if document_type not in ("FATURA", "FATURA_UBL"):
            return response
        for invoice in rows:
            values = {
                "alimDurumu": "3",  # İşlendi
                "alimZamani": _stamp(invoice.created_at),
                "belgeOid": "OID" + invoice.ettn.replace("-", "")[:20].upper(),
                "belgeTarihi": invoice.issue_date.strftime("%Y%m%d"),
                "belgeTuru": "FATURA_UBL",
                "ettn": invoice.ettn.upper(),
                "islemYapanVkn": account.vkn,
                "kullaniciKodu": account.username,
                "yerelBelgeNo": invoice.number,
            }
            _row(response, "gidenBelgeleriListeleData", contract.GIDEN_BELGELERI_LISTELE_DATA, values)
        return response

    def download_outgoing(self, account: QnbAccount, request: Bound) -> etree._Element:
        mailbox = self.mailbox_for(account, request.text("vergiTcKimlikNo"))
        ettns = request.texts("belgeEttnListesi")
        return self._zip("gidenBelgeleriIndirEttn", mailbox, "out", ettns, request, "belgeEttnListesi")

    def _zip(
        self, operation: str, mailbox: Mailbox, direction: str, ettns: list[str], request: Bound, list_field: str
    ) -> etree._Element:
        if not ettns:
            raise QnbFault(MISSING_FIELD, field=list_field)
        if len(ettns) > self.sim.download_limit:
            raise QnbFault(TOO_MANY, limit=self.sim.download_limit)
        document_format = _required(request, "belgeFormati").upper()
        if document_format not in ("UBL", "PDF", "HTML"):
            raise QnbFault(BAD_VALUE, field="belgeFormati", value=document_format)
        invoices = []
        for ettn in ettns:
            invoice = mailbox.find(ettn, direction)
            if invoice is None:
                raise QnbFault(NOT_FOUND, ettn=ettn)
            invoices.append(invoice)
        response = _response(operation)
        write(response, {"return": base64.b64encode(mailbox.zip(invoices, document_format)).decode("ascii")})
        return response

    # -- state-changing (implemented so that tests can prove the collector never calls them) ----------

    def state_changing(self, operation: str, account: QnbAccount, request: Bound) -> etree._Element:
        mailbox = self.mailbox_for(account, request.text("vergiTcKimlikNo"))
        for ettn in request.texts("ettn"):
            mailbox.received.add(ettn.lower())
        return _response(operation)


def _fault(code: str, message: str) -> Response:
    """A fault as the JAX-WS RI writes it: ``S:Client`` (the request) or ``S:Server`` (the service)."""
    return fault_response(f"S:{code}", message, nsmap={"S": SOAP11_NS})


def _dispatch_fault(soap: SoapRequest) -> Response:
    """The JAX-WS RI's answer for a body element it has no operation for (its exact wording)."""
    return _fault("Client", f"Cannot find dispatch method for {{{soap.operation_namespace or ''}}}{soap.operation}")


def _order(sim: QnbSimulator) -> Order:
    """``strict_contract``: members refused out of the contract's order, as a schema-validating endpoint
    would [I: that QNB's does]; otherwise bound by name in any order, as plain JAXB does."""
    return Order.RAISE if sim.strict_contract else Order.IGNORE


def _xerces_message(violation: OutOfOrder) -> str:
    """Xerces' text (``cvc-complex-type.2.4.a``/``.d``) for a member where the sequence allows others."""
    if not violation.expected:
        return (
            f"cvc-complex-type.2.4.d: Invalid content was found starting with element '{violation.found}'. "
            "No child element is expected at this point."
        )
    return (
        f"cvc-complex-type.2.4.a: Invalid content was found starting with element '{violation.found}'. "
        f"One of '{{{', '.join(violation.expected)}}}' is expected."
    )


def build_app(sim: QnbSimulator) -> Starlette:
    service = ConnectorService(sim)

    async def connector(request: Request) -> Response:
        try:
            soap = await read_soap_request(request)
        except SoapClientError as exc:
            sim.record(SimCall("?", None, 500, "S:Client"))
            return _fault("Client", f"Couldn't create SOAP message: {exc}")
        operation = soap.operation
        if (status := sim.injected_failure()) is not None:
            sim.record(SimCall(operation, None, status))
            return PlainTextResponse("Service Temporarily Unavailable", status_code=status)
        handler = service.handlers.get(operation) if soap.operation_namespace == NAMESPACE else None
        if handler is None:
            sim.record(SimCall(operation, None, 500, "S:Client"))
            return _dispatch_fault(soap)
        if sim.strict_contract and (not soap.has_soap_action or soap.soap_action != contract.SOAP_ACTION):
            sim.record(SimCall(operation, None, 500, "S:Client"))
            given = (
                f'SOAPAction "{soap.soap_action}"' if soap.has_soap_action else "A request without a SOAPAction header"
            )
            return _fault(
                "Client",  # [I] wording: the WSDL declares soapAction="" for every operation
                f'{given} does not match the soapAction "" of {{{NAMESPACE}}}{operation}',
            )
        user = None
        try:
            account = service.authenticate(soap, dict(request.cookies))
            user = account.username
            if not account.verified:
                raise QnbFault(UNVERIFIED)
            bound = bind(soap.operation_element, contract.OPERATIONS[operation], _order(sim))
        except OutOfOrder as violation:
            sim.record(SimCall(operation, user, 500, "S:Client"))
            return _fault("Client", _xerces_message(violation))
        except QnbFault as fault:
            sim.record(SimCall(operation, user, 500, fault.code))
            return _fault("Server", fault.message)
        try:
            result = handler(account, bound)
        except QnbFault as fault:
            sim.record(SimCall(operation, user, 500, fault.code, bound.summary()))
            return _fault("Server", fault.message)
        sim.record(SimCall(operation, user, 200, None, bound.summary()))
        return soap_response(result)

    async def user_service(request: Request) -> Response:
        try:
            soap = await read_soap_request(request)
        except SoapClientError as exc:
            return _fault("Client", f"Couldn't create SOAP message: {exc}")
        operation = soap.operation
        if soap.operation_namespace != contract.USER_NAMESPACE or operation not in ("wsLogin", "logout"):
            return _dispatch_fault(soap)
        if operation == "logout":
            sim.sessions.pop(request.cookies.get(SESSION_COOKIE) or "", None)
            sim.record(SimCall("logout", None, 200))
            return soap_response(etree.Element(etree.QName(contract.USER_NAMESPACE, "logoutResponse")))
        try:
            login = bind(soap.operation_element, contract.WS_LOGIN, _order(sim))
        except OutOfOrder as violation:
            return _fault("Client", _xerces_message(violation))
        user_id = login.text("userId")
        account = sim.account(user_id)
        if account is None or account.password != login.text("password"):
            sim.record(SimCall("wsLogin", user_id or None, 500, LOGIN_FAILED[0]))
            return _fault("Server", f"[{LOGIN_FAILED[0]}] {LOGIN_FAILED[1]}")
        token = secrets.token_hex(16).upper()
        sim.sessions[token] = (account.username, time.monotonic() + sim.session_ttl)
        sim.record(SimCall("wsLogin", user_id, 200))
        response = soap_response(etree.Element(etree.QName(contract.USER_NAMESPACE, "wsLoginResponse")))
        response.set_cookie(SESSION_COOKIE, token, path="/", httponly=True)
        return response

    routes = [Route(path, connector, methods=["POST"]) for path in CONNECTOR_PATHS]
    routes += [Route(path, user_service, methods=["POST"]) for path in USER_PATHS]
    return Starlette(routes=routes)
