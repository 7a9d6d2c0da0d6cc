"""``scriptbatch serve`` as a user starts it: it says where it listens, answers, stops cleanly
on SIGTERM (0) and Ctrl-C (130), and never writes a token or a password to the app log."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import make_token
from tests.conftest import REPO

ADDRESS = re.compile(
    r"^ScriptBatch API on (http://127\.0\.0\.1:(\d+))/api/v1 \(docs: /api/v1/docs\)$"
)


def read_line(process: subprocess.Popen[str], timeout: float = 30) -> str:
    """The next line of the process's stdout, waiting at most ``timeout`` seconds."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, "the server printed nothing"
    return process.stdout.readline().rstrip("\n")


@pytest.fixture
def start_serve(data_home: Path) -> Iterator[Any]:
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> tuple[subprocess.Popen[str], str]:
        env = dict(os.environ, PYTHONIOENCODING="utf-8", SCRIPTBATCH_LOGGING__LEVEL="DEBUG")
        process = subprocess.Popen(
            [sys.executable, "-m", "AppCode", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=REPO,
        )
        started.append(process)
        line = read_line(process)
        match = ADDRESS.match(line)
        assert match, line
        assert int(match.group(2)) > 0
        return process, match.group(1)

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_serve_prints_its_address_answers_and_stops_on_sigterm(
    container: Any, data_home: Path, start_serve: Any
) -> None:
    secret = make_token(container)  # on the same data directory as the server
    process, address = start_serve()
    password = "very-secret-password-42"
    bogus = "sbt_never-issued-token-that-must-not-be-logged"

    with httpx.Client(base_url=f"{address}/api/v1", timeout=30) as client:
        health = client.get("/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        headers = {"Authorization": f"Bearer {secret}"}
        assert client.get("/me", headers=headers).json()["role"] == "admin"
        added = client.post(
            "/users", headers=headers, json={"name": "pia", "role": "viewer", "password": password}
        )
        assert added.status_code == 201, added.text
        short = client.post(
            "/users", headers=headers, json={"name": "pip", "role": "viewer", "password": "pw1"}
        )
        assert short.status_code == 400 and "pw1" not in short.text
        assert client.get("/me", headers={"Authorization": f"Bearer {bogus}"}).status_code == 401

    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0
    assert process.stderr is not None and "Traceback" not in process.stderr.read()

    log = (data_home / "logs" / "scriptbatch.log").read_text(encoding="utf-8")
    assert '"POST /api/v1/users HTTP/1.1" 201' in log  # the server did log, at DEBUG
    for never in (secret, password, "pw1", bogus, "Bearer"):
        assert never not in log, f"{never!r} is in the app log"


def test_ctrl_c_stops_serve_with_exit_code_130(start_serve: Any) -> None:
    process, address = start_serve()
    assert httpx.get(f"{address}/api/v1/health", timeout=30).status_code == 200

    process.send_signal(signal.SIGINT)

    assert process.wait(30) == 130
    assert process.stderr is not None and "Traceback" not in process.stderr.read()
    with pytest.raises(httpx.ConnectError):  # nothing listens there any more
        httpx.get(f"{address}/api/v1/health", timeout=5)


def test_serve_refuses_a_port_in_use(cli: Any, start_serve: Any) -> None:
    _process, address = start_serve()
    port = address.rsplit(":", 1)[1]

    busy = cli("serve", "--port", port, timeout=60)

    assert busy.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in busy.stderr and "--port" in busy.stderr
