"""Test-wide set-up: offscreen Qt, and a fresh data directory and settings for every test."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data directory; no SCRIPTBATCH_* setting leaks in."""
    for name in list(os.environ):
        if name.startswith("SCRIPTBATCH_"):
            monkeypatch.delenv(name)
    home = tmp_path / "data-home"
    monkeypatch.setenv("SCRIPTBATCH_HOME", str(home))
    return home


@pytest.fixture
def container(data_home: Path) -> Iterator[object]:
    """The real composition root on the test's data directory (SQLite file, migrated)."""
    from AppCode.container import build

    built = build(data_home)
    yield built
    built.shutdown_resources()


# A script that runs until the test creates the file {gate} (at most a minute).
WAIT_FOR_FILE = """\
import os, sys, time
print("waiting", flush=True)
deadline = time.monotonic() + 60
while not os.path.exists({gate!r}) and time.monotonic() < deadline:
    time.sleep(0.02)
print("released", flush=True)
"""

CliRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli(data_home: Path) -> CliRunner:
    """Run ``scriptbatch ARGS`` as a real subprocess on the test's data directory."""

    def run(
        *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        full_env = dict(os.environ, PYTHONIOENCODING="utf-8")
        full_env.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "AppCode", *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=full_env,
            cwd=cwd or data_home.parent,
            timeout=timeout,
        )

    return run


def wait_until(predicate: Callable[[], object], timeout: float = 20.0, what: str = "") -> None:
    """Poll ``predicate`` until it is true; fail after ``timeout`` seconds."""
    import threading
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        threading.Event().wait(0.02)


def write_script(path: Path, text: str = "print('hi')\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
