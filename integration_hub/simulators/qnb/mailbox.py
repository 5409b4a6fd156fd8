"""One simulated QNB account's documents: portal sequence numbers, approval states, listings, zips.

QNB numbers every *incoming* document of an account with a portal sequence number ``belgeSiraNo`` in
arrival order. Other document kinds (application responses, despatch advices) share the counter, so
invoice numbers have gaps; we reproduce that deterministically from the ETTN so that a client assuming
"next = last + 1" fails here as it would in production.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from integration_hub.simulators.efatura.documents import GeneratedInvoice, zip_documents

FIRST_SEQUENCE = 1000
APPROVED = "ONAYLANAN"
PENDING = "ONAYBEKLEYEN"


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def approval(invoice: GeneratedInvoice) -> str:
    """Commercial invoices wait for the buyer's answer; about a third of them still do [I]."""
    return PENDING if invoice.profile_id == "TICARIFATURA" and _digest(invoice.ettn) % 3 == 0 else APPROVED


@dataclass
class Mailbox:
    """The documents of one company VKN, indexed the way the connectorService answers."""

    invoices: Sequence[GeneratedInvoice]
    incoming: list[tuple[int, GeneratedInvoice]] = field(init=False)
    outgoing: list[GeneratedInvoice] = field(init=False)
    by_ettn: dict[str, GeneratedInvoice] = field(init=False)
    received: set[str] = field(init=False, default_factory=set)

    def __post_init__(self) -> None:
        arrivals = sorted((i for i in self.invoices if i.direction == "in"), key=lambda i: (i.created_at, i.ettn))
        sequence = FIRST_SEQUENCE
        self.incoming = []
        for invoice in arrivals:
            sequence += 1 + _digest(invoice.ettn) % 3  # other document kinds take numbers in between
            self.incoming.append((sequence, invoice))
        self.outgoing = sorted(
            (i for i in self.invoices if i.direction == "out"), key=lambda i: (i.issue_date, i.created_at, i.ettn)
        )
        self.by_ettn = {i.ettn.lower(): i for i in self.invoices}

    def list_incoming(
        self,
        after: int,
        issued: tuple[date | None, date | None],
        arrived: tuple[date | None, date | None],
        approvals: frozenset[str] | None,
        limit: int,
    ) -> list[tuple[int, GeneratedInvoice]]:
        """Incoming invoices with ``belgeSiraNo > after`` inside the optional date filters (inclusive) and
        approval states (``None`` = any), in sequence order, at most ``limit``."""
        rows = []
        for sequence, invoice in self.incoming:
            if (
                sequence <= after
                or not _within(invoice.issue_date, issued)
                or not _within(invoice.created_at.date(), arrived)
                or (approvals is not None and approval(invoice) not in approvals)
            ):
                continue
            rows.append((sequence, invoice))
            if len(rows) == limit:
                break
        return rows

    def list_outgoing(
        self, issued: tuple[date | None, date | None], sent: tuple[date | None, date | None], limit: int
    ) -> list[GeneratedInvoice]:
        """Outgoing invoices inside the optional issue-date and send-date filters; truncated at ``limit``."""
        rows = [i for i in self.outgoing if _within(i.issue_date, issued) and _within(i.created_at.date(), sent)]
        return rows[:limit]

    def find(self, ettn: str, direction: str) -> GeneratedInvoice | None:
        invoice = self.by_ettn.get(ettn.strip().lower())
        return invoice if invoice is not None and invoice.direction == direction else None

    def zip(self, invoices: Iterable[GeneratedInvoice], document_format: str) -> bytes:
        """A zip with one ``<ETTN>.<ext>`` entry per document, like QNB's ``...Indir`` answers."""
        entries: list[tuple[str, bytes]] = []
        for invoice in invoices:
            name = invoice.ettn.upper()
            if document_format == "UBL":
                entries.append((f"{name}.xml", invoice.xml))
            elif document_format == "PDF":
                entries.append((f"{name}.pdf", b"%PDF-1.4\n% simulated rendering\n" + invoice.number.encode()))
            else:
                entries.append((f"{name}.html", f"<html><body>{invoice.number}</body></html>".encode()))
        return zip_documents(entries)


def _within(day: date, bounds: tuple[date | None, date | None]) -> bool:
    first, last = bounds
    return (first is None or day >= first) and (last is None or day <= last)
