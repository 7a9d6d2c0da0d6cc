"""Fuzz every operation from the API's own OpenAPI document: whatever schemathesis sends, the
answer is never a server error.

It runs as an administrator against a real server on this test's temporary data directory.
Left out, and tested on their own elsewhere: starting batches and registering scripts (a
random path such as "/" would make the server walk or run the whole disk), restoring a backup
(it replaces the data under the other requests) and the event stream (it stays open while a
batch runs). Fuzzed requests may disable the administrator, demote it or revoke its token;
each call gets a working admin token again, so that every operation is reached.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from AppCode.api.app import create_app
from AppCode.api.server import ApiServer
from AppCode.container import Container
from AppCode.core.domain.errors import AuthenticationError
from tests.api.conftest import ADMIN

FUZZER = "fuzzer"

# The document does not depend on the data: an app without a container describes it. (The
# fixture-based loader, schemathesis.pytest.from_fixture, does not work with pytest 9.)
DOCUMENT = create_app(cast(Container, None)).openapi()
CONFIG = schemathesis.Config.from_dict(
    {
        "request-timeout": 20,
        "generation": {"database": "none"},
        # The coverage phase adds dozens of boundary cases per operation: too slow here.
        "phases": {"coverage": {"enabled": False}},
    }
)
schema = (
    schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)
    .exclude(method="POST", path="/api/v1/batches")
    .exclude(method="POST", path="/api/v1/scripts")
    .exclude(path_regex=r"/restore$")
    .exclude(path_regex=r"/events$")
)


@pytest.fixture
def admin_header(container: Any) -> Callable[[], dict[str, str]]:
    """A header with a working admin token, mended if a fuzzed request broke it."""
    users = container.user_service()
    with container.access().acting_as(ADMIN):
        users.add(FUZZER, "admin")
    secret: list[str] = []

    def header() -> dict[str, str]:
        try:
            if not secret or users.authenticate_token(secret[0]).role != "admin":
                raise AuthenticationError("mend")
        except AuthenticationError:
            with container.access().acting_as(ADMIN):
                users.enable(FUZZER)
                users.set_role(FUZZER, "admin")
                secret[:] = [users.create_token(FUZZER)[1]]
        return {"Authorization": f"Bearer {secret[0]}"}

    return header


@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@schema.parametrize()
def test_no_request_makes_the_server_fail(
    case: schemathesis.Case, server: ApiServer, admin_header: Callable[[], dict[str, str]]
) -> None:
    case.call_and_validate(
        base_url=server.address, headers=admin_header(), checks=[not_a_server_error]
    )
