"""The cache port (the seed design's ``ICacheManager``): named in-memory regions with statistics."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Protocol, TypeVar

__all__ = ["CacheManager", "CacheStats"]

T = TypeVar("T")


@dataclass(frozen=True)
class CacheStats:
    """One region's counters, for the monitoring panel."""

    region: str
    hits: int
    misses: int
    size: int
    max_size: int


class CacheManager(Protocol):
    """Regions such as "scripts", "history" and "config", each with its own size and TTL."""

    def get_or_load(self, region: str, key: Hashable, load: Callable[[], T]) -> T:
        """The cached value for ``key``, or ``load()``'s result, which is then cached."""
        ...

    def invalidate(self, region: str, key: Hashable | None = None) -> None:
        """Forget one key, or the whole region when ``key`` is None."""
        ...

    def stats(self) -> list[CacheStats]: ...
