"""The app's own log: ``<data-dir>/logs/scriptbatch.log``, rotating, level from ``[logging]``.

Tracebacks go here, never to the user; every adapter configures it once at start-up.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

LOG_FILE_NAME = "scriptbatch.log"
_FORMAT = "%(asctime)s %(levelname)-7s [%(process)d:%(threadName)s] %(name)s: %(message)s"
_HANDLER_NAME = "scriptbatch-file"


def configure_logging(log_dir: Path, level: str) -> Path:
    """Send the root logger to the rotating app log (5 files of 5 MB); returns the file's path.

    Calling it again (another data directory in the same process, as tests do) replaces the
    previous file handler.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / LOG_FILE_NAME
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
            handler.close()
    handler = logging.handlers.RotatingFileHandler(
        path,
        maxBytes=5 * 1024 * 1024,
        backupCount=5,
        encoding="utf-8",
        errors="backslashreplace",
        delay=True,
    )
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter(_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    return path
