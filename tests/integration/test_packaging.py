"""The wheel carries config, migrations and examples, and the app finds them when installed."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from AppCode.infrastructure.data.migrations import SCHEMA_HEAD
from tests.conftest import REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "-w",
            str(out),
            str(REPO),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("scriptbatch-*.whl")
    return built


def test_wheel_holds_the_bundled_folders_and_entry_points(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "AppCode/_bundled/config/default.toml" in names
    assert "AppCode/_bundled/migrations/env.py" in names
    assert any(n.startswith("AppCode/_bundled/migrations/versions/v1_0_0") for n in names)
    assert "AppCode/_bundled/examples/csv_summary.py" in names
    assert "plugins/__init__.py" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[console_scripts]\nscriptbatch = AppCode.__main__:main" in text
    assert "[gui_scripts]\nscriptbatch-gui = AppCode.ui.app:main" in text


def test_installed_wheel_runs_from_its_own_files(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = dict(os.environ, PYTHONPATH=str(site), SCRIPTBATCH_HOME=str(tmp_path / "home"))
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import AppCode.utils.resources as r; print(r.bundled_path('config')); "
            "print(r.bundled_path('migrations'))",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
    )
    assert all(line.startswith(str(site)) for line in probe.stdout.splitlines())
    listed = subprocess.run(
        [sys.executable, "-m", "AppCode", "db", "upgrade"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert listed.returncode == 0, listed.stderr
    assert SCHEMA_HEAD in listed.stdout
