"""One simulated EDM account's invoices as ``GetInvoice`` sees them: creation seconds, read marks, search.

EDM orders ``GetInvoice`` answers by ``CDATE``, the second the invoice entered EDM. Invoices arrive in
envelopes, and bulk senders (e-Arşiv issuers, ERP batch runs) submit many at once, so several invoices
of one direction routinely share a ``CDATE`` second. We reproduce that deterministically: consecutive
invoices of a direction are grouped into bursts of 1..``burst_max`` that all get the creation second of
the burst's last member (never earlier than any member's own creation, so ``CDATE`` stays at or after the
issue date). That is what makes a client's keyset paging meet ties on page boundaries.

``CDATE`` is rendered in Turkish time (UTC+03:00, no DST since 2016) with the offset [I].
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

TURKEY = timezone(timedelta(hours=3), "TRT")
EARCHIVE_PROFILE = "EARSIVFATURA"


@dataclass
class Entry:
    """A generated invoice plus what EDM adds to it: creation second, transaction id, tie order, read mark."""

    invoice: Any  # simulators.efatura.documents.GeneratedInvoice
    cdate: datetime
    trxid: int
    order: int
    marked: bool = False

    @property
    def uuid(self) -> str:
        return self.invoice.ettn.lower()


def to_turkey(moment: datetime) -> datetime:
    """An aware second in Turkish time (a naive value is taken as UTC, as the generator produces)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(TURKEY).replace(microsecond=0)


def direction_matches(code: str, entry: Entry) -> bool:
    invoice = entry.invoice
    if code == "IN":
        return invoice.direction == "in"
    if invoice.direction != "out":
        return False
    if code == "OUT-EINVOICE":
        return invoice.profile_id != EARCHIVE_PROFILE
    if code == "OUT-EARCHIVE":
        return invoice.profile_id == EARCHIVE_PROFILE
    return code == "OUT"


DIRECTION_CODES = ("IN", "OUT", "OUT-EINVOICE", "OUT-EARCHIVE")


@dataclass(frozen=True)
class Search:
    """An ``INVOICE_SEARCH_KEY`` already validated by the app (``None`` = filter absent)."""

    direction: str
    limit: int
    start: date | None = None
    end: date | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    uuid: str | None = None
    number: str | None = None
    read_included: bool = False


class Mailbox:
    """The invoices of one company, ordered by ``(CDATE, arrival)``; thread-safe."""

    def __init__(self, invoices: Sequence[Any], *, seed: int, burst_max: int = 4) -> None:
        self._lock = threading.Lock()
        rng = random.Random(seed)
        entries: list[Entry] = []
        for direction in ("in", "out"):
            ordered = sorted((i for i in invoices if i.direction == direction), key=lambda i: (i.created_at, i.ettn))
            position = 0
            while position < len(ordered):
                size = 1 if rng.random() < 0.4 else rng.randint(1, max(1, burst_max))
                burst = ordered[position : position + size]
                second = to_turkey(burst[-1].created_at)
                entries.extend(Entry(invoice, second, 0, 0) for invoice in burst)
                position += size
        entries.sort(key=lambda e: (e.cdate, e.invoice.created_at, e.invoice.ettn))
        for index, entry in enumerate(entries):
            entry.order = index
            entry.trxid = 700000 + index * 7 + rng.randrange(7)
        self.entries = entries
        self.by_uuid = {entry.uuid: entry for entry in entries}

    @property
    def invoices(self) -> list[Any]:
        return [entry.invoice for entry in self.entries]

    def search(self, key: Search) -> list[Entry]:
        """What ``GetInvoice`` returns for ``key``: matching invoices by ``CDATE`` ascending, at most ``limit``."""
        with self._lock:
            rows = [entry for entry in self.entries if _matches(entry, key)]
        rows.sort(key=lambda e: (e.cdate, e.order))
        return rows[: key.limit]

    def mark(self, uuids: Iterable[str], numbers: Iterable[str], value: bool) -> int:
        """Set the read mark of the invoices named by UUID or number; returns how many were found."""
        wanted_uuids = {u.strip().lower() for u in uuids}
        wanted_numbers = {n.strip() for n in numbers}
        found = 0
        with self._lock:
            for entry in self.entries:
                if entry.uuid in wanted_uuids or entry.invoice.number in wanted_numbers:
                    entry.marked = value
                    found += 1
        return found

    def set_cdate(self, uuids: Iterable[str], cdate: datetime) -> None:
        """Test knob: give these invoices one creation second (e.g. a bulk upload larger than a page)."""
        second = to_turkey(cdate)
        with self._lock:
            for value in uuids:
                self.by_uuid[value.lower()].cdate = second


def _matches(entry: Entry, key: Search) -> bool:
    invoice = entry.invoice
    if not direction_matches(key.direction, entry):
        return False
    if key.start is not None and invoice.issue_date < key.start:
        return False
    if key.end is not None and invoice.issue_date > key.end:
        return False
    if key.created_from is not None and entry.cdate < key.created_from:
        return False
    if key.created_to is not None and entry.cdate > key.created_to:
        return False
    if key.uuid is not None and entry.uuid != key.uuid.lower():
        return False
    if key.number is not None and invoice.number != key.number:
        return False
    return key.read_included or not entry.marked
