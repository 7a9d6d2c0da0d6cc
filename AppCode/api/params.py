"""Query parameters the way users type them on the command line too: ``since=10m``."""

from __future__ import annotations

from datetime import datetime, timedelta

from AppCode.core.domain.errors import ConfigurationError
from AppCode.utils.timeparse import parse_duration, parse_since

__all__ = ["MAX_DURATION", "duration", "point_in_time"]

MAX_DURATION = timedelta(days=36500)


def point_in_time(name: str, text: str | None) -> datetime | None:
    """``10m``, ``7d`` (that long ago) or an ISO date/time; None when not given."""
    if text is None:
        return None
    try:
        return parse_since(text)
    except (ValueError, OverflowError) as exc:  # OverflowError: a duration beyond any date
        raise ConfigurationError(
            f"{name}: {exc}" if isinstance(exc, ValueError) else f"{name}: {text!r} is too far",
            hint="Use a duration such as 10m, 12h, 7d, or a date such as 2026-11-01T08:00.",
        ) from None


def duration(name: str, text: str) -> timedelta:
    """``30d``, ``12h``: up to a hundred years."""
    try:
        value = parse_duration(text)
    except (ValueError, OverflowError) as exc:
        raise ConfigurationError(
            f"{name}: {exc}" if isinstance(exc, ValueError) else f"{name}: {text!r} is too long",
            hint="Use a number and a unit, e.g. 30m, 12h, 90d.",
        ) from None
    if value > MAX_DURATION:
        raise ConfigurationError(f"{name}: {text!r} is too long", hint="At most 36500d.")
    return value
