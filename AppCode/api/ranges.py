"""HTTP byte ranges (RFC 9110, section 14) for an execution's output.

One range per request: ``bytes=START-END``, ``bytes=START-`` or ``bytes=-LAST``. A header that
is not such a range is ignored (the whole output is sent, as the RFC allows); a range that
starts beyond the end is unsatisfiable (416).
"""

from __future__ import annotations

import re

__all__ = ["UnsatisfiableRangeError", "byte_range"]

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d{0,18})\s*-\s*(\d{0,18})\s*$", re.IGNORECASE)


class UnsatisfiableRangeError(Exception):
    """The range lies outside the ``size`` bytes there are."""

    def __init__(self, size: int) -> None:
        super().__init__(f"the range lies outside the {size} bytes there are")
        self.size = size


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(first, last)`` byte positions (inclusive) the ``Range`` header asks for, or None
    for the whole content. Raises ``UnsatisfiableRangeError``."""
    match = _RANGE.match(header or "")
    if not match:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # the last N bytes
        length = int(last_text)
        if length == 0 or size == 0:
            raise UnsatisfiableRangeError(size)
        return max(size - length, 0), size - 1
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None  # not a valid range: ignored
    if first >= size:
        raise UnsatisfiableRangeError(size)
    return first, min(int(last_text), size - 1) if last_text else size - 1
