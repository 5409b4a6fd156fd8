"""Benchmark 1 — the Karbon connector against Karbon's rate limit: how close to the ceiling, how few requests.

Karbon allows 120 requests per window per (API application, account). The simulator keeps the 120 but
shortens the window so a run takes seconds; the connector gets the matching token bucket,
``TokenBucket(120, window)``. For each pillar and data volume, a fresh login (so a fresh rate window)
collects the whole simulated history in one ``collect(pillar, window)``:

* rows/s ÷ ceiling, where the ceiling is requests allowed per second × rows per page (1000 for time
  entries, 100 for work items; for the contacts pillar, whose cost is one list page per 100 clients plus
  two GETs per client, rows per request at the minimum request count);
* requests the simulator logged ÷ the minimum the pillar needs (pages of every list it must read, plus
  the per-client GETs for contacts);
* 429s the simulator answered, and how many came after the first 429 of a burst.

A ratio slightly above 1 on short runs is real: the bucket's first token is there at once, so N requests
take (N − 1) ÷ rate seconds.

The window differs per pillar because the simulator filters and sorts a list's whole data set on every
page: it answers a 1000-row time page in ~75-100 ms at 10-20k entries, so the time pillar is measured at 5
requests/s (120 per 24 s), work items at 20/s (120 per 6 s) and contacts at 40/s (120 per 3 s), each
well under what the simulator can serve, so the rate limit, not the fake server, is the ceiling. Two
burst scenarios check 429 handling: a login whose window another client has just filled, and two pillars
collected at once on one login through the hub's shared per-account bucket.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx

from bench.common import PLOTS_DIR, Section, Summary, Table, Target, fmt
from bench.simproc import SimProcess
from integration_hub.connectors.base import ConnectorConfig, DateWindow
from integration_hub.connectors.http import TokenBucket
from integration_hub.connectors.karbon import KarbonConnector

END = date(2026, 11, 1)
LIMIT = 120
BURST_DAYS = 30


@dataclass(frozen=True)
class Pillar:
    name: str
    window_seconds: float
    page_size: int | None  # rows per page of a pure list pillar; None: rows per request at the minimum
    days: tuple[int, ...]
    quick_days: tuple[int, ...]

    @property
    def rate(self) -> float:
        return LIMIT / self.window_seconds


PILLARS = (
    Pillar("time", 24.0, 1000, (400, 800, 1500), (400, 800)),
    Pillar("work", 6.0, 100, (500, 1500, 3000), (500, 1500)),
    Pillar("contacts", 3.0, None, (20, 40, 80), (20, 40)),
)


def minimum_requests(pillar: str, volumes: dict[str, int]) -> int:
    """The fewest requests that can return the pillar's rows for the whole history."""

    def pages(rows: int, size: int) -> int:
        return max(1, math.ceil(rows / size))

    if pillar == "time":
        return pages(volumes["time_entries"], 1000)
    if pillar == "work":
        return pages(volumes["work_items"], 100)
    if pillar == "contacts":
        clients = volumes["contacts"] + volumes["organizations"]
        lists = pages(volumes["contacts"], 100) + pages(volumes["organizations"], 100)
        return lists + pages(volumes["client_groups"], 100) + 2 * clients
    raise ValueError(pillar)


def _config(sim: SimProcess, login: tuple[str, str], rate_per_second: float) -> ConnectorConfig:
    return ConnectorConfig(
        {"application_id": login[0], "base_url": sim.url, "requests_per_minute": rate_per_second * 60},
        {"access_key": login[1]},
        company="bench",
    )


def _late_429s(statuses: list[int]) -> int:
    """429s after the first one of the run (the first of a burst is allowed)."""
    return max(0, statuses.count(429) - 1)


def _collect(connector: KarbonConnector, pillar: str, window: DateWindow) -> tuple[int, float]:
    started = time.perf_counter()
    rows = sum(1 for _ in connector.collect(pillar, window))
    return rows, time.perf_counter() - started


