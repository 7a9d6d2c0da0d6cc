"""What every request body model shares: JSON values are taken as they are (``"2"`` is not a
number, ``"true"`` not a boolean: docs/api.md promises a 400 for a wrong type), and text must
be text.

Strict mode lets a string with a lone surrogate through (JSON can spell one, ``"\\udc80"``),
which no file name, environment or answer can hold: ``unicode_text`` refuses it, naming the
field. Every body model declares ``_text = field_validator("*")(unicode_text)``.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

__all__ = ["STRICT", "unicode_text"]

STRICT = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


def unicode_text(value: Any) -> Any:
    """``value`` unchanged if every string in it (list items, mapping keys and values) is
    Unicode text; else a ``ValueError``."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(
                "holds text that is not Unicode (a lone surrogate escape such as \\udc80)"
            ) from None
    elif isinstance(value, list | tuple):
        for item in value:
            unicode_text(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            unicode_text(key)
            unicode_text(item)
    return value
