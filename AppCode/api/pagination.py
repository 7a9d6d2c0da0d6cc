"""Pages of lists: ``?limit=N&cursor=...`` in, ``{"items": [...], "next_cursor": ...}`` out.

The cursor is opaque to clients: base64 of the list's name and a position, either an offset
(lists the services return whole or newest-first up to a count) or the last id of the page
(executions, which the repository pages by key, cheap at any depth). A cursor from another
list, or one that was edited, is a 400.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Query
from pydantic import BaseModel

from AppCode.core.domain.errors import ConfigurationError

__all__ = ["Cursor", "Limit", "Page", "decode_cursor", "encode_cursor", "offset_of", "page"]

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
_MAX_OFFSET = 10**9

T = TypeVar("T")

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"items per page (1-{MAX_LIMIT})")]
Cursor = Annotated[
    str | None,
    Query(max_length=500, description="next_cursor of the previous page; omit for the first"),
]


class Page(BaseModel):
    """One page of a list; ``next_cursor`` is null on the last page."""

    items: list[dict[str, Any]]
    next_cursor: str | None


def encode_cursor(kind: str, position: int | str) -> str:
    raw = json.dumps({"k": kind, "p": position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str | None) -> int | str | None:
    """The position a cursor of list ``kind`` stands for; None for the first page."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError):
        value = None
    position = value.get("p") if isinstance(value, dict) and value.get("k") == kind else None
    valid_offset = type(position) is int and 0 <= position <= _MAX_OFFSET
    valid_key = isinstance(position, str) and 0 < len(position) <= 100
    if not (valid_offset or valid_key):
        raise ConfigurationError(
            "the cursor is not one this list gave out",
            hint="Pass the next_cursor of the previous page unchanged, or leave it out to "
            "start from the first page.",
        )
    return position


def offset_of(kind: str, cursor: str | None) -> int:
    position = decode_cursor(kind, cursor)
    if isinstance(position, str):
        raise ConfigurationError("the cursor is not one this list gave out")
    return position or 0


def page(
    kind: str,
    rows: Sequence[T],
    offset: int,
    limit: int,
    shape: Callable[[T], dict[str, Any]],
) -> dict[str, Any]:
    """The page at ``offset`` of ``rows`` (which hold at least one row more than the page when
    there is a next one)."""
    more = len(rows) > offset + limit
    return {
        "items": [shape(row) for row in rows[offset : offset + limit]],
        "next_cursor": encode_cursor(kind, offset + limit) if more else None,
    }
