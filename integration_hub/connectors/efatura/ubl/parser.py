"""UBL-TR 1.2 invoice XML → :class:`Invoice`.

Reads by namespace and element name only (never by prefix or position), because integrators serialise
the same schema with different prefixes, orders and whitespace. Tax ids are picked by ``schemeID``
(VKN/TCKN), not by length: the GİB sample itself tags a 10-digit number TCKN. Amounts are parsed as
:class:`~decimal.Decimal` exactly as written (``"18.00000"`` stays ``Decimal("18.00000")``). Text values are
stripped and inner whitespace runs collapsed, so "BBB Limited  Şirketi" and "BBB Limited Şirketi" are one
counterparty. Anything missing that the inventory needs (number, ETTN,
issue date, parties, payable amount, currency) is a one-line :class:`InvoiceParseError`.

Unwrapping (base64/zip/gzip) lives in :mod:`.unwrap`, hostile-XML handling in :mod:`.safe_xml`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, time
from decimal import Decimal, InvalidOperation

from lxml import etree

from integration_hub.connectors.efatura.ubl.errors import InvoiceParseError
from integration_hub.connectors.efatura.ubl.model import (
    AllowanceCharge,
    Invoice,
    InvoiceLine,
    MonetaryTotal,
    Party,
    TaxSubtotal,
    canonical_ettn,
)
from integration_hub.connectors.efatura.ubl.safe_xml import parse_document
from integration_hub.connectors.efatura.ubl.unwrap import iter_xml_documents

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CAC_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
NS = {"inv": INVOICE_NS, "cac": CAC_NS, "cbc": CBC_NS}
INVOICE_TAG = f"{{{INVOICE_NS}}}Invoice"
TAX_ID_SCHEMES = ("VKN", "TCKN")


def parse_documents(data: bytes) -> Iterator[Invoice]:
    """Every invoice in ``data``: raw XML (BOM ok), base64, zip (several files), gzip, or a GİB
    ``StandardBusinessDocument`` envelope holding one or more invoices."""
    for index, xml in enumerate(iter_xml_documents(data)):
        yield from _invoices_in(xml, f"document {index + 1}")


def parse_invoice(data: bytes) -> Invoice:
    """The single invoice in ``data``; several or none is an error."""
    invoices = list(parse_documents(data))
    if len(invoices) != 1:
        raise InvoiceParseError(f"expected exactly one invoice, found {len(invoices)}")
    return invoices[0]


def _invoices_in(xml: bytes, what: str) -> Iterator[Invoice]:
    root = parse_document(xml, what)
    if root.tag == INVOICE_TAG:
        yield invoice_from_element(root)
        return
    name = etree.QName(root).localname if isinstance(root.tag, str) else str(root.tag)
    if name == "StandardBusinessDocument":
        invoices = list(root.iter(INVOICE_TAG))
        if not invoices:
            raise InvoiceParseError(f"{what}: StandardBusinessDocument envelope holds no UBL Invoice")
        for element in invoices:
            yield invoice_from_element(element)
        return
    namespace = etree.QName(root).namespace if isinstance(root.tag, str) else None
    shown = f"{{{namespace}}}{name}" if namespace else name
    raise InvoiceParseError(f"{what}: root element is <{shown}>, not a UBL-TR Invoice")


# -- small readers ---------------------------------------------------------------------------------------


def _text(element: etree._Element | None, path: str) -> str | None:
    if element is None:
        return None
    found = element.find(path, NS)
    if found is None or found.text is None:
        return None
    value = " ".join(found.text.split())
    return value or None


def _decimal(element: etree._Element | None, path: str, what: str) -> Decimal | None:
    raw = _text(element, path)
    if raw is None:
        return None
    try:
        value = Decimal(raw.replace(" ", ""))
    except InvalidOperation:
        raise InvoiceParseError(f"{what}: {path} is not a number: {raw[:40]!r}") from None
    if not value.is_finite():
        raise InvoiceParseError(f"{what}: {path} is not a finite number: {raw[:40]!r}")
    return value


def _required(value: object, path: str, what: str) -> object:
    if value is None:
        raise InvoiceParseError(f"{what}: missing {path}")
    return value


# -- header pieces ---------------------------------------------------------------------------------------


def _ettn(raw: str | None, what: str) -> str:
    raw = _required(raw, "cbc:UUID (ETTN)", what)
    try:
        return canonical_ettn(str(raw))
    except ValueError:
        raise InvoiceParseError(f"{what}: cbc:UUID {str(raw)[:40]!r} is not a UUID") from None


def _date(raw: str | None, path: str, what: str) -> date:
    raw = str(_required(raw, path, what))
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise InvoiceParseError(f"{what}: {path} {raw[:40]!r} is not a date (YYYY-MM-DD)") from None


def _time(raw: str | None, what: str) -> time | None:
    if raw is None:
        return None
    text = raw[:-1] if raw.endswith("Z") else raw
    clock, sep, fraction = text.partition(".")
    if sep:  # .NET writes up to 7 fractional digits; Python takes at most 6
        digits = "".join(c for c in fraction if c.isdigit())
        text = f"{clock}.{digits[:6]}{fraction[len(digits) :]}"
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise InvoiceParseError(f"{what}: cbc:IssueTime {raw[:40]!r} is not a time (HH:MM:SS)") from None


def _party(container: etree._Element | None, role: str, what: str) -> Party:
    party = container.find("cac:Party", NS) if container is not None else None
    if party is None:
        raise InvoiceParseError(f"{what}: missing cac:{role}/cac:Party")
    tax_id = tax_scheme = None
    others: list[tuple[str, str]] = []
    for ident in party.findall("cac:PartyIdentification/cbc:ID", NS):
        value = " ".join((ident.text or "").split())
        scheme = (ident.get("schemeID") or "").strip().upper()
        if not value:
            continue
        if scheme in TAX_ID_SCHEMES and tax_id is None:
            tax_id, tax_scheme = value, scheme
        else:
            others.append((scheme, value))
    name = _text(party, "cac:PartyName/cbc:Name")
    if name is None:
        person = " ".join(
            part
            for part in (_text(party, "cac:Person/cbc:FirstName"), _text(party, "cac:Person/cbc:FamilyName"))
            if part
        )
        name = person or None
    return Party(
        tax_id=tax_id,
        tax_scheme=tax_scheme,
        name=name,
        tax_office=_text(party, "cac:PartyTaxScheme/cac:TaxScheme/cbc:Name"),
        city=_text(party, "cac:PostalAddress/cbc:CityName"),
        country=_text(party, "cac:PostalAddress/cac:Country/cbc:Name"),
        identifiers=tuple(others),
    )


def _subtotals(element: etree._Element, total_tag: str, what: str) -> tuple[Decimal | None, tuple[TaxSubtotal, ...]]:
    """Sum of ``total_tag``/TaxAmount and all its subtotals (``cac:TaxTotal`` or ``cac:WithholdingTaxTotal``)."""
    totals = element.findall(total_tag, NS)
    if not totals:
        return None, ()
    amount = Decimal(0)
    subtotals: list[TaxSubtotal] = []
    for total in totals:
        amount += _decimal(total, "cbc:TaxAmount", what) or Decimal(0)
        for sub in total.findall("cac:TaxSubtotal", NS):
            subtotals.append(
                TaxSubtotal(
                    type_code=_text(sub, "cac:TaxCategory/cac:TaxScheme/cbc:TaxTypeCode"),
                    name=_text(sub, "cac:TaxCategory/cac:TaxScheme/cbc:Name"),
                    taxable_amount=_decimal(sub, "cbc:TaxableAmount", what),
                    amount=_required(
                        _decimal(sub, "cbc:TaxAmount", what), f"{total_tag}/cac:TaxSubtotal/cbc:TaxAmount", what
                    ),
                    percent=_decimal(sub, "cbc:Percent", what),
                    exemption_reason_code=_text(sub, "cac:TaxCategory/cbc:TaxExemptionReasonCode"),
                    exemption_reason=_text(sub, "cac:TaxCategory/cbc:TaxExemptionReason"),
                )
            )
    return amount, tuple(subtotals)


def _allowance_charges(element: etree._Element, what: str) -> tuple[AllowanceCharge, ...]:
    return tuple(
        AllowanceCharge(
            is_charge=(_text(ac, "cbc:ChargeIndicator") or "").lower() == "true",
            amount=_decimal(ac, "cbc:Amount", what) or Decimal(0),
            base_amount=_decimal(ac, "cbc:BaseAmount", what),
            multiplier=_decimal(ac, "cbc:MultiplierFactorNumeric", what),
            reason=_text(ac, "cbc:AllowanceChargeReason"),
        )
        for ac in element.findall("cac:AllowanceCharge", NS)
    )


def _quantity(line: etree._Element, what: str) -> tuple[Decimal | None, str | None]:
    element = line.find("cbc:InvoicedQuantity", NS)
    if element is None:
        return None, None
    unit = (element.get("unitCode") or "").strip() or None
    return _decimal(line, "cbc:InvoicedQuantity", what), unit


def _line(element: etree._Element, index: int, what: str) -> InvoiceLine:
    line_id = _text(element, "cbc:ID") or str(index)
    where = f"{what} line {line_id}"
    quantity, unit = _quantity(element, where)
    tax_total, taxes = _subtotals(element, "cac:TaxTotal", where)
    withholding_total, withholding = _subtotals(element, "cac:WithholdingTaxTotal", where)
    return InvoiceLine(
        id=line_id,
        name=_text(element, "cac:Item/cbc:Name"),
        description=_text(element, "cac:Item/cbc:Description"),
        seller_item_id=_text(element, "cac:Item/cac:SellersItemIdentification/cbc:ID"),
        quantity=quantity,
        unit_code=unit,
        line_extension=_required(_decimal(element, "cbc:LineExtensionAmount", where), "cbc:LineExtensionAmount", where),
        price=_decimal(element, "cac:Price/cbc:PriceAmount", where),
        allowance_charges=_allowance_charges(element, where),
        tax_total=tax_total,
        taxes=taxes,
        withholding_total=withholding_total,
        withholding=withholding,
        classification_code=_text(element, "cac:Item/cac:CommodityClassification/cbc:ItemClassificationCode"),
        note=_text(element, "cbc:Note"),
    )


def _totals(root: etree._Element, what: str) -> MonetaryTotal:
    legal = root.find("cac:LegalMonetaryTotal", NS)
    if legal is None:
        raise InvoiceParseError(f"{what}: missing cac:LegalMonetaryTotal")
    return MonetaryTotal(
        line_extension=_decimal(legal, "cbc:LineExtensionAmount", what),
        tax_exclusive=_decimal(legal, "cbc:TaxExclusiveAmount", what),
        tax_inclusive=_decimal(legal, "cbc:TaxInclusiveAmount", what),
        allowance_total=_decimal(legal, "cbc:AllowanceTotalAmount", what),
        charge_total=_decimal(legal, "cbc:ChargeTotalAmount", what),
        payable_rounding=_decimal(legal, "cbc:PayableRoundingAmount", what),
        payable=_required(_decimal(legal, "cbc:PayableAmount", what), "cac:LegalMonetaryTotal/cbc:PayableAmount", what),
    )


def _line_count(root: etree._Element, what: str) -> int | None:
    raw = _text(root, "cbc:LineCountNumeric")
    if raw is None:
        return None
    try:
        return int(Decimal(raw))
    except (InvalidOperation, ValueError):
        raise InvoiceParseError(f"{what}: cbc:LineCountNumeric {raw[:20]!r} is not a number") from None


def invoice_from_element(root: etree._Element) -> Invoice:
    """Build an :class:`Invoice` from an ``Invoice`` element (already parsed safely)."""
    number = _text(root, "cbc:ID")
    what = f"invoice {number}" if number else "invoice"
    number = str(_required(number, "cbc:ID (invoice number)", what))
    tax_total, taxes = _subtotals(root, "cac:TaxTotal", what)
    withholding_total, withholding = _subtotals(root, "cac:WithholdingTaxTotal", what)
    return Invoice(
        number=number,
        ettn=_ettn(_text(root, "cbc:UUID"), what),
        profile_id=_text(root, "cbc:ProfileID"),
        type_code=_text(root, "cbc:InvoiceTypeCode"),
        issue_date=_date(_text(root, "cbc:IssueDate"), "cbc:IssueDate", what),
        issue_time=_time(_text(root, "cbc:IssueTime"), what),
        supplier=_party(root.find("cac:AccountingSupplierParty", NS), "AccountingSupplierParty", what),
        customer=_party(root.find("cac:AccountingCustomerParty", NS), "AccountingCustomerParty", what),
        currency=str(_required(_text(root, "cbc:DocumentCurrencyCode"), "cbc:DocumentCurrencyCode", what)),
        exchange_rate=_decimal(root, "cac:PricingExchangeRate/cbc:CalculationRate", what),
        totals=_totals(root, what),
        tax_total=tax_total,
        taxes=taxes,
        withholding_total=withholding_total,
        withholding=withholding,
        lines=tuple(_line(line, i + 1, what) for i, line in enumerate(root.findall("cac:InvoiceLine", NS))),
        allowance_charges=_allowance_charges(root, what),
        line_count=_line_count(root, what),
        notes=tuple(n.text.strip() for n in root.findall("cbc:Note", NS) if n.text and n.text.strip()),
    )
