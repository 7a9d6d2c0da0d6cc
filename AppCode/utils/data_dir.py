"""The data directory: where a ScriptBatch installation keeps its database, config and logs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

ENV_HOME = "SCRIPTBATCH_HOME"


@dataclass(frozen=True)
class DataDir:
    """The fixed layout inside a data directory (see ARCHITECTURE.md, "Data directory")."""

    root: Path

    @classmethod
    def resolve(cls, explicit: str | os.PathLike[str] | None = None) -> DataDir:
        """``--data-dir``, else ``$SCRIPTBATCH_HOME``, else the per-user data directory.

        An empty ``explicit`` is a mistake (ValueError), never "not given": it would silently
        pick the user's real data. An empty ``$SCRIPTBATCH_HOME`` counts as unset, as empty
        ``XDG_*`` variables do (``SCRIPTBATCH_HOME= scriptbatch ...`` is how one unsets it).
        """
        if explicit is not None and not os.fspath(explicit).strip():
            raise ValueError("the data directory's path is empty")
        chosen = (
            explicit
            if explicit is not None
            else os.environ.get(ENV_HOME) or platformdirs.user_data_dir("ScriptBatch")
        )
        return cls(Path(chosen).expanduser().resolve())

    @property
    def database(self) -> Path:
        return self.root / "scriptbatch.db"

    @property
    def config_file(self) -> Path:
        return self.root / "config.toml"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    @property
    def plugins(self) -> Path:
        return self.root / "plugins"

    @property
    def policies(self) -> Path:
        """Custom sandbox policies, one ``NAME.toml`` each."""
        return self.root / "policies"

    @property
    def examples(self) -> Path:
        return self.root / "examples"

    @property
    def lock_file(self) -> Path:
        return self.root / "instance.lock"
