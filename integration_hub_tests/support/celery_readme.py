"""The README's machine-checked configuration blocks: a fenced ``yaml`` block right after an HTML comment marker
(``<!-- k8s-run-launcher -->``, ``<!-- celery-worker-yaml -->``), so the tests load what a reader copies."""

from __future__ import annotations

import re
from typing import Any

import yaml

from integration_hub_tests.conftest import PROJECT_ROOT


def readme_block(marker: str) -> dict[str, Any]:
    """The YAML of the fenced block right after ``marker`` in README.md."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert readme.count(marker) == 1, f"README.md must have exactly one {marker}"
    found = re.search(re.escape(marker) + r"\s*```yaml\n(.*?)\n```", readme, re.DOTALL)
    assert found, f"no ```yaml block right after {marker}"
    return yaml.safe_load(found.group(1))
