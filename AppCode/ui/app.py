"""Desktop app start-up: ``scriptbatch-gui`` and ``scriptbatch`` without a command."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from PyQt5.QtWidgets import QApplication, QMessageBox

from AppCode.container import build, install_examples
from AppCode.core.domain.errors import ScriptBatchError
from AppCode.ui.viewmodels.library_viewmodel import LibraryViewModel
from AppCode.ui.views.main_window import MainWindow

log = logging.getLogger(__name__)


def run_gui(data_dir: str | None = None, config_file: str | None = None) -> int:
    """Open the main window on the data directory; returns the process exit code."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("ScriptBatch")
    try:
        container = build(data_dir, config_file)
    except ScriptBatchError as exc:
        text = exc.message + (f"\n\n{exc.hint}" if exc.hint else "")
        QMessageBox.critical(None, "ScriptBatch", text)
        return 2
    try:
        install_examples(container)
        window = MainWindow(LibraryViewModel(container.script_service()))
        window.show()
        return int(app.exec_())
    finally:
        container.shutdown_resources()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``scriptbatch-gui`` launcher."""
    parser = argparse.ArgumentParser(prog="scriptbatch-gui", description="Open ScriptBatch.")
    parser.add_argument("--data-dir", metavar="DIR")
    parser.add_argument("--config", metavar="FILE")
    args = parser.parse_args(argv)
    return run_gui(args.data_dir, args.config)
