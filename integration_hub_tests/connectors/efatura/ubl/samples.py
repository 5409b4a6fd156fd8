"""Where the six public UBL-TR samples live (read-only, outside the repository)."""

from __future__ import annotations

from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[4] / ".." / "shared" / "efatura-samples"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()
