"""Parse one untrusted UBL-TR XML document without letting it cost us more than its useful part.

Same guarantees as :func:`integration_hub.connectors.efatura.soap.parse_xml` (its parser settings are
reused: no DTD loading, no entity expansion, no network), plus one thing invoices need: real documents
embed base64 XSLT/PDF renderings in ``cbc:EmbeddedDocumentBinaryObject`` — hundreds of KB usually, tens
of MB sometimes — that we never use. Their content is cut out of the byte stream *before* libxml2 sees
it (the parser is fed the surrounding pieces incrementally), so a 50 MB attachment is neither copied
nor held as a text node; only the element and its attributes remain.
"""

from __future__ import annotations

import re

from lxml import etree

from integration_hub.connectors.efatura.soap import hardened_parser
from integration_hub.connectors.efatura.ubl.errors import InvoiceParseError

ATTACHMENT_TAG = b"EmbeddedDocumentBinaryObject"
_FEED_CHUNK = 1024 * 1024
_PROLOG_SCAN = 64 * 1024
_OPEN_TAG_PREFIX = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?\Z")
_CLOSE_TAG = re.compile(rb"</(?:[A-Za-z_][\w.\-]*:)?EmbeddedDocumentBinaryObject\s*>")


def _refuse_dtd(data: bytes, what: str) -> None:
    head = data[:_PROLOG_SCAN]
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        raise InvoiceParseError(f"{what}: refused a document with a DOCTYPE/ENTITY declaration")


def _segments(data: bytes) -> list[tuple[int, int]]:
    """Byte ranges to feed the parser: everything except the text content of attachment elements.

    Only content that is plain text up to the matching close tag is cut (base64 never holds ``<``);
    anything unusual (CDATA, comments, a self-closing element) is fed unchanged.
    """
    view = memoryview(data)
    segments: list[tuple[int, int]] = []
    pos = 0
    search = 0
    while (hit := data.find(ATTACHMENT_TAG, search)) != -1:
        search = hit + len(ATTACHMENT_TAG)
        if not _OPEN_TAG_PREFIX.search(bytes(view[max(0, hit - 64) : hit])):
            continue  # a closing tag or text that merely mentions the name
        tag_end = data.find(b">", search)
        if tag_end == -1 or data[tag_end - 1 : tag_end] == b"/":
            continue
        content_start = tag_end + 1
        lt = data.find(b"<", content_start)
        if lt == -1 or not _CLOSE_TAG.match(data, lt):
            continue
        segments.append((pos, content_start))
        pos = lt
        search = lt + 2
    segments.append((pos, len(data)))
    return segments


def parse_document(data: bytes, what: str) -> etree._Element:
    """The root element of ``data`` with attachment contents skipped; :class:`InvoiceParseError` otherwise."""
    _refuse_dtd(data, what)
    parser = hardened_parser()
    view = memoryview(data)
    try:
        for start, end in _segments(data):
            for offset in range(start, end, _FEED_CHUNK):
                parser.feed(bytes(view[offset : min(offset + _FEED_CHUNK, end)]))
        root = parser.close()
    except etree.XMLSyntaxError as exc:
        raise InvoiceParseError(f"{what}: malformed XML ({' '.join(str(exc.msg).split())})") from None
    if root is None:
        raise InvoiceParseError(f"{what}: empty XML document")
    if root.getroottree().docinfo.doctype:
        raise InvoiceParseError(f"{what}: refused a document with a DOCTYPE/ENTITY declaration")
    return root
