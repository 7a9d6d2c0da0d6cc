"""Durations and points in time as users type them: ``90d``, ``12h``, ``10m``, ``2026-11-01``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)


def parse_duration(text: str) -> timedelta:
    """``"90d"`` -> 90 days. Units: s, m, h, d, w. Raises ValueError with what is allowed."""
    if not text.strip():
        raise ValueError("the duration is empty; use a number and a unit, e.g. 30m, 12h, 90d")
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a duration; use a number and a unit, e.g. 30m, 12h, 90d")
    try:
        return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2).lower()])
    except OverflowError:
        raise ValueError(f"{text!r} is too long a duration") from None


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """A point in time: a duration ago (``10m``, ``7d``) or an ISO date/time (local time when
    no zone is given)."""
    now = now or datetime.now(UTC)
    if not text.strip():
        raise ValueError("the time is empty; use a duration (10m, 12h, 7d) or a date")
    if _DURATION.match(text):
        try:
            return now - parse_duration(text)
        except OverflowError:
            raise ValueError(f"{text!r} reaches back before the year 1") from None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a duration (10m, 12h, 7d) nor a date (2026-11-01 or "
            "2026-11-01T08:00)"
        ) from None
    try:
        if value.tzinfo is None:
            value = value.astimezone()  # the user's local time
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError(f"{text!r} is out of the range of dates ScriptBatch handles") from None
