"""Layer rules import-linter cannot express (the rest are contracts in pyproject.toml)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

VIEWMODELS = sorted((REPO / "AppCode" / "ui" / "viewmodels").glob("*.py"))


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", VIEWMODELS, ids=lambda p: p.name)
def test_viewmodels_use_qtcore_only(path: Path) -> None:
    for module in imported_modules(path):
        if module.startswith("PyQt5"):
            assert module == "PyQt5.QtCore", f"{path.name} imports {module}"
        assert not module.startswith("sqlalchemy"), f"{path.name} imports {module}"
