"""Benchmark 5 — UBL-TR parsing: invoices/s with ``integration_hub.connectors.efatura.ubl.parse_documents``.

The six public sample invoices in ``shared/efatura-samples`` (two GİB examples of 6-17 KB and four
integrator examples of 260-285 KB, most of it an embedded base64 XSLT), parsed as published and again with a
large attachment inserted: a ``cac:AdditionalDocumentReference`` whose ``cbc:EmbeddedDocumentBinaryObject``
holds 20 MiB of base64 (a scanned-PDF-sized rendering, as real documents carry). Each parse must return the
same invoice (number, ETTN, totals, lines) with and without the attachment. A measurement parses the six
samples round-robin for at least half a second; five measurements per variant, plus per-sample
milliseconds per invoice (median of the measurements).
"""

from __future__ import annotations

import base64
import random
import time
from typing import Any

from bench.common import PLOTS_DIR, SHARED, Section, Summary, Table, fmt

SAMPLES_DIR = SHARED / "efatura-samples"
ATTACHMENT_BYTES = 15 * 1024 * 1024  # 15 MiB of binary: 20 MiB once base64-encoded
MEASUREMENTS = 5
MIN_SECONDS = 0.5


def samples() -> dict[str, bytes]:
    files = sorted(SAMPLES_DIR.glob("*.xml"))
    if len(files) != 6:
        raise RuntimeError(f"expected the six UBL-TR samples in {SAMPLES_DIR}, found {len(files)}")
    return {path.name: path.read_bytes() for path in files}


def with_attachment(document: bytes, payload_b64: bytes) -> bytes:
    """``document`` with one more AdditionalDocumentReference carrying ``payload_b64`` as an embedded PDF."""
    anchor = document.find(b"<cac:AccountingSupplierParty")
    if anchor == -1:
        raise RuntimeError("sample has no cac:AccountingSupplierParty to insert the attachment before")
    reference = (
        b"<cac:AdditionalDocumentReference><cbc:ID>BENCH-ATTACHMENT</cbc:ID><cbc:IssueDate>2024-01-01</cbc:IssueDate>"
        b'<cac:Attachment><cbc:EmbeddedDocumentBinaryObject characterSetCode="UTF-8" encodingCode="Base64" '
        b'filename="scan.pdf" mimeCode="application/pdf">'
        + payload_b64
        + b"</cbc:EmbeddedDocumentBinaryObject></cac:Attachment></cac:AdditionalDocumentReference>"
    )
    return document[:anchor] + reference + document[anchor:]


def _fingerprint(invoice: Any) -> tuple[Any, ...]:
    return (invoice.number, invoice.ettn, invoice.totals, len(invoice.lines), invoice.tax_total)


def _parse_one(data: bytes) -> Any:
    from integration_hub.connectors.efatura.ubl import parse_documents

    invoices = list(parse_documents(data))
    if len(invoices) != 1:
        raise RuntimeError(f"expected one invoice, parsed {len(invoices)}")
    return invoices[0]


def _measure(documents: list[bytes]) -> float:
    """Invoices per second parsing ``documents`` round-robin for at least MIN_SECONDS."""
    parsed = 0
    started = time.perf_counter()
    while True:
        for data in documents:
            _parse_one(data)
        parsed += len(documents)
        elapsed = time.perf_counter() - started
        if elapsed >= MIN_SECONDS:
            return parsed / elapsed


def _per_document_ms(data: bytes, measurements: int) -> float:
    runs = []
    for _ in range(measurements):
        count = 0
        started = time.perf_counter()
        while True:
            _parse_one(data)
            count += 1
            elapsed = time.perf_counter() - started
            if elapsed >= MIN_SECONDS / 5:
                runs.append(elapsed / count * 1000)
                break
    return Summary.of(runs).median


def _plot(per_sample: list[tuple[str, float, float]]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [name.removesuffix(".xml") for name, _, _ in per_sample]
    x = range(len(names))
    fig, axis = plt.subplots(figsize=(9, 4))
    axis.bar([i - 0.2 for i in x], [1000 / ms for _, ms, _ in per_sample], width=0.4, label="as published")
    axis.bar([i + 0.2 for i in x], [1000 / ms for _, _, ms in per_sample], width=0.4, label="+ 20 MiB attachment")
    axis.set_xticks(list(x), names, rotation=20, ha="right", fontsize=8)
    axis.set_ylabel("invoices/s")
    axis.set_yscale("log")
    axis.set_title("UBL-TR parsing per sample (median)")
    axis.legend()
    fig.tight_layout()
    PLOTS_DIR.mkdir(parents=True, exist_ok=True)
    fig.savefig(PLOTS_DIR / "ubl_parsing.png", dpi=110)
    plt.close(fig)
    return "plots/ubl_parsing.png"


def run(quick: bool = False) -> Section:
    measurements = 3 if quick else MEASUREMENTS
    published = samples()
    payload = base64.b64encode(random.Random(6).randbytes(ATTACHMENT_BYTES))
    large = {name: with_attachment(data, payload) for name, data in published.items()}
    for name in published:
        if _fingerprint(_parse_one(published[name])) != _fingerprint(_parse_one(large[name])):
            raise RuntimeError(f"{name}: the attachment changed what was parsed")

    variants: dict[str, dict[str, bytes]] = {"as published": published, "+ 20 MiB attachment": large}
    rows = []
    for label, documents in variants.items():
        rates = Summary.of([_measure(list(documents.values())) for _ in range(measurements)])
        megabytes = sum(len(d) for d in documents.values()) / 2**20
        rows.append(
            [
                label,
                fmt(megabytes, 2),
                str(measurements),
                rates.fmt(1),
                Summary.of([r * megabytes / len(documents) for r in rates.values]).fmt(1),
            ]
        )
    per_sample = [
        (name, _per_document_ms(published[name], measurements), _per_document_ms(large[name], measurements))
        for name in published
    ]
    sample_rows = [
        [
            name,
            fmt(len(published[name]) / 1024, 1),
            fmt(ms, 3),
            fmt(1000 / ms, 0),
            fmt(len(large[name]) / 2**20, 2),
            fmt(ms_large, 3),
            fmt(1000 / ms_large, 0),
        ]
        for name, ms, ms_large in per_sample
    ]
    return Section(
        key="ubl_parsing",
        title="5. UBL-TR parsing",
        method=__doc__ or "",
        tables=[
            Table(
                "The six samples round-robin (min / median / max over the measurements)",
                ["variant", "MiB for the six", "measurements", "invoices/s", "MiB/s"],
                rows,
            ),
            Table(
                "Per sample (median)",
                [
                    "sample",
                    "KiB",
                    "ms / invoice",
                    "invoices/s",
                    "MiB with attachment",
                    "ms / invoice",
                    "invoices/s",
                ],
                sample_rows,
            ),
        ],
        targets=[],
        plots=[_plot(per_sample)],
    )
