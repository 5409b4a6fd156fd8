"""The Starlette app of the İşNet simulator: ``InvoiceService.svc`` as a WCF basicHttpBinding service.

WCF behaviours reproduced: dispatch on the ``SOAPAction`` header (a wrong action is an
``a:ActionNotSupported`` fault), DataContract reading with the member-order trap
(:mod:`.datacontract`), ``a:DeserializationFailed`` faults for unconvertible values, answers wrapped in
``<Op>Response/<Op>Result``. İşNet behaviours: identity by ``CompanyTaxCode`` (+ optional IP
whitelist) reported as ``Result=Failed`` + ``ErrorMessage`` with HTTP 200, mandatory 1-based paging,
``RecordsPerPage`` clamped to ``max_page_size``, archived invoices hidden unless
``ResultSet.IsArchiveIncluded``, an *empty* ``ETTN`` returning the account's first invoice whatever the
other filters say, the counterparty (for incoming: the seller) in ``Receiver``, ``InvoiceXml`` as base64
when ``IsXMLIncluded``, viewer links as ``http://…:80/`` URLs.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from integration_hub.connectors.efatura.ubl import InvoiceLine
from integration_hub.simulators.efatura.soap import SoapRequest, fault_response, read_soap_request, soap_response
from integration_hub.simulators.isnet import datacontract as dc

if TYPE_CHECKING:
    from integration_hub.simulators.efatura.documents import GeneratedInvoice
    from integration_hub.simulators.isnet.simulator import IsnetSimulator

SERVICE_NAMESPACE = "http://tempuri.org/"
ACTION_PREFIX = "http://tempuri.org/IInvoiceService/"
SERVICE_PATH = "/InvoiceService/ServiceContract/InvoiceService.svc"
ADDRESSING_NONE = "http://schemas.microsoft.com/ws/2005/05/addressing/none"

PAGING_REQUIRED = "Sayfalama isteği zorunludur."
BAD_PAGE = "Sayfa numarası ve sayfadaki kayıt sayısı 1 veya daha büyük olmalıdır."  # [I]
UNKNOWN_COMPANY = "{vkn} vergi numaralı firma bulunamadı."  # [I]
IP_NOT_ALLOWED = "{ip} IP adresinin {vkn} vergi numaralı firma adına işlem yetkisi yok."  # [I]


@dataclass(frozen=True)
class SimCall:
    """One request the simulator answered. ``params`` holds the DataContract members the service read,
    ``ignored`` the elements it skipped (out of order, unknown, foreign namespace)."""

    operation: str
    vkn: str | None
    status: int
    outcome: str | None = None  # "Success" | "Failed" | a WCF fault code
    params: dict[str, Any] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)


class Failed(Exception):
    """An İşNet business failure: ``Result=Failed`` + ``ErrorMessage`` in a normal HTTP 200 answer."""


def _at(invoice: GeneratedInvoice) -> datetime:
    """The invoice's ``InvoiceDate`` as İşNet compares it (the issue date at midnight)."""
    return datetime.combine(invoice.issue_date, time.min)


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _counterparty(invoice: GeneratedInvoice) -> tuple[str, str]:
    """(VKN, name) of the other party: the seller of an incoming invoice, the buyer of an outgoing one."""
    if invoice.direction == "in":
        return invoice.supplier_vkn, invoice.supplier_name
    return invoice.customer_vkn, invoice.customer_name


def _detail(line: InvoiceLine) -> dict[str, Any]:
    vat = next((t for t in line.taxes if t.type_code == "0015"), None)
    return {
        "DiscountAmount": _amount(sum((a.amount for a in line.allowance_charges if not a.is_charge), Decimal(0))),
        "LineExtensionAmount": _amount(line.line_extension),
        "Product": {
            "MeasureUnit": line.unit_code,
            "ProductCode": line.seller_item_id,
            "ProductName": line.name,
            "UnitPrice": None if line.price is None else str(line.price),
        },
        "Quantity": None if line.quantity is None else str(line.quantity),
        "VATAmount": _amount(vat.amount if vat else None),
        "VATRate": None if vat is None or vat.percent is None else str(vat.percent),
    }


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


