"""File names as text a user can read."""

from __future__ import annotations

import os

__all__ = ["shown_path"]


def shown_path(path: str) -> str:
    """A path as text even when its name is not valid UTF-8: such bytes appear as ``\\xff``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")
