from __future__ import annotations

import threading

from AppCode.infrastructure.storage.cache import TTLCacheManager


def test_hits_misses_and_size_are_counted_per_region() -> None:
    cache = TTLCacheManager({"scripts": (10, 60), "history": (10, 60)})
    assert cache.get_or_load("scripts", "all", lambda: [1]) == [1]
    assert cache.get_or_load("scripts", "all", lambda: [2]) == [1]
    stats = {s.region: s for s in cache.stats()}
    assert (stats["scripts"].hits, stats["scripts"].misses, stats["scripts"].size) == (1, 1, 1)
    assert (stats["history"].hits, stats["history"].misses) == (0, 0)


def test_invalidation_forgets_a_key_or_a_region() -> None:
    cache = TTLCacheManager({"r": (10, 60)})
    cache.get_or_load("r", "a", lambda: 1)
    cache.get_or_load("r", "b", lambda: 2)
    cache.invalidate("r", "a")
    assert cache.get_or_load("r", "a", lambda: 10) == 10
    assert cache.get_or_load("r", "b", lambda: 20) == 2
    cache.invalidate("r")
    assert cache.get_or_load("r", "b", lambda: 30) == 30


def test_entries_expire_after_their_ttl() -> None:
    cache = TTLCacheManager({"r": (10, 60)})
    cache.get_or_load("r", "a", lambda: 1)
    region = cache._regions["r"].cache
    assert region is not None
    region.expire(region.timer() + 61)
    assert cache.get_or_load("r", "a", lambda: 2) == 2


def test_a_zero_sized_region_caches_nothing() -> None:
    cache = TTLCacheManager({"r": (0, 60)})
    cache.get_or_load("r", "a", lambda: 1)
    assert cache.get_or_load("r", "a", lambda: 2) == 2


def test_a_load_overtaken_by_an_invalidation_is_not_stored() -> None:
    cache = TTLCacheManager({"r": (10, 60)})
    started, release = threading.Event(), threading.Event()

    def slow_stale_load() -> str:
        started.set()
        release.wait(10)
        return "stale"

    worker = threading.Thread(target=lambda: cache.get_or_load("r", "k", slow_stale_load))
    worker.start()
    assert started.wait(10)
    cache.invalidate("r")
    release.set()
    worker.join(10)
    assert cache.get_or_load("r", "k", lambda: "fresh") == "fresh"
