"""What İşNet's InvoiceService does with a request it could read: the business rules and its answers.

Identity is the company VKN (``CompanyTaxCode``) plus an optional IP whitelist; a business failure is
a normal HTTP 200 answer that says ``Failed`` (:data:`~.contract.ANSWER_MODELS` says how). Paging is
mandatory and 1-based, ``RecordsPerPage`` is clamped to the simulator's ``max_page_size``, archived
invoices are hidden unless ``ResultSet.IsArchiveIncluded``, an *empty* ``Ettn`` returns the account's
first invoice whatever the other filters say, and for incoming invoices ``Receiver`` holds the seller
(DOLIBARR:docs/isnet-api-notlari.md, class/isnetincoming.class.php). Every answer is built from the
generator's own data (:class:`GeneratedInvoice` and its ``spec``), never by reading the UBL back.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable
from datetime import datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from integration_hub.simulators.efatura.binding import Type
from integration_hub.simulators.isnet import contract as c
from integration_hub.simulators.isnet.contract import ordered

if TYPE_CHECKING:
    from integration_hub.simulators.efatura.documents import GeneratedInvoice, InvoiceSpec, SpecLine
    from integration_hub.simulators.isnet.simulator import IsnetSimulator

Members = dict[str, Any]


class Failed(Exception):
    """An İşNet business failure: answered with HTTP 200 and ``Result`` ``Failed``."""


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _counterparty(invoice: GeneratedInvoice) -> tuple[str, str]:
    """(VKN, name) of the other party: the seller of an incoming invoice, the buyer of an outgoing one."""
    if invoice.direction == "in":
        return invoice.supplier_vkn, invoice.supplier_name
    return invoice.customer_vkn, invoice.customer_name


def _spec(invoice: GeneratedInvoice) -> InvoiceSpec:
    if invoice.spec is None:
        raise AssertionError(f"generated invoice {invoice.ettn} has no spec")
    return invoice.spec


def _detail(line: SpecLine) -> Members:
    """WSDL_TYPES:InvoiceDetail.ts / Product.ts members of one line."""
    return ordered(
        {
            "DiscountAmount": _amount(line.discount),
            "DiscountRate": str(line.discount_rate),
            "LineExtensionAmount": _amount(line.line_extension_amount),
            "Product": ordered(
                {
                    "MeasureUnit": line.unit_code,
                    "ProductCode": line.seller_item_id,
                    "ProductName": line.name,
                    "UnitPrice": str(line.unit_price),
                }
            ),
            "Quantity": str(line.quantity),
            "VATAmount": _amount(line.tax_amount),
            "VATRate": str(line.tax_percent),
        }
    )


class InvoiceService:
    """Runs one operation for an identified company and returns the answer's members."""

    def __init__(self, sim: IsnetSimulator) -> None:
        self.sim = sim
        self.contracts: dict[str, Type] = {
            c.SEARCH_INVOICE: c.SEARCH_INVOICE_REQUEST,
            c.VIEWER_LINK: c.VIEWER_LINK_REQUEST,
            **{name: c.TENANT_REQUEST for name in c.STATE_CHANGING_OPERATIONS},
        }
        self.handlers: dict[str, Callable[[str, Members], Members]] = {
            c.SEARCH_INVOICE: self.search_invoice,
            c.VIEWER_LINK: self.viewer_link,
            **{name: self.state_changing for name in c.STATE_CHANGING_OPERATIONS},
        }

    def identify(self, values: Members, client_ip: str) -> str:
        vkn = (values.get("CompanyTaxCode") or "").strip()
        company = self.sim.company_of(vkn)
        if company is None:
            raise Failed(c.UNKNOWN_COMPANY.format(vkn=vkn or "(boş)"))
        if company.allowed_ips is not None and client_ip not in company.allowed_ips:
            raise Failed(c.IP_NOT_ALLOWED.format(ip=client_ip, vkn=vkn))
        return company.slug

    def answer(self, outcome: Members | str) -> Members:
        """The answer's members in the simulator's :data:`~.contract.ANSWER_MODELS` reading: the
        operation's own members, or the failure message ``outcome``."""
        failure = outcome if isinstance(outcome, str) else None
        members = {} if isinstance(outcome, str) else outcome
        if self.sim.answer_model == "nettefatura":
            result = ordered({"ErrorMessage": failure, "IsSuccess": failure is None})
            return ordered({**members, "Result": result})
        # WSDL: the base members first, then the operation's own.
        return {"ErrorMessage": failure, "Result": "Failed" if failure else "Success", **members}

    # -- SearchInvoice --------------------------------------------------------------------------------------

    def search_invoice(self, slug: str, values: Members) -> Members:
        direction = "in" if (values.get("InvoiceDirection") or "Incoming") == "Incoming" else "out"
        result_set = values.get("ResultSet") or {}
        pool = [i for i in self.sim.ordered(slug) if i.direction == direction]
        if values.get("Ettn") == "":
            # DOLIBARR quirk: an empty Ettn filter answers with the first invoice of the account.
            rows, total, pages, page, size = pool[:1], min(1, len(pool)), min(1, len(pool)), 1, 1
        else:
            paging = values.get("PagingRequest")
            if paging is None:
                raise Failed(c.PAGING_REQUIRED)
            page = paging.get("PageNumber") or 0
            size = paging.get("RecordsPerPage") or 0
            if page < 1 or size < 1:
                raise Failed(c.BAD_PAGE)
            size = min(size, self.sim.max_page_size)
            archived = bool(result_set.get("IsArchiveIncluded"))
            matches = [i for i in pool if self._matches(i, values, archived)]
            total = len(matches)
            pages = math.ceil(total / size)
            rows = matches[(page - 1) * size : page * size]
        return {
            "Invoices": {"Invoice": [self._invoice(invoice, result_set) for invoice in rows]},
            "PagingResponse": self._paging(page, size, pages, total),
        }

    def _paging(self, page: int, size: int, pages: int, total: int) -> Members:
        if self.sim.answer_model == "nettefatura":
            return {"CurrentPage": page, "TotalPages": pages, "TotalRecords": total}
        return {"PageNumber": page, "RecordsPerPage": size, "TotalNumberOfPages": pages, "TotalNumberOfRecords": total}

    def invoice_date(self, invoice: GeneratedInvoice) -> datetime:
        """``InvoiceDate`` as the service stores it in the simulator's :data:`~.contract.DATE_READINGS`."""
        issued = _spec(invoice).issue_time if self.sim.dates == "datetime" else time.min
        return datetime.combine(invoice.issue_date, issued)

    def _within(self, invoice: GeneratedInvoice, low: datetime | None, high: datetime | None) -> bool:
        if self.sim.dates == "date":
            day = invoice.issue_date
            return (low is None or low.date() <= day) and (high is None or day <= high.date())
        moment = self.invoice_date(invoice)
        return (low is None or low <= moment) and (high is None or moment <= high)

    def _matches(self, invoice: GeneratedInvoice, values: Members, include_archived: bool) -> bool:
        if not self._within(invoice, values.get("MinInvoiceDate"), values.get("MaxInvoiceDate")):
            return False
        if values.get("Ettn") and invoice.ettn.lower() != values["Ettn"].strip().lower():
            return False
        if values.get("ReceiverTaxCode") and _counterparty(invoice)[0] != values["ReceiverTaxCode"].strip():
            return False
        return include_archived or not self.sim.is_archived(invoice)

    def _invoice(self, invoice: GeneratedInvoice, result_set: Members) -> Members:
        """WSDL_TYPES:Invoice.ts members of one invoice. For *incoming* invoices ``Receiver`` is the seller."""
        spec = _spec(invoice)
        party = spec.supplier if invoice.direction == "in" else spec.customer
        vkn, name = _counterparty(invoice)
        model: Members = {
            "ApplicationResponseStatus": "Alici_Kabul_Etti" if invoice.profile_id == "TICARIFATURA" else None,
            "CrossRate": None if spec.exchange_rate is None else str(spec.exchange_rate),
            "CurrencyCode": invoice.currency,
            "ETTN": invoice.ettn.upper(),
            "InvoiceCreationDate": invoice.created_at.replace(tzinfo=None, microsecond=0),
            "InvoiceDate": self.invoice_date(invoice),
            "InvoiceNumber": invoice.number,
            "InvoiceType": invoice.type_code,
            "IsArchived": self.sim.is_archived(invoice),
            "Receiver": ordered(
                {
                    "Address": ordered({"CityName": party.city, "TaxOfficeName": party.tax_office}),
                    "ReceiverName": name,
                    "ReceiverTaxCode": vkn,
                }
            ),
            "ScenarioType": invoice.profile_id,
            "Status": "Onaylandi" if invoice.direction == "in" else "Alici_Kabul_Etti",
            "TotalDiscountAmount": _amount(spec.allowance_total),
            "TotalLineExtensionAmount": _amount(spec.line_extension_amount),
            "TotalPayableAmount": _amount(spec.payable_amount),
            "TotalTaxInclusiveAmount": _amount(spec.tax_inclusive_amount),
            "TotalVATAmount": _amount(spec.tax_amount),
        }
        if result_set.get("IsInvoiceDetailIncluded"):
            model["InvoiceDetails"] = {"InvoiceDetail": [_detail(line) for line in spec.lines]}
        if result_set.get("IsXMLIncluded"):
            # WSDL_TYPES:Invoice.ts: InvoiceXml is xs:base64Binary.
            model["InvoiceXml"] = base64.b64encode(invoice.xml).decode("ascii")
        return ordered(model)

    # -- others ---------------------------------------------------------------------------------------------

    def viewer_link(self, slug: str, values: Members) -> Members:
        ettn = (values.get("Ettn") or "").strip()
        direction = "in" if (values.get("InvoiceDirection") or "Incoming") == "Incoming" else "out"
        if not ettn or not any(
            i.ettn.lower() == ettn.lower() and i.direction == direction for i in self.sim.ordered(slug)
        ):
            raise Failed(f"{ettn} ETTN numaralı belge bulunamadı.")
        # DOLIBARR: links come back as http://…:80 although only https answers.
        base = "http://efatura.isnet.net.tr:80/DocumentViewer"
        return {"HtmlUrl": f"{base}/Html/{ettn}", "PdfUrl": f"{base}/Pdf/{ettn}"}

    def state_changing(self, slug: str, values: Members) -> Members:
        return {}
