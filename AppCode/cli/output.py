"""Printing for the CLI: aligned tables (CJK-aware), JSON, and errors in the user's terms."""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Sequence
from typing import Any, TextIO

from AppCode.core.domain.errors import ConfigurationError, ScriptBatchError
from AppCode.utils.paths import printable as printable  # the CLI's commands import them here
from AppCode.utils.paths import shown_path as shown_path


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide (CJK) characters count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit(text: str, width: int) -> str:
    if display_width(text) <= width:
        return text
    out, used = "", 0
    for ch in text:
        w = display_width(ch)
        if used + w > width - 1:
            break
        out += ch
        used += w
    return out + "…"


def print_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    max_widths: dict[int, int] | None = None,
    out: TextIO | None = None,
) -> None:
    """Print ``rows`` under ``headers`` with columns padded to their widest cell."""
    out = out or sys.stdout
    max_widths = max_widths or {}
    cells = [
        [
            _fit(printable(str("" if v is None else v)), max_widths.get(i, 10_000))
            for i, v in enumerate(row)
        ]
        for row in rows
    ]
    widths = [display_width(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], display_width(cell))

    def line(values: Sequence[str]) -> str:
        padded = [v + " " * (widths[i] - display_width(v)) for i, v in enumerate(values)]
        return "  ".join(padded).rstrip()

    print(line(list(headers)), file=out)
    for row in cells:
        print(line(row), file=out)


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def print_error(error: ScriptBatchError) -> None:
    # Line by line: a message may have lines of its own (a config file's problems, one each).
    message = "\n".join(printable(line) for line in error.message.split("\n"))
    print(f"error: {message}", file=sys.stderr)
    if error.hint:
        print(f"hint: {printable(error.hint)}", file=sys.stderr)


def require_value(option: str, value: str | None, hint: str) -> None:
    """An option given with an empty value is a mistake (``--data-dir ""``), never "not given"."""
    if value is not None and not value.strip():
        raise ConfigurationError(f"{option} is empty", hint=hint)


MAX_LIMIT = 1_000_000  # the largest --limit of a listing command


def require_range(option: str, value: int, low: int, high: int) -> None:
    """A number option within its bounds, e.g. ``--limit must be between 1 and 1000000``."""
    if not low <= value <= high:
        raise ConfigurationError(f"{option} must be between {low} and {high}")


def human_size(size: float | None) -> str:
    if size is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB"):
        if abs(size) < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"
