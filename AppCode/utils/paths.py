"""File names as text a user can read."""

from __future__ import annotations

import os

__all__ = ["is_text", "printable", "shown_path"]


def shown_path(path: str) -> str:
    """A path as text even when its name is not valid UTF-8: such bytes appear as ``\\xff``;
    control characters are escaped (see ``printable``)."""
    return printable(os.fsencode(path).decode("utf-8", "backslashreplace"))


def printable(text: str) -> str:
    """``text`` safe to print on a terminal: control characters (a newline that would forge a
    table row, an escape sequence that would recolour or retitle the terminal, a bidi override
    that would reorder what is shown) appear escaped, as ``\\n``, ``\\x1b``, ``\\u202e``."""
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
        for ch in text
    )


def is_text(value: str) -> bool:
    """Whether ``value`` is text a database can hold: a name of invalid UTF-8 bytes (from the
    command line or the file system) decodes to lone surrogates, which no stored value has."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
