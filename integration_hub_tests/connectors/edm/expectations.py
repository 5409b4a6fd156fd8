"""What the EDM collector must yield for the simulator's invoices, in a comparable form."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from integration_hub.connectors.base import Record


def collected(records: Iterable[Record]) -> dict[str, tuple[Decimal, int]]:
    """``{"<ettn>:<direction>": (|payable|, line count)}`` from invoice and invoice_line records.

    Fails on any duplicated record key, so a test comparing this map also proves there are none.
    """
    records = list(records)
    keys = Counter((r.record_type, r.external_key) for r in records)
    duplicates = [key for key, count in keys.items() if count > 1]
    assert not duplicates, f"duplicate records: {duplicates[:3]}"
    invoices = {r.external_key: abs(r.amount) for r in records if r.record_type == "invoice"}
    lines = Counter(r.external_key.rsplit(":", 1)[0] for r in records if r.record_type == "invoice_line")
    assert set(lines) <= set(invoices), "line records without their invoice record"
    return {key: (amount, lines.get(key, 0)) for key, amount in invoices.items()}


def expected(invoices: Iterable[Any], direction: str) -> dict[str, tuple[Decimal, int]]:
    """The same map for the simulator's ``GeneratedInvoice`` objects of one direction."""
    return {f"{i.ettn.lower()}:{direction}": (i.payable, i.line_count) for i in invoices}
