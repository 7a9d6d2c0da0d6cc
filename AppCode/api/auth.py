"""Who is asking: the bearer token of a request, and the services as that user.

The permission checks live in the services (``@requires``); they ask ``SessionAccess`` who is
acting, which the API says per request with ``acting_as(user)``, a context variable. FastAPI
runs sync endpoints and dependencies on threadpool threads, so a context variable set in a
dependency would not reach the endpoint. A ``Caller`` therefore enters ``acting_as`` around
every single service call, in the thread that makes it: nothing an endpoint does through a
``Caller`` can run as anyone else, and nothing has to remember to switch users.
"""

from __future__ import annotations

import functools
from typing import Annotated, Any, cast

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from AppCode.container import Container
from AppCode.core.domain.errors import AuthenticationError
from AppCode.core.domain.models import User
from AppCode.services.access import SessionAccess
from AppCode.services.backup_service import BackupService
from AppCode.services.batch_service import BatchService
from AppCode.services.history_service import HistoryService
from AppCode.services.monitoring_service import MonitoringService
from AppCode.services.plugin_service import PluginService
from AppCode.services.report_service import ReportService
from AppCode.services.script_service import ScriptService
from AppCode.services.user_service import UserService

__all__ = ["Caller", "CallerDep", "bearer", "get_caller"]

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


def get_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    """The dependency of every endpoint but health and the docs: 401 without a valid token."""
    if credentials is None:
        raise AuthenticationError(
            "this endpoint needs an API token",
            hint="Send the header 'Authorization: Bearer <token>'; make a token with "
            "'scriptbatch users token'.",
        )
    container: Container = request.app.state.container
    user = container.user_service().authenticate_token(credentials.credentials)
    return Caller(container, user)


CallerDep = Annotated[Caller, Depends(get_caller)]
