"""The six public UBL-TR samples, field by field.

Every expected value below was read by hand from the sample files in ``shared/efatura-samples``
(amounts as written in the XML, so ``str()`` of each parsed Decimal must match the document exactly).
Text values have surrounding whitespace stripped and inner runs collapsed (the GİB sample's
"BBB Limited  Şirketi" has a double space).
"""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

import pytest

from integration_hub.connectors.efatura.ubl import Invoice, InvoiceLine, parse_invoice
from integration_hub_tests.connectors.efatura.ubl.samples import sample

IZIBIZ = "İZİBİZ BİLİŞİM TEKNOLOJİLERİ ANONİM ŞİRKETİ"
IZIBIZ_IDS = (("MERSISNO", "0484084721100010"), ("TICARETSICILNO", "111111111111111"))


def s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def totals(invoice: Invoice) -> tuple:
    t = invoice.totals
    return tuple(
        s(v)
        for v in (
            t.line_extension,
            t.tax_exclusive,
            t.tax_inclusive,
            t.allowance_total,
            t.charge_total,
            t.payable_rounding,
            t.payable,
        )
    )


def taxes(subtotals) -> list[tuple]:
    return [(t.type_code, t.name, s(t.taxable_amount), s(t.amount), s(t.percent)) for t in subtotals]


def line_row(line: InvoiceLine) -> tuple:
    return (line.id, line.name, s(line.quantity), line.unit_code, s(line.line_extension), s(line.price))


def test_gib_temelfatura_electricity() -> None:
    inv = parse_invoice(sample("gib_temelfatura_BasicInvoice.xml"))
    assert (inv.number, inv.ettn) == ("GIB20090000000001", "f47ac10b-58cc-4372-a567-0e02b2c3d479")
    assert (inv.profile_id, inv.type_code, inv.is_return) == ("TEMELFATURA", "SATIS", False)
    assert (inv.issue_date, inv.issue_time) == (date(2009, 1, 5), time(14, 42))
    assert (inv.currency, inv.exchange_rate, inv.line_count) == ("TRY", None, 1)
    sup, cus = inv.supplier, inv.customer
    assert (sup.tax_scheme, sup.tax_id, sup.name) == ("VKN", "1288331521", "AAA Anonim Şirketi")
    assert (sup.tax_office, sup.city, sup.country) == ("Büyük Mükellefler", "İstanbul", "Türkiye")
    assert sup.identifiers == ()
    # a 10-digit number tagged TCKN stays a TCKN; the name comes from cac:Person
    assert (cus.tax_scheme, cus.tax_id, cus.name) == ("TCKN", "1234567890", "Ali YILMAZ")
    assert cus.identifiers == (("TESISATNO", "1234567"), ("SAYACNO", "12345678"))
    assert cus.tax_office is None
    assert totals(inv) == ("15.15", "15.15", "17.88", None, None, None, "17.88")
    assert s(inv.tax_total) == "2.73"
    assert taxes(inv.taxes) == [("0015", None, "15.15", "2.73", None)]
    assert (inv.withholding_total, inv.withholding) == (None, ())
    (line,) = inv.lines
    assert line_row(line) == ("1", "Elektrik Tüketim Bedeli", "101", "KWH", "15.15", "0.15")
    assert (line.description, line.seller_item_id) == (None, None)
    assert [(a.is_charge, s(a.amount), s(a.base_amount), s(a.multiplier)) for a in line.allowance_charges] == [
        (False, "0", "15.15", "0.0")
    ]
    assert s(line.tax_total) == "2.73"
    assert taxes(line.taxes) == [("0015", "KDV", "15.15", "2.73", "18.0")]
    assert (line.withholding_total, line.withholding) == (None, ())


