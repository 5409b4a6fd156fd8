"""How integrators wrap documents: BOM, UTF-16, base64 (MIME line breaks), gzip, zip with several files and
renderings, base64 of a zip (QNB), the GİB StandardBusinessDocument envelope."""

from __future__ import annotations

import base64
import gzip
import re

import pytest

from integration_hub.connectors.efatura.ubl import InvoiceParseError, parse_documents, parse_invoice, unwrap_documents
from integration_hub.simulators.efatura.documents import b64, zip_documents
from integration_hub_tests.connectors.efatura.ubl.samples import sample

BASIC = sample("gib_temelfatura_BasicInvoice.xml")
USD = sample("izibiz_FATURA_7.xml")
WITHHOLDING = sample("izibiz_FATURA_13.xml")
NUMBERS = ["GIB20090000000001", "DMY2018062513490", "DMY2018062513072"]


def _numbers(data: bytes) -> list[str]:
    return [invoice.number for invoice in parse_documents(data)]


def test_raw_xml_with_utf8_bom_and_leading_whitespace() -> None:
    assert parse_invoice(b"\xef\xbb\xbf" + BASIC).number == "GIB20090000000001"
    assert parse_invoice(b"\r\n  " + USD).number == "DMY2018062513490"


def test_utf16_document() -> None:
    text = BASIC.decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    invoice = parse_invoice(text.encode("utf-16"))
    assert (invoice.number, invoice.supplier.name, str(invoice.totals.payable)) == (
        "GIB20090000000001",
        "AAA Anonim Şirketi",
        "17.88",
    )


def test_base64_plain_and_with_mime_line_breaks() -> None:
    assert parse_invoice(base64.b64encode(USD)).exchange_rate is not None
    assert parse_invoice(base64.encodebytes(USD)).number == "DMY2018062513490"  # 76-char lines
    assert parse_invoice(base64.urlsafe_b64encode(USD).rstrip(b"=")).number == "DMY2018062513490"


def test_gzip_and_base64_of_gzip() -> None:
    assert parse_invoice(gzip.compress(WITHHOLDING)).number == "DMY2018062513072"
    assert parse_invoice(base64.b64encode(gzip.compress(WITHHOLDING))).number == "DMY2018062513072"


def test_zip_with_several_documents_skips_renderings_and_keeps_order() -> None:
    archive = zip_documents(
        [
            ("readme/", b""),
            ("A.xml", BASIC),
            ("A.pdf", b"%PDF-1.4\n% rendering"),
            ("general.xslt", b'<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform"/>'),
            ("B.XML", USD),
            ("B.html", b"<html><body>view</body></html>"),
            ("C.xml", b"\xef\xbb\xbf" + WITHHOLDING),
            ("thumbs.db", b"\x00\x01binary"),
        ]
    )
    assert _numbers(archive) == NUMBERS
    assert _numbers(b64(archive).encode()) == NUMBERS  # QNB: base64 of a zip
    assert len(unwrap_documents(archive)) == 3
    with pytest.raises(InvoiceParseError, match=r"^expected exactly one invoice, found 3$"):
        parse_invoice(archive)


def test_zip_inside_zip_and_zip_without_xml() -> None:
    inner = zip_documents([("B.xml", USD)])
    assert _numbers(zip_documents([("A.xml", BASIC), ("inner.zip", inner)])) == NUMBERS[:2]
    with pytest.raises(InvoiceParseError, match=r"^document: zip archive holds no XML document$"):
        parse_invoice(zip_documents([("A.pdf", b"%PDF-1.4")]))


def _body(document: bytes) -> bytes:
    """The ``<Invoice …>…</Invoice>`` element without the XML declaration or stylesheet PI."""
    return document[re.search(rb"<Invoice[\s>]", document).start() :]


def test_gib_standard_business_document_envelope_with_two_invoices() -> None:
    envelope = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<sh:StandardBusinessDocument xmlns:sh="http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"'
        b' xmlns:ef="http://www.efatura.gov.tr/package-namespace">'
        b"<sh:StandardBusinessDocumentHeader><sh:HeaderVersion>1.0</sh:HeaderVersion>"
        b"<sh:DocumentIdentification><sh:Standard>UBL-TR</sh:Standard><sh:Type>EINVOICE</sh:Type>"
        b"<sh:InstanceIdentifier>5a6c1c0e-0c1f-4c9e-9d2a-1f4f2b8e7c11</sh:InstanceIdentifier>"
        b"</sh:DocumentIdentification></sh:StandardBusinessDocumentHeader>"
        b"<ef:Package><Elements><ElementType>INVOICE</ElementType><ElementCount>2</ElementCount><ElementList>"
        + _body(BASIC)
        + _body(WITHHOLDING)
        + b"</ElementList></Elements></ef:Package></sh:StandardBusinessDocument>"
    )
    invoices = list(parse_documents(envelope))
    assert [i.number for i in invoices] == ["GIB20090000000001", "DMY2018062513072"]
    assert [str(i.totals.payable) for i in invoices] == ["17.88", "2036.00"]
    empty = (
        envelope.split(b"<ElementList>")[0] + b"<ElementList/></Elements></ef:Package></sh:StandardBusinessDocument>"
    )
    with pytest.raises(InvoiceParseError, match="StandardBusinessDocument envelope holds no UBL Invoice"):
        parse_invoice(empty)


def test_parse_documents_is_lazy() -> None:
    archive = zip_documents([("A.xml", BASIC), ("B.xml", b"<broken")])
    documents = parse_documents(archive)
    assert next(documents).number == "GIB20090000000001"
    with pytest.raises(InvoiceParseError, match=r"^document 2: malformed XML"):
        next(documents)
