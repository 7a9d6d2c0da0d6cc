"""``make screenshots``: render the main views offscreen into docs/screenshots/.

Runs the real app on a temporary data directory with the bundled examples, starts a batch, and
grabs the window mid-batch, the output viewer, the history view and the settings dialog; with
``--language zh_CN`` it grabs the Chinese main window.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _wait(app, predicate: Callable[[], bool], timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("screenshots: the app did not reach the expected state in time")
        app.processEvents()
        time.sleep(0.01)


def _settle(app, seconds: float) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def capture(out_dir: Path, language: str) -> list[Path]:
    from PyQt5.QtCore import QSettings
    from PyQt5.QtWidgets import QApplication

    from AppCode.container import build, install_examples
    from AppCode.ui.app import _build_window, install_fonts, install_language

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("ScriptBatch-screenshots")
    install_fonts(app)
    translators = install_language(app, language)
    home = Path(tempfile.mkdtemp(prefix="scriptbatch-shots-"))
    container = build(home)
    install_examples(container)
    QSettings.setDefaultFormat(QSettings.IniFormat)
    settings = QSettings(str(home / "gui.ini"), QSettings.IniFormat)
    window = _build_window(container, settings)
    window.resize(1360, 820)
    window.show()
    library = window._library
    _wait(app, lambda: len(library.all_scripts) >= 8)
    library.set_checked([s.path for s in library.all_scripts], True)
    window.batch_panel.jobs.setValue(3)
    saved: list[Path] = []
    suffix = "" if language == "en" else f"_{language}"

    def grab(widget, name: str) -> None:  # type: ignore[no-untyped-def]
        path = out_dir / f"{name}{suffix}.png"
        widget.grab().save(str(path))
        saved.append(path)

    window.run_selected()
    batch = window._batch

    def slow_running() -> bool:
        return any(
            e.status.value == "running" and "slow_progress" in e.script_path for e in batch.rows
        )

    _wait(app, lambda: batch.counts().get("done", 0) >= 4 and slow_running())
    row = next(i for i, e in enumerate(batch.rows) if "slow_progress" in e.script_path)
    window.batch_panel.table.selectRow(row)
    _settle(app, 1.6)
    grab(window, "main_window")
    if language != "en":
        window._batch.stop()
        _wait(app, lambda: not batch.is_running)
    else:
        _wait(app, lambda: not batch.is_running, timeout=60)
        failed = [i for i, e in enumerate(batch.rows) if e.status.value == "failed"]
        window.batch_panel.table.selectRow(failed[0] if failed else 0)
        _settle(app, 1.0)
        grab(window.batch_split, "output_viewer")
        window.tabs.setCurrentIndex(1)
        window._history.reload()
        _settle(app, 1.5)
        grab(window, "history")
        from AppCode.services.settings import save_user_settings
        from AppCode.ui.dialogs.settings_dialog import SettingsDialog
        from AppCode.ui.viewmodels.settings_viewmodel import SettingsViewModel

        vm = SettingsViewModel(
            container.settings(), lambda s: save_user_settings(home / "config.toml", s)
        )
        dialog = SettingsDialog(vm, window)
        dialog.resize(720, 560)
        dialog.show()
        _settle(app, 0.5)
        grab(dialog, "settings")
        dialog.close()
    window._batch.shutdown()
    window._load.stop()
    container.shutdown_resources()
    del translators
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="docs/screenshots")
    parser.add_argument("--language", default="en", choices=["en", "zh_CN"])
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for path in capture(out, args.language):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
