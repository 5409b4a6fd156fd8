"""What a collector must yield for simulated Uyumsoft-family invoices, in a comparable form."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from decimal import Decimal

from integration_hub.connectors.base import Record
from integration_hub.simulators.efatura.documents import GeneratedInvoice


def collected(records: Iterable[Record]) -> dict[str, tuple[Decimal, int]]:
    """``{"<ettn>:<direction>": (|payable|, line count)}`` from invoice + invoice_line records."""
    records = list(records)
    invoices = [r for r in records if r.record_type == "invoice"]
    keys = [r.external_key for r in invoices]
    assert len(keys) == len(set(keys)), "duplicate invoice records"
    lines = Counter(r.external_key.rsplit(":", 1)[0] for r in records if r.record_type == "invoice_line")
    assert set(lines) <= set(keys), "invoice_line records without their invoice"
    assert {r.record_type for r in records} <= {"invoice", "invoice_line"}
    return {r.external_key: (abs(r.amount), lines[r.external_key]) for r in invoices}


def expected(
    incoming: Iterable[GeneratedInvoice], outgoing: Iterable[GeneratedInvoice]
) -> dict[str, tuple[Decimal, int]]:
    """The same shape from the simulator's mailbox."""
    result = {}
    for direction, invoices in (("in", incoming), ("out", outgoing)):
        for invoice in invoices:
            result[f"{invoice.ettn.lower()}:{direction}"] = (abs(invoice.payable), invoice.line_count)
    return result


def list_and_bulk_requests(count: int, page_size: int = 100, batch: int = 50) -> int:
    """Requests one direction needs: list pages (at least one) plus bulk downloads."""
    return max(1, -(-count // page_size)) + -(-count // batch)
