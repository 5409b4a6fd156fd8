"""The simulator's answers, element by element in the order and form the XSD types give them.

Every type here is ``Integration2.xsd`` (``?xsd=xsd0``, target namespace ``http://tempuri.org/``,
``elementFormDefault="qualified"``); the comment on each function names the type it renders. Required
elements (``minOccurs="1"``) are always written, optional ones only when there is a value; attributes are
attributes where the XSD says ``xs:attribute`` (``IsSucceded``/``Message`` of ``Response``, paging of
``PagedResponseOf…``, ``InvoiceId`` of ``InvoiceData``) and child elements everywhere else. The tests
validate every answer against the same XSDs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from lxml import etree

from integration_hub.simulators.efatura.documents import KDV, GeneratedInvoice, b64
from integration_hub.simulators.uyumsoft.mailbox import INVOICE_TYPES, STATUS_CODES, TIP_TYPES, Account, Mailbox

# InvoiceListItemBase's Vat<rate>/Vat<rate>TaxableAmount columns: the KDV rates the XSD has columns for.
VAT_AMOUNT_RATES = (1, 8, 18)
VAT_TAXABLE_RATES = (0, 1, 8, 18)
# Served operations whose result type is FlagResponse, whose Value attribute is required even on failure.
FLAG_RESULTS = frozenset({"TestConnection", "SetInvoicesTaken"})


class Writer:
    """Builds elements in the contract's target namespace."""

    def __init__(self, namespace: str) -> None:
        self.ns = namespace

    def sub(self, parent: etree._Element, name: str, text: object | None = None, **attrs: object) -> etree._Element:
        element = etree.SubElement(parent, f"{{{self.ns}}}{name}", {k: _lexical(v) for k, v in attrs.items()})
        if text is not None:
            element.text = _lexical(text)
        return element

    def result(self, operation: str, ok: bool = True, message: str = "") -> tuple[etree._Element, etree._Element]:
        """``<OpResponse><OpResult IsSucceded=".." Message=".."/>``: type ``Response`` (note the spelling)."""
        response = etree.Element(f"{{{self.ns}}}{operation}Response", nsmap={None: self.ns})
        result = self.sub(response, f"{operation}Result", IsSucceded=ok, Message=message)
        if operation in FLAG_RESULTS:  # FlagResponse: a failure says Value="false"
            result.set("Value", "false")
        return response, result

    def flag(self, operation: str, value: bool) -> etree._Element:
        """An operation answering ``FlagResponse`` (``Value`` is a required boolean attribute)."""
        response, result = self.result(operation)
        result.set("Value", _lexical(value))
        return response

    def alias(self, result: etree._Element, alias: str) -> None:
        """``SystemUserWithAlias`` with one ``ReceiverboxAliases`` (``SystemUserAlias``: ``Type`` and
        ``Enabled`` are required attributes; the meaning of ``Type``'s numbers is not published [I: 1])."""
        value = self.sub(result, "Value")
        self.sub(value, "ReceiverboxAliases", Alias=alias, Type=1, Enabled=True)

    def paged(self, result: etree._Element, index: int, size: int, total: int) -> etree._Element:
        """``PagedResponseOf…``: ``Value`` with the four required paging attributes; ``Items`` follow."""
        pages = math.ceil(total / size)
        return self.sub(result, "Value", PageIndex=index, PageSize=size, TotalCount=total, TotalPages=pages)

    def invoice_data(self, parent: etree._Element, name: str, invoice: GeneratedInvoice) -> None:
        """``InvoiceData``: ``Data`` (base64Binary) as a child; ``LocalDocumentId``/``InvoiceId`` attributes."""
        item = self.sub(parent, name, LocalDocumentId="", InvoiceId=invoice.ettn)
        self.sub(item, "Data", b64(invoice.xml))

    def list_item(self, parent: etree._Element, mailbox: Mailbox, invoice: GeneratedInvoice) -> None:
        """One ``Items`` element of type ``InboxInvoiceListItem`` / ``OutboxInvoiceListItem``: the
        ``InvoiceListItemBase`` sequence, then ``IsNew`` (inbox) or ``Scenario``…``LocalDocumentId`` (outbox)."""
        incoming = invoice.direction == "in"
        status = mailbox.status(invoice)
        kind, kind_code = INVOICE_TYPES.get(invoice.profile_id, ("BaseInvoice", 1))
        tip, tip_code = TIP_TYPES.get(invoice.type_code, ("Sales", 1))
        vat, taxable = _vat_columns(invoice)
        rate = invoice.spec.exchange_rate if invoice.spec is not None and invoice.spec.exchange_rate else Decimal(1)
        fields: list[tuple[str, object]] = [
            ("InvoiceId", invoice.ettn),
            ("DocumentId", invoice.number),
            ("Type", kind),
            ("TypeCode", kind_code),
            ("TargetTcknVkn", invoice.supplier_vkn if incoming else invoice.customer_vkn),
            ("TargetTitle", invoice.supplier_name if incoming else invoice.customer_name),
            ("EnvelopeIdentifier", invoice.ettn[::-1]),
            ("Status", status),
            ("StatusCode", STATUS_CODES.get(status, 1300)),
            ("EnvelopeStatus", "CompletedSuccessfully"),
            ("EnvelopeStatusCode", 1300),
            ("CreateDateUtc", mailbox.create_date(invoice)),
            ("ExecutionDate", mailbox.execution_date(invoice)),
            ("PayableAmount", invoice.payable),
            ("TaxTotal", invoice.tax_total),
            ("TaxExclusiveAmount", invoice.tax_exclusive),
            ("DocumentCurrencyCode", invoice.currency),
            ("ExchangeRate", rate),
            *((f"Vat{r}", vat.get(r, Decimal(0))) for r in VAT_AMOUNT_RATES),
            *((f"Vat{r}TaxableAmount", taxable.get(r, Decimal(0))) for r in VAT_TAXABLE_RATES),
            ("IsArchived", False),
            ("InvoiceTipType", tip),
            ("InvoiceTipTypeCode", tip_code),
        ]
        if incoming:
            fields.append(("IsNew", invoice.ettn.lower() not in mailbox.taken))
        else:
            scenario = mailbox.scenario(invoice)
            fields += [("Scenario", scenario), ("ScenarioCode", int(scenario == "eArchive")), ("LocalDocumentId", "")]
        item = self.sub(parent, "Items")
        for name, value in fields:
            self.sub(item, name, value)

    def who_am_i(self, result: etree._Element, account: Account) -> None:
        """``WhoAmIInfo``: ``User`` (``UserShortInfo``), ``Customer`` (``CustomerWithoutServiceInformation``,
        its required elements included) and ``Services`` (``CustomerServiceInformation``, all attributes)."""
        value = self.sub(result, "Value")
        user = self.sub(value, "User")
        for name, text in (("Username", account.username), ("Name", "Entegrasyon"), ("Surname", "Kullanıcısı")):
            self.sub(user, name, text)
        customer = self.sub(value, "Customer")
        for name, text in (
            ("Name", account.name),
            ("VkTckNo", account.vkn),
            ("TypeEnum", "Enterprise"),
            ("TaxOffice", "Simülasyon"),
            ("OwnerTypeEnum", "Private"),
            ("ParentCustomer", 0),
            ("SourceType", 0),
            ("SourceTypeEnum", "Default"),
        ):
            self.sub(customer, name, text)
        services = {"HasEarchive": True, "HasEInvoice": True}
        self.sub(
            value,
            "Services",
            **{
                name: services.get(name, False)
                for name in (
                    "HasEarchive",
                    "HasEInvoice",
                    "HasELedger",
                    "HasETicket",
                    "HasVoucher",
                    "HasProducerReceipt",
                    "HasEDespatch",
                    "HasEGuestCheck",
                    "HasEForeignExchange",
                    "HasEGibArchive",
                )
            },
        )

    def statuses(self, result: etree._Element, mailbox: Mailbox, invoices: Sequence[GeneratedInvoice]) -> None:
        """``InvoiceStatusResponse``: one ``Value`` (``InvoiceStatusInfo``, attributes only) per invoice."""
        for invoice in invoices:
            status = mailbox.status(invoice)
            self.sub(result, "Value", Status=status, StatusCode=STATUS_CODES[status], InvoiceId=invoice.ettn)


def _vat_columns(invoice: GeneratedInvoice) -> tuple[dict[int, Decimal], dict[int, Decimal]]:
    """KDV amounts and taxable amounts by whole-number rate."""
    amounts: dict[int, Decimal] = {}
    taxable: dict[int, Decimal] = {}
    for tax in invoice.spec.tax_subtotals() if invoice.spec is not None else ():
        if tax.code == KDV and tax.percent == tax.percent.to_integral_value():
            rate = int(tax.percent)
            amounts[rate] = amounts.get(rate, Decimal(0)) + tax.amount
            taxable[rate] = taxable.get(rate, Decimal(0)) + tax.taxable
    return amounts, taxable


def _lexical(value: object) -> str:
    """The XSD lexical form: ``true``/``false``, ``xs:dateTime`` without fraction, ``str`` otherwise."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    return str(value)
