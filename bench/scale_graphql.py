"""GraphQL latency of the asset pages, against a real ``dagster-webserver`` on 127.0.0.1.

The queries are the UI's own, read from the installed webserver's bundle (its source maps carry the ``gql``
documents of ``ui-core``), with the fragments they spread, so they are exactly what this Dagster version sends:

* overview (``AssetView`` / ``AssetNodeOverview``): ``AssetViewDefinitionQuery``, ``AssetGraphLiveQuery``,
  ``AssetOverviewMetadataEventsQuery``, ``PartitionHealthQuery`` (the overview's partition bar);
* partitions tab: ``PartitionHealthQuery``, ``AssetPartitionDetailQuery`` and ``AssetPartitionEventsQuery`` for
  the newest partition (the one the tab opens on);
* checks tab: ``AssetChecksQuery``, ``AssetCheckDetailsQuery`` (the first check's executions).

Each query is sent once cold (the first after the history was written: the partition status cache is rebuilt
then) and then ``repeats`` times (once if the cold request took over 5 s); the median of those is judged. A page's
figure is its slowest query (the UI sends them in parallel).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from functools import cache
from pathlib import Path
from typing import Any

from bench.common import ROOT

PAGES: dict[str, tuple[str, ...]] = {
    "overview": (
        "AssetViewDefinitionQuery",
        "AssetGraphLiveQuery",
        "AssetOverviewMetadataEventsQuery",
        "PartitionHealthQuery",
    ),
    "partitions": ("PartitionHealthQuery", "AssetPartitionDetailQuery", "AssetPartitionEventsQuery"),
    "checks": ("AssetChecksQuery", "AssetCheckDetailsQuery"),
}
TIMEOUT = 180.0
SLOW = 5.0  # seconds


def _bundle() -> Path:
    import dagster_webserver

    return Path(dagster_webserver.__file__).parent / "webapp" / "build" / "_next" / "static" / "chunks"


def _definitions(literal: str) -> dict[str, str]:
    """Named operations and fragments of one ``gql`` literal (interpolations removed: they are fragments)."""
    found: dict[str, str] = {}
    text = re.sub(r"\$\{[^}]*\}", "", literal)
    for match in re.finditer(r"\b(query|fragment|mutation)\s+(\w+)", text):
        open_at = text.find("{", match.end())
        if open_at < 0:
            continue
        depth, end = 0, open_at
        while end < len(text):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            if depth == 0:
                break
            end += 1
        if depth == 0:
            found.setdefault(match.group(2), text[match.start() : end + 1])
    return found


@cache
def ui_documents() -> dict[str, str]:
    """Every operation and fragment in the webserver's bundle, by name."""
    definitions: dict[str, str] = {}
    for source_map in sorted(_bundle().glob("*.js.map")):
        for content in json.loads(source_map.read_text()).get("sourcesContent") or []:
            if content and "gql`" in content:
                for literal in re.findall(r"gql`(.*?)`", content, re.S):
                    for name, body in _definitions(literal).items():
                        definitions.setdefault(name, body)
    if not all(name in definitions for names in PAGES.values() for name in names):
        missing = sorted({n for names in PAGES.values() for n in names} - set(definitions))
        raise RuntimeError(f"the webserver bundle has no {', '.join(missing)}: the UI's queries changed")
    return definitions


def document(name: str) -> str:
    """The query ``name`` with every fragment it spreads, transitively."""
    definitions = ui_documents()
    seen: list[str] = []
    todo = [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.append(current)
        todo += [s for s in re.findall(r"\.\.\.\s*(\w+)", definitions[current]) if s != "on" and s in definitions]
    return "\n\n".join(definitions[n] for n in seen)


def variables(name: str, asset_path: list[str], partition: str, check: str) -> dict[str, Any]:
    key = {"path": asset_path}
    return {
        "AssetViewDefinitionQuery": {"assetKey": key},
        "AssetGraphLiveQuery": {"assetKeys": [key]},
        "AssetOverviewMetadataEventsQuery": {"assetKey": key},
        "PartitionHealthQuery": {"assetKey": key},
        "AssetPartitionDetailQuery": {"assetKey": key, "partitionKey": partition},
        "AssetPartitionEventsQuery": {"assetKey": key, "partitions": [partition]},
        "AssetChecksQuery": {"assetKey": key},
        "AssetCheckDetailsQuery": {"assetKey": key, "checkName": check, "limit": 6},
    }[name]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Webserver:
    """``dagster-webserver -m bench.scale_workspace`` on 127.0.0.1 for one instance (its own process group)."""

    def __init__(self, dagster_home: Path, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/graphql"
        self._log = log.open("w")
        command = [
            str(Path(sys.executable).parent / "dagster-webserver"),
            "-m",
            "bench.scale_workspace",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
        ]
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
            command,
            cwd=ROOT,
            env={**os.environ, **env, "DAGSTER_HOME": str(dagster_home), "PYTHONPATH": str(ROOT)},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dagster-webserver exited {self.process.returncode}; see {self._log.name}")
            try:
                answer = self.query("query Ready { version repositoriesOrError { __typename } }", {})
                if answer.get("data", {}).get("repositoriesOrError", {}).get("__typename") == "RepositoryConnection":
                    return
            except OSError:
                pass
            time.sleep(1)
        raise RuntimeError("dagster-webserver did not answer within 180 s")

    def query(self, text: str, values: dict[str, Any], timeout: float = TIMEOUT) -> dict[str, Any]:
        body = json.dumps({"query": text, "variables": values}).encode()
        request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})  # noqa: S310
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - 127.0.0.1 only
            return json.loads(response.read())

    def timed(self, name: str, values: dict[str, Any]) -> float:
        started = time.perf_counter()
        answer = self.query(document(name), values)
        seconds = time.perf_counter() - started
        if answer.get("errors"):
            raise RuntimeError(f"{name}: {json.dumps(answer['errors'])[:400]}")
        return seconds

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()

    def __enter__(self) -> Webserver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def measure_pages(
    server: Webserver, asset_path: list[str], partition: str, check: str, repeats: int
) -> dict[str, dict[str, float]]:
    """Per query: ``cold`` (first request) and ``median`` of ``repeats`` more; per page: its slowest median."""
    queries: dict[str, dict[str, float]] = {}
    for names in PAGES.values():
        for name in names:
            if name in queries:
                continue
            values = variables(name, asset_path, partition, check)
            cold = server.timed(name, values)
            # a query far past the target is repeated once: its median would not tell more, and it costs minutes
            warm = [server.timed(name, values) for _ in range(1 if cold > SLOW else repeats)]
            queries[name] = {"cold": cold, "median": statistics.median(warm), "max": max(warm)}
    return queries


def page_seconds(queries: dict[str, dict[str, float]], statistic: str = "median") -> dict[str, float]:
    return {page: max(queries[name][statistic] for name in names) for page, names in PAGES.items()}
