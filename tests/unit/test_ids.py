from __future__ import annotations

from AppCode.core.domain.ids import new_id


def test_ids_are_unique_and_strictly_increasing() -> None:
    ids = [new_id() for _ in range(20_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 26 for i in ids)


def test_ids_start_with_the_time_in_crockford_base32() -> None:
    """The same 26 characters as ever (old ids sort with new ones): 48 bits of milliseconds,
    80 random bits, most significant first."""
    import time

    alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
    before = time.time_ns() // 1_000_000
    value = 0
    for char in new_id():
        value = value * 32 + alphabet.index(char)
    after = time.time_ns() // 1_000_000
    assert before <= value >> 80 <= after + 1
