"""Who is acting: the ``AccessControl`` port's implementation, and the audit log.

The acting user is, in order: the one set for the current request (the API sets it per call,
in a context variable), the one who logged in to this process (GUI login dialog, CLI
``--user``), or, in single-user mode (``[auth] mode = "single"``), the person at the desktop,
who is the administrator. Checks compare the user's role with the level an operation declares
(``core/security/permissions.requires``); denials and every state-changing operation are
written to the audit log.
"""

from __future__ import annotations

import getpass
import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from AppCode.core.domain.errors import PermissionDeniedError
from AppCode.core.domain.models import AuditEntry, User
from AppCode.core.domain.ports import UnitOfWorkFactory
from AppCode.core.security.permissions import Level, Role
from AppCode.services.settings import AuthSettings

__all__ = ["SYSTEM", "SessionAccess", "local_user_name"]

log = logging.getLogger(__name__)

_request_user: ContextVar[User | None] = ContextVar("scriptbatch_request_user", default=None)

# The application itself, for what it does on its own (scheduled backups, start-up upkeep).
SYSTEM = User(name="(scriptbatch)", role=Role.ADMIN.value)


def local_user_name() -> str:
    """The operating-system user, who is the administrator in single-user mode."""
    try:
        return getpass.getuser()
    except Exception:  # no user name from the OS (a container without passwd entry)
        return "local"


class SessionAccess:
    def __init__(self, uow: UnitOfWorkFactory, settings: AuthSettings) -> None:
        self._uow = uow
        self._settings = settings
        self._session_user: User | None = None

    @property
    def multi_user(self) -> bool:
        return self._settings.mode == "multi"

    def user(self) -> User | None:
        """The acting user, or None when nobody is logged in (multi-user mode)."""
        requested = _request_user.get()
        if requested is not None:
            return requested
        if self._session_user is not None:
            return self._session_user
        if not self.multi_user:
            return User(name=local_user_name(), role=Role.ADMIN.value)
        return None

    def level(self) -> Level | None:
        user = self.user()
        return Role(user.role).level if user is not None else None

    def may(self, level: Level) -> bool:
        """Whether the acting user has ``level`` (the GUI hides what they may not do)."""
        current = self.level()
        return current is not None and current >= level

    # -- the port ----------------------------------------------------------------------------

    def check(self, operation: str, level: Level) -> None:
        user = self.user()
        if user is not None and Role(user.role).level >= level:
            return
        self.record(operation, "denied", details={"required": level.name.lower()})
        raise PermissionDeniedError(
            operation, level.name.lower(), user.role if user is not None else None
        )

    def record(
        self,
        operation: str,
        outcome: str,
        target: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        user = self.user()
        entry = AuditEntry(
            at=datetime.now(UTC),
            user=user.name if user is not None else "(nobody)",
            action=operation,
            outcome=outcome,
            target=target[:4000] if target else None,
            details=details,
        )
        try:
            with self._uow() as uow:
                uow.audit.add(entry)
                uow.commit()
        except Exception:
            # The audit log must never be why an operation fails; the app log keeps it.
            log.exception("could not write the audit entry %s %s", operation, outcome)

    # -- who is acting -------------------------------------------------------------------------

    def log_in(self, user: User) -> None:
        """This process acts as ``user`` from now on (GUI login, CLI --user)."""
        self._session_user = user

    def log_out(self) -> None:
        self._session_user = None

    @contextmanager
    def acting_as(self, user: User) -> Iterator[None]:
        """For one request (the API): the code inside acts as ``user``."""
        token = _request_user.set(user)
        try:
            yield
        finally:
            _request_user.reset(token)

    def system(self) -> AbstractContextManager[None]:
        return self.acting_as(SYSTEM)
