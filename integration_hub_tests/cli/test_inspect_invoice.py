"""``integration-hub inspect-invoice``: tables and JSON with exact amounts; one-line errors with exit code 2."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from typer.testing import CliRunner

from integration_hub.cli import app
from integration_hub.simulators.efatura.documents import zip_documents
from integration_hub_tests.connectors.efatura.ubl.samples import SAMPLES

runner = CliRunner()


def _sample(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    target.write_bytes((SAMPLES / name).read_bytes())
    return target


def test_tables_for_a_withholding_invoice(tmp_path: Path) -> None:
    result = runner.invoke(app, ["inspect-invoice", str(_sample(tmp_path, "izibiz_FATURA_13.xml"))])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for expected in (
        "Invoice DMY2018062513072",
        "82c0f2ad-0810-4a66-8e87-8261920a44fc",
        "TICARIFATURA / TEVKIFAT",
        "2018-06-25 13:06:51",
        "İZİBİZ BİLİŞİM TEKNOLOJİLERİ ANONİM ŞİRKETİ (VKN 4840847211)",
        "2360.00",
        "324.00",
        "2036.00",
        "360.00000",
        "Lines (1)",
        "deneme",
        "C62",
        "1 invoice(s) in izibiz_FATURA_13.xml",
    ):
        assert expected in out, expected
    assert result.stderr == ""


def test_json_has_exact_amount_strings(tmp_path: Path) -> None:
    result = runner.invoke(app, ["inspect-invoice", str(_sample(tmp_path, "izibiz_FATURA_7.xml")), "--json"])
    assert result.exit_code == 0, result.output
    (invoice,) = json.loads(result.stdout)
    assert invoice["number"] == "DMY2018062513490"
    assert (invoice["currency"], invoice["exchange_rate"]) == ("USD", "4.6688")
    assert invoice["totals"]["payable"] == "118.00"
    assert invoice["totals"]["tax_inclusive"] == "118.00"
    assert invoice["tax_total"] == "18.00"
    (line,) = invoice["lines"]
    assert (line["name"], line["quantity"], line["unit_code"], line["line_extension"]) == ("Ürün", "1", "C62", "100")
    assert line["taxes"][0]["amount"] == "18.00000"


def test_zip_of_several_documents_prints_all(tmp_path: Path) -> None:
    archive = zip_documents(
        [
            ("a.xml", (SAMPLES / "gib_temelfatura_BasicInvoice.xml").read_bytes()),
            ("a.pdf", b"%PDF-1.4"),
            ("b.xml", (SAMPLES / "izibiz_FATURA_5.xml").read_bytes()),
        ]
    )
    path = tmp_path / "bundle.b64"
    path.write_bytes(base64.b64encode(archive))
    table = runner.invoke(app, ["inspect-invoice", str(path)])
    assert table.exit_code == 0, table.output
    assert "Invoice GIB20090000000001" in table.stdout and "Invoice DMY2018625161605" in table.stdout
    assert "Elektrik Tüketim Bedeli" in table.stdout and "KWH" in table.stdout
    assert "2 invoice(s) in bundle.b64" in table.stdout
    as_json = runner.invoke(app, ["inspect-invoice", str(path), "--json"])
    assert [(i["number"], i["totals"]["payable"]) for i in json.loads(as_json.stdout)] == [
        ("GIB20090000000001", "17.88"),
        ("DMY2018625161605", "327.00"),
    ]


def test_unreadable_document_is_one_line_on_stderr_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "order.xml"
    bad.write_bytes(b'<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"/>')
    result = runner.invoke(app, ["inspect-invoice", str(bad)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: order.xml: document 1: root element is <")


def test_missing_file_and_garbage(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["inspect-invoice", str(tmp_path / "nope.xml")])
    assert missing.exit_code == 2
    assert missing.stderr == f"error: {tmp_path / 'nope.xml'}: no such file\n"
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(256)))
    result = runner.invoke(app, ["inspect-invoice", str(garbage), "--json"])
    assert result.exit_code == 2
    assert result.stderr == (
        "error: garbage.bin: document: not XML, base64, zip or gzip (starts with 00 01 02 03 04 05 06 07)\n"
    )
