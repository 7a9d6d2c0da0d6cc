"""``make screenshots``: render the main views offscreen into docs/screenshots/.

Runs the real app on a temporary data directory with the bundled examples, starts a batch, and
grabs the window mid-batch (with the performance panel), the performance panel a little later,
the output viewer, the history view, the analysis tab, the settings dialog, the Manage
backups dialog (three backups, one verified) and the Plugins dialog (the email plugin's
settings); with ``--language zh_CN`` it grabs the Chinese
main window. Monitoring samples every 0.25 s here
(1 s by default) so that the charts have points after the few seconds the batch takes.
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


def _quiet_offscreen_warnings() -> None:
    """The offscreen platform warns on every dock layout change; it means nothing here."""
    from PyQt5.QtCore import qInstallMessageHandler

    def handler(_kind, _context, message: str) -> None:  # type: ignore[no-untyped-def]
        if "propagateSizeHints" not in message:
            print(message, file=sys.stderr)

    qInstallMessageHandler(handler)


def capture(out_dir: Path, language: str) -> list[Path]:
    from PyQt5.QtCore import QSettings
    from PyQt5.QtWidgets import QApplication

    from AppCode.container import build, install_examples
    from AppCode.ui.app import _build_window, install_fonts, install_language

    _quiet_offscreen_warnings()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("ScriptBatch-screenshots")
    install_fonts(app)
    translators = install_language(app, language)
    home = Path(tempfile.mkdtemp(prefix="scriptbatch-shots-"))
    (home / "config.toml").write_text("[monitoring]\ninterval_s = 0.25\n", encoding="utf-8")
    container = build(home)
    install_examples(container)
    QSettings.setDefaultFormat(QSettings.IniFormat)
    settings = QSettings(str(home / "gui.ini"), QSettings.IniFormat)
    window = _build_window(container, settings)
    window.resize(1680, 860)  # the performance dock needs the room
    window.show()
    library = window._library
    _wait(app, lambda: len(library.all_scripts) >= 8)
    library.set_checked([s.path for s in library.all_scripts], True)
    window.batch_panel.jobs.setValue(3)
    # A few seconds of the idle system first, so the charts show the batch start.
    _wait(app, lambda: len(window._performance.series) >= 40)
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
    performance = window._performance
    if language == "en":
        _wait(app, lambda: len(performance.series) >= 16 or not slow_running())
        _settle(app, 0.6)
        grab(window, "performance")
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
        analysis = window._analysis
        window.tabs.setCurrentWidget(window.analysis_view)
        _wait(app, lambda: bool(analysis.findings) and not analysis.is_loading)
        window.analysis_view.table.selectRow(0)
        _settle(app, 0.5)
        grab(window, "analysis")
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
        grab_backups(app, window, grab)
        grab_plugins(app, container, window, grab)
        grab_users(app, container, window, grab)
    window.shutdown_viewmodels()
    container.shutdown_resources()
    del translators
    return saved


def grab_backups(app, window, grab) -> None:  # type: ignore[no-untyped-def]
    """The Manage backups dialog with three backups, the oldest one verified."""
    from AppCode.ui.dialogs.backup_dialogs import ManageBackupsDialog

    backups = window._backups
    for note in ("before the quarterly clean-up", None, "after adding the report scripts"):
        count = len(backups.backups)
        backups.create(note)
        _wait(app, lambda count=count: len(backups.backups) > count and not backups.is_busy)
    oldest = backups.backups[-1].id
    backups.verify(oldest)
    _wait(app, lambda: not backups.is_busy and bool(backups.find(oldest).verified_ok))
    dialog = ManageBackupsDialog(backups, window)
    dialog.resize(920, 360)
    dialog.show()
    _wait(app, lambda: dialog.table.rowCount() == 3)
    dialog.table.selectRow(2)
    _settle(app, 0.5)
    grab(dialog, "backups")
    dialog.close()


def grab_plugins(app, container, window, grab) -> None:  # type: ignore[no-untyped-def]
    """Tools > Plugins with the email plugin selected, its settings form filled in."""
    from AppCode.ui.dialogs.plugins_dialog import PluginsDialog

    container.plugin_service().configure(
        "email_notify",
        {
            "smtp_host": "smtp.example.org",
            "smtp_port": 587,
            "security": "starttls",
            "username": "scriptbatch",
            "sender": "scriptbatch@example.org",
            "recipients": ["ops@example.org", "li.wei@example.org"],
            "when": "failure",
        },
    )
    dialog = PluginsDialog(window._plugins, True, window)
    dialog.show()
    _wait(app, lambda: dialog.table.rowCount() >= 3 and not window._plugins.is_busy)
    dialog.select("email_notify")
    _settle(app, 0.5)
    grab(dialog, "plugins")
    dialog.close()


def grab_users(app, container, window, grab) -> None:  # type: ignore[no-untyped-def]
    """The login dialog, and the admin's Users and audit log dialog with a few users."""
    from AppCode.ui.dialogs.login_dialog import LoginDialog
    from AppCode.ui.dialogs.users_dialog import UsersDialog
    from AppCode.ui.viewmodels.session_viewmodel import SessionViewModel
    from AppCode.ui.viewmodels.users_viewmodel import UsersViewModel

    users = container.user_service()
    for name, role in (("li.wei", "operator"), ("maria", "manager"), ("reports-bot", "viewer")):
        users.add(name, role, "example-password")
    users.disable("reports-bot")
    login = LoginDialog(SessionViewModel(container.access(), users), window)
    login.name.setText("li.wei")
    login.show()
    _settle(app, 0.3)
    grab(login, "login")
    login.close()
    vm = UsersViewModel(users)
    dialog = UsersDialog(vm, window)
    dialog.resize(860, 420)
    dialog.show()
    _wait(app, lambda: dialog.users_table.rowCount() == 3 and dialog.audit_table.rowCount() > 0)
    dialog.users_table.selectRow(1)
    _settle(app, 0.3)
    grab(dialog, "users")
    dialog.tabs.setCurrentIndex(1)
    _settle(app, 0.3)
    grab(dialog, "audit_log")
    dialog.close()


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
