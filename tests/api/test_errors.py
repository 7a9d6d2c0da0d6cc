"""Every error is ``{"error": {"type", "message", "hint"}}`` with the status that says what
kind it is; bad input is never a 500."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.conftest import assert_error
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
