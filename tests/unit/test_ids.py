from __future__ import annotations

from AppCode.core.domain.ids import new_id


def test_ids_are_unique_and_strictly_increasing() -> None:
    ids = [new_id() for _ in range(20_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 26 for i in ids)
