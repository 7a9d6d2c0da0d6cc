"""A real API server (uvicorn on 127.0.0.1, a free port) on the test's data directory, and
httpx clients that carry a user's token."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from AppCode.api.server import ApiServer
from AppCode.core.domain.models import User
from tests.conftest import WAIT_FOR_FILE as WAIT_FOR_FILE  # the API tests import it here
from tests.conftest import wait_until, write_script

ADMIN = User(name="admin", role="admin")

ClientFor = Callable[[str | None], httpx.Client]


def finished_batch(client: httpx.Client, batch_id: str, timeout: float = 60) -> dict[str, Any]:
    """Poll ``GET /batches/{id}`` until the batch has finished; returns the last answer."""
    seen: dict[str, Any] = {}

    def done() -> bool:
        response = client.get(f"/batches/{batch_id}")
        assert response.status_code == 200, response.text
        seen.update(response.json())
        return seen["status"] not in ("pending", "running")

    wait_until(done, timeout=timeout, what=f"batch {batch_id} to finish")
    return seen


def make_token(container: Any, name: str = "admin", role: str | None = None) -> str:
    """The secret of a new API token for ``name`` (a new user with ``role`` when given)."""
    users = container.user_service()
    with container.access().acting_as(ADMIN):
        if role is not None:
            users.add(name, role)
        _, secret = users.create_token(name)
    return str(secret)


@pytest.fixture
def server(container: Any) -> Iterator[ApiServer]:
    with ApiServer(container, "127.0.0.1", 0) as running:
        yield running


@pytest.fixture
def client_for(server: ApiServer) -> Iterator[ClientFor]:
    """``client_for(token)``: a client of ``/api/v1`` sending that token (None: none)."""
    clients: list[httpx.Client] = []

    def make(token: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = httpx.Client(base_url=f"{server.address}/api/v1", headers=headers, timeout=30)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def admin(container: Any, client_for: ClientFor) -> httpx.Client:
    return client_for(make_token(container))


def assert_error(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    """The response is the API's error shape with this status and type; returns the error."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"type", "message", "hint"}
    assert body["error"]["type"] == kind, body
    assert body["error"]["message"]
    assert "Traceback" not in response.text
    return dict(body["error"])


def start_gated_batch(admin: httpx.Client, tmp_path: Path) -> tuple[str, Path]:
    """A batch of one script that runs until the test creates the gate file returned."""
    gate = tmp_path / "gate"
    script = write_script(tmp_path / "gated.py", WAIT_FOR_FILE.format(gate=str(gate)))
    return admin.post("/batches", json={"scripts": [str(script)]}).json()["id"], gate
