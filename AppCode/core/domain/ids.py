"""Identifiers for batches and executions: 26 characters, sortable by creation time (ULID-like).

Ids made by one process are strictly increasing, even within the same millisecond, so ordering
executions by id gives their creation (and queue) order.
"""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base32, lower case
# Two characters per 10 bits, so an id is 13 lookups (a 10,000-script batch makes 10,000 ids).
_PAIRS = [high + low for high in _ALPHABET for low in _ALPHABET]
_SHIFTS = tuple(range(120, -1, -10))  # 130 bits, the top two always 0
_lock = threading.Lock()
_last = 0


def new_id() -> str:
    """A new id: 48 bits of milliseconds since the epoch, then 80 random bits (incremented
    instead of redrawn within the same millisecond)."""
    global _last
    with _lock:
        value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
        if value <= _last:
            value = _last + 1
        _last = value
    return "".join([_PAIRS[(value >> shift) & 0x3FF] for shift in _SHIFTS])
