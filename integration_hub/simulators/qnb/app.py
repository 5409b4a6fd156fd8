"""The Starlette app of the QNB simulator: ``connectorService`` and ``userService`` over SOAP 1.1.

Faithful to what public material shows (``efatura.md`` §1.4, §4): JAX-WS envelopes with unqualified
children and ``<return>`` items, HTTP 500 faults whose ``faultstring`` starts with ``[EFxxxx]``, compact
dates (``20200610``, ``20200616143630561``), base64 zips from the ``...Indir`` operations, at most 100
rows per incoming list call with a strictly-greater ``belgeSiraNo`` cursor. Fault texts not seen in
public material are marked *[I]*.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from integration_hub.connectors.efatura.soap import PASSWORD_TEXT
from integration_hub.simulators.efatura.soap import SoapRequest, fault_response, read_soap_request, soap_response
from integration_hub.simulators.qnb.mailbox import APPROVED, PENDING

if TYPE_CHECKING:
    from integration_hub.simulators.efatura.documents import GeneratedInvoice
    from integration_hub.simulators.qnb.mailbox import Mailbox
    from integration_hub.simulators.qnb.simulator import QnbAccount, QnbSimulator

NAMESPACE = "http://service.connector.uut.cs.com.tr/"
USER_NAMESPACE = "http://service.csap.cs.com.tr/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
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


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _child(parent: etree._Element | None, name: str) -> etree._Element | None:
    if parent is None:
        return None
    return next((c for c in parent if isinstance(c.tag, str) and _local(c) == name), None)


def _text(parent: etree._Element | None, name: str) -> str:
    child = _child(parent, name)
    return (child.text or "").strip() if child is not None else ""


def _texts(parent: etree._Element, name: str) -> list[str]:
    """Repeated elements (JAX-WS ``List<String>``); a comma-joined single value is split too."""
    values: list[str] = []
    for child in parent:
        if isinstance(child.tag, str) and _local(child) == name and child.text:
            values.extend(part.strip() for part in child.text.split(",") if part.strip())
    return values


def _compact(field: str, value: str) -> date | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        raise QnbFault(BAD_VALUE, field=field, value=value) from None


def _required(parent: etree._Element | None, name: str) -> str:
    value = _text(parent, name)
    if not value:
        raise QnbFault(MISSING_FIELD, field=name)
    return value


def _stamp(moment: datetime) -> str:
    """yyyyMMddHHmmssSSS."""
    return moment.strftime("%Y%m%d%H%M%S") + f"{moment.microsecond // 1000:03d}"


def _response(operation: str) -> etree._Element:
    return etree.Element(etree.QName(NAMESPACE, f"{operation}Response"), nsmap={"ns2": NAMESPACE})


def _add(parent: etree._Element, name: str, value: object) -> etree._Element:
    element = etree.SubElement(parent, name)
    element.text = str(value)
    return element


class ConnectorService:
    """Authenticates a request and runs one operation against the caller's mailbox."""

    def __init__(self, sim: QnbSimulator) -> None:
        self.sim = sim
        self.handlers: dict[str, Callable[[QnbAccount, etree._Element], etree._Element]] = {
            "gelenBelgeleriListeleExt": self.list_incoming_ext,
            "gelenBelgeleriListele": self.list_incoming,
            "gelenBelgeleriIndir": self.download_incoming,
            "gelenBelgeleriIndirExt": self.download_incoming_ext,
            "gidenBelgeleriListele": self.list_outgoing,
            "gidenBelgeleriIndirEttn": self.download_outgoing,
            **{name: self.state_changing for name in sim.STATE_CHANGING_OPERATIONS},
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

    def mailbox_for(self, account: QnbAccount, vkn: str) -> Mailbox:
        """The mailbox of ``vkn``, which the account must be allowed to act for."""
        if not vkn:
            raise QnbFault(MISSING_FIELD, field="vergiTcKimlikNo")
        company = self.sim.company_of(vkn)
        if vkn != account.vkn or company is None:
            raise QnbFault(VKN_NOT_AUTHORISED, vkn=vkn)
        return self.sim.mailboxes[company.slug]

    # -- incoming -------------------------------------------------------------------------------------

    def list_incoming_ext(self, account: QnbAccount, request: etree._Element) -> etree._Element:
        """Two modes, as QNB documents them: the ``sonAlinanBelgeSiraNumarasi`` cursor (which must not be
        combined with the arrival-date, approval, branch or mailbox-label filters; it lists every approval
        state) or, without a cursor, a filtered listing where a blank ``onayDurum`` means approved only."""
        params = _child(request, "parametreler")
        if params is None:
            raise QnbFault(MISSING_FIELD, field="parametreler")
        mailbox = self.mailbox_for(account, _text(params, "vergiTcKimlikNo"))
        cursor = _text(params, "sonAlinanBelgeSiraNumarasi")
        approval_filter = _text(params, "onayDurum").upper()
        if approval_filter not in APPROVAL_FILTERS:
            raise QnbFault(BAD_VALUE, field="onayDurum", value=approval_filter)
        if cursor:
            clash = next((name for name in CURSOR_EXCLUSIVE if _text(params, name)), None)
            if clash is not None:
                raise QnbFault(NOT_WITH_CURSOR, field=clash)
        return self._incoming_rows(
            mailbox,
            "gelenBelgeleriListeleExt",
            cursor=cursor or "0",
            document_type=_required(params, "belgeTuru"),
            issued=(
                _compact("faturaTarihiBaslangic", _text(params, "faturaTarihiBaslangic")),
                _compact("faturaTarihiBitis", _text(params, "faturaTarihiBitis")),
            ),
            arrived=(
                _compact("gelisTarihiBaslangic", _text(params, "gelisTarihiBaslangic")),
                _compact("gelisTarihiBitis", _text(params, "gelisTarihiBitis")),
            ),
            approvals=None if cursor else APPROVAL_FILTERS[approval_filter],
            version=_text(params, "donusTipiVersiyon") or "1.0",
        )

    def list_incoming(self, account: QnbAccount, request: etree._Element) -> etree._Element:
        """The original operation: cursor only, no filters, ``belge`` rows."""
        return self._incoming_rows(
            self.mailbox_for(account, _text(request, "vergiTcKimlikNo")),
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
        if not 1 <= level <= 6:
            raise QnbFault(BAD_VALUE, field="donusTipiVersiyon", value=version)
        response = _response(operation)
        if document_type != "FATURA":  # the simulated accounts hold invoices only
            return response
        type_name = "belge" if level == 1 else f"belgev{level}"
        for sequence, invoice in mailbox.list_incoming(int(cursor), issued, arrived, approvals, self.sim.list_limit):
            row = etree.SubElement(response, "return")
            row.set(etree.QName(XSI, "type"), f"ns2:{type_name}")
            self._incoming_fields(row, sequence, invoice, level, mailbox)
        return response

    @staticmethod
    def _incoming_fields(
        row: etree._Element, sequence: int, invoice: GeneratedInvoice, level: int, mb: Mailbox
    ) -> None:
        _add(row, "belgeNo", invoice.number)
        _add(row, "belgeSiraNo", sequence)
        _add(row, "belgeTarihi", invoice.issue_date.strftime("%Y%m%d"))
        _add(row, "belgeTuru", "FATURA")
        _add(row, "ettn", invoice.ettn.upper())
        _add(row, "gonderenEtiket", f"urn:mail:defaultgb@{invoice.supplier_vkn}.com.tr")
        _add(row, "gonderenVknTckn", invoice.supplier_vkn)
        if level >= 2:
            _add(row, "alanEtiket", "urn:mail:defaultpk@qnbesolutions.com.tr")
            _add(row, "aliciUnvan", invoice.customer_name)
            _add(row, "saticiUnvan", invoice.supplier_name)
            _add(row, "zarfId", invoice.ettn.lower()[::-1])
        if level >= 3:
            _add(row, "odenecekTutar", f"{invoice.payable:.2f}")
            _add(row, "odenecekTutarDovizCinsi", invoice.currency)
        if level >= 4:
            _add(row, "arsivlenmis", "1" if invoice.ettn.lower() in mb.received else "0")
            _add(row, "belgeHash", invoice.ettn.replace("-", "").upper())
        if level >= 5:
            _add(row, "faturaGelisTarihi", _stamp(invoice.created_at))
        if level >= 6:
            _add(row, "profileId", invoice.profile_id)

    def download_incoming(self, account: QnbAccount, request: etree._Element) -> etree._Element:
        mailbox = self.mailbox_for(account, _text(request, "vergiTcKimlikNo"))
        return self._zip("gelenBelgeleriIndir", mailbox, "in", _texts(request, "ettnler"), request, "ettnler")

    def download_incoming_ext(self, account: QnbAccount, request: etree._Element) -> etree._Element:
        params = _child(request, "parametreler")
        if params is None:
            raise QnbFault(MISSING_FIELD, field="parametreler")
        mailbox = self.mailbox_for(account, _text(params, "vergiTcKimlikNo"))
        return self._zip("gelenBelgeleriIndirExt", mailbox, "in", _texts(params, "ettn"), params, "ettn")

    # -- outgoing -------------------------------------------------------------------------------------

    def list_outgoing(self, account: QnbAccount, request: etree._Element) -> etree._Element:
        params = _child(request, "parametreler")
        if params is None:
            raise QnbFault(MISSING_FIELD, field="parametreler")
        mailbox = self.mailbox_for(account, _text(params, "vkn"))
        document_type = _required(params, "belgeTuru")
        rows = mailbox.list_outgoing(
            (
                _compact("baslangicBelgeTarihi", _text(params, "baslangicBelgeTarihi")),
                _compact("bitisBelgeTarihi", _text(params, "bitisBelgeTarihi")),
            ),
            (
                _compact("baslangicGonderimTarihi", _text(params, "baslangicGonderimTarihi")),
                _compact("bitisGonderimTarihi", _text(params, "bitisGonderimTarihi")),
            ),
            self.sim.outgoing_limit,
        )
        response = _response("gidenBelgeleriListele")
        if document_type not in ("FATURA", "FATURA_UBL"):
            return response
        for invoice in rows:
            row = etree.SubElement(response, "return")
            _add(row, "aliciUnvan", invoice.customer_name)
            _add(row, "aliciVkn", invoice.customer_vkn)
            _add(row, "alimDurumu", "3")  # İşlendi
            _add(row, "alimZamani", _stamp(invoice.created_at))
            _add(row, "belgeNo", invoice.number)
            _add(row, "belgeOid", "OID" + invoice.ettn.replace("-", "")[:20].upper())
            _add(row, "belgeTarihi", invoice.issue_date.strftime("%Y%m%d"))
            _add(row, "belgeTuru", "FATURA_UBL")
            _add(row, "ettn", invoice.ettn.upper())
            _add(row, "islemYapanVkn", account.vkn)
            _add(row, "kullaniciKodu", account.username)
        return response

    def download_outgoing(self, account: QnbAccount, request: etree._Element) -> etree._Element:
        mailbox = self.mailbox_for(account, _text(request, "vergiTcKimlikNo"))
        ettns = _texts(request, "belgeEttnListesi")
        return self._zip("gidenBelgeleriIndirEttn", mailbox, "out", ettns, request, "belgeEttnListesi")

    def _zip(
        self,
        operation: str,
        mailbox: Mailbox,
        direction: str,
        ettns: list[str],
        request: etree._Element,
        list_field: str,
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
        _add(response, "return", base64.b64encode(mailbox.zip(invoices, document_format)).decode("ascii"))
        return response

    # -- state-changing (implemented so that tests can prove the collector never calls them) ----------

    def state_changing(self, account: QnbAccount, request: etree._Element) -> etree._Element:
        operation = _local(request)
        params = _child(request, "parametreler")
        vkn = _text(request, "vergiTcKimlikNo") or _text(params, "vergiTcKimlikNo")
        mailbox = self.mailbox_for(account, vkn)
        if operation == "belgelerAlindi":
            for ettn in _texts(request, "ettn"):
                mailbox.received.add(ettn.lower())
        return _response(operation)


def build_app(sim: QnbSimulator) -> Starlette:
    service = ConnectorService(sim)

    async def connector(request: Request) -> Response:
        try:
            soap = await read_soap_request(request)
        except ValueError as exc:
            sim.record(SimCall("?", None, 500, "S:Client"))
            return fault_response("S:Client", f"Couldn't create SOAP message: {exc}")
        operation = soap.operation
        if (status := sim.injected_failure()) is not None:
            sim.record(SimCall(operation, None, status))
            return PlainTextResponse("Service Temporarily Unavailable", status_code=status)
        handler = service.handlers.get(operation)
        if handler is None:
            sim.record(SimCall(operation, None, 500, "S:Client"))
            return fault_response("S:Client", f"Cannot find dispatch method for {{{NAMESPACE}}}{operation}")
        user = None
        try:
            account = service.authenticate(soap, dict(request.cookies))
            user = account.username
            if not account.verified:
                raise QnbFault(UNVERIFIED)
            result = handler(account, soap.operation_element)
        except QnbFault as fault:
            sim.record(SimCall(operation, user, 500, fault.code, _summary(soap.operation_element)))
            return fault_response("S:Server", fault.message)
        sim.record(SimCall(operation, user, 200, None, _summary(soap.operation_element)))
        return soap_response(result)

    async def user_service(request: Request) -> Response:
        try:
            soap = await read_soap_request(request)
        except ValueError as exc:
            return fault_response("S:Client", f"Couldn't create SOAP message: {exc}")
        operation = soap.operation
        if operation == "logout":
            sim.sessions.pop(request.cookies.get(SESSION_COOKIE) or "", None)
            sim.record(SimCall("logout", None, 200))
            return soap_response(etree.Element(etree.QName(USER_NAMESPACE, "logoutResponse")))
        if operation != "wsLogin":
            return fault_response("S:Client", f"Cannot find dispatch method for {{{USER_NAMESPACE}}}{operation}")
        user_id = _text(soap.operation_element, "userId")
        account = sim.account(user_id)
        if account is None or account.password != _text(soap.operation_element, "password"):
            sim.record(SimCall("wsLogin", user_id or None, 500, LOGIN_FAILED[0]))
            return fault_response("S:Server", f"[{LOGIN_FAILED[0]}] {LOGIN_FAILED[1]}")
        token = secrets.token_hex(16).upper()
        sim.sessions[token] = (account.username, time.monotonic() + sim.session_ttl)
        sim.record(SimCall("wsLogin", user_id, 200))
        response = soap_response(etree.Element(etree.QName(USER_NAMESPACE, "wsLoginResponse")))
        response.set_cookie(SESSION_COOKIE, token, path="/", httponly=True)
        return response

    routes = [Route(path, connector, methods=["POST"]) for path in CONNECTOR_PATHS]
    routes += [Route(path, user_service, methods=["POST"]) for path in USER_PATHS]
    return Starlette(routes=routes)


LIST_FIELDS = frozenset({"ettnler", "belgeEttnListesi", "ettn"})


def _summary(element: etree._Element) -> dict[str, Any]:
    """The request's fields flattened one level (``parametreler`` children lifted), for ``sim.calls``;
    ETTN list fields are always lists. Never holds a password (those travel in the SOAP header)."""
    summary: dict[str, Any] = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        for node in list(child) if len(child) else [child]:
            name = _local(node)
            value = (node.text or "").strip()
            if name in LIST_FIELDS:
                summary.setdefault(name, []).append(value)
            else:
                summary[name] = value
    return summary
