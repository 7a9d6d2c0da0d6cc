"""In-memory fakes of core's ports for fast service tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable
from types import TracebackType
from typing import Any, Self, TypeVar

from AppCode.core.domain.models import Script
from AppCode.core.managers.cache import CacheStats

T = TypeVar("T")


class FakeScriptRepository:
    def __init__(self) -> None:
        self.rows: dict[int, Script] = {}

    def get(self, script_id: int) -> Script | None:
        return self.rows.get(script_id)

    def get_by_path(self, path: str) -> Script | None:
        return next((s for s in self.rows.values() if s.path == path), None)

    def list(self, *, tag: str | None = None, search: str | None = None) -> list[Script]:
        found = sorted(self.rows.values(), key=lambda s: s.path)
        if tag:
            found = [s for s in found if tag in s.tags]
        if search:
            needle = search.lower()
            found = [
                s
                for s in found
                if needle in s.name.lower()
                or needle in s.path.lower()
                or needle in s.description.lower()
            ]
        return found

    def add(self, script: Script) -> Script:
        stored = dataclasses.replace(script, id=max(self.rows, default=0) + 1)
        self.rows[stored.id] = stored  # type: ignore[index]
        return stored

    def update(self, script: Script) -> None:
        assert script.id in self.rows
        self.rows[script.id] = script  # type: ignore[index]

    def remove(self, script_id: int) -> None:
        self.rows.pop(script_id, None)


class FakeUnitOfWork:
    """Commits copy the working state into ``committed_scripts``; exit without commit discards."""

    def __init__(self) -> None:
        self.committed_scripts: dict[int, Script] = {}
        self.commits = 0

    def __call__(self) -> Self:
        return self

    def __enter__(self) -> Self:
        self.scripts = FakeScriptRepository()
        self.scripts.rows = dict(self.committed_scripts)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        pass

    def commit(self) -> None:
        self.committed_scripts = dict(self.scripts.rows)
        self.commits += 1

    def rollback(self) -> None:
        self.scripts.rows = dict(self.committed_scripts)


class FakeCache:
    def __init__(self) -> None:
        self.regions: dict[str, dict[Hashable, Any]] = {}
        self.hits = 0
        self.misses = 0

    def get_or_load(self, region: str, key: Hashable, load: Callable[[], T]) -> T:
        values = self.regions.setdefault(region, {})
        if key in values:
            self.hits += 1
            return values[key]  # type: ignore[no-any-return]
        self.misses += 1
        values[key] = load()
        return values[key]  # type: ignore[no-any-return]

    def invalidate(self, region: str, key: Hashable | None = None) -> None:
        if key is None:
            self.regions.pop(region, None)
        else:
            self.regions.get(region, {}).pop(key, None)

    def stats(self) -> list[CacheStats]:
        return [
            CacheStats(name, self.hits, self.misses, len(v), 0) for name, v in self.regions.items()
        ]
