"""Permission levels, roles, and the one decorator every service operation declares.

The seed design's ``PermissionManager``: four levels, each including the ones below. A service
method says what it needs with ``@requires(Level.X, "operation")``; the check itself is the
``AccessControl`` port the service was given (the services layer implements it: the current
user, the audit log). The GUI hides what a role may not do, but this check is the real one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from enum import IntEnum, StrEnum
from pathlib import PurePath
from typing import Any, Protocol, TypeVar, cast

__all__ = [
    "ALLOW_ALL",
    "AccessControl",
    "Level",
    "Role",
    "operations_of",
    "requires",
]


class Level(IntEnum):
    VIEW = 1  # see scripts and results
    EXECUTE = 2  # run scripts
    MANAGE = 3  # change configuration, delete data, back up
    ADMIN = 4  # everything, users and restore included


class Role(StrEnum):
    """A user's role; each includes the rights of the ones before it."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def level(self) -> Level:
        return _ROLE_LEVELS[self]


_ROLE_LEVELS = {
    Role.VIEWER: Level.VIEW,
    Role.OPERATOR: Level.EXECUTE,
    Role.MANAGER: Level.MANAGE,
    Role.ADMIN: Level.ADMIN,
}


class AccessControl(Protocol):
    """Who is acting, whether they may, and what they did (for the audit log)."""

    def check(self, operation: str, level: Level) -> None:
        """Return if the current user may do ``operation``; else record the denial and raise
        ``PermissionDeniedError`` naming the operation and the missing level."""
        ...

    def record(
        self,
        operation: str,
        outcome: str,
        target: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Add an entry to the audit log for the current user."""
        ...

    def system(self) -> AbstractContextManager[None]:
        """Inside this block the application itself acts, with every right (scheduled backups,
        the backup before a migration, retention at start-up): not whoever is logged in."""
        ...


class _AllowAll:
    """For code built without users (unit tests of services): everything is allowed and
    nothing is recorded."""

    def check(self, operation: str, level: Level) -> None:
        return None

    def record(
        self,
        operation: str,
        outcome: str,
        target: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        return None

    def system(self) -> AbstractContextManager[None]:
        return nullcontext()


ALLOW_ALL: AccessControl = _AllowAll()

F = TypeVar("F", bound=Callable[..., Any])


def requires(level: Level, operation: str, *, audit: bool = False) -> Callable[[F], F]:
    """Declare the level a service method needs. With ``audit``, the call's outcome goes to
    the audit log (every state-changing operation), with its first argument as the target when
    that is a name, id or path, and the id of what it made (a batch, a backup) if it has one."""

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def checked(self: Any, *args: Any, **kwargs: Any) -> Any:
            access: AccessControl = self._access
            access.check(operation, level)
            if not audit:
                return method(self, *args, **kwargs)
            target = _target(args[0]) if args else None
            try:
                result = method(self, *args, **kwargs)
            except Exception as exc:
                access.record(operation, "failed", target, {"error": str(exc)[:500]})
                raise
            made = getattr(result, "id", None) or getattr(result, "batch_id", None)
            if made and target is None:
                access.record(operation, "succeeded", str(made))  # what it made is the target
            else:
                access.record(operation, "succeeded", target, {"id": str(made)} if made else None)
            return result

        checked.__required_level__ = level  # type: ignore[attr-defined]
        checked.__operation__ = operation  # type: ignore[attr-defined]
        return cast(F, checked)

    return decorate


def _target(value: object) -> str | None:
    if isinstance(value, str | int | PurePath):
        return str(value)
    if isinstance(value, list | tuple) and all(isinstance(v, str | PurePath) for v in value):
        return ", ".join(str(v) for v in value)
    return None


def operations_of(service: object) -> dict[str, tuple[str, Level]]:
    """``{method name: (operation, level)}`` of a service's declared operations (for the GUI,
    which hides what a role may not do, and for the permission-matrix test)."""
    found = {}
    for name in dir(type(service)):
        member = getattr(type(service), name, None)
        level = getattr(member, "__required_level__", None)
        if level is not None:
            found[name] = (member.__operation__, level)  # type: ignore[union-attr]
    return found
