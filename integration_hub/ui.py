"""``make ui``: ``dagster dev`` on 127.0.0.1:3000 against the embedded instance under ``$HUB_HOME/dagster``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from integration_hub.instance import enable_event_batching, ensure_embedded_instance
from integration_hub.settings import HubSettings


def main(argv: list[str] | None = None) -> None:
    settings = HubSettings.from_env()
    dagster_home = Path(os.environ.get("DAGSTER_HOME") or settings.dagster_home)
    ensure_embedded_instance(dagster_home)
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    os.environ["HUB_HOME"] = str(settings.home)
    enable_event_batching()  # for the webserver, the daemon and the run workers dagster dev starts
    project = Path(__file__).resolve().parents[1]
    port = os.environ.get("HUB_UI_PORT", "3000")
    args = ["dagster", "dev", "-h", "127.0.0.1", "-p", port, "-w", str(project / "workspace.yaml"), *(argv or [])]
    dagster = Path(sys.executable).with_name("dagster")
    os.execv(str(dagster), args)  # noqa: S606 - replaces this process with dagster dev


if __name__ == "__main__":
    main(sys.argv[1:])
