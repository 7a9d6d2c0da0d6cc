"""Every error is ``{"error": {"type", "message", "hint"}}`` with the status that says what
kind it is; bad input is never a 500."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import ADMIN, ClientFor, assert_error, finished_batch, make_token
from tests.conftest import write_script


def test_unknown_things_are_404_in_the_error_shape(admin: httpx.Client) -> None:
    route = assert_error(admin.get("/no/such/thing"), 404, "NotFoundError")
    assert "/api/v1/no/such/thing" in route["message"] and "/api/v1/docs" in route["hint"]
    batch = assert_error(admin.get("/batches/01zzzzzzzz"), 404, "NotFoundError")
    assert "01zzzzzzzz" in batch["message"] and batch["hint"]
    assert_error(admin.get("/executions/nope"), 404, "NotFoundError")
    assert_error(admin.get("/executions/nope/output"), 404, "NotFoundError")
    assert_error(admin.get("/scripts/12345"), 404, "NotFoundError")
    assert_error(admin.post("/backups/nope/verify"), 404, "NotFoundError")
    assert_error(admin.post("/users/nobody/disable"), 404, "NotFoundError")
    assert_error(admin.post("/tokens/999/revoke"), 404, "NotFoundError")
    assert_error(admin.delete("/batches"), 405, "MethodNotAllowed")


def test_bad_requests_are_400_in_the_error_shape(admin: httpx.Client, tmp_path: Path) -> None:
    malformed = admin.post(
        "/batches", content=b'{"scripts": [', headers={"Content-Type": "application/json"}
    )
    assert "not valid JSON" in assert_error(malformed, 400, "ValidationError")["message"]
    missing = assert_error(admin.post("/batches", json={"jobs": 2}), 400, "ValidationError")
    assert "body.scripts" in missing["message"] and missing["hint"]
    wrong = admin.post("/batches", json={"scripts": ["/x.py"], "jobs": "many", "colour": 1})
    message = assert_error(wrong, 400, "ValidationError")["message"]
    assert "body.jobs" in message and "body.colour" in message
    assert_error(admin.post("/batches", json=["/x.py"]), 400, "ValidationError")
    assert_error(admin.post("/batches"), 400, "ValidationError")

    assert_error(admin.get("/batches", params={"limit": 501}), 400, "ValidationError")
    assert_error(admin.get("/batches", params={"limit": "ten"}), 400, "ValidationError")
    status = assert_error(
        admin.get("/executions", params={"status": "great"}), 400, "ConfigurationError"
    )
    assert "'great'" in status["message"] and "succeeded" in status["hint"]
    since = assert_error(
        admin.get("/metrics", params={"since": "last tuesday"}), 400, "ConfigurationError"
    )
    assert since["message"].startswith("since:")
    assert_error(admin.get("/metrics", params={"since": "99999999999d"}), 400, "ConfigurationError")
    assert admin.get("/metrics", params={"since": "0001-01-01"}).status_code in (200, 400)
    assert_error(admin.post("/tokens", json={"expires_in": "99999999d"}), 400, "ConfigurationError")
    # "" is a mistake, not "never" (that is leaving expires_in out)
    assert_error(admin.post("/tokens", json={"expires_in": ""}), 400, "ConfigurationError")
    assert_error(
        admin.post("/users", json={"name": "a b", "role": "viewer"}), 400, "ConfigurationError"
    )
    short = admin.post("/users", json={"name": "ann", "role": "viewer", "password": "short"})
    assert "too short" in assert_error(short, 400, "ConfigurationError")["message"]
    assert_error(admin.post("/backups/../restore"), 404, "NotFoundError")
    assert_error(admin.post("/backups/x.zip/verify"), 400, "ValidationError")

    folder = tmp_path / "empty"
    folder.mkdir()
    empty = admin.post("/batches", json={"scripts": [str(folder)]})
    assert "no Python scripts" in assert_error(empty, 400, "ConfigurationError")["message"]
    script = write_script(tmp_path / "ok.py")
    policy = admin.post("/batches", json={"scripts": [str(script)], "sandbox_policy": "nope"})
    assert policy.status_code == 400, policy.text


def test_an_unexpected_failure_is_a_500_without_details_and_logged(
    container: Any, admin: httpx.Client, data_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(limit: int = 50) -> list[Any]:
        raise RuntimeError("secret internals at /srv/x")

    monkeypatch.setattr(container.history_service(), "batches", broken)

    error = assert_error(admin.get("/batches"), 500, "InternalError")

    assert "secret internals" not in error["message"] and "logs/scriptbatch.log" in error["message"]
    log = (data_home / "logs" / "scriptbatch.log").read_text(encoding="utf-8")
    assert "RuntimeError: secret internals at /srv/x" in log and "GET /api/v1/batches" in log


def test_mistakes_in_a_body_field_are_validation_errors_naming_the_field(
    admin: httpx.Client, tmp_path: Path
) -> None:
    script = str(write_script(tmp_path / "ok.py"))
    for body, field in (
        ({"scripts": [""]}, "body.scripts"),
        ({"scripts": ["/tmp/\udc80.py"]}, "body.scripts"),
        ({"scripts": [script], "timeout_s": 1e308}, "body.timeout_s"),
        ({"scripts": [script], "sandbox_overrides": {"allow_write": [""]}}, "allow_write"),
        ({"scripts": [script], "note": "x" * 2001}, "body.note"),
    ):
        raw = json.dumps(body).encode()  # json.dumps escapes the lone surrogate
        answer = admin.post("/batches", content=raw, headers={"Content-Type": "application/json"})
        error = assert_error(answer, 400, "ValidationError")
        assert field in error["message"] and error["hint"], body
    surrogate = admin.post(
        "/scripts",
        content=b'{"paths": ["/tmp/\\udc80"]}',
        headers={"Content-Type": "application/json"},
    )
    assert "body.paths" in assert_error(surrogate, 400, "ValidationError")["message"]


def test_a_body_that_is_not_utf8_is_a_validation_error(admin: httpx.Client) -> None:
    answer = admin.post(
        "/batches", content=b'{"scripts": ["\xff"]}', headers={"Content-Type": "application/json"}
    )
    assert "UTF-8" in assert_error(answer, 400, "ValidationError")["message"]


def test_who_is_asking_is_checked_before_what_they_send(
    container: Any, client_for: ClientFor
) -> None:
    anonymous = client_for(None)
    json_header = {"Content-Type": "application/json"}
    for content in (b'{"scripts": [', b'{"jobs": "x"}', b"\xff", b"[]"):
        answer = anonymous.post("/batches", content=content, headers=json_header)
        assert_error(answer, 401, "AuthenticationError")
    assert_error(
        client_for("sbt_unknown").post("/users", content=b"{", headers=json_header),
        401,
        "AuthenticationError",
    )

    viewer = client_for(make_token(container, "vera", "viewer"))
    for content in (b'{"name": ""}', b"{", b'{"name": "x", "role": "boss"}'):
        answer = viewer.post("/users", content=content, headers=json_header)
        assert "'add user'" in assert_error(answer, 403, "PermissionDeniedError")["message"]
    refused = viewer.post("/batches", json={"scripts": [""], "jobs": "x"})
    assert_error(refused, 403, "PermissionDeniedError")
    assert_error(viewer.post("/backups", json={"note": 5}), 403, "PermissionDeniedError")
    assert_error(viewer.post("/scripts", json={"paths": 5}), 403, "PermissionDeniedError")
    operator = client_for(make_token(container, "olga", "operator"))
    assert_error(
        operator.put("/plugins/email_notify/settings", content=b"{", headers=json_header),
        403,
        "PermissionDeniedError",
    )
    with container.access().acting_as(ADMIN):
        denials = container.user_service().audit(user="vera", action="add user")
    assert [e.outcome for e in denials] == ["denied"] * 3


def test_an_ambiguous_backup_id_prefix_is_a_configuration_error(admin: httpx.Client) -> None:
    first = admin.post("/backups").json()["id"]
    second = admin.post("/backups").json()["id"]
    prefix = first[: next(i for i, (a, b) in enumerate(zip(first, second, strict=True)) if a != b)]
    assert prefix  # ids begin with their time

    error = assert_error(admin.post(f"/backups/{prefix}/verify"), 400, "ConfigurationError")

    assert "ambiguous" in error["message"] and error["hint"]
    assert_error(admin.post(f"/backups/{prefix}/restore"), 400, "ConfigurationError")


def test_an_output_that_cannot_be_read_is_a_conflict_not_a_crash(
    admin: httpx.Client, tmp_path: Path
) -> None:
    script = write_script(tmp_path / "talk.py", "print('hello')\n")
    batch_id = admin.post("/batches", json={"scripts": [str(script)]}).json()["id"]
    execution = finished_batch(admin, batch_id)["executions"][0]
    log_path = Path(execution["log_path"])
    log_path.unlink()
    log_path.mkdir()  # something else took its place

    error = assert_error(admin.get(f"/executions/{execution['id']}/output"), 409, "ConflictError")

    assert str(log_path) in error["message"] and error["hint"]