def _measure(pillar: Pillar, days: int, reps: int) -> dict[str, Any]:
    window = DateWindow(END - timedelta(days=days), END)
    runs = []
    with SimProcess(
        "karbon", days=days, end=END, rate_limit=LIMIT, rate_window=pillar.window_seconds, logins=reps
    ) as sim:
        volumes = sim.info["volumes"]
        minimum = minimum_requests(pillar.name, volumes)
        for login in sim.info["logins"][:reps]:
            sim.reset()
            connector = KarbonConnector(
                _config(sim, tuple(login), pillar.rate), bucket=TokenBucket(LIMIT, pillar.window_seconds)
            )
            try:
                rows, seconds = _collect(connector, pillar.name, window)
            finally:
                connector.close()
            stats = sim.stats()
            rows_per_request = pillar.page_size or rows / minimum
            runs.append(
                {
                    "rows": rows,
                    "seconds": seconds,
                    "rows_per_s": rows / seconds,
                    "ceiling": pillar.rate * rows_per_request,
                    "requests": stats["requests"],
                    "status_429": stats["by_status"].get("429", 0),
                    "late_429": _late_429s(stats["status_sequence"]),
                }
            )
    return {"pillar": pillar, "days": days, "volumes": volumes, "minimum": minimum, "runs": runs}


def _flood(url: str, login: tuple[str, str], count: int) -> None:
    """Another client of the same account spends the whole window as fast as it can."""
    headers = {"Authorization": f"Bearer {login[0]}", "AccessKey": login[1]}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        for _ in range(count):
            client.get("/v3/TenantSettings")


def _burst_after_foreign_client(reps: int) -> dict[str, Any]:
    pillar = PILLARS[2]
    days = BURST_DAYS
    window = DateWindow(END - timedelta(days=days), END)
    runs = []
    with SimProcess(
        "karbon", days=days, end=END, rate_limit=LIMIT, rate_window=pillar.window_seconds, logins=reps
    ) as sim:
        for login in sim.info["logins"][:reps]:
            _flood(sim.url, tuple(login), LIMIT)
            sim.reset()
            connector = KarbonConnector(
                _config(sim, tuple(login), pillar.rate), bucket=TokenBucket(LIMIT, pillar.window_seconds)
            )
            try:
                rows, seconds = _collect(connector, pillar.name, window)
            finally:
                connector.close()
            stats = sim.stats()
            runs.append(
                {
                    "rows": rows,
                    "seconds": seconds,
                    "requests": stats["requests"],
                    "status_429": stats["by_status"].get("429", 0),
                    "late_429": _late_429s(stats["status_sequence"]),
                    "waited": connector.stats.waited_seconds,
                }
            )
    return {"name": "window already spent by another client, then contacts", "runs": runs}


