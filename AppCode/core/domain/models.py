"""Domain objects: plain dataclasses and enums, free of any framework."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["ExecutionStatus", "Script"]


class ExecutionStatus(StrEnum):
    """Where an execution is in its life (ARCHITECTURE.md, "Statuses")."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    @property
    def is_final(self) -> bool:
        return self not in (ExecutionStatus.PENDING, ExecutionStatus.RUNNING)


@dataclass(frozen=True)
class Script:
    """A Python script registered in the library.

    Immutable, so that cached copies can be shared; change one with ``dataclasses.replace``.
    ``missing`` is set when a rescan no longer finds the file; the record (and the history that
    names it) is kept so that the file can come back.
    """

    path: str
    name: str
    description: str
    size: int
    mtime: float
    sha256: str
    tags: tuple[str, ...] = ()
    missing: bool = False
    id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
