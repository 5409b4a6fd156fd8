"""The fake connector, slowed down and writing when each collection starts and ends, for tests across processes.

Run workers are separate processes, so what they did is appended to a file (``HUB_TEST_INTERVALS``): one JSON
line per collect with the worker's pid, the window, and ``start``/``end`` wall-clock times. ``HUB_TEST_COLLECT_
SECONDS`` is how long each collection takes (before its first record), so two overlapping runs would show.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator

from integration_hub.connectors.base import ConnectorConfig, DateWindow, Record
from integration_hub_tests.support.fake_connector import FakeConnector


def _note(**fields: object) -> None:
    with open(os.environ["HUB_TEST_INTERVALS"], "a") as out:
        out.write(json.dumps(fields) + "\n")


class TimedConnector(FakeConnector):
    def collect(self, stream: str, window: DateWindow) -> Iterator[Record]:
        what = {"pid": os.getpid(), "company": self.config.company, "window": str(window)}
        _note(event="start", at=time.time(), **what)
        time.sleep(float(os.environ.get("HUB_TEST_COLLECT_SECONDS", "3")))
        yield from super().collect(stream, window)
        _note(event="end", at=time.time(), **what)


def build(config: ConnectorConfig) -> TimedConnector:
    return TimedConnector(config)
