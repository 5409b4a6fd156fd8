"""Parsed invoice → inventory records: one ``invoice`` record plus one ``invoice_line`` record per line.

Returns (IADE, TEVKIFATIADE) carry negative amounts so that summing an inventory nets them against the
sales they reverse. The counterparty is the *other* side of the invoice: the supplier for incoming
invoices (purchases — what carbon accounting needs), the customer for outgoing ones. Payloads keep every
parsed field as JSON-serializable strings (Decimals as exact strings, never floats), and line payloads
repeat the invoice ETTN, number and supplier VKN so footprint calculations can join lines to suppliers
without the header record.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Literal

from integration_hub.connectors.base import Record
from integration_hub.connectors.efatura.ubl.model import AllowanceCharge, Invoice, InvoiceLine, Party, TaxSubtotal

Direction = Literal["in", "out"]


def _s(value: object) -> str | None:
    """Decimals, dates and times as their exact string form; ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return str(value)
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _signed(amount: Decimal | None, negate: bool) -> Decimal | None:
    return -amount if negate and amount is not None else amount


def party_payload(party: Party) -> dict[str, Any]:
    return {
        "tax_id": party.tax_id,
        "tax_scheme": party.tax_scheme,
        "name": party.name,
        "tax_office": party.tax_office,
        "city": party.city,
        "country": party.country,
        "identifiers": [{"scheme": scheme, "id": value} for scheme, value in party.identifiers],
    }


def tax_payload(tax: TaxSubtotal) -> dict[str, Any]:
    return {
        "type_code": tax.type_code,
        "name": tax.name,
        "taxable_amount": _s(tax.taxable_amount),
        "amount": _s(tax.amount),
        "percent": _s(tax.percent),
        "exemption_reason_code": tax.exemption_reason_code,
        "exemption_reason": tax.exemption_reason,
    }


def allowance_payload(item: AllowanceCharge) -> dict[str, Any]:
    return {
        "is_charge": item.is_charge,
        "amount": _s(item.amount),
        "base_amount": _s(item.base_amount),
        "multiplier": _s(item.multiplier),
        "reason": item.reason,
    }


def invoice_fields(invoice: Invoice) -> dict[str, Any]:
    """Every header field of ``invoice``, JSON-serializable (also what ``inspect-invoice --json`` prints)."""
    totals = invoice.totals
    return {
        "number": invoice.number,
        "ettn": invoice.ettn,
        "profile_id": invoice.profile_id,
        "type_code": invoice.type_code,
        "is_return": invoice.is_return,
        "issue_date": _s(invoice.issue_date),
        "issue_time": _s(invoice.issue_time),
        "supplier": party_payload(invoice.supplier),
        "customer": party_payload(invoice.customer),
        "currency": invoice.currency,
        "exchange_rate": _s(invoice.exchange_rate),
        "totals": {
            "line_extension": _s(totals.line_extension),
            "tax_exclusive": _s(totals.tax_exclusive),
            "tax_inclusive": _s(totals.tax_inclusive),
            "allowance_total": _s(totals.allowance_total),
            "charge_total": _s(totals.charge_total),
            "payable_rounding": _s(totals.payable_rounding),
            "payable": _s(totals.payable),
        },
        "tax_total": _s(invoice.tax_total),
        "taxes": [tax_payload(t) for t in invoice.taxes],
        "withholding_total": _s(invoice.withholding_total),
        "withholding": [tax_payload(t) for t in invoice.withholding],
        "allowance_charges": [allowance_payload(a) for a in invoice.allowance_charges],
        "line_count": len(invoice.lines),
        "declared_line_count": invoice.line_count,
        "notes": list(invoice.notes),
    }


def line_fields(line: InvoiceLine) -> dict[str, Any]:
    """Every field of ``line``, JSON-serializable."""
    return {
        "line_id": line.id,
        "name": line.name,
        "description": line.description,
        "seller_item_id": line.seller_item_id,
        "classification_code": line.classification_code,
        "quantity": _s(line.quantity),
        "unit_code": line.unit_code,
        "line_extension": _s(line.line_extension),
        "price": _s(line.price),
        "allowance_charges": [allowance_payload(a) for a in line.allowance_charges],
        "tax_total": _s(line.tax_total),
        "taxes": [tax_payload(t) for t in line.taxes],
        "withholding_total": _s(line.withholding_total),
        "withholding": [tax_payload(t) for t in line.withholding],
        "note": line.note,
    }


def invoice_payload(invoice: Invoice, direction: str) -> dict[str, Any]:
    """The ``invoice`` record payload: the direction plus every header field."""
    return {"direction": direction, **invoice_fields(invoice)}


def line_payload(invoice: Invoice, line: InvoiceLine, direction: str) -> dict[str, Any]:
    """The ``invoice_line`` payload: every line field plus the invoice keys a footprint calculation joins on."""
    return {
        "direction": direction,
        "invoice_ettn": invoice.ettn,
        "invoice_number": invoice.number,
        "supplier_vkn": invoice.supplier.tax_id,
        "supplier_name": invoice.supplier.name,
        "is_return": invoice.is_return,
        "currency": invoice.currency,
        "exchange_rate": _s(invoice.exchange_rate),
        **line_fields(line),
    }


def invoice_records(invoice: Invoice, direction: Direction) -> Iterator[Record]:
    """The ``invoice`` record, then one ``invoice_line`` record per line, all dated ``issue_date``."""
    if direction not in ("in", "out"):
        raise ValueError(f"direction must be 'in' or 'out', not {direction!r}")
    negate = invoice.is_return
    counterparty = invoice.supplier if direction == "in" else invoice.customer
    key = f"{invoice.ettn}:{direction}"
    yield Record(
        record_type="invoice",
        external_key=key,
        record_date=invoice.issue_date,
        amount=_signed(invoice.totals.payable, negate),
        currency=invoice.currency,
        counterparty=counterparty.label or None,
        description=" ".join(p for p in (invoice.profile_id, invoice.type_code, invoice.number) if p),
        payload=invoice_payload(invoice, direction),
    )
    used: set[str] = set()
    for index, line in enumerate(invoice.lines, start=1):
        line_key = line.id if line.id not in used else f"{line.id}#{index}"  # duplicate line ids stay distinct
        used.add(line_key)
        yield Record(
            record_type="invoice_line",
            external_key=f"{key}:{line_key}",
            record_date=invoice.issue_date,
            amount=_signed(line.line_extension, negate),
            currency=invoice.currency,
            quantity=line.quantity,
            unit=line.unit_code,
            counterparty=counterparty.label or None,
            description=line.name,
            payload=line_payload(invoice, line, direction),
        )
