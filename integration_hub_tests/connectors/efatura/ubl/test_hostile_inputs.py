"""Hostile and broken inputs: each ends in one :class:`InvoiceParseError` line, quickly, with bounded memory."""

from __future__ import annotations

import io
import re
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

from integration_hub.connectors.efatura.ubl import InvoiceParseError, parse_invoice
from integration_hub.connectors.efatura.ubl.unwrap import MAX_INPUT_BYTES, MAX_ZIP_ENTRIES
from integration_hub_tests.connectors.efatura.ubl.samples import sample

INVOICE_OPEN = b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">'


def _error(data: bytes) -> str:
    with pytest.raises(InvoiceParseError) as caught:
        parse_invoice(data)
    message = str(caught.value)
    assert "\n" not in message and 0 < len(message) < 300
    return message


def test_external_entity_to_a_local_file_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE Invoice [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'.encode()
        + INVOICE_OPEN
        + b"<cbc:ID xmlns:cbc='urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2'>&x;</cbc:ID>"
        + b"</Invoice>"
    )
    message = _error(xxe)
    assert "DOCTYPE" in message and "TOP-SECRET" not in message


def test_doctype_hidden_behind_a_long_prolog_is_still_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    padding = b"<!--" + b"x" * 100_000 + b"-->"
    xxe = (
        b'<?xml version="1.0"?>'
        + padding
        + f'<!DOCTYPE Invoice [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'.encode()
        + INVOICE_OPEN
        + b"&x;</Invoice>"
    )
    message = _error(xxe)
    assert "DOCTYPE" in message and "TOP-SECRET" not in message


def test_billion_laughs_is_refused_fast() -> None:
    entities = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    bomb = f'<?xml version="1.0"?><!DOCTYPE Invoice [<!ENTITY l0 "lol">{entities}]><Invoice>&l9;</Invoice>'.encode()
    started = time.perf_counter()
    assert "DOCTYPE" in _error(bomb)
    assert time.perf_counter() - started < 1.0


