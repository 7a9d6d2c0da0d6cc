"""File names as text a user can read."""

from __future__ import annotations

import os

__all__ = ["is_text", "shown_path"]


def shown_path(path: str) -> str:
    """A path as text even when its name is not valid UTF-8: such bytes appear as ``\\xff``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def is_text(value: str) -> bool:
    """Whether ``value`` is text a database can hold: a name of invalid UTF-8 bytes (from the
    command line or the file system) decodes to lone surrogates, which no stored value has."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
