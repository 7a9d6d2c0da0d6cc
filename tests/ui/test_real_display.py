"""The app in a real X server (Xvfb): the xcb platform plugin loads and the window opens.

Needs Xvfb and xdotool (``.ci/run`` installs them with the xcb libraries); skipped without.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import wait_until

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not shutil.which("Xvfb") or not shutil.which("xdotool"),
    reason="needs Linux with Xvfb and xdotool (apt install xvfb xdotool)",
)


@pytest.fixture
def display() -> Iterator[str]:
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1400x900x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    number = b""
    while not number.endswith(b"\n"):
        chunk = os.read(read, 16)
        if not chunk:
            break
        number += chunk
    os.close(read)
    assert number.strip(), "Xvfb did not start"
    display = f":{number.strip().decode()}"

    def accepts_clients() -> bool:
        probe = subprocess.run(
            ["xdotool", "getdisplaygeometry"],
            capture_output=True,
            env=dict(os.environ, DISPLAY=display),
        )
        return probe.returncode == 0

    wait_until(accepts_clients, timeout=30, what="the X server to accept clients")
    yield display
    server.terminate()
    server.wait(10)


def window_ids(display: str) -> list[str]:
    found = subprocess.run(
        ["xdotool", "search", "--name", "ScriptBatch"],
        env=dict(os.environ, DISPLAY=display),
        capture_output=True,
        text=True,
    )
    return found.stdout.split()


def test_the_window_opens_on_a_real_x_server_and_closes_cleanly(
    display: str, data_home: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env.update(DISPLAY=display, SCRIPTBATCH_HOME=str(data_home))
    app = subprocess.Popen(
        [sys.executable, "-m", "AppCode"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(
            lambda: window_ids(display) or app.poll() is not None,
            timeout=60,
            what="the main window on the X server",
        )
        assert app.poll() is None, app.stderr.read() if app.stderr else ""
        # The first start installs the examples (just after the window shows).
        wait_until(lambda: (data_home / "examples").is_dir(), timeout=30, what="the examples")
        # A second launch on the same data directory hands over to the first and exits.
        second = subprocess.run(
            [sys.executable, "-m", "AppCode"], env=env, timeout=60, capture_output=True, text=True
        )
        assert second.returncode == 0
        assert app.poll() is None
        app.send_signal(signal.SIGTERM)
        assert app.wait(30) == 0
    finally:
        if app.poll() is None:
            app.kill()
            app.wait(10)
