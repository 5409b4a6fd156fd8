"""The Dagster instance of the embedded default, and the run-queue limits shared with production.

Production uses the project's ``dagster.yaml`` (PostgreSQL storage from ``DAGSTER_PG_*``); ``make demo``
and ``make ui`` use a SQLite instance under ``$HUB_HOME/dagster`` whose ``dagster.yaml`` this module
writes: Dagster's own SQLite files and layout, with the event log written by
:class:`~integration_hub.instance.sqlite_event_log.BatchingSqliteEventLogStorage`. Both carry the same
run-queue limits, run coordinator and run monitoring (a test keeps them equal):

* ``hub/credential`` — one run at a time per (integration, company): a credential is never used by two
  runs at once (providers rate-limit per account, and EDM sessions are per login);
* ``hub/integration`` — at most 4 concurrent runs per provider;
* pools — at most 2 concurrent steps per provider API pool by default.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

CONCURRENCY: dict[str, Any] = {
    "runs": {
        "max_concurrent_runs": 8,
        "tag_concurrency_limits": [
            {"key": "hub/credential", "value": {"applyLimitPerUniqueValue": True}, "limit": 1},
            {"key": "hub/integration", "value": {"applyLimitPerUniqueValue": True}, "limit": 4},
        ],
    },
    "pools": {"default_limit": 2},
}

# Every queued run carries the hub's tags, however it was launched (integration_hub/run_coordinator.py).
RUN_COORDINATOR: dict[str, Any] = {"module": "integration_hub.run_coordinator", "class": "HubRunCoordinator"}

# A dead run worker is failed (by its code server, else after max_runtime_seconds), its pool slots freed after
# free_slots_after_run_end_seconds and its credential lease taken over by the next run.
RUN_MONITORING: dict[str, Any] = {
    "enabled": True,
    "poll_interval_seconds": 30,
    "start_timeout_seconds": 300,
    "max_runtime_seconds": 21600,
    "free_slots_after_run_end_seconds": 10,
}

# The hub's own loggers (e.g. a connector's failed attempt, naming host:port and the OS's reason) reach the
# run's event log, so a wrong base_url shows in the UI as it happens, not after the last retry.
PYTHON_LOGS: dict[str, Any] = {"managed_python_loggers": ["integration_hub"], "python_log_level": "INFO"}


# Dagster writes the per-partition events of a ranged step, and a run's planned events, as one batch when
# this variable is set (it reads it on every event, in whichever process creates or executes the run).
# A 92-day run of one asset makes 92 of each, so 1000 keeps every such batch whole.
EVENT_BATCH_ENV = "DAGSTER_EVENT_BATCH_SIZE"
EVENT_BATCH_SIZE = 1000


def enable_event_batching() -> None:
    """Turn on Dagster's batched event writes for this process and the ones it starts (unless set)."""
    os.environ.setdefault(EVENT_BATCH_ENV, str(EVENT_BATCH_SIZE))


def embedded_instance_config(dagster_home: Path) -> dict[str, Any]:
    """Dagster's SQLite storage layout under ``dagster_home`` (runs and schedules with Dagster's classes,
    the event log with the batching one) plus the shared limits."""
    home = dagster_home.resolve()
    return {
        "run_storage": {
            "module": "dagster._core.storage.runs",
            "class": "SqliteRunStorage",
            "config": {"base_dir": str(home / "history")},
        },
        "event_log_storage": {
            "module": "integration_hub.instance.sqlite_event_log",
            "class": "BatchingSqliteEventLogStorage",
            "config": {"base_dir": str(home / "history" / "runs")},
        },
        "schedule_storage": {
            "module": "dagster._core.storage.schedules",
            "class": "SqliteScheduleStorage",
            "config": {"base_dir": str(home / "schedules")},
        },
        "run_coordinator": RUN_COORDINATOR,
        "concurrency": CONCURRENCY,
        "telemetry": {"enabled": False},
        "run_monitoring": RUN_MONITORING,
        "python_logs": PYTHON_LOGS,
    }


def ensure_embedded_instance(dagster_home: Path) -> Path:
    """Create ``dagster_home`` with its ``dagster.yaml`` (rewritten so the limits stay current)."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    path = dagster_home / "dagster.yaml"
    path.write_text(
        "# Written by integration_hub.instance for the embedded default; edit dagster.yaml at the project root\n"
        "# for production settings instead.\n" + yaml.safe_dump(embedded_instance_config(dagster_home), sort_keys=False)
    )
    return path
