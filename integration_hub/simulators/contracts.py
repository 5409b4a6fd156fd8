"""Where the simulators find the providers' published contracts (WSDL/XSD, OpenAPI).

The contracts are the providers' files, kept read-only in the workspace's ``shared/`` folder beside the
project and never copied into it. A simulator that validates requests loads them from there:
``HUB_SHARED_DIR`` names the folder explicitly, otherwise it is the ``shared`` sibling of the checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class ContractNotFound(RuntimeError):
    """The provider's contract files are not where the simulator looks for them."""


def shared_dir() -> Path:
    """The read-only folder holding the providers' contracts."""
    configured = os.environ.get("HUB_SHARED_DIR")
    return Path(configured) if configured else PROJECT_ROOT.parent / "shared"


def contract_path(*parts: str) -> Path:
    """A contract file or folder under :func:`shared_dir`; raises :class:`ContractNotFound` naming it."""
    path = shared_dir().joinpath(*parts)
    if not path.exists():
        raise ContractNotFound(f"provider contract not found at {path} (set HUB_SHARED_DIR to the shared/ folder)")
    return path
