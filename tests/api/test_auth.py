"""Tokens and roles over HTTP: who gets in, and that the role of the token is the one that
the services check (not the desktop's administrator)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from AppCode.api.server import ApiServer
from tests.api.conftest import ADMIN, ClientFor, assert_error, make_token
from tests.conftest import write_script


def test_requests_without_a_valid_token_get_401_in_the_error_shape(
    container: Any, client_for: ClientFor
) -> None:
    missing = client_for(None).get("/batches")
    error = assert_error(missing, 401, "AuthenticationError")
    assert missing.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in error["hint"]

    assert_error(client_for("sbt_not-a-token").get("/batches"), 401, "AuthenticationError")
    basic = client_for(None).get("/batches", headers={"Authorization": "Basic YTpi"})
    assert_error(basic, 401, "AuthenticationError")

    secret = make_token(container, "rita", "operator")
    rita = client_for(secret)
    assert rita.get("/me").json()["name"] == "rita"
    mine = rita.get("/tokens").json()["items"]
    assert [t["user"] for t in mine] == ["rita"] and "secret" not in mine[0]
    assert rita.post(f"/tokens/{mine[0]['id']}/revoke").status_code == 200
    revoked = assert_error(rita.get("/me"), 401, "AuthenticationError")
    assert "revoked" in revoked["message"]

    users = container.user_service()
    with container.access().acting_as(ADMIN):
        users.add("old", "viewer")
        _, expired = users.create_token("old", expires_in=timedelta(microseconds=1))
        _, disabled = users.create_token("old")
    assert (
        "expired"
        in assert_error(client_for(expired).get("/me"), 401, "AuthenticationError")["message"]
    )
    with container.access().acting_as(ADMIN):
        users.disable("old")
    assert_error(client_for(disabled).get("/me"), 401, "AuthenticationError")


def test_every_endpoint_but_health_and_docs_needs_a_token(
    server: ApiServer, client_for: ClientFor
) -> None:
    anonymous = client_for(None)
    checked = 0
    for template, operations in server.app.openapi()["paths"].items():
        path = re.sub(r"\{[^}]+\}", "1", template).removeprefix("/api/v1")
        for method in operations:
            response = anonymous.request(method.upper(), path)
            if path == "/health":
                assert response.status_code == 200
            else:
                assert_error(response, 401, "AuthenticationError")
                checked += 1
    assert checked > 20
    assert anonymous.get("/docs").status_code == 200
    assert anonymous.get("/openapi.json").status_code == 200


def test_a_viewer_is_refused_a_batch_start_because_the_role_of_the_token_applies(
    container: Any, client_for: ClientFor, tmp_path: Path
) -> None:
    script = write_script(tmp_path / "never.py")
    viewer = client_for(make_token(container, "vera", "viewer"))

    refused = viewer.post("/batches", json={"scripts": [str(script)]})

    error = assert_error(refused, 403, "PermissionDeniedError")
    assert "'run batch'" in error["message"] and "'viewer'" in error["message"]
    assert error["hint"]
    assert viewer.get("/batches").json() == {"items": [], "next_cursor": None}  # may look
    with container.access().acting_as(ADMIN):
        assert container.history_service().batches() == []
        denials = container.user_service().audit(user="vera", action="run batch")
    assert [e.outcome for e in denials] == ["denied"]


def test_admin_only_endpoints_are_refused_to_a_manager(
    container: Any, client_for: ClientFor
) -> None:
    manager = client_for(make_token(container, "mia", "manager"))

    assert_error(manager.get("/users"), 403, "PermissionDeniedError")
    assert_error(
        manager.post("/users", json={"name": "eve", "role": "admin", "password": "long-enough"}),
        403,
        "PermissionDeniedError",
    )
    assert_error(
        manager.post("/users/mia/role", json={"role": "admin"}), 403, "PermissionDeniedError"
    )
    assert_error(manager.get("/audit"), 403, "PermissionDeniedError")
    backup = manager.post("/backups", json={"note": "by a manager"})
    assert backup.status_code == 201  # managers back up...
    restore = manager.post(f"/backups/{backup.json()['id']}/restore")
    error = assert_error(restore, 403, "PermissionDeniedError")  # ...admins restore
    assert "'restore backup' needs the 'admin' level" in error["message"]
    assert manager.get("/me").json()["role"] == "manager"
