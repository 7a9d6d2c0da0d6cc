"""Pydantic's validation errors in one line a user can act on."""

from __future__ import annotations

from pydantic import ValidationError

__all__ = ["problems"]


def problems(exc: ValidationError, whole: str = "value") -> str:
    """``"field.sub: message; other: message"``; ``whole`` names an error of the whole input.
    The input values are left out: they may be secrets (a password in a plugin's settings)."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or whole}: {error['msg']}"
        for error in exc.errors()
    )
