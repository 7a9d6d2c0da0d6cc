"""Who is asking: the bearer token of a request, and the services as that user.

The permission checks live in the services (``@requires``); they ask ``SessionAccess`` who is
acting, which the API says per request with ``acting_as(user)``, a context variable. FastAPI
runs sync endpoints and dependencies on threadpool threads, so a context variable set in a
dependency would not reach the endpoint. A ``Caller`` therefore enters ``acting_as`` around
every single service call, in the thread that makes it: nothing an endpoint does through a
``Caller`` can run as anyone else, and nothing has to remember to switch users.

FastAPI reads and validates a request's body before it runs any dependency, so a client
without a token, or whose role may not call the endpoint at all, would learn about its body's
mistakes first. ``ApiRoute`` (the route class of every router) therefore authenticates before
the body is read, and checks the level of the service operation an endpoint declares with
``@calls(Service.method)``: the level that method's ``@requires`` states, asked of the same
``AccessControl``; the service checks it again when it is called.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Annotated, Any, TypeVar, cast

from fastapi import Depends, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from starlette.concurrency import run_in_threadpool

from AppCode.container import Container
from AppCode.core.domain.errors import AuthenticationError
from AppCode.core.domain.models import User
from AppCode.core.security.permissions import Level
from AppCode.services.access import SessionAccess
from AppCode.services.backup_service import BackupService
from AppCode.services.batch_service import BatchService
from AppCode.services.history_service import HistoryService
from AppCode.services.monitoring_service import MonitoringService
from AppCode.services.plugin_service import PluginService
from AppCode.services.report_service import ReportService
from AppCode.services.script_service import ScriptService
from AppCode.services.user_service import UserService

__all__ = ["ApiRoute", "Caller", "CallerDep", "bearer", "calls", "get_caller"]

bearer = HTTPBearer(
    auto_error=False,
    description="An API token: make one with `scriptbatch users token` or POST /api/v1/tokens.",
)


class _ActingAs:
    """A service whose methods run as ``user`` (see the module docstring)."""

    def __init__(self, service: object, access: SessionAccess, user: User) -> None:
        self._service = service
        self._access = access
        self._user = user

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._service, name)
        if not callable(attribute):
            return attribute

        @functools.wraps(attribute)
        def as_user(*args: Any, **kwargs: Any) -> Any:
            with self._access.acting_as(self._user):
                return attribute(*args, **kwargs)

        return as_user


class Caller:
    """The authenticated user of one request and the services acting as them."""

    def __init__(self, container: Container, user: User) -> None:
        self.container = container
        self.user = user

    def _as_user(self, service: object) -> Any:
        return _ActingAs(service, self.container.access(), self.user)

    @property
    def scripts(self) -> ScriptService:
        return cast(ScriptService, self._as_user(self.container.script_service()))

    @property
    def batches(self) -> BatchService:
        return cast(BatchService, self._as_user(self.container.batch_service()))

    @property
    def history(self) -> HistoryService:
        return cast(HistoryService, self._as_user(self.container.history_service()))

    @property
    def monitoring(self) -> MonitoringService:
        return cast(MonitoringService, self._as_user(self.container.monitoring_service()))

    @property
    def backups(self) -> BackupService:
        return cast(BackupService, self._as_user(self.container.backup_service()))

    @property
    def plugins(self) -> PluginService:
        return cast(PluginService, self._as_user(self.container.plugin_service()))

    @property
    def reports(self) -> ReportService:
        return cast(ReportService, self._as_user(self.container.report_service()))

    @property
    def users(self) -> UserService:
        return cast(UserService, self._as_user(self.container.user_service()))

    def require(self, level: Level, operation: str) -> None:
        """Refuse ``operation`` (403, recorded in the audit log) unless the user has ``level``:
        for what the API allows fewer users than the service does."""
        access = self.container.access()
        with access.acting_as(self.user):
            access.check(operation, level)


def _authenticate(request: Request) -> User:
    """The token's user; 401 without a valid token."""
    scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
    if not token or scheme.lower() != "bearer":
        raise AuthenticationError(
            "this endpoint needs an API token",
            hint="Send the header 'Authorization: Bearer <token>'; make a token with "
            "'scriptbatch users token'.",
        )
    container: Container = request.app.state.container
    return container.user_service().authenticate_token(token)


def get_caller(
    request: Request,
    # Not read: it puts the bearer scheme into the OpenAPI document. ApiRoute has
    # authenticated the request already (``request.state.user``).
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    """The dependency of every endpoint but health and the docs: 401 without a valid token."""
    user = getattr(request.state, "user", None)
    if user is None:
        user = _authenticate(request)
    return Caller(request.app.state.container, user)


CallerDep = Annotated[Caller, Depends(get_caller)]

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def calls(operation: Callable[..., Any]) -> Callable[[Endpoint], Endpoint]:
    """Declare the service method an endpoint calls (``@calls(UserService.add)``), so that a
    role that may not call it is refused before the body is read (see the module docstring)."""

    def declare(endpoint: Endpoint) -> Endpoint:
        endpoint.__calls__ = operation  # type: ignore[attr-defined]
        return endpoint

    return declare


def _needs_caller(dependant: Dependant) -> bool:
    return any(d.call is get_caller or _needs_caller(d) for d in dependant.dependencies)


class ApiRoute(APIRoute):
    """A route that authenticates, and checks the level of the operation it declares with
    ``@calls``, before FastAPI reads and validates the body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        if not _needs_caller(self.dependant):
            return handle
        operation = getattr(self.endpoint, "__calls__", None)
        level = getattr(operation, "__required_level__", None)
        name = getattr(operation, "__operation__", None)

        async def authenticated_first(request: Request) -> Response:
            user = await run_in_threadpool(_authenticate, request)
            request.state.user = user
            if level is not None and name is not None:
                caller = Caller(request.app.state.container, user)
                await run_in_threadpool(caller.require, level, name)
            return await handle(request)

        return authenticated_first
