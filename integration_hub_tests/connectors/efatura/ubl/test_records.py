"""Invoices → inventory records: keys, signs, counterparty by direction, JSON-safe payloads."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from integration_hub.connectors.efatura.records import invoice_records
from integration_hub.connectors.efatura.ubl import parse_invoice
from integration_hub_tests.connectors.efatura.ubl.samples import sample

WITHHOLDING = parse_invoice(sample("izibiz_FATURA_13.xml"))
ELECTRICITY = parse_invoice(sample("gib_temelfatura_BasicInvoice.xml"))
COMMERCIAL = parse_invoice(sample("gib_ticarifatura_CommercialInvoice.xml"))
ETTN = "f47ac10b-58cc-4372-a567-0e02b2c3d479"


def test_incoming_invoice_header_record() -> None:
    header, *lines = invoice_records(ELECTRICITY, "in")
    assert header.record_type == "invoice"
    assert header.external_key == f"{ETTN}:in"
    assert header.record_date == date(2009, 1, 5)
    assert (header.amount, header.currency) == (Decimal("17.88"), "TRY")
    assert header.counterparty == "AAA Anonim Şirketi (VKN 1288331521)"
    assert header.description == "TEMELFATURA SATIS GIB20090000000001"
    assert (header.quantity, header.unit) == (None, None)
    payload = header.payload
    assert payload["totals"] == {
        "line_extension": "15.15",
        "tax_exclusive": "15.15",
        "tax_inclusive": "17.88",
        "allowance_total": None,
        "charge_total": None,
        "payable_rounding": None,
        "payable": "17.88",
    }
    assert payload["customer"]["identifiers"] == [
        {"scheme": "TESISATNO", "id": "1234567"},
        {"scheme": "SAYACNO", "id": "12345678"},
    ]
    assert (payload["issue_date"], payload["issue_time"], payload["direction"]) == ("2009-01-05", "14:42:00", "in")
    assert len(lines) == 1


def test_outgoing_counterparty_is_the_customer() -> None:
    header = next(invoice_records(ELECTRICITY, "out"))
    assert header.external_key == f"{ETTN}:out"
    assert header.counterparty == "Ali YILMAZ (TCKN 1234567890)"


def test_line_records_carry_quantity_unit_and_join_keys() -> None:
    _, *lines = invoice_records(COMMERCIAL, "in")
    assert [r.external_key for r in lines] == [f"{ETTN}:in:{i}" for i in range(1, 9)]
    assert [(r.quantity, r.unit, r.amount) for r in lines[:2]] == [
        (Decimal("12"), "NIU", Decimal("9410.7")),
        (Decimal("8"), "NIU", Decimal("9428.4")),
    ]
    first = lines[0]
    assert first.record_type == "invoice_line"
    assert first.description == "Masa Üstü Bilgisayar"
    assert first.record_date == date(2009, 1, 5)
    assert first.counterparty == "AAA Anonim Şirketi (VKN 1288331521)"
    assert {k: first.payload[k] for k in ("invoice_ettn", "invoice_number", "supplier_vkn", "line_id")} == {
        "invoice_ettn": ETTN,
        "invoice_number": "GIB2009000000011",
        "supplier_vkn": "1288331521",
        "line_id": "1",
    }
    assert first.payload["allowance_charges"] == [
        {"is_charge": False, "amount": "495.3", "base_amount": "9906", "multiplier": "0.05", "reason": None}
    ]
    assert sum(r.amount for r in lines) == Decimal("25216.50")


def test_withholding_fields_in_payloads() -> None:
    header, line = invoice_records(WITHHOLDING, "in")
    assert header.amount == Decimal("2036.00")
    assert (header.payload["withholding_total"], header.payload["tax_total"]) == ("324.00", "36.00")
    assert header.payload["withholding"][0]["type_code"] == "602"
    assert line.payload["withholding"] == [
        {
            "type_code": "602",
            "name": "602 - etüt, plan-proje, danişmanlik, denetim ve benzeri hizmetler",
            "taxable_amount": "2000",
            "amount": "324.00",
            "percent": "90",
            "exemption_reason_code": None,
            "exemption_reason": None,
        }
    ]


@pytest.mark.parametrize("type_code", ["IADE", "TEVKIFATIADE"])
def test_returns_are_negative(type_code: str) -> None:
    returned = replace(COMMERCIAL, type_code=type_code)
    assert returned.is_return
    header, *lines = invoice_records(returned, "in")
    assert header.amount == Decimal("-29755.47")
    assert [r.amount for r in lines[:3]] == [Decimal("-9410.7"), Decimal("-9428.4"), Decimal("-688.5")]
    assert lines[0].quantity == Decimal("12")  # quantities stay as invoiced; is_return marks the sign
    assert header.payload["is_return"] is True and lines[0].payload["is_return"] is True


def test_payloads_are_json_serializable_with_exact_amount_strings() -> None:
    for invoice in (WITHHOLDING, ELECTRICITY, COMMERCIAL):
        for record in invoice_records(invoice, "in"):
            round_tripped = json.loads(json.dumps(record.payload))
            assert round_tripped == record.payload


def test_duplicate_line_ids_get_distinct_keys() -> None:
    doubled = replace(COMMERCIAL, lines=(COMMERCIAL.lines[0], COMMERCIAL.lines[0]))
    keys = [r.external_key for r in invoice_records(doubled, "out")][1:]
    assert keys == [f"{ETTN}:out:1", f"{ETTN}:out:1#2"]


def test_unknown_direction_is_refused() -> None:
    with pytest.raises(ValueError, match="direction must be 'in' or 'out'"):
        list(invoice_records(ELECTRICITY, "sideways"))  # type: ignore[arg-type]
