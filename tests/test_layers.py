"""The package's layers hold (docs/ARCHITECTURE.md, ``[tool.importlinter]`` in pyproject.toml).

``lint-imports`` runs in CI on the real package; here it runs on a copy of the package, as it is
and with one wrong-way import planted, to show that the contracts catch it. A plain AST scan
checks that no module imports another module's private (``_name``) names.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "coverage" / "carecover"

pytest.importorskip("importlinter")


def _lint(tmp_path: Path, plant: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``lint-imports`` on a copy of the package (its ``.py`` files) with ``plant`` appended
    to the named modules (paths relative to the package)."""
    src = tmp_path / "src"
    shutil.copytree(PACKAGE, src / "carecover", ignore=lambda d, names: [
        n for n in names if not n.endswith(".py") and not (Path(d) / n).is_dir()] + ["__pycache__"])
    for rel, text in (plant or {}).items():
        with open(src / "carecover" / rel, "a", encoding="utf-8") as f:
            f.write("\n" + text + "\n")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
                               "sys.exit(lint_imports_command())", "--no-cache"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def test_the_contracts_hold_and_fail_on_a_planted_wrong_way_import(tmp_path):
    kept = _lint(tmp_path / "as_is")
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert "BROKEN" not in kept.stdout and "0 broken" in kept.stdout
    # the street network importing the command line: a lower layer importing the top one
    broken = _lint(tmp_path / "planted", {"network/engine.py": "import carecover.cli  # noqa"})
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "carecover.network is not allowed to import carecover.cli" in broken.stdout
    assert "carecover.network.engine -> carecover.cli" in broken.stdout


def test_a_cycle_between_sibling_modules_fails(tmp_path):
    # the covering model asking its solver by name again (the old "exact" → Highs() shortcut)
    broken = _lint(tmp_path, {"siting/model.py": "from carecover.siting.highs import Highs  # noqa"})
    assert broken.returncode == 1, broken.stdout
    assert "No cycles are allowed in carecover.siting" in broken.stdout


def test_a_stage_reading_the_package_defaults_fails(tmp_path):
    # the isochrone grid sized from the default walking speed again instead of the run's
    broken = _lint(tmp_path, {"network/field.py": "from carecover import settings  # noqa"})
    assert broken.returncode == 1, broken.stdout
    assert "carecover.network.field is not allowed to import carecover.settings" in broken.stdout


def _private_imports(root: Path) -> list[str]:
    """Every ``from carecover.x import _name`` and ``module._name`` of an imported carecover
    module in the files under ``root``."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("carecover"):
                for a in node.names:
                    modules.add(a.asname or a.name)
                    if a.name.startswith("_") and not a.name.startswith("__"):
                        found.append(f"{path}:{node.lineno}: from {node.module} import {a.name}")
            elif isinstance(node, ast.Import):
                modules |= {a.asname or a.name.split(".")[0] for a in node.names if a.name.startswith("carecover")}
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                base = node.value
                while isinstance(base, ast.Attribute):
                    base = base.value
                if isinstance(base, ast.Name) and base.id in modules:
                    found.append(f"{path}:{node.lineno}: {ast.unparse(node)}")
    return found


@pytest.mark.parametrize("folder", ["coverage", "scripts"])
def test_no_private_name_is_imported_across_modules(folder):
    assert _private_imports(ROOT / folder) == []


def test_the_private_name_check_finds_one(tmp_path):
    (tmp_path / "m.py").write_text("from carecover.cli import _units\nimport carecover.network.field as f\n"
                                   "f._simplified\n", encoding="utf-8")
    assert len(_private_imports(tmp_path)) == 2
