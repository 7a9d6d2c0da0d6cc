"""Running batches through the API: start, follow (polling and server-sent events), read the
output (with ranges), page through the history, cancel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from AppCode.services.json_shapes import batch_json
from tests.api.conftest import (
    ADMIN,
    WAIT_FOR_FILE,
    ClientFor,
    assert_error,
    finished_batch,
    make_token,
    start_gated_batch,
)
from tests.conftest import REPO, wait_until, write_script


def test_an_operator_runs_a_batch_to_completion_and_reads_its_output(
    container: Any, client_for: ClientFor, tmp_path: Path
) -> None:
    script = write_script(
        tmp_path / "hello.py",
        "import sys\nprint('hello', sys.argv[1], flush=True)\n"
        "print('oops', file=sys.stderr, flush=True)\n",
    )
    operator = client_for(make_token(container, "olga", "operator"))

    started = operator.post(
        "/batches",
        json={"scripts": [str(script)], "jobs": 1, "timeout_s": 60, "retries": 0, "args": ["you"]},
    )

    assert started.status_code == 202, started.text
    batch_id = started.json()["id"]
    assert started.headers["location"] == f"/api/v1/batches/{batch_id}"
    assert started.json()["summary"]["total"] == 1
    final = finished_batch(operator, batch_id)
    with container.access().acting_as(ADMIN):
        stored = container.history_service().batch(batch_id)
    assert final == {"id": batch_id, **batch_json(*stored)}  # exactly the run --json shape
    assert final["status"] == "succeeded"
    execution = final["executions"][0]
    assert (execution["status"], execution["exit_code"], execution["args"]) == (
        "succeeded",
        0,
        ["you"],
    )
    listed = operator.get("/batches").json()["items"]
    assert [(b["id"], b["created_by"]) for b in listed] == [(batch_id, "olga")]

    output = operator.get(f"/executions/{execution['id']}/output")
    assert output.status_code == 200
    assert output.headers["content-type"].startswith("text/plain")
    assert output.headers["accept-ranges"] == "bytes"
    assert output.text == "hello you\noops\n"

    middle = operator.get(f"/executions/{execution['id']}/output", headers={"Range": "bytes=6-8"})
    assert middle.status_code == 206
    assert middle.text == "you" and middle.headers["content-range"] == "bytes 6-8/15"
    tail = operator.get(f"/executions/{execution['id']}/output", headers={"Range": "bytes=-5"})
    assert (tail.status_code, tail.text) == (206, "oops\n")
    beyond = operator.get(f"/executions/{execution['id']}/output", headers={"Range": "bytes=99-"})
    assert_error(beyond, 416, "RangeNotSatisfiable")
    assert beyond.headers["content-range"] == "bytes */15"

    one = operator.get(f"/executions/{execution['id'][:12]}").json()  # a prefix will do
    assert one["id"] == execution["id"]
    assert [a["status"] for a in one["attempt_list"]] == ["succeeded"]


def test_history_pages_follow_the_cursor(
    container: Any, admin: httpx.Client, tmp_path: Path
) -> None:
    script = write_script(tmp_path / "each.py", "import sys\nprint(sys.argv[1])\n")
    started = admin.post(
        "/batches",
        json={"scripts": [str(script)], "jobs": 2, "each_args": [[str(n)] for n in range(5)]},
    )
    batch_id = started.json()["id"]
    finished_batch(admin, batch_id)

    seen, cursor, pages = [], None, 0
    while True:
        params: dict[str, Any] = {"batch": batch_id, "limit": 2, "status": "succeeded"}
        if cursor:
            params["cursor"] = cursor
        page = admin.get("/executions", params=params).json()
        seen += [e["id"] for e in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 5
    assert admin.get("/executions", params={"status": "failed,blocked"}).json()["items"] == []
    assert len(admin.get("/executions", params={"since": "1h"}).json()["items"]) == 5
    assert admin.get("/executions", params={"until": "1h"}).json()["items"] == []

    scripts = [write_script(tmp_path / "lib" / f"s{n}.py") for n in range(3)]
    assert admin.post("/scripts", json={"paths": [str(tmp_path / "lib")]}).status_code == 200
    first = admin.get("/scripts", params={"limit": 2}).json()
    second = admin.get("/scripts", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [s["path"] for s in first["items"] + second["items"]] == [str(s) for s in scripts]
    assert second["next_cursor"] is None

    wrong_list = admin.get("/batches", params={"cursor": first["next_cursor"]})
    assert_error(wrong_list, 400, "ConfigurationError")
    assert_error(admin.get("/executions", params={"cursor": "garbage"}), 400, "ConfigurationError")


def read_events(lines: Iterator[str]) -> list[tuple[str, dict[str, Any]]]:
    """Every ``event:``/``data:`` pair of a server-sent event stream until it ends."""
    events, kind = [], None
    for line in lines:
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: ") and kind is not None:
            events.append((kind, json.loads(line.removeprefix("data: "))))
            kind = None
    return events


def test_the_event_stream_carries_the_batch_and_ends_with_it(
    admin: httpx.Client, tmp_path: Path
) -> None:
    batch_id, gate = start_gated_batch(admin, tmp_path)

    with admin.stream("GET", f"/batches/{batch_id}/events") as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        assert next(lines) == "event: snapshot"
        snapshot = json.loads(next(lines).removeprefix("data: "))
        assert snapshot["id"] == batch_id and snapshot["summary"]["total"] == 1
        gate.touch()  # only now can the script finish: its events come after the snapshot
        events = read_events(lines)

    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "batch_finished" and kinds.count("batch_finished") == 1
    assert "execution_finished" in kinds
    output = "".join(
        chunk["text"] for kind, data in events if kind == "output" for chunk in data["chunks"]
    )
    assert "released" in output
    assert events[-1][1]["status"] == "succeeded"
    assert events[-1][1]["executions"][0]["status"] == "succeeded"

    with admin.stream("GET", f"/batches/{batch_id[:10]}/events") as again:  # already finished
        assert [kind for kind, _ in read_events(again.iter_lines())] == [
            "snapshot",
            "batch_finished",
        ]
    assert_error(admin.get("/batches/nope/events"), 404, "NotFoundError")


def test_cancel_stops_a_running_batch(admin: httpx.Client, tmp_path: Path) -> None:
    batch_id, _never_opened = start_gated_batch(admin, tmp_path)

    cancelled = admin.post(f"/batches/{batch_id}/cancel")

    assert cancelled.status_code == 202 and cancelled.json() == {"id": batch_id, "cancelled": True}
    final = finished_batch(admin, batch_id, timeout=30)
    assert final["status"] == "cancelled"
    assert final["executions"][0]["status"] == "cancelled"
    again = admin.post(f"/batches/{batch_id}/cancel").json()
    assert again == {"id": batch_id, "cancelled": False}


def test_the_event_stream_of_a_batch_another_process_runs_ends_with_it(
    admin: httpx.Client, tmp_path: Path, data_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("AppCode.api.events.RECHECK_S", 0.5)
    gate = tmp_path / "gate"
    script = write_script(tmp_path / "gated.py", WAIT_FOR_FILE.format(gate=str(gate)))
    run = subprocess.Popen(
        [sys.executable, "-m", "AppCode", "--data-dir", str(data_home), "run", str(script)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
    )
    try:
        wait_until(lambda: admin.get("/batches").json()["items"], what="the CLI's batch")
        batch_id = admin.get("/batches").json()["items"][0]["id"]
        with admin.stream("GET", f"/batches/{batch_id}/events") as stream:
            lines = stream.iter_lines()
            assert next(lines) == "event: snapshot"
            gate.touch()
            events = read_events(lines)
        assert run.wait(60) == 0
    finally:
        gate.touch()
        run.wait(60)
    assert [kind for kind, _ in events] == ["batch_finished"]  # no live events: polled
    assert events[0][1]["status"] == "succeeded"


def test_a_client_cannot_point_the_server_at_a_scheduler_of_its_choice(
    container: Any, client_for: ClientFor, tmp_path: Path
) -> None:
    """The server would trust that scheduler with its own process (it unpickles results)."""
    operator = client_for(make_token(container, "olga", "operator"))
    script = write_script(tmp_path / "a.py")
    refused = operator.post(
        "/batches", json={"scripts": [str(script)], "scheduler": "tcp://evil.example:8786"}
    )
    assert "scheduler" in assert_error(refused, 400, "ValidationError")["message"]


def test_a_sandbox_policy_is_chosen_by_name_never_by_a_server_file_path(
    admin: httpx.Client, data_home: Path, tmp_path: Path
) -> None:
    script = write_script(tmp_path / "a.py")
    secret = tmp_path / "secret.toml"
    secret.write_text('api_key = "hunter2"\n', encoding="utf-8")
    for path in ("/etc/shadow", "/etc/passwd", str(secret), "../../etc/hosts"):
        refused = admin.post("/batches", json={"scripts": [str(script)], "sandbox_policy": path})
        error = assert_error(refused, 400, "ConfigurationError")
        assert "not a sandbox policy of this server" in error["message"]
        assert "off, standard, strict" in error["hint"]
        assert "api_key" not in refused.text and "TOML" not in refused.text

    (data_home / "policies").mkdir()
    (data_home / "policies" / "tight.toml").write_text("base = 'strict'\n", encoding="utf-8")
    custom = admin.post("/batches", json={"scripts": [str(script)], "sandbox_policy": "tight"})
    assert custom.status_code == 202, custom.text
    assert finished_batch(admin, custom.json()["id"])["status"] == "succeeded"
    assert admin.get("/batches").json()["items"][0]["sandbox_policy"] == "tight"


def test_only_an_admin_may_name_the_python_that_runs_a_batch(
    container: Any, client_for: ClientFor, tmp_path: Path
) -> None:
    """The server runs that file unsandboxed (to check it is a Python)."""
    ran = tmp_path / "ran"
    fake_python = tmp_path / "python"
    fake_python.write_text(f"#!/bin/sh\ntouch {ran}\n", encoding="utf-8")
    fake_python.chmod(0o755)
    script = write_script(tmp_path / "a.py")
    operator = client_for(make_token(container, "olga", "operator"))

    refused = operator.post("/batches", json={"scripts": [str(script)], "python": str(fake_python)})

    error = assert_error(refused, 403, "PermissionDeniedError")
    assert "'admin' level" in error["message"]
    assert not ran.exists()
    admin = client_for(make_token(container))
    allowed = admin.post("/batches", json={"scripts": [str(script)], "python": sys.executable})
    assert allowed.status_code == 202, allowed.text
    assert finished_batch(admin, allowed.json()["id"])["status"] == "succeeded"


@pytest.mark.parametrize(
    "options",
    [
        {"jobs": "2"},
        {"jobs": True},
        {"retries": "1"},
        {"timeout_s": "5"},
        {"fail_fast": "yes"},
        {"no_sandbox": "true"},
        {"args": [1]},
        {"sandbox_overrides": {"network": "yes"}},
        {"sandbox_overrides": {"memory_limit_mb": "512"}},
    ],
)
def test_a_wrong_json_type_is_refused_not_coerced(
    admin: httpx.Client, tmp_path: Path, options: dict[str, Any]
) -> None:
    script = write_script(tmp_path / "a.py")

    refused = admin.post("/batches", json={"scripts": [str(script)], **options})

    error = assert_error(refused, 400, "ValidationError")
    assert f"body.{next(iter(options))}" in error["message"]
    assert admin.get("/batches").json()["items"] == []


@pytest.mark.parametrize("env", [{"A=B": "x"}, {"": "x"}, {"A": "x\u0000y"}, {"A\u0000": "x"}])
def test_an_environment_no_process_can_have_is_refused(
    admin: httpx.Client, tmp_path: Path, env: dict[str, str]
) -> None:
    script = write_script(tmp_path / "a.py")

    refused = admin.post("/batches", json={"scripts": [str(script)], "env": env})

    assert "body.env" in assert_error(refused, 400, "ValidationError")["message"]
    assert admin.get("/batches").json()["items"] == []


def test_the_answer_says_which_scripts_of_a_folder_were_skipped(
    admin: httpx.Client, tmp_path: Path
) -> None:
    folder = tmp_path / "jobs"
    good = write_script(folder / "good.py")
    with open(os.path.join(os.fsencode(folder), b"bad\xff.py"), "w") as bad:
        bad.write("print('never')\n")

    started = admin.post("/batches", json={"scripts": [str(folder)]})

    assert started.status_code == 202, started.text
    body = started.json()
    assert [e["script"] for e in body["executions"]] == [str(good)]
    assert body["skipped"] == [
        {"path": f"{folder}/bad\\xff.py", "reason": "its name is not valid UTF-8; rename it"}
    ]
    assert finished_batch(admin, body["id"])["status"] == "succeeded"


def test_executions_that_have_not_run_show_the_batchs_policy(
    admin: httpx.Client, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    script = write_script(tmp_path / "gated.py", WAIT_FOR_FILE.format(gate=str(gate)))
    try:
        started = admin.post(
            "/batches", json={"scripts": [str(script)] * 2, "jobs": 1, "sandbox_policy": "strict"}
        )
        assert started.status_code == 202, started.text
        second = started.json()["executions"][1]  # waits for the first: pending
        assert second["status"] == "pending"
        assert second["sandbox"] == {"policy": "strict", "layers": [], "degraded": False}
    finally:
        gate.touch()
    final = finished_batch(admin, started.json()["id"])
    assert {e["sandbox"]["policy"] for e in final["executions"]} == {"strict"}
