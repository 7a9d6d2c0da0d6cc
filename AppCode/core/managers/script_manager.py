"""Finding scripts on disk and reading their metadata (the seed design's ``IScriptManager``).

Scripts are never imported or run to learn about them: the description is the first line of the
module docstring, read with ``ast``.
"""

from __future__ import annotations

import ast
import hashlib
import io
import os
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from AppCode.utils.paths import is_text

__all__ = ["Discovery", "Rejected", "ScriptFile", "ScriptManager", "absolute"]

# Folder names never searched for scripts, besides hidden folders and virtual environments.
SKIPPED_DIR_NAMES = frozenset({"__pycache__", "site-packages", "node_modules"})


@dataclass(frozen=True)
class ScriptFile:
    """What ScriptBatch knows about a script file without running it."""

    path: str
    name: str
    description: str
    size: int
    mtime: float
    sha256: str


@dataclass(frozen=True)
class Rejected:
    """A path the user gave that is not (or does not contain) a usable script, and why."""

    path: str
    reason: str


@dataclass
class Discovery:
    files: list[str] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def absolute(path: str | os.PathLike[str]) -> str:
    """The absolute, normalised form of ``path`` (``~`` expanded, symlinks kept as given)."""
    return os.path.abspath(os.path.expanduser(os.fspath(path)))


class ScriptManager:
    """Discovers ``*.py`` files under the paths a user gives and inspects them."""

    def discover(self, paths: Iterable[str | os.PathLike[str]]) -> Discovery:
        """Every ``*.py`` file named or found (recursively) under ``paths``, in a stable order.

        Skips ``__pycache__``, hidden folders and virtual environments. Paths that do not exist,
        files that are not ``*.py`` and folders without any script are reported in ``rejected``.
        """
        result = Discovery()
        seen: set[str] = set()
        for given in paths:
            path = absolute(given)
            if os.path.isdir(path):
                found = sorted(self._walk(path))
                if not found:
                    result.rejected.append(
                        Rejected(path, "no Python scripts (*.py) in this folder")
                    )
                new = [f for f in found if f not in seen]
            elif os.path.isfile(path):
                if not path.endswith(".py"):
                    result.rejected.append(Rejected(path, "not a Python script (*.py)"))
                    continue
                new = [path] if path not in seen else []
            elif os.path.lexists(path):
                result.rejected.append(Rejected(path, "not a regular file or folder"))
                continue
            else:
                result.rejected.append(Rejected(path, "no such file or folder"))
                continue
            for name in (f for f in new if not is_text(f)):
                # SQLite, the logs and JSON take text: such a name cannot be recorded.
                result.rejected.append(Rejected(name, "its name is not valid UTF-8; rename it"))
            seen.update(new)
            result.files.extend(f for f in new if is_text(f))
        return result

    def inspect(self, path: str) -> ScriptFile | Rejected:
        """Read ``path`` once: size, mtime, SHA-256 and docstring; binary files are rejected."""
        try:
            stat = os.stat(path)
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            return Rejected(path, f"cannot be read ({exc.strerror})")
        source = _decode_source(data)
        if source is None:
            return Rejected(path, "is a binary file, not Python source")
        return ScriptFile(
            path=path,
            name=Path(path).stem,
            description=_first_docstring_line(source),
            size=stat.st_size,
            mtime=stat.st_mtime,
            sha256=hashlib.sha256(data).hexdigest(),
        )

    @staticmethod
    def stat(path: str) -> tuple[float, int] | None:
        """``(mtime, size)`` of ``path``, or None when it no longer exists as a file."""
        try:
            st = os.stat(path)
        except OSError:
            return None
        if not os.path.isfile(path):
            return None
        return st.st_mtime, st.st_size

    def _walk(self, root: str) -> Iterable[str]:
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if not _skipped_dir(os.path.join(folder, d), d)]
            for name in files:
                if name.endswith(".py") and not name.startswith("."):
                    yield os.path.join(folder, name)


def _skipped_dir(path: str, name: str) -> bool:
    return (
        name.startswith(".")
        or name in SKIPPED_DIR_NAMES
        or os.path.isfile(os.path.join(path, "pyvenv.cfg"))
    )


def _decode_source(data: bytes) -> str | None:
    """The text of a Python source file, honouring a PEP 263 coding line; None if binary."""
    if b"\x00" in data:
        return None
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return None


def _first_docstring_line(source: str) -> str:
    try:
        module = ast.parse(source)
    except (SyntaxError, ValueError):
        return ""
    doc = ast.get_docstring(module)
    if not doc:
        return ""
    return doc.strip().splitlines()[0].strip()
