"""UBL-TR 1.2 invoices: safe unwrapping and parsing into :class:`Invoice` (the contract every e-invoice
connector codes against)."""

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
from integration_hub.connectors.efatura.ubl.parser import parse_documents, parse_invoice
from integration_hub.connectors.efatura.ubl.unwrap import unwrap_documents

__all__ = [
    "AllowanceCharge",
    "Invoice",
    "InvoiceLine",
    "InvoiceParseError",
    "MonetaryTotal",
    "Party",
    "TaxSubtotal",
    "canonical_ettn",
    "parse_documents",
    "parse_invoice",
    "unwrap_documents",
]
