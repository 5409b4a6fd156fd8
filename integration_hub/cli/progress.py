"""Live progress of an in-process collection for ``integration-hub collect``: records, requests and days done.

The assets only see the hub resource, so the CLI hands them a :class:`TrackedHub` whose collection service reports
each record as it is yielded (the connector stays unaware, the asset body unchanged). Imported only when a collection
runs in process, so other commands never import Dagster.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from typing import Any

from rich.progress import Progress

from integration_hub.connectors.base import DateWindow, Record
from integration_hub.resources.hub import HubResource
from integration_hub.service.collection import CollectionService

TRACKERS: dict[str, Tracker] = {}  # by TrackedHub.tracker_id: a resource is configuration, not a live object


class TrackedHub(HubResource):
    """The hub resource, with every connector it opens reporting records and requests to a progress tracker."""

    tracker_id: str = ""

    def collection(self) -> CollectionService:
        service = super().collection()
        tracker = TRACKERS.get(self.tracker_id)
        if tracker is not None:
            service.observe = tracker.follow
        return service


class Tracker:
    """Days done (finished runs, plus the running run's streams: finished ones whole, the current one up to its
    newest record's date), records and requests, pushed to a rich task a few times a second."""

    def __init__(self, progress: Progress, task: Any, streams: int) -> None:
        self.progress, self.task, self.streams = progress, task, streams
        self.run_days: list[int] = []
        self.runs_done = 0
        self.days_done = 0
        self.streams_done = 0
        self.records = 0
        self.requests_done = 0
        self._last_push = 0.0

    def follow(self, connector: Any, records: Iterator[Record], window: DateWindow) -> Iterator[Record]:
        latest: date | None = None
        try:
            for record in records:
                self.records += 1
                latest = record.record_date if latest is None or record.record_date > latest else latest
                self._push(connector, window, latest)
                yield record
        finally:
            self.requests_done += connector.stats.requests
            self.streams_done += 1
            self._push(None, window, None, force=True)

    def run_finished(self) -> None:
        self.days_done += self.run_days[self.runs_done] if self.runs_done < len(self.run_days) else 0
        self.runs_done += 1
        self.streams_done = 0
        self._push(None, None, None, force=True)

    def _push(self, connector: Any, window: DateWindow | None, latest: date | None, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_push < 0.2:
            return
        self._last_push = now
        run = self.run_days[self.runs_done] if self.runs_done < len(self.run_days) else 0
        partial = 0.0
        if window is not None and latest is not None:
            partial = min(run, (latest - window.start).days + 1) if window.num_days > 1 else 0
        in_run = min(run, (self.streams_done * run + partial) / max(1, self.streams))
        requests = self.requests_done + (connector.stats.requests if connector is not None else 0)
        self.progress.update(
            self.task, completed=self.days_done + in_run, records=f"{self.records:,}", requests=f"{requests:,}"
        )


