"""Permission levels and the port every service asks before an operation.

The seed design's ``PermissionManager``: four levels, each including the ones below. Services
call ``require(operation, level)``; a denial is a ``PermissionDeniedError`` naming both.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Protocol

__all__ = ["Level", "LocalAdmin", "PermissionChecker"]


class Level(IntEnum):
    VIEW = 1  # see scripts and results
    EXECUTE = 2  # run scripts
    MANAGE = 3  # change configuration, delete data, back up
    ADMIN = 4  # everything, users and restore included


class PermissionChecker(Protocol):
    def require(self, operation: str, level: Level) -> None:
        """Return if the current user may do ``operation``; else raise
        ``PermissionDeniedError``."""
        ...


class LocalAdmin:
    """Single-user mode: the person at the desktop is the administrator."""

    def require(self, operation: str, level: Level) -> None:
        return None
