"""What a collector must yield for simulated invoices, in a comparable form.

Expected values come from the simulator's own mailbox (``GeneratedInvoice``), never from hard-coded
numbers: per invoice key ``<ettn>:<direction>`` the number of lines and the payable amount.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from integration_hub.connectors.base import DateWindow, Record
from integration_hub.simulators.efatura.documents import GeneratedInvoice

Summary = dict[str, tuple[int, Decimal]]


def summarize(records: Iterable[Record], window: DateWindow) -> Summary:
    """``{invoice key: (line records, |payable|)}``; asserts keys are unique and dates in the window."""
    invoices: dict[str, Decimal] = {}
    lines: dict[str, int] = {}
    line_keys: set[str] = set()
    for record in records:
        assert record.record_date in window, f"{record.external_key} dated {record.record_date} outside {window}"
        if record.record_type == "invoice":
            assert record.external_key not in invoices, f"duplicate invoice record {record.external_key}"
            invoices[record.external_key] = abs(record.amount)
        else:
            assert record.record_type == "invoice_line", record.record_type
            assert record.external_key not in line_keys, f"duplicate line record {record.external_key}"
            line_keys.add(record.external_key)
            ettn, direction, _ = record.external_key.split(":", 2)
            lines[f"{ettn}:{direction}"] = lines.get(f"{ettn}:{direction}", 0) + 1
    assert set(lines) <= set(invoices), "line records without their invoice record"
    return {key: (lines.get(key, 0), amount) for key, amount in invoices.items()}


def expected(invoices: Iterable[GeneratedInvoice]) -> Summary:
    return {f"{i.ettn}:{i.direction}": (i.line_count, abs(i.payable)) for i in invoices}
