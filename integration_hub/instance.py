"""The Dagster instance of the embedded default, and the run-queue limits shared with production.

Production uses the project's ``dagster.yaml`` (PostgreSQL storage from ``DAGSTER_PG_*``); ``make demo``
and ``make ui`` use a SQLite instance under ``$HUB_HOME/dagster`` whose ``dagster.yaml`` this module
writes. Both carry the same run-queue limits (a test keeps them equal):

* ``hub/credential`` — one run at a time per (integration, company): a credential is never used by two
  runs at once (providers rate-limit per account, and EDM sessions are per login);
* ``hub/integration`` — at most 4 concurrent runs per provider;
* pools — at most 2 concurrent steps per provider API pool by default.
"""

from __future__ import annotations

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


def embedded_instance_config() -> dict[str, Any]:
    """SQLite storage (Dagster's default under DAGSTER_HOME) plus the shared limits."""
    return {
        "concurrency": CONCURRENCY,
        "telemetry": {"enabled": False},
        "run_monitoring": {"enabled": True, "poll_interval_seconds": 30},
    }


def ensure_embedded_instance(dagster_home: Path) -> Path:
    """Create ``dagster_home`` with its ``dagster.yaml`` (rewritten so the limits stay current)."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    path = dagster_home / "dagster.yaml"
    path.write_text(
        "# Written by integration_hub.instance for the embedded default; edit dagster.yaml at the project root\n"
        "# for production settings instead.\n" + yaml.safe_dump(embedded_instance_config(), sort_keys=False)
    )
    return path