def test_gib_ticarifatura_eight_lines_with_discounts() -> None:
    inv = parse_invoice(sample("gib_ticarifatura_CommercialInvoice.xml"))
    assert (inv.number, inv.ettn) == ("GIB2009000000011", "f47ac10b-58cc-4372-a567-0e02b2c3d479")
    assert (inv.profile_id, inv.type_code, inv.issue_date, inv.issue_time) == (
        "TICARIFATURA",
        "SATIS",
        date(2009, 1, 5),
        time(14, 42),
    )
    assert (inv.currency, inv.exchange_rate, inv.line_count) == ("TRY", None, 8)
    assert (inv.supplier.tax_scheme, inv.supplier.tax_id, inv.supplier.name) == (
        "VKN",
        "1288331521",
        "AAA Anonim Şirketi",
    )
    cus = inv.customer
    assert (cus.tax_scheme, cus.tax_id, cus.name, cus.tax_office, cus.city) == (
        "VKN",
        "9205121120",
        "BBB Limited Şirketi",
        "Çankaya",
        "Ankara",
    )
    assert totals(inv) == ("26003.40", "25216.50", "29755.47", "786.90", None, None, "29755.47")
    assert s(inv.tax_total) == "4538.97"
    assert taxes(inv.taxes) == [("0015", "Katma Değer Vergisi", "25216.50", "4538.97", "18")]
    assert inv.withholding == ()
    assert [line_row(line) for line in inv.lines] == [
        ("1", "Masa Üstü Bilgisayar", "12", "NIU", "9410.7", "825.5"),
        ("2", "Notebook Bilgisayar", "8", "NIU", "9428.4", "1215"),
        ("3", "Notebook Çantası", "18", "NIU", "688.5", "38.25"),
        ("4", "Yazıcı", "13", "NIU", "1576.9", "121.3"),
        ("5", "CD-R 2*56", "200", "BX", "1400", "7"),
        ("6", "DVD-R", "200", "BX", "2200", "11"),
        ("7", "Dolma Kalem", "80", "NIU", "340", "4.25"),
        ("8", "Tükenmez Kalem", "80", "NIU", "172", "2.15"),
    ]
    assert [
        [(a.is_charge, s(a.multiplier), s(a.amount), s(a.base_amount)) for a in line.allowance_charges]
        for line in inv.lines[:3]
    ] == [
        [(False, "0.05", "495.3", "9906")],
        [(False, "0.03", "291.6", "9720")],
        [(False, "0.0", "0", "688.5")],
    ]
    assert [s(line.tax_total) for line in inv.lines] == [
        "1693.93",
        "1697.11",
        "123.93",
        "283.84",
        "252",
        "396",
        "61.2",
        "30.96",
    ]
    assert all(taxes(line.taxes)[0][0::4] == ("0015", "18") for line in inv.lines)
    # the document is internally consistent: lines add up to the tax-exclusive total
    assert sum(line.line_extension for line in inv.lines) == inv.totals.tax_exclusive
    assert sum(line.tax_total for line in inv.lines) == inv.tax_total


def test_izibiz_fatura_5_three_vat_rates() -> None:
    inv = parse_invoice(sample("izibiz_FATURA_5.xml"))
    assert (inv.number, inv.ettn) == ("DMY2018625161605", "9fdc3ce7-8820-4927-83e7-b03daa8fb76d")
    assert (inv.profile_id, inv.type_code, inv.issue_date, inv.issue_time) == (
        "TICARIFATURA",
        "SATIS",
        date(2018, 6, 25),
        time(16, 13, 58),
    )
    assert (inv.currency, inv.exchange_rate, inv.line_count, inv.notes) == ("TRY", None, 3, ("benim notum",))
    sup = inv.supplier
    assert (sup.tax_scheme, sup.tax_id, sup.name, sup.tax_office, sup.city) == (
        "VKN",
        "4840847211",
        IZIBIZ,
        "Küçükyalı VD",
        "İSTANBUL",
    )
    assert sup.identifiers == IZIBIZ_IDS
    cus = inv.customer
    assert (cus.tax_scheme, cus.tax_id, cus.name, cus.tax_office) == (
        "VKN",
        "4840847211",
        "İZİBİZ BİLİŞİM TEKNOLOJİLERİ A.Ş",
        "ESENLER",
    )
    assert totals(inv) == ("300.00", "300.00", "327.00", "0.00", "0.00", None, "327.00")
    assert s(inv.tax_total) == "27.00"
    assert taxes(inv.taxes) == [
        ("0015", "KDV", "100.00", "8.00", "8.00"),
        ("0015", "KDV", "100.00", "1.00", "1.00"),
        ("0015", "KDV", "100.00", "18.00", "18.00"),
    ]
    assert [line_row(line) for line in inv.lines] == [
        ("1", "deneme", "1", "C62", "100", "100"),
        ("2", "deneme2", "1", "C62", "100", "100"),
        ("3", "deneme3", "1", "C62", "100", "100"),
    ]
    assert [taxes(line.taxes) for line in inv.lines] == [
        [("0015", "KDV", "100", "18.00000", "18.00")],
        [("0015", "KDV", "100", "8.00000", "8.00")],
        [("0015", "KDV", "100", "1.00000", "1.00")],
    ]
    assert [s(line.tax_total) for line in inv.lines] == ["18.00000", "8.00000", "1.00000"]


