"""Where the files shipped beside the code live: config/, migrations/, examples/.

In a checkout they sit at the repository root; an installed wheel carries them inside the package
as ``AppCode/_bundled/<name>`` (see pyproject's force-include). Both layouts are looked up here and
nowhere else.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def bundled_path(name: str) -> Path:
    """Return the shipped folder ``name`` ("config", "migrations" or "examples")."""
    for candidate in (_PACKAGE_DIR / "_bundled" / name, _PACKAGE_DIR.parent / name):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(
        f"ScriptBatch's bundled '{name}' folder is missing from {_PACKAGE_DIR}; reinstall the app"
    )
