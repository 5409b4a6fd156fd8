"""What every benchmark shares: result shapes, repetition statistics, targets, child processes, machine facts.

Peak RSS is only meaningful per process, so anything whose memory is reported runs in a fresh child
(``python -m bench.<module> child ...``) that prints one JSON line last, with its own peak RSS from
``VmHWM`` in ``/proc/self/status``. Repetitions are summarised as min / median / max; each :class:`Target` names
which statistic it is judged on and compares the raw number, never a rounded one.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "bench"
PLOTS_DIR = BENCH_DIR / "plots"
SHARED = ROOT.parent / "shared"
PG_ADMIN_DSN = os.environ.get("HUB_BENCH_PG_ADMIN_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres")


@dataclass(frozen=True)
class Summary:
    """min / median / max of repeated measurements."""

    values: tuple[float, ...]

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        if not values:
            raise ValueError("no measurements")
        return cls(tuple(float(v) for v in values))

    @property
    def min(self) -> float:
        return min(self.values)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def max(self) -> float:
        return max(self.values)

    def fmt(self, digits: int = 2) -> str:
        if len(self.values) == 1:
            return fmt(self.values[0], digits)
        return f"{fmt(self.min, digits)} / {fmt(self.median, digits)} / {fmt(self.max, digits)}"


def fmt(value: float, digits: int = 2) -> str:
    """A number for a table: thousands separated, ``digits`` decimals (none for whole numbers)."""
    if float(value).is_integer() and abs(value) >= 1:
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


@dataclass(frozen=True)
class Target:
    """One target of the issue, judged on the raw measured number."""

    name: str
    measured: float
    op: str  # ">=", "<=" or "<"
    threshold: float
    statistic: str = "median"

    @property
    def ok(self) -> bool:
        if self.op == ">=":
            return self.measured >= self.threshold
        if self.op == "<=":
            return self.measured <= self.threshold
        if self.op == "<":
            return self.measured < self.threshold
        raise ValueError(f"unknown comparison {self.op}")

    def describe(self) -> str:
        return f"{self.name}: measured {self.measured!r} ({self.statistic}), target {self.op} {self.threshold!r}"


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""

    def markdown(self) -> str:
        lines = [f"**{self.title}**", "", "| " + " | ".join(self.columns) + " |", "|" + "---|" * len(self.columns)]
        lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in self.rows]
        if self.note:
            lines += ["", self.note]
        return "\n".join(lines)


@dataclass
class Section:
    """One benchmark's results: how it was measured, its tables, targets and plots."""

    key: str
    title: str
    method: str
    tables: list[Table] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    plots: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0


# ------------------------------------------------------------------------------------------ processes
def peak_rss_mb() -> float:
    """This process's peak resident set size in MiB: ``VmHWM`` from ``/proc/self/status`` (KiB).

    Not ``getrusage(RUSAGE_SELF).ru_maxrss``: on Linux it survives fork and exec, so a child started by the
    harness would report at least the harness's own peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status: peak RSS needs Linux")


def current_rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / (1024 * 1024)


def emit(result: dict[str, Any]) -> None:
    """The child's answer: one JSON line on stdout, with its peak RSS."""
    print(json.dumps({**result, "peak_rss_mb": peak_rss_mb()}, default=str), flush=True)


def run_child(
    module: str,
    args: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    timeout: float = 600,
    stream_stderr: bool = False,
) -> dict:
    """Run ``python -m module child args...`` in a fresh interpreter and return its JSON answer.

    ``stream_stderr`` passes the child's stderr through as it comes (a long pass's progress) instead of keeping
    its tail for the error message.
    """
    command = [sys.executable, "-m", module, "child", *args]
    completed = subprocess.run(  # noqa: S603 - our own module, fixed arguments
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=None if stream_stderr else subprocess.PIPE,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if completed.returncode != 0:
        tail = "\n".join((completed.stderr or "(its stderr is above)").strip().splitlines()[-15:])
        raise RuntimeError(f"{module} child {' '.join(args[:2])} exited {completed.returncode}:\n{tail}")
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"{module} child printed no result")
    return json.loads(lines[-1])


# ------------------------------------------------------------------------------------------ machine
def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> str:
    try:
        import psutil

        return f"{psutil.virtual_memory().total / 2**30:.1f} GiB"
    except Exception:
        return "unknown"


def postgres_version() -> str:
    try:
        import psycopg2

        connection = psycopg2.connect(PG_ADMIN_DSN, connect_timeout=5)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SHOW server_version")
                return str(cursor.fetchone()[0])
        finally:
            connection.close()
    except Exception as exc:
        return f"unreachable ({type(exc).__name__})"


def machine_info() -> dict[str, str]:
    import sqlite3

    return {
        "cores (os.cpu_count)": str(os.cpu_count()),
        "cores usable (sched_getaffinity)": str(len(os.sched_getaffinity(0))),
        "CPU": _cpu_model(),
        "memory": _memory_gib(),
        "OS": platform.platform(),
        "python": platform.python_version(),
        "dagster": _version("dagster"),
        "dlt": _version("dlt"),
        "duckdb": _version("duckdb"),
        "sqlalchemy": _version("sqlalchemy"),
        "httpx": _version("httpx"),
        "lxml": _version("lxml"),
        "SQLite": sqlite3.sqlite_version,
        "PostgreSQL server": postgres_version(),
    }
