"""Sniff and unwrap how integrators deliver invoices: raw XML, base64, zip (several files), gzip.

Each integrator wraps the same UBL-TR document differently (Uyumsoft base64 XML, EDM base64 ``CONTENT``,
QNB base64 of a zip holding ``<ETTN>.xml`` plus PDF/HTML renderings, İşNet XML). Sniffing the bytes
instead of trusting the provider's label keeps one code path for all of them.

Every layer is capped because the bytes come from outside: total decoded size, zip entry count and
uncompressed size (zip bombs declare small sizes and inflate hugely, so inflation itself is bounded,
not the declared sizes), and nesting depth (a zip inside base64 inside gzip…).
"""

from __future__ import annotations

import base64
import binascii
import io
import zipfile
import zlib
from collections.abc import Iterator

from integration_hub.connectors.efatura.ubl.errors import InvoiceParseError

MAX_INPUT_BYTES = 256 * 1024 * 1024
"""Largest input or decoded/uncompressed payload accepted (matches the SOAP response cap)."""
MAX_ZIP_ENTRIES = 2000
MAX_DEPTH = 4
_CHUNK = 1024 * 1024
_WHITESPACE = b" \t\r\n\f\v"
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_SKIPPED_SUFFIXES = (".pdf", ".html", ".htm", ".xsl", ".xslt", ".txt", ".png", ".jpg", ".jpeg")
_BASE64_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_" + _WHITESPACE)


def kind_of(data: bytes) -> str:
    """``xml``, ``zip``, ``gzip``, ``pdf``, ``base64`` or ``unknown``, from the first bytes."""
    head = data[:64]
    if head.startswith(_BOMS):
        return "xml"
    stripped = head.lstrip(_WHITESPACE)
    if stripped.startswith(b"<"):
        return "xml"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if stripped.startswith(b"%PDF"):
        return "pdf"
    sample = data[:4096]
    if sample.strip(_WHITESPACE) and all(byte in _BASE64_ALPHABET for byte in sample):
        return "base64"
    return "unknown"


def _describe(data: bytes) -> str:
    head = data[:8]
    printable = all(32 <= byte < 127 for byte in head)
    return "starts with " + (repr(head.decode("ascii")) if printable else head.hex(" "))


class _Budget:
    """Bytes every layer may still produce, shared across the whole unwrap: a zip of zips (or a gzip
    inside base64 inside a zip) cannot multiply the cap by nesting."""

    def __init__(self) -> None:
        self.left = MAX_INPUT_BYTES

    def spend(self, size: int, what: str) -> None:
        self.left -= size
        if self.left < 0:
            raise InvoiceParseError(f"{what}: unwrapping produces more than {MAX_INPUT_BYTES} bytes in total")


def iter_xml_documents(data: bytes, *, what: str = "document") -> Iterator[bytes]:
    """Yield every XML document inside ``data`` (one for raw XML, several for a zip)."""
    yield from _unwrap(data, what, 0, _Budget())


def _unwrap(data: bytes, what: str, depth: int, budget: _Budget) -> Iterator[bytes]:
    if not data or not data.strip(_WHITESPACE):
        raise InvoiceParseError(f"{what}: empty input")
    if len(data) > MAX_INPUT_BYTES:
        raise InvoiceParseError(f"{what}: {len(data)} bytes exceeds the {MAX_INPUT_BYTES} byte limit")
    if depth > MAX_DEPTH:
        raise InvoiceParseError(f"{what}: wrapped more than {MAX_DEPTH} levels deep")
    kind = kind_of(data)
    if kind == "base64" and what.endswith("(base64)"):
        kind = "unknown"  # base64 inside base64 is noise that happens to use the alphabet, not a wrapping
    if kind == "xml":
        yield data
    elif kind == "base64":
        decoded = _b64decode(data, what)
        budget.spend(len(decoded), what)
        yield from _unwrap(decoded, f"{what} (base64)", depth + 1, budget)
    elif kind == "gzip":
        inflated = _gunzip(data, what, budget.left)
        budget.spend(len(inflated), what)
        yield from _unwrap(inflated, f"{what} (gzip)", depth + 1, budget)
    elif kind == "zip":
        yield from _unzip(data, what, depth, budget)
    elif kind == "pdf":
        raise InvoiceParseError(f"{what}: got a PDF rendering, not the UBL-TR XML")
    else:
        raise InvoiceParseError(f"{what}: not XML, base64, zip or gzip ({_describe(data)})")


