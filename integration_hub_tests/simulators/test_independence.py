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


def _package_of(path: Path, root: Path) -> list[str]:
    """The dotted package a module file belongs to (an ``__init__.py`` belongs to its own folder)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return parts[:-1]


def _imports(path: Path, root: Path | None = None) -> list[tuple[int, str]]:
    """Every module name ``path`` imports, relative imports resolved against ``root`` (the project root)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = _package_of(path, root or path.parent)
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names)
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
        for line, name in _imports(path, SIMULATORS_DIR.parent.parent)
        if name == FORBIDDEN or name.startswith(FORBIDDEN + ".")
    ]
    assert offenders == []


def test_the_check_resolves_relative_imports(tmp_path: Path):
    module = tmp_path / "integration_hub" / "simulators" / "edm" / "probe.py"
    module.parent.mkdir(parents=True)
    module.write_text("from ...connectors.edm import settings\nfrom .. import server\n")
    names = [name for _, name in _imports(module, tmp_path)]
    assert "integration_hub.connectors.edm" in names
    assert "integration_hub.simulators.server" in names


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