class InvoiceService:
    """Runs one operation for an identified company."""

    def __init__(self, sim: IsnetSimulator) -> None:
        self.sim = sim
        self.contracts: dict[str, dc.Contract] = {
            "SearchInvoice": dc.SEARCH_INVOICE_REQUEST,
            "GetDocumentViewerLink": dc.VIEWER_LINK_REQUEST,
            **{name: dc.TENANT_REQUEST for name in sim.STATE_CHANGING_OPERATIONS},
        }
        self.handlers: dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]] = {
            "SearchInvoice": self.search_invoice,
            "GetDocumentViewerLink": self.viewer_link,
            **{name: self.state_changing for name in sim.STATE_CHANGING_OPERATIONS},
        }

    def identify(self, values: dict[str, Any], client_ip: str) -> str:
        vkn = (values.get("CompanyTaxCode") or "").strip()
        company = self.sim.company_of(vkn)
        if company is None:
            raise Failed(UNKNOWN_COMPANY.format(vkn=vkn or "(boş)"))
        if company.allowed_ips is not None and client_ip not in company.allowed_ips:
            raise Failed(IP_NOT_ALLOWED.format(ip=client_ip, vkn=vkn))
        return company.slug

    # -- SearchInvoice --------------------------------------------------------------------------------

    def search_invoice(self, slug: str, values: dict[str, Any]) -> dict[str, Any]:
        direction = "in" if (values.get("InvoiceDirection") or "Incoming") == "Incoming" else "out"
        result_set = values.get("ResultSet") or {}
        pool = [i for i in self.sim.ordered(slug) if i.direction == direction]
        if values.get("ETTN") == "":
            # İşNet quirk: an empty ETTN filter answers with the first invoice of the account.
            rows, total, pages, page = pool[:1], min(1, len(pool)), min(1, len(pool)), 1
        else:
            paging = values.get("PagingRequest")
            if paging is None:
                raise Failed(PAGING_REQUIRED)
            page = paging.get("PageNumber") or 0
            size = paging.get("RecordsPerPage") or 0
            if page < 1 or size < 1:
                raise Failed(BAD_PAGE)
            size = min(size, self.sim.max_page_size)
            archived = bool(result_set.get("IsArchiveIncluded"))
            matches = [i for i in pool if self._matches(i, values, archived)]
            total = len(matches)
            pages = math.ceil(total / size)
            rows = matches[(page - 1) * size : page * size]
        return {
            "ErrorCode": None,
            "ErrorMessage": None,
            "Invoices": [("Invoice", self._invoice(invoice, result_set)) for invoice in rows],
            "PagingResponse": {"CurrentPage": page, "TotalPages": pages, "TotalRecords": total},
            "Result": "Success",
        }

    def _matches(self, invoice: GeneratedInvoice, values: dict[str, Any], include_archived: bool) -> bool:
        at = _at(invoice)
        if values.get("MinInvoiceDate") is not None and at < values["MinInvoiceDate"]:
            return False
        if values.get("MaxInvoiceDate") is not None and at > values["MaxInvoiceDate"]:
            return False
        if values.get("ETTN") and invoice.ettn.lower() != values["ETTN"].strip().lower():
            return False
        if values.get("InvoiceNumber") and invoice.number != values["InvoiceNumber"].strip():
            return False
        if values.get("ReceiverTaxCode") and _counterparty(invoice)[0] != values["ReceiverTaxCode"].strip():
            return False
        return include_archived or not self.sim.is_archived(invoice)

    def _invoice(self, invoice: GeneratedInvoice, result_set: dict[str, Any]) -> dict[str, Any]:
        """İşNet's own model of one invoice. For *incoming* invoices ``Receiver`` holds the seller."""
        parsed = self.sim.parsed(invoice)
        party = parsed.supplier if invoice.direction == "in" else parsed.customer
        vkn, name = _counterparty(invoice)
        model: dict[str, Any] = {
            "ApplicationResponseStatus": "KABUL" if invoice.profile_id == "TICARIFATURA" else None,
            "CrossRate": None if parsed.exchange_rate is None else str(parsed.exchange_rate),
            "CurrencyCode": invoice.currency,
            "ETTN": invoice.ettn.upper(),
            "InvoiceCreationDate": _stamp(invoice.created_at),
            "InvoiceDate": _stamp(_at(invoice)),
            "InvoiceNumber": invoice.number,
            "InvoiceType": invoice.type_code,
            "Receiver": {
                "Address": {"CityName": party.city, "TaxOfficeName": party.tax_office},
                "ReceiverName": name,
                "ReceiverTaxCode": vkn,
            },
            "ScenarioType": invoice.profile_id,
            "Status": "Onaylandi" if invoice.direction == "in" else "Alici_Kabul_Etti",
            "TotalLineExtensionAmount": _amount(parsed.totals.line_extension),
            "TotalPayableAmount": _amount(invoice.payable),
            "TotalTaxInclusiveAmount": _amount(parsed.totals.tax_inclusive),
            "TotalVATAmount": _amount(invoice.tax_total),
        }
        if result_set.get("IsInvoiceDetailIncluded"):
            model["InvoiceDetails"] = [("InvoiceDetail", _detail(line)) for line in parsed.lines]
        if result_set.get("IsXMLIncluded"):
            model["InvoiceXml"] = base64.b64encode(invoice.xml).decode("ascii")
        return model

    # -- others ---------------------------------------------------------------------------------------

    def viewer_link(self, slug: str, values: dict[str, Any]) -> dict[str, Any]:
        ettn = (values.get("Ettn") or "").strip()
        direction = "in" if (values.get("InvoiceDirection") or "Incoming") == "Incoming" else "out"
        if not ettn or not any(
            i.ettn.lower() == ettn.lower() and i.direction == direction for i in self.sim.ordered(slug)
        ):
            raise Failed(f"{ettn} ETTN numaralı belge bulunamadı.")
        base = "http://einvoiceservice.isnet.net.tr:80/InvoiceViewer"
        return {
            "ErrorCode": None,
            "ErrorMessage": None,
            "HtmlUrl": f"{base}/Html/{ettn}",
            "PdfUrl": f"{base}/Pdf/{ettn}",
            "Result": "Success",
        }

    def state_changing(self, slug: str, values: dict[str, Any]) -> dict[str, Any]:
        return {"ErrorCode": None, "ErrorMessage": None, "Result": "Success"}