def test_izibiz_fatura_7_usd_with_exchange_rate() -> None:
    inv = parse_invoice(sample("izibiz_FATURA_7.xml"))
    assert (inv.number, inv.ettn) == ("DMY2018062513490", "54a317d1-4d88-48fc-8a61-e7f4b9bb13c8")
    assert (inv.profile_id, inv.type_code, inv.issue_date, inv.issue_time) == (
        "TICARIFATURA",
        "SATIS",
        date(2018, 6, 25),
        time(13, 44, 16),
    )
    assert (inv.currency, s(inv.exchange_rate)) == ("USD", "4.6688")
    assert inv.notes == ("Dövizli satış fatura (USD)",)
    assert (inv.supplier.tax_id, inv.supplier.name) == ("4840847211", IZIBIZ)
    assert (inv.customer.tax_scheme, inv.customer.tax_id, inv.customer.name) == ("VKN", "4840847211", IZIBIZ)
    assert totals(inv) == ("100.00", "100.00", "118.00", "0.00", "0.00", None, "118.00")
    assert s(inv.tax_total) == "18.00"
    assert taxes(inv.taxes) == [("0015", "KDV", "100.00", "18.00", "18.00")]
    (line,) = inv.lines
    assert line_row(line) == ("1", "Ürün", "1", "C62", "100", "100")
    assert line.seller_item_id == "01"
    assert s(line.tax_total) == "18.00000"


def test_izibiz_fatura_13_withholding() -> None:
    inv = parse_invoice(sample("izibiz_FATURA_13.xml"))
    assert (inv.number, inv.ettn) == ("DMY2018062513072", "82c0f2ad-0810-4a66-8e87-8261920a44fc")
    assert (inv.profile_id, inv.type_code, inv.is_return) == ("TICARIFATURA", "TEVKIFAT", False)
    assert (inv.issue_date, inv.issue_time, inv.currency, inv.exchange_rate) == (
        date(2018, 6, 25),
        time(13, 6, 51),
        "TRY",
        None,
    )
    assert (inv.supplier.tax_id, inv.customer.tax_id, inv.customer.name) == ("4840847211", "4840847211", IZIBIZ)
    # payable = tax inclusive − withholding: 2360.00 − 324.00
    assert totals(inv) == ("2000.00", "2000.00", "2360.00", "0.00", "0.00", None, "2036.00")
    assert s(inv.tax_total) == "36.00"  # as the document states it (its subtotal says 360.00)
    assert taxes(inv.taxes) == [("0015", "KDV", "2000.00", "360.00", "18.00")]
    wh_name = "602 - etüt, plan-proje, danişmanlik, denetim ve benzeri hizmetler"
    assert s(inv.withholding_total) == "324.00"
    assert taxes(inv.withholding) == [("602", wh_name, "360.00000", "324.00", "90")]
    (line,) = inv.lines
    assert line_row(line) == ("1", "deneme", "1", "C62", "2000", "2000")
    assert taxes(line.taxes) == [("0015", "KDV", "2000", "360.00000", "18.00")]
    assert s(line.withholding_total) == "324.00"
    assert taxes(line.withholding) == [("602", wh_name, "2000", "324.00", "90")]


def test_izibiz_fatura_22_earsiv_person_customer() -> None:
    inv = parse_invoice(sample("izibiz_FATURA_22.xml"))
    assert (inv.number, inv.ettn) == ("ESV2018000000006", "d8b481f8-73e7-40cb-a7a1-625208d279f8")
    assert (inv.profile_id, inv.type_code, inv.issue_date, inv.issue_time) == (
        "EARSIVFATURA",
        "SATIS",
        date(2018, 6, 26),
        time(12, 15, 46),
    )
    assert (inv.currency, inv.exchange_rate, inv.line_count) == ("TRY", None, 1)
    assert (inv.supplier.tax_scheme, inv.supplier.tax_id) == ("VKN", "4840847211")
    cus = inv.customer
    # PartyName wins over cac:Person (FirstName = company name, FamilyName ".")
    assert (cus.tax_scheme, cus.tax_id, cus.name, cus.tax_office) == ("TCKN", "48408472111", IZIBIZ, "KÜÇÜKYALI VD")
    assert totals(inv) == ("100.00", "100.00", "118.00", "0.00", "0.00", None, "118.00")
    assert s(inv.tax_total) == "18.00"
    assert taxes(inv.taxes) == [("0015", "KDV", "100.00", "18.00", "18.00")]
    (line,) = inv.lines
    assert line_row(line) == ("1", "deneme", "1", "C62", "100", "100")
    assert s(line.tax_total) == "18.00000"


@pytest.mark.parametrize(
    "name",
    [
        "gib_temelfatura_BasicInvoice.xml",
        "gib_ticarifatura_CommercialInvoice.xml",
        "izibiz_FATURA_5.xml",
        "izibiz_FATURA_7.xml",
        "izibiz_FATURA_13.xml",
        "izibiz_FATURA_22.xml",
    ],
)
def test_declared_line_count_matches_lines(name: str) -> None:
    inv = parse_invoice(sample(name))
    assert inv.line_count == len(inv.lines)
