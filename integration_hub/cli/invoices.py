"""``integration-hub inspect-invoice FILE [--json]``: show what the hub reads from an e-invoice document.

For support and onboarding: when a provider's invoice looks wrong in the inventory, this prints exactly
what the UBL-TR parser extracts (header, taxes, withholding, every line) from the same bytes — raw XML,
base64, gzip or a zip of several documents — without a database or credentials. Amounts are printed as
the exact decimal strings of the document, never floats.
"""

from __future__ import annotations

from pathlib import Path

import typer

from integration_hub.cli.context import JSON_OPTION, console, fail, print_json, print_table
from integration_hub.connectors.efatura.records import invoice_fields, line_fields
from integration_hub.connectors.efatura.ubl import Invoice, InvoiceParseError, parse_documents
from integration_hub.connectors.efatura.ubl.unwrap import MAX_INPUT_BYTES as MAX_FILE_BYTES


def _read(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise fail(f"{path}: larger than {MAX_FILE_BYTES} bytes")
        return path.read_bytes()
    except FileNotFoundError:
        raise fail(f"{path}: no such file") from None
    except IsADirectoryError:
        raise fail(f"{path}: is a directory") from None
    except OSError as exc:
        raise fail(f"{path}: cannot read ({exc.strerror or exc})") from None


def _amount(value: object) -> str:
    return "" if value is None else str(value)


def _print(invoice: Invoice) -> None:
    totals = invoice.totals
    kind = f"{invoice.profile_id or '?'} / {invoice.type_code or '?'}" + (" (return)" if invoice.is_return else "")
    issued = invoice.issue_date.isoformat() + (f" {invoice.issue_time.isoformat()}" if invoice.issue_time else "")
    currency = invoice.currency + (f" (rate {invoice.exchange_rate} to TRY)" if invoice.exchange_rate else "")
    header = [
        ("number", invoice.number),
        ("ETTN", invoice.ettn),
        ("scenario / type", kind),
        ("issued", issued),
        ("supplier", invoice.supplier.label),
        ("customer", invoice.customer.label),
        ("currency", currency),
        ("line extension", _amount(totals.line_extension)),
        ("allowances", _amount(totals.allowance_total)),
        ("charges", _amount(totals.charge_total)),
        ("tax exclusive", _amount(totals.tax_exclusive)),
        ("tax total", _amount(invoice.tax_total)),
        ("tax inclusive", _amount(totals.tax_inclusive)),
        ("withholding", _amount(invoice.withholding_total)),
        ("rounding", _amount(totals.payable_rounding)),
        ("payable", _amount(totals.payable)),
    ]
    print_table(f"Invoice {invoice.number}", ["field", "value"], [row for row in header if row[1] != ""])
    taxes = [("tax", t) for t in invoice.taxes] + [("withholding", t) for t in invoice.withholding]
    if taxes:
        print_table(
            "Taxes",
            ["kind", "code", "name", "taxable", "percent", "amount"],
            [
                (kind, t.type_code, t.name, _amount(t.taxable_amount), _amount(t.percent), _amount(t.amount))
                for kind, t in taxes
            ],
        )
    print_table(
        f"Lines ({len(invoice.lines)})",
        ["#", "item", "quantity", "unit", "price", "line extension", "tax", "withholding"],
        [
            (
                line.id,
                line.name,
                _amount(line.quantity),
                line.unit_code,
                _amount(line.price),
                _amount(line.line_extension),
                _amount(line.tax_total),
                _amount(line.withholding_total),
            )
            for line in invoice.lines
        ],
    )


def inspect_invoice(
    file: Path = typer.Argument(..., help="A UBL-TR invoice: XML, base64, gzip or a zip of several documents."),
    json_output: bool = JSON_OPTION,
) -> None:
    """Show what the hub reads from an e-invoice document (header, taxes, lines)."""
    data = _read(file)
    try:
        invoices = list(parse_documents(data))
    except InvoiceParseError as exc:
        raise fail(f"{file.name}: {exc}") from None
    if json_output:
        print_json([{**invoice_fields(i), "lines": [line_fields(line) for line in i.lines]} for i in invoices])
        return
    for invoice in invoices:
        _print(invoice)
    console.print(f"{len(invoices)} invoice(s) in {file.name}", markup=False, highlight=False)
