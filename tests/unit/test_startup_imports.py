"""What the CLI imports at start-up: every command pays for it (see AppCode.utils.imports)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from AppCode.utils.imports import import_without


def test_import_without_refuses_a_package_only_inside_the_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "sb_optional_probe"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    with import_without("sb_optional_probe"):
        with pytest.raises(ImportError):
            import sb_optional_probe
        with pytest.raises(ImportError):
            import sb_optional_probe.sub
    import sb_optional_probe.sub

    assert sb_optional_probe.sub.__name__ == "sb_optional_probe.sub"
    monkeypatch.delitem(sys.modules, "sb_optional_probe")
    monkeypatch.delitem(sys.modules, "sb_optional_probe.sub")


def test_the_cli_does_not_import_the_api_stack_or_yaml() -> None:
    """FastAPI, Starlette and PyYAML cost ~0.25 s; only ``scriptbatch serve`` needs FastAPI."""
    probe = (
        "import sys, AppCode.cli.main, AppCode.container; "
        "print(sorted(m for m in ('fastapi', 'starlette', 'yaml', 'werkzeug') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
