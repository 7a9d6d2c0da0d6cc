"""The cache port on ``cachetools``: one TTL cache per named region, with hit/miss counters."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from cachetools import TTLCache

from AppCode.core.managers.cache import CacheStats

T = TypeVar("T")


class _Region:
    def __init__(self, max_size: int, ttl_s: float) -> None:
        self.max_size = max_size
        # A region of size 0 (or TTL 0) caches nothing: every lookup loads.
        self.cache: TTLCache[Hashable, Any] | None = (
            TTLCache(maxsize=max_size, ttl=ttl_s) if max_size > 0 and ttl_s > 0 else None
        )
        self.hits = 0
        self.misses = 0
        # Bumped by every invalidation, so that a load that started before it is not stored.
        self.generation = 0


class TTLCacheManager:
    """Thread-safe: the GUI's workers, the API and the engine share one instance."""

    def __init__(self, regions: dict[str, tuple[int, float]]) -> None:
        self._regions = {name: _Region(size, ttl) for name, (size, ttl) in regions.items()}
        self._lock = threading.Lock()

    def get_or_load(self, region: str, key: Hashable, load: Callable[[], T]) -> T:
        r = self._regions[region]
        with self._lock:
            if r.cache is not None and key in r.cache:
                r.hits += 1
                value: T = r.cache[key]
                return value
            r.misses += 1
            generation = r.generation
        value = load()
        with self._lock:
            if r.cache is not None and generation == r.generation:
                r.cache[key] = value
        return value

    def invalidate(self, region: str, key: Hashable | None = None) -> None:
        r = self._regions[region]
        with self._lock:
            r.generation += 1
            if r.cache is None:
                return
            if key is None:
                r.cache.clear()
            else:
                r.cache.pop(key, None)

    def stats(self) -> list[CacheStats]:
        with self._lock:
            return [
                CacheStats(
                    region=name,
                    hits=r.hits,
                    misses=r.misses,
                    size=len(r.cache) if r.cache is not None else 0,
                    max_size=r.max_size,
                )
                for name, r in self._regions.items()
            ]
