"""Pydantic's validation errors in one line a user can act on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

__all__ = ["bounds", "number", "problems", "problems_of_options"]

_RANGE_ERRORS = {
    "greater_than",
    "greater_than_equal",
    "less_than",
    "less_than_equal",
    "finite_number",
}


def problems(exc: ValidationError, whole: str = "value") -> str:
    """``"field.sub: message; other: message"``; ``whole`` names an error of the whole input.
    The input values are left out: they may be secrets (a password in a plugin's settings)."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or whole}: {error['msg']}"
        for error in exc.errors()
    )


def bounds(model: type[BaseModel], field: str) -> tuple[Any, Any]:
    """The lowest and highest value ``model.field`` accepts (None where it has no bound)."""
    low = high = None
    for rule in model.model_fields[field].metadata:
        low = getattr(rule, "ge", getattr(rule, "gt", low))
        high = getattr(rule, "le", getattr(rule, "lt", high))
    return low, high


def number(value: float | None) -> str:
    """A bound as a user types it: ``1024``, ``31536000``, ``0.5``."""
    if value is None:
        return "any"
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def problems_of_options(
    exc: ValidationError, options: Mapping[str, tuple[str, type[BaseModel], str]]
) -> str:
    """The errors of a model built from command-line options, in the options' names:
    ``"--jobs must be between 0 and 1024"``. ``options`` maps a field's dotted location
    (``"sandbox_overrides.memory_limit_mb"``) to the option, the model and the field that
    hold its bounds. List items are reported as their list (``paths.0`` as ``paths``)."""
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"] if not isinstance(part, int))
        option, model, field = options.get(where, (where, type(None), ""))
        if error["type"] in _RANGE_ERRORS and field:
            low, high = bounds(model, field)
            lines.append(f"{option} must be between {number(low)} and {number(high)}")
        elif error["type"] == "string_too_short":
            lines.append(f"{option} is empty")
        elif error["type"] == "string_unicode":  # a file name of bytes that are not UTF-8
            shown = str(error["input"]).encode("utf-8", "surrogateescape")
            lines.append(
                f"{option} {shown.decode('utf-8', 'backslashreplace')} is not valid UTF-8 text"
            )
        elif error["type"] == "value_error":
            lines.append(f"{option} {error['msg'].removeprefix('Value error, ')}")
        else:
            lines.append(f"{option}: {error['msg']}")
    return "; ".join(lines)
