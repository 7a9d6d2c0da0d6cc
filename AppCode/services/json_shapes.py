"""The JSON shapes of the public contracts (ARCHITECTURE.md), shared by the CLI and the API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from AppCode.core.domain.models import Script

__all__ = ["iso", "script_json"]


def iso(value: datetime | None) -> str | None:
    """ISO-8601 in UTC, or None."""
    return value.astimezone(UTC).isoformat() if value else None


def script_json(script: Script) -> dict[str, Any]:
    return {
        "id": script.id,
        "path": script.path,
        "name": script.name,
        "description": script.description,
        "tags": list(script.tags),
        "size": script.size,
        "mtime": iso(datetime.fromtimestamp(script.mtime, UTC)),
        "sha256": script.sha256,
        "missing": script.missing,
        "created_at": iso(script.created_at),
        "updated_at": iso(script.updated_at),
    }
