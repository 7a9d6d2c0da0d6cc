"""Data-access ports (the seed design's ``IDataAccess``): what services need from storage.

``infrastructure/data`` implements them on SQLAlchemy; unit tests use dict-backed fakes.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Protocol, Self

from AppCode.core.domain.models import Script

__all__ = ["ScriptRepository", "UnitOfWork", "UnitOfWorkFactory"]


class ScriptRepository(Protocol):
    """The script library's records."""

    def get(self, script_id: int) -> Script | None: ...

    def get_by_path(self, path: str) -> Script | None: ...

    def list(self, *, tag: str | None = None, search: str | None = None) -> list[Script]:
        """Scripts ordered by path; ``search`` matches name, path or description, any case."""
        ...

    def add(self, script: Script) -> Script:
        """Store a new script; the returned copy has its ``id``."""
        ...

    def update(self, script: Script) -> None: ...

    def remove(self, script_id: int) -> None: ...


class UnitOfWork(Protocol):
    """One transaction over the repositories: ``with uow: ...; uow.commit()``.

    Leaving the block without ``commit()`` rolls everything back.
    """

    scripts: ScriptRepository

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