def _result(operation: str, members: dict[str, Any]) -> etree._Element:
    response = etree.Element(etree.QName(SERVICE_NAMESPACE, f"{operation}Response"), nsmap={None: SERVICE_NAMESPACE})
    result = etree.SubElement(
        response, etree.QName(SERVICE_NAMESPACE, f"{operation}Result"), nsmap={"a": dc.MODEL_NAMESPACE, "i": dc.XSI}
    )
    dc.write(result, members)
    return response


def _wcf_fault(code: str, message: str) -> Response:
    fault = fault_response(f"a:{code}", message)
    # declare the ``a:`` prefix WCF uses for its fault codes
    body = fault.body.replace(b"<faultcode>", f'<faultcode xmlns:a="{ADDRESSING_NONE}">'.encode(), 1)
    return Response(body, fault.status_code, media_type=fault.media_type)


def build_app(sim: IsnetSimulator) -> Starlette:
    service = InvoiceService(sim)

    async def endpoint(request: Request) -> Response:
        try:
            soap: SoapRequest = await read_soap_request(request)
        except ValueError:
            sim.record(SimCall("?", None, 400, "BadRequest"))
            return PlainTextResponse("Bad Request", status_code=400)
        action = soap.soap_action
        operation = action[len(ACTION_PREFIX) :] if action.startswith(ACTION_PREFIX) else ""
        if operation not in service.handlers:
            sim.record(SimCall(operation or action, None, 500, "ActionNotSupported"))
            return _wcf_fault(
                "ActionNotSupported",
                f"The message with Action '{action}' cannot be processed at the receiver, due to a ContractFilter "
                "mismatch at the EndpointDispatcher.",
            )
        if (status := sim.injected_failure()) is not None:
            sim.record(SimCall(operation, None, status))
            return PlainTextResponse("Service Unavailable", status_code=status)
        body = soap.operation_element
        if body.tag != etree.QName(SERVICE_NAMESPACE, operation).text:
            sim.record(SimCall(operation, None, 500, "DeserializationFailed"))
            return _wcf_fault(
                "DeserializationFailed",
                f"OperationFormatter encountered an invalid Message body. Expected to find node type 'Element' with "
                f"name '{operation}' and namespace '{SERVICE_NAMESPACE}'.",
            )
        request_element = next((c for c in body if c.tag == etree.QName(SERVICE_NAMESPACE, "request").text), None)
        try:
            parsed = dc.read(request_element, service.contracts[operation])
        except dc.DeserializationError as exc:
            sim.record(SimCall(operation, None, 500, "DeserializationFailed"))
            return _wcf_fault(
                "DeserializationFailed",
                "The formatter threw an exception while trying to deserialize the message: There was an error "
                f"while trying to deserialize parameter {SERVICE_NAMESPACE}:request. {exc}",
            )
        vkn = parsed.values.get("CompanyTaxCode")
        client_ip = request.client.host if request.client else ""
        try:
            slug = service.identify(parsed.values, client_ip)
            members = service.handlers[operation](slug, parsed.values)
        except Failed as failure:
            sim.record(SimCall(operation, vkn, 200, "Failed", dict(parsed.values), list(parsed.ignored)))
            return soap_response(
                _result(operation, {"ErrorCode": None, "ErrorMessage": str(failure), "Result": "Failed"})
            )
        sim.record(SimCall(operation, vkn, 200, "Success", dict(parsed.values), list(parsed.ignored)))
        return soap_response(_result(operation, members))

    return Starlette(routes=[Route(SERVICE_PATH, endpoint, methods=["POST"])])
