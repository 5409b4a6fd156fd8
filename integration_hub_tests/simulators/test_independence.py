"""The simulators are written from the providers' contracts, never from the connectors.

A simulator that imports a connector's constants or parsers agrees with it by construction: a wrong
namespace or element order would then pass every test. This reads every simulator module's imports
(including lazy ones inside functions) and fails on any import of ``integration_hub.connectors``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import integration_hub.simulators

SIMULATORS_DIR = Path(integration_hub.simulators.__file__).parent
FORBIDDEN = "integration_hub.connectors"


def _imports(path: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module",
            "__import__",
        ):
            found.extend(
                (node.lineno, arg.value)
                for arg in node.args
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            )
    return found


def test_no_simulator_module_imports_a_connector():
    modules = sorted(SIMULATORS_DIR.rglob("*.py"))
    assert len(modules) > 20  # the walk really reads the simulator packages
    offenders = [
        f"{path.relative_to(SIMULATORS_DIR.parent.parent)}:{line} imports {name}"
        for path in modules
        for line, name in _imports(path)
        if name == FORBIDDEN or name.startswith(FORBIDDEN + ".")
    ]
    assert offenders == []


def test_the_check_sees_a_connector_import(tmp_path: Path):
    module = tmp_path / "probe.py"
    module.write_text(
        "import integration_hub.connectors.edm\n"
        "def lazy():\n    from integration_hub.connectors.uyumsoft import settings\n"
        "importlib.import_module('integration_hub.connectors.isnet')\n"
        "from integration_hub import connectors\n"
    )
    names = [name for _, name in _imports(module)]
    assert "integration_hub.connectors.edm" in names
    assert "integration_hub.connectors.uyumsoft" in names
    assert "integration_hub.connectors.isnet" in names
    assert "integration_hub.connectors" in names
