"""The other resources as a client uses them: scripts, metrics and findings, backups (with a
restore refused while a batch runs), users and tokens."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

from tests.api.conftest import (
    ClientFor,
    assert_error,
    finished_batch,
    make_token,
    start_gated_batch,
)
from tests.conftest import wait_until, write_script


def test_scripts_are_registered_listed_filtered_and_rescanned(
    admin: httpx.Client, tmp_path: Path
) -> None:
    report_script = write_script(tmp_path / "lib" / "report.py", '"""Nightly report."""\n')
    clean = write_script(tmp_path / "lib" / "clean.py")
    (tmp_path / "lib" / "notes.txt").write_text("not a script")

    registered = admin.post(
        "/scripts",
        json={"paths": [str(tmp_path / "lib"), str(tmp_path / "gone.py")], "tags": ["nightly"]},
    )

    assert registered.status_code == 200
    body = registered.json()
    assert sorted(s["path"] for s in body["added"]) == sorted([str(clean), str(report_script)])
    assert [r["path"] for r in body["rejected"]] == [str(tmp_path / "gone.py")]
    tagged = admin.get("/scripts", params={"tag": "nightly"}).json()["items"]
    assert len(tagged) == 2 and all(s["tags"] == ["nightly"] for s in tagged)
    found = admin.get("/scripts", params={"search": "nightly report"}).json()["items"]
    assert [s["path"] for s in found] == [str(report_script)]
    assert admin.get("/scripts", params={"tag": "other"}).json()["items"] == []
    one = admin.get(f"/scripts/{tagged[0]['id']}").json()
    assert one == tagged[0]

    clean.unlink()
    rescan = admin.post("/scripts/rescan").json()
    assert [s["path"] for s in rescan["missing"]] == [str(clean)]
    assert rescan["unchanged"] == 1


def test_metrics_and_findings(admin: httpx.Client, tmp_path: Path) -> None:
    script = write_script(tmp_path / "bad.py", "raise SystemExit(3)\n")
    batch_id = admin.post("/batches", json={"scripts": [str(script)]}).json()["id"]
    finished_batch(admin, batch_id)

    metrics = admin.get("/metrics", params={"since": "1h"})
    assert metrics.status_code == 200
    assert set(metrics.json()) == {"items", "next_cursor"}
    for sample in metrics.json()["items"]:
        assert {"at", "cpu_percent", "memory_used_bytes"} <= set(sample)
    ranged = admin.get("/metrics", params={"since": "2020-01-01", "until": "2020-01-02"})
    assert ranged.json() == {"items": [], "next_cursor": None}

    findings = admin.get("/findings", params={"batch": batch_id})
    assert findings.status_code == 200
    for finding in findings.json()["items"]:
        assert set(finding) == {"kind", "script", "message", "figures"}
    assert_error(admin.get("/findings", params={"batch": "nope"}), 404, "NotFoundError")


def test_backups_are_made_verified_and_restored_but_never_under_a_running_batch(
    admin: httpx.Client, tmp_path: Path
) -> None:
    made = admin.post("/backups", json={"note": "before the run"})
    assert made.status_code == 201
    backup = made.json()
    assert backup["note"] == "before the run" and backup["kind"] == "manual"
    listed = admin.get("/backups").json()["items"]
    assert [b["id"] for b in listed] == [backup["id"]]
    verified = admin.post(f"/backups/{backup['id']}/verify").json()
    assert verified["valid"] is True and verified["backup"]["verified_ok"] is True

    batch_id, gate = start_gated_batch(admin, tmp_path)
    wait_until(
        lambda: admin.get(f"/batches/{batch_id}").json()["executions"][0]["status"] == "running",
        what="the script to start",
    )

    refused = admin.post(f"/backups/{backup['id']}/restore")

    error = assert_error(refused, 409, "ConflictError")
    assert "a batch is running" in error["message"] and error["hint"]
    gate.touch()
    assert finished_batch(admin, batch_id)["status"] == "succeeded"
    restored = admin.post(f"/backups/{backup['id']}/restore")
    assert restored.status_code == 200, restored.text
    assert restored.json()["restored"]["id"] == backup["id"]
    assert restored.json()["pre_restore_backup"]["kind"] == "pre-restore"
    # The restored database is from before the batch: its history is gone again.
    assert_error(admin.get(f"/batches/{batch_id}"), 404, "NotFoundError")

    damaged = Path(backup["path"])
    damaged.write_bytes(damaged.read_bytes()[:200])
    answer = admin.post(f"/backups/{backup['id']}/verify").json()
    assert answer["valid"] is False and answer["problem"]["type"] == "BackupError"
    assert answer["problem"]["message"]


def test_a_batch_that_ran_during_a_backup_is_interrupted_once_that_backup_is_restored(
    admin: httpx.Client, tmp_path: Path
) -> None:
    batch_id, gate = start_gated_batch(admin, tmp_path)
    try:
        backup = admin.post("/backups").json()
    finally:
        gate.touch()
    finished_batch(admin, batch_id)

    assert admin.post(f"/backups/{backup['id']}/restore").status_code == 200

    restored = admin.get(f"/batches/{batch_id}").json()
    assert restored["status"] == "failed"
    assert [e["status"] for e in restored["executions"]] == ["interrupted"]
    assert admin.post(f"/batches/{batch_id}/cancel").json()["cancelled"] is False
    with admin.stream("GET", f"/batches/{batch_id}/events") as stream:  # ends at once
        kinds = [line for line in stream.iter_lines() if line.startswith("event: ")]
    assert kinds == ["event: snapshot", "event: batch_finished"]
    again = admin.post(f"/backups/{backup['id']}/restore")
    assert again.status_code == 200, again.text


def test_users_and_tokens_are_managed_by_an_admin(
    container: Any, admin: httpx.Client, client_for: ClientFor
) -> None:
    added = admin.post(
        "/users", json={"name": "bob", "role": "viewer", "password": "bobs-password"}
    )
    assert added.status_code == 201
    assert added.json()["name"] == "bob" and "password" not in added.text
    assert_error(
        admin.post("/users", json={"name": "bob", "role": "viewer"}), 400, "ConfigurationError"
    )
    assert admin.post("/users/bob/role", json={"role": "operator"}).json()["role"] == "operator"

    made = admin.post("/tokens", json={"user": "bob", "label": "ci", "expires_in": "30d"})
    assert made.status_code == 201
    token = made.json()
    assert token["secret"].startswith("sbt_") and token["expires_at"] and token["label"] == "ci"
    bob = client_for(token["secret"])
    me = bob.get("/me").json()
    assert (me["name"], me["role"]) == ("bob", "operator")
    listed = admin.get("/tokens", params={"user": "bob"}).json()["items"]
    assert [t["id"] for t in listed] == [token["id"]]
    assert token["secret"] not in admin.get("/tokens").text

    assert admin.post("/users/bob/disable").json()["disabled"] is True
    assert_error(bob.get("/me"), 401, "AuthenticationError")
    assert admin.post("/users/bob/enable").json()["disabled"] is False
    assert bob.get("/me").status_code == 200
    assert admin.post(f"/tokens/{token['id']}/revoke").json()["revoked_at"]
    assert_error(bob.get("/me"), 401, "AuthenticationError")

    users = admin.get("/users").json()["items"]
    assert "bob" in [u["name"] for u in users]
    audit = admin.get("/audit", params={"action": "add user"}).json()["items"]
    outcomes = [(e["user"], e["outcome"], e["target"]) for e in audit]
    assert outcomes == [("admin", "failed", "bob"), ("admin", "succeeded", "bob")]


def test_a_script_whose_name_is_not_utf8_is_listed_as_rejected_with_escapes(
    admin: httpx.Client, tmp_path: Path
) -> None:
    folder = tmp_path / "lib"
    good = write_script(folder / "good.py")
    with open(os.path.join(os.fsencode(folder), b"caf\xe9.py"), "w") as bad:
        bad.write("print('never')\n")

    registered = admin.post("/scripts", json={"paths": [str(folder)]})

    assert registered.status_code == 200, registered.text
    body = registered.json()
    assert [s["path"] for s in body["added"]] == [str(good)]
    assert body["rejected"] == [
        {"path": f"{folder}/caf\\xe9.py", "reason": "its name is not valid UTF-8; rename it"}
    ]


def test_only_an_admin_lists_someone_elses_tokens(
    container: Any, admin: httpx.Client, client_for: ClientFor
) -> None:
    olga = client_for(make_token(container, "olga", "operator"))
    make_token(container, "bob", "viewer")

    for name in ("bob", "nobody", "admin"):
        refused = olga.get("/tokens", params={"user": name})
        error = assert_error(refused, 403, "PermissionDeniedError")
        assert "'list API tokens' needs the 'admin' level" in error["message"]
    own = olga.get("/tokens", params={"user": "olga"}).json()["items"]
    assert [t["user"] for t in own] == ["olga"]
    assert [t["user"] for t in admin.get("/tokens", params={"user": "bob"}).json()["items"]] == [
        "bob"
    ]
    assert_error(admin.get("/tokens", params={"user": "nobody"}), 404, "NotFoundError")


def test_revoking_a_revoked_token_changes_nothing(
    container: Any, admin: httpx.Client, client_for: ClientFor
) -> None:
    make_token(container, "bob", "viewer")
    token = admin.get("/tokens", params={"user": "bob"}).json()["items"][0]

    first = admin.post(f"/tokens/{token['id']}/revoke")
    again = admin.post(f"/tokens/{token['id']}/revoke")

    assert first.status_code == again.status_code == 200
    assert first.json()["revoked_at"] and again.json() == first.json()
    listed = admin.get("/tokens", params={"user": "bob"}).json()["items"][0]
    assert listed["revoked_at"] == first.json()["revoked_at"]
    audit = admin.get("/audit", params={"action": "revoke API token"}).json()["items"]
    assert [e["outcome"] for e in audit] == ["succeeded"]
