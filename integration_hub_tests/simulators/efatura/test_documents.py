"""The simulator invoice generator: deterministic, well-formed UBL-TR, consistent totals, wrapping helpers."""

from __future__ import annotations

import base64
import io
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from lxml import etree

from integration_hub.simulators.efatura.documents import (
    LARGE_ATTACHMENT_BYTES,
    b64,
    generate_mailbox,
    vkn_with_check,
    zip_documents,
)

INV = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}


def test_same_seed_same_mailbox_other_seed_other_mailbox() -> None:
    first = generate_mailbox(3, "1234567803", "ACME", date(2025, 1, 1), 20)
    again = generate_mailbox(3, "1234567803", "ACME", date(2025, 1, 1), 20)
    other = generate_mailbox(4, "1234567803", "ACME", date(2025, 1, 1), 20)
    assert [(g.ettn, g.xml) for g in first] == [(g.ettn, g.xml) for g in again]
    assert {g.ettn for g in first}.isdisjoint({g.ettn for g in other})


def test_mailbox_shape_and_ordering() -> None:
    start = date(2025, 2, 1)
    mailbox = generate_mailbox(11, "1234567803", "ACME", start, 30, per_day=(2, 3))
    assert 2 * 2 * 30 <= len(mailbox) <= 2 * 3 * 30
    assert [g.created_at for g in mailbox] == sorted(g.created_at for g in mailbox)
    assert all(g.created_at.tzinfo is UTC and g.created_at.date() >= g.issue_date for g in mailbox)
    assert len({g.created_at for g in mailbox}) < len(mailbox), "some invoices share a creation second"
    assert len({g.ettn for g in mailbox}) == len(mailbox)
    assert all(start <= g.issue_date < start + timedelta(days=30) for g in mailbox)
    for g in mailbox:
        assert g.ettn == g.ettn.lower() and len(g.ettn) == 36
        assert len(g.number) == 16 and g.number[3:7] == str(g.issue_date.year)
        assert g.spec is not None and g.created_at > datetime.combine(g.issue_date, g.spec.issue_time, UTC)
        party = g.customer_vkn if g.direction == "in" else g.supplier_vkn
        assert party == "1234567803"
        # The rendered document adds up: lines − allowances + tax − withholding = payable, as listed.
        root = etree.fromstring(g.xml)
        payable = Decimal(root.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=NS))
        assert payable == g.payable == (
            _sum(root, "cac:InvoiceLine/cbc:LineExtensionAmount")
            - _sum(root, "cac:AllowanceCharge[cbc:ChargeIndicator='false']/cbc:Amount")
            + _sum(root, "cac:TaxTotal/cbc:TaxAmount")
            - _sum(root, "cac:WithholdingTaxTotal/cbc:TaxAmount")
        )
    assert {g.direction for g in mailbox} == {"in", "out"}


def _sum(root: etree._Element, path: str) -> Decimal:
    return sum((Decimal(x) for x in root.xpath(f"{path}/text()", namespaces=NS)), Decimal(0))


def test_documents_are_ubl_tr_with_the_sample_structure() -> None:
    for g in generate_mailbox(5, "1234567803", "ACME", date(2025, 1, 1), 15, per_day=(1, 3)):
        root = etree.fromstring(g.xml)
        assert root.tag == f"{{{INV}}}Invoice"
        assert root.findtext("cbc:UBLVersionID", namespaces=NS) == "2.1"
        assert root.findtext("cbc:CustomizationID", namespaces=NS) == "TR1.2"
        assert root.findtext("cbc:LineCountNumeric", namespaces=NS) == str(g.line_count)
        assert len(root.findall("cac:InvoiceLine", namespaces=NS)) == g.line_count
        payable = root.find("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=NS)
        assert Decimal(payable.text) == g.payable and payable.get("currencyID") == g.currency
        supplier_ids = root.findall("cac:AccountingSupplierParty/cac:Party/cac:PartyIdentification/cbc:ID", NS)
        assert (supplier_ids[0].get("schemeID"), supplier_ids[0].text) == ("VKN", g.supplier_vkn)
        if g.currency != "TRY":
            assert Decimal(root.findtext("cac:PricingExchangeRate/cbc:CalculationRate", namespaces=NS)) > 1
        if g.type_code in ("IADE", "TEVKIFATIADE"):
            assert root.find("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", NS) is not None


def test_vkn_check_digit_matches_known_numbers() -> None:
    assert vkn_with_check("484084721") == "4840847211"  # izibiz (sample supplier)
    assert vkn_with_check("920512112") == "9205121120"  # GİB sample customer


def test_per_day_counts_and_large_attachments() -> None:
    mailbox = generate_mailbox(2, "1234567803", "ACME", date(2025, 1, 1), 40, per_day=(1, 1))
    assert len(mailbox) == 2 * 40
    big = [g for g in mailbox if g.spec is not None and g.spec.attachment_size]
    plain = [g for g in mailbox if g.spec is not None and not g.spec.attachment_size]
    assert big and plain
    assert all(len(g.xml) > LARGE_ATTACHMENT_BYTES for g in big)
    assert all(len(g.xml) < LARGE_ATTACHMENT_BYTES for g in plain)
    assert all(g.ettn in g.xml.decode().lower() for g in big)


def test_zip_and_b64_helpers() -> None:
    archive = zip_documents([("a.xml", b"<a/>"), ("b.pdf", b"%PDF-1.4")])
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        assert z.namelist() == ["a.xml", "b.pdf"]
        assert z.read("a.xml") == b"<a/>"
    assert base64.b64decode(b64(b"\x00\xffhello")) == b"\x00\xffhello"
