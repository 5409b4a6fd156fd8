"""Progress of a long collection in the run's log: records, requests, days done and time left, every 30 s.

A two-year onboarding at a provider's rate limit takes an hour per company; without this a run is silent until
it ends. The connector yields records lazily, so following the iterator sees progress as it happens without the
connector knowing anything of Dagster.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from integration_hub.connectors.base import CollectStats, DateWindow, Record

INTERVAL_SECONDS = 30.0


class _Log(Protocol):
    def info(self, msg: str) -> None: ...


class ProgressLog:
    """Logs ``what``'s progress through ``window`` at most every :data:`INTERVAL_SECONDS` while records flow.

    Days done are read from the records' dates (connectors yield a window in date order or per direction, so
    the latest date seen is a fair high-water mark); time left extrapolates the elapsed time over the days left.
    """

    def __init__(
        self,
        log: _Log,
        what: str,
        window: DateWindow,
        stats: CollectStats,
        *,
        interval: float = INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.log = log
        self.what = what
        self.window = window
        self.stats = stats
        self.interval = interval
        self.clock = clock
        self.records = 0
        self.latest = None

    def follow(self, records: Iterable[Record]) -> Iterator[Record]:
        started = last = self.clock()
        for record in records:
            self.records += 1
            if self.latest is None or record.record_date > self.latest:
                self.latest = record.record_date
            now = self.clock()
            if now - last >= self.interval:
                self.log.info(self.line(now - started))
                last = now
            yield record

    def line(self, elapsed: float) -> str:
        days_done = 0 if self.latest is None else (self.latest - self.window.start).days + 1
        days = self.window.num_days
        text = (
            f"{self.what}: {self.records:,} records, {self.stats.requests:,} requests, "
            f"{days_done}/{days} days, {elapsed:.0f} s elapsed"
        )
        if 0 < days_done < days:
            left = elapsed * (days - days_done) / days_done
            text += f", about {left:.0f} s left"
        return text
