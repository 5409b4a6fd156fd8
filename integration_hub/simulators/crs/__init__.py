"""CRS Soft simulator: the Uyumsoft ``Integration`` simulator in its CRS flavor.

CRS runs the Uyumsoft platform (``efatura.md`` §1.2 [I]: no CRS WSDL is public), so this is the same app,
validating against Uyumsoft's published WSDL/XSDs, with CRS's observed differences switched on:
``userInfo`` body authentication accepted next to WS-Security (taken off the body before validation: it
is not in the WSDL) and no ``Value`` on an empty listing. ``integration-hub simulate crs --port P ...``
takes the same options as ``simulate uyumsoft``.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from integration_hub.simulators.uyumsoft import main as _uyumsoft_main
from integration_hub.simulators.uyumsoft.app import create_app as _create_app

__all__ = ["create_app", "main"]


def create_app(**options: Any) -> Starlette:
    """:func:`integration_hub.simulators.uyumsoft.app.create_app` with ``flavor="crs"``."""
    return _create_app(**{**options, "flavor": "crs"})


def main(argv: list[str]) -> None:
    """``integration-hub simulate crs ...``."""
    _uyumsoft_main(argv, flavor="crs")
