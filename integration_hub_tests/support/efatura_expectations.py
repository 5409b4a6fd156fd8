"""What an e-invoice collector must yield for simulated invoices, in a comparable form.

Expected values come from the simulator's own mailbox (``GeneratedInvoice``), never from hard-coded
numbers: per invoice key ``<ettn>:<direction>`` the number of line records and the payable amount.
Every e-invoice connector test (EDM, İşNet, QNB, Uyumsoft, CRS Soft) compares the two with ``==``.
The ``check_*_503s`` helpers run the fault-injection checks that connectors with a plain retry loop
(İşNet, QNB) share: queued and random bare 503s are retried and change nothing, too many give up.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Protocol

import pytest

from integration_hub.connectors.base import CollectStats, DateWindow, Record, TransientError
from integration_hub.simulators.efatura.documents import GeneratedInvoice

Summary = dict[str, tuple[int, Decimal]]


class Simulator(Protocol):
    """What every e-invoice simulator offers tests: its invoices of one company, direction and window,
    its call log and its fault queue."""

    calls: list[Any]

    def invoices(self, company: str, direction: str, window: DateWindow) -> list[GeneratedInvoice]: ...

    def fail_next(self, count: int) -> None: ...


class Connector(Protocol):
    stats: CollectStats

    def collect(self, stream: str, window: DateWindow) -> Iterable[Record]: ...


def summarize(records: Iterable[Record], window: DateWindow | None = None) -> Summary:
    """``{invoice key: (line records, |payable|)}``. Asserts that record keys are unique, that only
    ``invoice``/``invoice_line`` records come, that every line has its invoice and (given ``window``)
    that every record is dated inside it — so comparing summaries also proves those."""
    invoices: dict[str, Decimal] = {}
    lines: dict[str, int] = {}
    line_keys: set[str] = set()
    for record in records:
        if window is not None:
            assert record.record_date in window, f"{record.external_key} dated {record.record_date} outside {window}"
        if record.record_type == "invoice":
            assert record.external_key not in invoices, f"duplicate invoice record {record.external_key}"
            invoices[record.external_key] = abs(record.amount)
        else:
            assert record.record_type == "invoice_line", record.record_type
            assert record.external_key not in line_keys, f"duplicate line record {record.external_key}"
            line_keys.add(record.external_key)
            ettn, direction, _ = record.external_key.split(":", 2)
            lines[f"{ettn}:{direction}"] = lines.get(f"{ettn}:{direction}", 0) + 1
    assert set(lines) <= set(invoices), "line records without their invoice record"
    return {key: (lines.get(key, 0), amount) for key, amount in invoices.items()}


def expected(invoices: Iterable[GeneratedInvoice]) -> Summary:
    """The same map for the simulator's invoices (either direction)."""
    return {f"{i.ettn.lower()}:{i.direction}": (i.line_count, abs(i.payable)) for i in invoices}


def mailbox_expected(sim: Simulator, company: str, window: DateWindow) -> Summary:
    """:func:`expected` for both directions of ``company``'s mailbox inside ``window``."""
    return expected(sim.invoices(company, "in", window) + sim.invoices(company, "out", window))


def check_injected_503s(sim: Simulator, connector: Connector, company: str, window: DateWindow) -> list[Any]:
    """Three queued 503s are retried and the result is still exact; returns the calls of the run."""
    before = len(sim.calls)
    sim.fail_next(3)
    records = list(connector.collect("invoices", window))
    assert summarize(records, window) == mailbox_expected(sim, company, window)
    calls = sim.calls[before:]
    assert [c.status for c in calls[:4]] == [503, 503, 503, 200]
    assert connector.stats.retries == 3 and connector.stats.requests == len(calls)
    return calls


def check_random_503s(sim: Simulator, connector: Connector, company: str, window: DateWindow) -> None:
    """On a simulator started with a ``fail_rate``: every failure is retried and the result is exact."""
    records = list(connector.collect("invoices", window))
    assert summarize(records, window) == mailbox_expected(sim, company, window)
    failures = sum(c.status == 503 for c in sim.calls)
    assert failures and connector.stats.retries == failures and connector.stats.requests == len(sim.calls)


def check_persistent_503s(sim: Simulator, connector: Connector, window: DateWindow, attempts: int) -> None:
    """``attempts`` queued 503s exhaust the retry budget: a :class:`TransientError`, no further request."""
    before = len(sim.calls)
    sim.fail_next(attempts)
    with pytest.raises(TransientError, match=f"HTTP 503 {attempts} times"):
        list(connector.collect("invoices", window))
    assert len(sim.calls) - before == attempts