def _two_pillars_one_login(reps: int) -> dict[str, Any]:
    """contacts and work at once, each connector built the production way (the shared per-account bucket)."""
    pillar = PILLARS[2]
    days = BURST_DAYS
    window = DateWindow(END - timedelta(days=days), END)
    runs = []
    with SimProcess(
        "karbon", days=days, end=END, rate_limit=LIMIT, rate_window=pillar.window_seconds, logins=reps
    ) as sim:
        for login in sim.info["logins"][:reps]:
            sim.reset()
            connectors = [KarbonConnector(_config(sim, tuple(login), pillar.rate)) for _ in range(2)]
            counts: dict[str, int] = {}

            def work(connector: KarbonConnector, name: str, counts: dict[str, int]) -> None:
                counts[name] = sum(1 for _ in connector.collect(name, window))

            started = time.perf_counter()
            threads = [
                threading.Thread(target=work, args=(c, name, counts))
                for c, name in zip(connectors, ("contacts", "work"), strict=True)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            seconds = time.perf_counter() - started
            for connector in connectors:
                connector.close()
            stats = sim.stats()
            runs.append(
                {
                    "rows": sum(counts.values()),
                    "seconds": seconds,
                    "requests": stats["requests"],
                    "status_429": stats["by_status"].get("429", 0),
                    "late_429": _late_429s(stats["status_sequence"]),
                    "waited": sum(c.stats.waited_seconds for c in connectors),
                }
            )
    return {"name": "contacts and work at once on one login (shared bucket)", "runs": runs}


def _plot(measurements: list[dict[str, Any]]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(PILLARS), figsize=(13, 4))
    for axis, pillar in zip(axes, PILLARS, strict=True):
        points = [m for m in measurements if m["pillar"] is pillar]
        if not points:
            continue
        records = [m["runs"][0]["rows"] for m in points]
        achieved = [Summary.of([r["rows_per_s"] for r in m["runs"]]) for m in points]
        ceilings = [Summary.of([r["ceiling"] for r in m["runs"]]).median for m in points]
        axis.errorbar(
            records,
            [s.median for s in achieved],
            yerr=[[s.median - s.min for s in achieved], [s.max - s.median for s in achieved]],
            marker="o",
            capsize=3,
            label="achieved (median, min-max)",
        )
        axis.plot(records, ceilings, "--", color="grey", label="ceiling")
        axis.plot(records, [0.9 * c for c in ceilings], ":", color="red", label="target 0.9 × ceiling")
        axis.set_title(f"{pillar.name}: 120 req / {pillar.window_seconds:g} s")
        axis.set_xlabel("records collected")
        axis.set_ylabel("rows/s")
        axis.set_ylim(bottom=0)
        axis.legend(fontsize=7)
    fig.suptitle("Karbon connector throughput vs records (rate limit scaled)")
    fig.tight_layout()
    PLOTS_DIR.mkdir(parents=True, exist_ok=True)
    path = PLOTS_DIR / "karbon_throughput.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return "plots/karbon_throughput.png"


def _scenarios(quick: bool) -> Iterator[tuple[Pillar, int]]:
    for pillar in PILLARS:
        for days in pillar.quick_days if quick else pillar.days:
            yield pillar, days


def run(quick: bool = False) -> Section:
    reps = 1 if quick else 3
    measurements = [_measure(pillar, days, reps) for pillar, days in _scenarios(quick)]
    bursts = [_burst_after_foreign_client(reps), _two_pillars_one_login(reps)]

    rows = []
    for m in measurements:
        runs = m["runs"]
        ratio = Summary.of([r["rows_per_s"] / r["ceiling"] for r in runs])
        rows.append(
            [
                m["pillar"].name,
                f"120 / {m['pillar'].window_seconds:g} s",
                fmt(runs[0]["rows"]),
                Summary.of([r["seconds"] for r in runs]).fmt(2),
                Summary.of([r["rows_per_s"] for r in runs]).fmt(0),
                fmt(runs[0]["ceiling"], 0),
                ratio.fmt(3),
                fmt(m["minimum"]),
                Summary.of([r["requests"] for r in runs]).fmt(0),
                Summary.of([r["requests"] / m["minimum"] for r in runs]).fmt(3),
                Summary.of([r["status_429"] for r in runs]).fmt(0),
            ]
        )
    burst_rows = [
        [
            b["name"],
            Summary.of([r["seconds"] for r in b["runs"]]).fmt(2),
            Summary.of([r["requests"] for r in b["runs"]]).fmt(0),
            Summary.of([r["status_429"] for r in b["runs"]]).fmt(0),
            Summary.of([r["late_429"] for r in b["runs"]]).fmt(0),
            Summary.of([r["waited"] for r in b["runs"]]).fmt(2),
        ]
        for b in bursts
    ]

    targets = []
    for pillar in PILLARS:
        mine = [m for m in measurements if m["pillar"] is pillar]
        largest = max(mine, key=lambda m: m["days"])
        ratio = Summary.of([r["rows_per_s"] / r["ceiling"] for r in largest["runs"]]).median
        targets.append(
            Target(f"{pillar.name}: rows/s ÷ ceiling at {fmt(largest['runs'][0]['rows'])} records", ratio, ">=", 0.9)
        )
        worst = max(r["requests"] / m["minimum"] for m in mine for r in m["runs"])
        targets.append(Target(f"{pillar.name}: requests ÷ minimum (every volume)", worst, "<=", 1.05, "max"))
    late = max(r["late_429"] for m in [*measurements, *bursts] for r in m["runs"])
    targets.append(Target("429s after the first of a burst (every run)", late, "<=", 0, "max"))

    return Section(
        key="karbon_ceiling",
        title="1. Karbon ceiling",
        method=__doc__ or "",
        tables=[
            Table(
                f"Per pillar and volume ({reps} repetitions each; min / median / max)",
                [
                    "pillar",
                    "rate limit",
                    "records",
                    "seconds",
                    "rows/s",
                    "ceiling rows/s",
                    "rows/s ÷ ceiling",
                    "minimum requests",
                    "requests (simulator log)",
                    "requests ÷ minimum",
                    "429s",
                ],
                rows,
            ),
            Table(
                f"Bursts (contacts pillar, 120 req / 3 s, {BURST_DAYS} days of history; {reps} repetitions)",
                ["scenario", "seconds", "requests", "429s", "429s after the first", "client waited s"],
                burst_rows,
            ),
        ],
        targets=targets,
        plots=[_plot(measurements)],
    )