def unwrap_documents(data: bytes) -> list[bytes]:
    """All XML documents inside ``data`` as a list (for callers that must count them first)."""
    return list(iter_xml_documents(data))


def _b64decode(data: bytes, what: str) -> bytes:
    compact = data.translate(None, _WHITESPACE)
    if b"-" in compact or b"_" in compact:
        compact = compact.translate(bytes.maketrans(b"-_", b"+/"))
    compact += b"=" * (-len(compact) % 4)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise InvoiceParseError(f"{what}: invalid base64 ({_describe(data)})") from None


def _gunzip(data: bytes, what: str, limit: int) -> bytes:
    """Inflate a gzip member in chunks, never holding more than the member says it holds.

    The ISIZE trailer is the uncompressed size modulo 2**32; every size under the cap (256 MiB) is below
    2**32, so an honest trailer is exact. Inflation stops as soon as the output passes the trailer's size
    or the cap, whichever is smaller: a lying trailer costs at most one chunk beyond what it declared.
    """
    declared = int.from_bytes(data[-4:], "little") if len(data) >= 18 else limit
    if declared > limit:  # refuse an honest bomb before inflating anything
        raise InvoiceParseError(f"{what}: gzip would inflate to {declared} bytes (limit {MAX_INPUT_BYTES})")
    inflater = zlib.decompressobj(wbits=47)  # 32 + 15: gzip or zlib header, auto-detected
    parts: list[bytes] = []  # joined once at the end: a growing buffer would over-allocate past the cap
    size = 0
    pending = data
    try:
        while not inflater.eof:
            chunk = inflater.decompress(pending, _CHUNK)
            pending = inflater.unconsumed_tail
            size += len(chunk)
            if size > declared:
                raise InvoiceParseError(
                    f"{what}: gzip inflates beyond the {declared} bytes its trailer declares"
                    if declared < limit
                    else f"{what}: gzip inflates beyond the {MAX_INPUT_BYTES} byte limit"
                )
            parts.append(chunk)
            if not chunk and not pending:
                break
    except zlib.error as exc:
        raise InvoiceParseError(f"{what}: corrupt gzip data ({exc})") from None
    if not inflater.eof:
        raise InvoiceParseError(f"{what}: truncated gzip data")
    return b"".join(parts)


def _unzip(data: bytes, what: str, depth: int, budget: _Budget) -> Iterator[bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvoiceParseError(f"{what}: corrupt zip archive ({exc})") from None
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ZIP_ENTRIES:
            raise InvoiceParseError(f"{what}: zip holds {len(entries)} entries (limit {MAX_ZIP_ENTRIES})")
        # zipfile never returns more than an entry's declared size, so the declared total bounds inflation
        declared = sum(entry.file_size for entry in entries)
        if declared > budget.left:
            raise InvoiceParseError(f"{what}: zip would inflate to {declared} bytes (limit {MAX_INPUT_BYTES})")
        found = 0
        for entry in entries:
            if entry.is_dir() or entry.filename.lower().endswith(_SKIPPED_SUFFIXES):
                continue
            content = _read_entry(archive, entry, budget.left, what)
            budget.spend(len(content), what)
            kind = kind_of(content)
            if kind in ("pdf", "unknown") or not content.strip(_WHITESPACE):
                continue
            for document in _unwrap(content, f"{what} zip entry {entry.filename}", depth + 1, budget):
                found += 1
                yield document
        if not found:
            raise InvoiceParseError(f"{what}: zip archive holds no XML document")


def _read_entry(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, budget: int, what: str) -> bytes:
    """Inflate one entry in chunks, stopping as soon as the running total passes the budget
    (the declared ``file_size`` is attacker-controlled, so it is not trusted)."""
    if entry.file_size > budget:
        raise InvoiceParseError(f"{what}: zip inflates beyond the {MAX_INPUT_BYTES} byte limit")
    parts: list[bytes] = []
    size = 0
    try:
        with archive.open(entry) as stream:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > budget:
                    raise InvoiceParseError(f"{what}: zip inflates beyond the {MAX_INPUT_BYTES} byte limit")
                parts.append(chunk)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise InvoiceParseError(f"{what}: cannot read zip entry {entry.filename} ({exc})") from None
    return b"".join(parts)
