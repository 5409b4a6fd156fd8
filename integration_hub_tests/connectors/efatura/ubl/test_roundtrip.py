"""Generated documents parse back to exactly the values they were generated from."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from integration_hub.connectors.efatura.records import invoice_records
from integration_hub.connectors.efatura.ubl import Invoice, parse_invoice
from integration_hub.simulators.efatura.documents import GeneratedInvoice, generate_mailbox

MAILBOX = generate_mailbox(7, "1234567803", "ACME SANAYİ A.Ş.", date(2025, 3, 1), 45, per_day=(1, 4))


def _check(generated: GeneratedInvoice, invoice: Invoice) -> None:
    spec = generated.spec
    assert spec is not None
    assert invoice.ettn == generated.ettn
    assert invoice.number == generated.number
    assert invoice.profile_id == generated.profile_id
    assert invoice.type_code == generated.type_code
    assert invoice.issue_date == generated.issue_date
    assert invoice.issue_time == spec.issue_time
    assert invoice.currency == generated.currency
    assert invoice.exchange_rate == spec.exchange_rate
    assert (invoice.supplier.tax_id, invoice.supplier.name) == (generated.supplier_vkn, generated.supplier_name)
    assert (invoice.customer.tax_id, invoice.customer.name) == (generated.customer_vkn, generated.customer_name)
    assert invoice.customer.tax_scheme == spec.customer.scheme
    assert invoice.totals.payable == generated.payable
    assert invoice.totals.tax_exclusive == generated.tax_exclusive
    assert invoice.totals.tax_inclusive == spec.tax_inclusive_amount
    assert invoice.totals.line_extension == spec.line_extension_amount
    assert invoice.totals.allowance_total == spec.allowance_total
    assert invoice.tax_total == generated.tax_total
    assert invoice.withholding_total == (spec.withholding_amount if spec.withholding_subtotals() else None)
    assert [(t.type_code, t.percent, t.taxable_amount, t.amount) for t in invoice.taxes] == [
        (t.code, t.percent, t.taxable, t.amount) for t in spec.tax_subtotals()
    ]
    assert invoice.is_return == spec.is_return
    assert len(invoice.lines) == generated.line_count == invoice.line_count
    for parsed, line in zip(invoice.lines, spec.lines, strict=True):
        assert (parsed.id, parsed.name, parsed.description, parsed.seller_item_id) == (
            line.id,
            line.name,
            line.description,
            line.seller_item_id,
        )
        assert (parsed.quantity, parsed.unit_code, parsed.price) == (line.quantity, line.unit_code, line.unit_price)
        assert parsed.line_extension == line.line_extension_amount
        assert parsed.tax_total == line.tax_total
        assert [(a.is_charge, a.amount, a.base_amount) for a in parsed.allowance_charges] == (
            [(False, line.discount, line.gross)] if line.discount else []
        )
        held = [(w.type_code, w.percent, w.amount) for w in parsed.withholding]
        assert held == (
            [(line.withholding.code, line.withholding.percent, line.withholding.amount)] if line.withholding else []
        )


def test_every_generated_invoice_round_trips() -> None:
    assert len(MAILBOX) > 150
    for generated in MAILBOX:
        _check(generated, parse_invoice(generated.xml))


def test_mailbox_covers_the_sample_scenarios() -> None:
    kinds = {(g.profile_id, g.type_code) for g in MAILBOX}
    assert {("TEMELFATURA", "SATIS"), ("TICARIFATURA", "SATIS"), ("EARSIVFATURA", "SATIS")} <= kinds
    assert {t for _, t in kinds} >= {"SATIS", "IADE", "TEVKIFAT"}
    assert {g.currency for g in MAILBOX} > {"TRY"}
    assert any(g.spec and len({t.percent for t in g.spec.tax_subtotals() if t.code == "0015"}) > 1 for g in MAILBOX)
    assert any(b"EmbeddedDocumentBinaryObject" in g.xml and len(g.xml) > 300_000 for g in MAILBOX)
    assert any(g.spec and g.spec.upper_case_uuid and g.ettn.upper().encode() in g.xml for g in MAILBOX)


@pytest.mark.parametrize("direction", ["in", "out"])
def test_records_round_trip(direction: str) -> None:
    generated = next(g for g in MAILBOX if g.type_code == "SATIS" and g.line_count > 1)
    records = list(invoice_records(parse_invoice(generated.xml), direction))
    header, lines = records[0], records[1:]
    assert header.record_type == "invoice"
    assert header.external_key == f"{generated.ettn}:{direction}"
    assert header.amount == generated.payable
    other = (
        (generated.supplier_name, generated.supplier_vkn)
        if direction == "in"
        else (
            generated.customer_name,
            generated.customer_vkn,
        )
    )
    assert header.counterparty is not None and all(part in header.counterparty for part in other)
    assert [r.external_key for r in lines] == [f"{generated.ettn}:{direction}:{i}" for i in range(1, len(lines) + 1)]
    assert [r.amount for r in lines] == [line.line_extension_amount for line in generated.spec.lines]
    assert sum((r.amount for r in lines), Decimal(0)) == generated.tax_exclusive
