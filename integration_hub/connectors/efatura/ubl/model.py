"""The parsed shape of a UBL-TR 1.2 invoice: what the hub keeps from a GİB e-Fatura / e-Arşiv document.

Frozen dataclasses with :class:`~decimal.Decimal` amounts, because invoice totals are money and are
compared and summed exactly (floats would turn 0.1 + 0.2 into a reconciliation bug). Amounts stay in the
document currency; ``Invoice.exchange_rate`` converts to TRY when the document is foreign-currency.
Fields that a document may omit are ``None`` rather than zero, so "not stated" and "zero" stay distinct.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

RETURN_TYPE_CODES = frozenset({"IADE", "TEVKIFATIADE"})
"""Invoice type codes that reverse an earlier sale (their amounts count negative in the inventory)."""


def canonical_ettn(text: str) -> str:
    """An ETTN as a lower-case hyphenated UUID: documents, listings and providers differ in case and
    braces (``{A1B2…}`` in one place, ``a1b2…`` in another). Raises ``ValueError`` for a non-UUID."""
    return str(uuid.UUID(text.strip().strip("{}")))


@dataclass(frozen=True, slots=True)
class Party:
    """A supplier or customer. ``tax_id`` is the identifier tagged ``schemeID`` VKN (company) or TCKN
    (person) — picked by the tag, never by length, because real documents mislabel lengths.
    ``identifiers`` keeps every other ``(schemeID, value)`` pair (MERSISNO, SAYACNO meter number, ...),
    which energy invoices use to tie consumption to a meter."""

    tax_id: str | None
    tax_scheme: str | None
    name: str | None
    tax_office: str | None = None
    city: str | None = None
    country: str | None = None
    identifiers: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        """``Name (VKN 123…)`` — how the party is shown as a counterparty."""
        ident = f"{self.tax_scheme or 'ID'} {self.tax_id}" if self.tax_id else ""
        if self.name and ident:
            return f"{self.name} ({ident})"
        return self.name or ident


@dataclass(frozen=True, slots=True)
class TaxSubtotal:
    """One ``cac:TaxSubtotal``: a tax type (``0015`` KDV, ``0071`` ÖTV, withholding ``602``…) at one rate."""

    type_code: str | None
    name: str | None
    taxable_amount: Decimal | None
    amount: Decimal
    percent: Decimal | None = None
    exemption_reason_code: str | None = None
    exemption_reason: str | None = None


@dataclass(frozen=True, slots=True)
class AllowanceCharge:
    """A discount (``is_charge`` false) or surcharge on the invoice or on one line."""

    is_charge: bool
    amount: Decimal
    base_amount: Decimal | None = None
    multiplier: Decimal | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One ``cac:InvoiceLine``. For carbon work the decisive fields are ``name``, ``quantity`` and
    ``unit_code`` (``KWH``, ``LTR``, ``MTQ``…), read together with the supplier's VKN."""

    id: str
    name: str | None
    description: str | None
    seller_item_id: str | None
    quantity: Decimal | None
    unit_code: str | None
    line_extension: Decimal
    price: Decimal | None
    allowance_charges: tuple[AllowanceCharge, ...] = ()
    tax_total: Decimal | None = None
    taxes: tuple[TaxSubtotal, ...] = ()
    withholding_total: Decimal | None = None
    withholding: tuple[TaxSubtotal, ...] = ()
    classification_code: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class MonetaryTotal:
    """``cac:LegalMonetaryTotal``. ``payable`` is what changes hands (after withholding)."""

    line_extension: Decimal | None
    tax_exclusive: Decimal | None
    tax_inclusive: Decimal | None
    allowance_total: Decimal | None
    charge_total: Decimal | None
    payable_rounding: Decimal | None
    payable: Decimal


@dataclass(frozen=True, slots=True)
class Invoice:
    """One UBL-TR invoice. ``ettn`` is the lower-case canonical UUID (the document's identity across
    integrators; numbers repeat across senders). ``is_return`` marks IADE/TEVKIFATIADE documents."""

    number: str
    ettn: str
    profile_id: str | None
    type_code: str | None
    issue_date: date
    issue_time: time | None
    supplier: Party
    customer: Party
    currency: str
    exchange_rate: Decimal | None
    totals: MonetaryTotal
    tax_total: Decimal | None
    taxes: tuple[TaxSubtotal, ...]
    withholding_total: Decimal | None
    withholding: tuple[TaxSubtotal, ...]
    lines: tuple[InvoiceLine, ...]
    allowance_charges: tuple[AllowanceCharge, ...] = ()
    line_count: int | None = None
    notes: tuple[str, ...] = ()

    @property
    def is_return(self) -> bool:
        return (self.type_code or "").upper() in RETURN_TYPE_CODES