def test_truncated_xml() -> None:
    document = sample("gib_temelfatura_BasicInvoice.xml")
    assert _error(document[: len(document) // 2]).startswith("document 1: malformed XML (")


def test_wrong_root_element() -> None:
    order = (
        b'<?xml version="1.0"?><Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"><ID>1</ID></Order>'
    )
    message = _error(order)
    assert "root element is <{urn:oasis:names:specification:ubl:schema:xsd:Order-2}Order>" in message
    assert message.endswith("not a UBL-TR Invoice")


def test_invoice_without_required_fields() -> None:
    document = sample("izibiz_FATURA_7.xml")
    no_payable = re.sub(rb"<cbc:PayableAmount[^>]*>[^<]*</cbc:PayableAmount>", b"", document)
    assert _error(no_payable) == "invoice DMY2018062513490: missing cac:LegalMonetaryTotal/cbc:PayableAmount"
    bad_uuid = document.replace(b"54a317d1-4d88-48fc-8a61-e7f4b9bb13c8</cbc:UUID>", b"not-a-uuid</cbc:UUID>")
    assert _error(bad_uuid) == "invoice DMY2018062513490: cbc:UUID 'not-a-uuid' is not a UUID"
    bad_amount = document.replace(b">118.00</cbc:PayableAmount>", b">1l8.00</cbc:PayableAmount>")
    assert "cbc:PayableAmount is not a number: '1l8.00'" in _error(bad_amount)


def _resident_kb() -> int:
    return int(re.search(r"VmRSS:\s+(\d+)", Path("/proc/self/status").read_text()).group(1))


def _peak_kb() -> int:
    return int(re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text()).group(1))


def test_fifty_megabyte_attachment_is_skipped_quickly_with_bounded_memory() -> None:
    document = sample("izibiz_FATURA_5.xml")
    start = document.index(b'mimeCode="application/xml">') + len(b'mimeCode="application/xml">')
    end = document.index(b"</cbc:EmbeddedDocumentBinaryObject>")
    payload = b"QUJD" * (50 * 1024 * 1024 // 4)
    huge = document[:start] + payload + document[end:]
    del payload
    assert len(huge) > 50 * 1024 * 1024
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak-RSS watermark (Linux)
    baseline = _resident_kb()
    started = time.perf_counter()
    invoice = parse_invoice(huge)
    elapsed = time.perf_counter() - started
    growth_mb = (_peak_kb() - baseline) / 1024
    assert invoice.number == "DMY2018625161605" and str(invoice.totals.payable) == "327.00"
    assert len(invoice.lines) == 3
    assert elapsed < 3.0
    assert growth_mb < 20, f"parsing grew the process by {growth_mb:.0f} MB for a 50 MB attachment"


def test_zip_bomb_is_refused_before_inflating() -> None:
    buffer = io.BytesIO()
    zeros = b"\0" * (1 << 20)
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        archive.open("invoice.xml", "w", force_zip64=True) as entry,
    ):
        for _ in range(MAX_INPUT_BYTES // len(zeros) + 8):
            entry.write(zeros)
    bomb = buffer.getvalue()
    assert len(bomb) < 2 * 1024 * 1024
    started = time.perf_counter()
    message = _error(bomb)
    assert time.perf_counter() - started < 0.5
    assert message.startswith("document: zip would inflate to ") and f"(limit {MAX_INPUT_BYTES})" in message


def test_gzip_bomb_is_refused() -> None:
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
    zeros = b"\0" * (1 << 20)
    parts = [compressor.compress(zeros) for _ in range(MAX_INPUT_BYTES // len(zeros) + 8)]
    bomb = b"".join(parts) + compressor.flush()
    assert len(bomb) < 2 * 1024 * 1024
    message = _error(bomb)
    assert message.startswith("document: gzip would inflate to ")


def _gzip_of_zeros(megabytes: int, trailer_size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b"\0" * (1 << 20)
    body = b"".join(compressor.compress(zeros) for _ in range(megabytes)) + compressor.flush()
    return body[:-4] + trailer_size.to_bytes(4, "little")  # ISIZE: the size the trailer claims


@pytest.mark.parametrize("claimed", [1000, MAX_INPUT_BYTES])
def test_a_gzip_whose_trailer_lies_stops_inflating_early(claimed: int) -> None:
    """A 300 KB gzip claiming a small size (or exactly the cap) that really holds 300 MiB of zeros."""
    bomb = _gzip_of_zeros(300, claimed)
    assert len(bomb) < 400 * 1024
    tracemalloc.start()
    try:
        message = _error(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    limit = claimed if claimed < MAX_INPUT_BYTES else MAX_INPUT_BYTES
    assert message == (
        f"document: gzip inflates beyond the {claimed} bytes its trailer declares"
        if claimed < MAX_INPUT_BYTES
        else f"document: gzip inflates beyond the {MAX_INPUT_BYTES} byte limit"
    )
    # Never more than what it declared plus one 1 MiB chunk, and a little bookkeeping.
    assert peak < limit + 4 * 1024 * 1024


def test_too_many_zip_entries() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(MAX_ZIP_ENTRIES + 1):
            archive.writestr(f"{index}.txt", b"")
    assert _error(buffer.getvalue()) == f"document: zip holds {MAX_ZIP_ENTRIES + 1} entries (limit {MAX_ZIP_ENTRIES})"


def test_corrupt_zip() -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.xml", sample("izibiz_FATURA_7.xml"))
    data = bytearray(archive.getvalue())
    data[60:200] = b"\xff" * 140  # damage the compressed stream
    assert _error(bytes(data)).startswith("document: ")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "document: empty input"),
        (b" \r\n\t", "document: empty input"),
        (bytes(range(256)) * 8, "document: not XML, base64, zip or gzip (starts with 00 01 02 03 04 05 06 07)"),
        (b"\x89PNG\r\n\x1a\n....", "document: not XML, base64, zip or gzip (starts with 89 50 4e 47 0d 0a 1a 0a)"),
        (b"%PDF-1.4\n%...", "document: got a PDF rendering, not the UBL-TR XML"),
        (b"\x1f\x8b\x08\x00garbage", "document: truncated gzip data"),
        (b"SGVsbG8gd29ybGQh", "document (base64): not XML, base64, zip or gzip (starts with 'Hello wo')"),
        (b"QUJD$$$$", "document: not XML, base64, zip or gzip (starts with 'QUJD$$$$')"),
    ],
)
def test_garbage_and_empty_input(data: bytes, expected: str) -> None:
    assert _error(data) == expected
