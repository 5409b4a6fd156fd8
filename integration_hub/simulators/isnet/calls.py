"""The İşNet simulator's call log entry, apart so that the app and the state can both name it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SimCall:
    """One request the simulator answered. ``params`` holds the DataContract members the service read,
    ``ignored`` the elements DataContractSerializer skipped (out of order, unknown, another namespace)."""

    operation: str
    vkn: str | None
    status: int
    outcome: str | None = None  # "Success" | "Failed" | a WCF fault code
    params: dict[str, Any] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
