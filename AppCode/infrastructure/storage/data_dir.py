"""Preparing a data directory for use (creating it, proving it writable)."""

from __future__ import annotations

import os
import tempfile

from AppCode.core.domain.errors import ConfigurationError
from AppCode.utils.data_dir import DataDir


def prepare_data_dir(data_dir: DataDir) -> None:
    """Create the data directory and its sub-folders; fail clearly if it cannot be written."""
    root = data_dir.root
    if root.exists() and not root.is_dir():
        raise ConfigurationError(
            f"data directory {root} exists but is not a folder",
            hint="Choose another place with --data-dir or SCRIPTBATCH_HOME.",
        )
    try:
        for folder in (root, data_dir.logs, data_dir.runs):
            folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=root)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigurationError(
            f"data directory {root} cannot be used: {exc.strerror or exc}",
            hint="Make it writable, or choose another place with --data-dir or SCRIPTBATCH_HOME.",
        ) from None
