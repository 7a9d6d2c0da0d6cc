"""Desktop app start-up: ``scriptbatch-gui`` and ``scriptbatch`` without a command.

Order: preflight (display and Qt libraries), QApplication, language and fonts, single-instance
check on the data directory, the app container (database, migrations), the backup scheduler
(stopped on exit), first-start examples, then the main window with its ViewModels.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from AppCode.ui import preflight

log = logging.getLogger(__name__)

TRANSLATIONS = Path(__file__).resolve().parent / "resources" / "translations"
LANGUAGES = ("en", "zh_CN")
# Fallbacks so Chinese renders whatever the default UI font is (Linux, Windows, macOS).
CJK_FONTS = [
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
]


def choose_language(setting: str, system_locale: str) -> str:
    """ "auto" follows the system locale: Chinese for zh_*, English otherwise."""
    if setting in LANGUAGES:
        return setting
    return "zh_CN" if system_locale.lower().startswith("zh") else "en"


def install_language(app, language: str) -> list[object]:  # type: ignore[no-untyped-def]
    """Load ScriptBatch's and Qt's own translations; returns them (they must stay alive)."""
    from PyQt5.QtCore import QLibraryInfo, QLocale, QTranslator

    QLocale.setDefault(QLocale(language))
    if language == "en":
        return []
    installed = []
    ours = QTranslator(app)
    if ours.load(f"scriptbatch_{language}", str(TRANSLATIONS)):
        app.installTranslator(ours)
        installed.append(ours)
    qt = QTranslator(app)
    if qt.load(f"qtbase_{language}", QLibraryInfo.location(QLibraryInfo.TranslationsPath)):
        app.installTranslator(qt)
        installed.append(qt)
    return installed


def install_fonts(app) -> None:  # type: ignore[no-untyped-def]
    from PyQt5.QtGui import QFont

    family = app.font().family()
    QFont.insertSubstitutions(family, CJK_FONTS)
    QFont.insertSubstitutions("Sans Serif", CJK_FONTS)
    QFont.insertSubstitutions("Monospace", CJK_FONTS)


def apply_theme(app, theme: str) -> None:  # type: ignore[no-untyped-def]
    """ "system" keeps the platform's look; "light" and "dark" use Qt's Fusion style with a
    light or dark palette, the same on every platform."""
    if theme == "system":
        return
    from PyQt5.QtGui import QColor, QPalette
    from PyQt5.QtWidgets import QStyleFactory

    app.setStyle(QStyleFactory.create("Fusion"))
    if theme == "light":
        app.setPalette(app.style().standardPalette())
        return
    dark = QPalette()
    colours = {
        QPalette.Window: "#2b2b2b",
        QPalette.WindowText: "#e0e0e0",
        QPalette.Base: "#1e1e1e",
        QPalette.AlternateBase: "#262626",
        QPalette.ToolTipBase: "#2b2b2b",
        QPalette.ToolTipText: "#e0e0e0",
        QPalette.Text: "#e0e0e0",
        QPalette.Button: "#353535",
        QPalette.ButtonText: "#e0e0e0",
        QPalette.BrightText: "#ff6e6e",
        QPalette.Highlight: "#2f65ca",
        QPalette.HighlightedText: "#ffffff",
        QPalette.Link: "#6ea8fe",
        QPalette.PlaceholderText: "#8a8a8a",
    }
    for role, colour in colours.items():
        dark.setColor(role, QColor(colour))
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        dark.setColor(QPalette.Disabled, role, QColor("#7a7a7a"))
    app.setPalette(dark)


def instance_key(data_dir: Path) -> str:
    digest = hashlib.sha1(str(data_dir).encode("utf-8")).hexdigest()[:16]
    return f"scriptbatch-{os.getuid() if hasattr(os, 'getuid') else 0}-{digest}"


def run_gui(data_dir: str | None = None, config_file: str | None = None) -> int:
    """Open the main window on the data directory; returns the process exit code."""
    found = preflight.problems()
    if found:
        for problem in found:
            print(f"scriptbatch-gui: {problem}", file=sys.stderr)
        return 2

    from PyQt5.QtCore import QLocale, QLockFile, QSettings
    from PyQt5.QtNetwork import QLocalServer, QLocalSocket
    from PyQt5.QtWidgets import QApplication, QMessageBox

    from AppCode.container import build
    from AppCode.core.domain.errors import ScriptBatchError
    from AppCode.utils.data_dir import DataDir

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("ScriptBatch")
    app.setOrganizationName("ScriptBatch")
    install_fonts(app)

    # One window per data directory: a second launch brings the first one forward.
    where = DataDir.resolve(data_dir)
    key = instance_key(where.root)
    try:
        where.root.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # build() below says what is wrong with the data directory
    lock = QLockFile(str(where.lock_file))
    lock.setStaleLockTime(0)  # a lock left by a crashed instance is taken over (pid check)
    if where.root.is_dir() and not lock.tryLock(0):
        if _activate_running_instance(QLocalSocket, key):
            return 0
        QMessageBox.information(
            None,
            "ScriptBatch",
            f"ScriptBatch is already running on the data directory {where.root}.\n\n"
            "Switch to its window, or start with another --data-dir.",
        )
        return 1

    try:
        container = build(data_dir, config_file)
    except ScriptBatchError as exc:
        hint = f"\n\n{exc.hint}" if exc.hint else ""
        QMessageBox.critical(None, "ScriptBatch", exc.message + hint)
        lock.unlock()
        return 2

    settings = container.settings()
    language = choose_language(settings.ui.language, QLocale.system().name())
    translators = install_language(app, language)
    apply_theme(app, settings.ui.theme)
    if container.access().multi_user and not log_in(container):
        container.shutdown_resources()
        lock.unlock()
        return 0
    from AppCode.services.backup_service import BackupScheduler

    # Scheduled backups while the app runs; the first check at once catches up a missed one.
    scheduler = BackupScheduler(container.backup_service())
    try:
        scheduler.start()
        window = _build_window(container, QSettings())
        server = QLocalServer(app)
        QLocalServer.removeServer(key)
        server.listen(key)
        server.newConnection.connect(lambda: _on_second_launch(server, window))
        install_examples_async(container, window)
        _close_on_signals(app, window)
        window.show()
        code = int(app.exec_())
        server.close()
        return code
    finally:
        scheduler.stop()
        del translators
        container.shutdown_resources()
        lock.unlock()


def log_in(container) -> bool:  # type: ignore[no-untyped-def]
    """Multi-user mode: the login dialog (or, with no administrator yet, the dialog that
    makes the first one). False if the user cancelled."""
    from AppCode.ui.dialogs.login_dialog import LoginDialog
    from AppCode.ui.viewmodels.session_viewmodel import SessionViewModel

    dialog = LoginDialog(SessionViewModel(container.access(), container.user_service()))
    return bool(dialog.exec_())


def install_examples_async(container, window) -> None:  # type: ignore[no-untyped-def]
    """Copy and register the bundled examples on a data directory's first start."""
    from AppCode.container import install_examples

    if install_examples(container):
        window._library.refresh()


def _build_window(container, qsettings):  # type: ignore[no-untyped-def]
    from PyQt5.QtCore import Qt

    from AppCode.core.security.permissions import Level
    from AppCode.ui.dialogs.api_server_dialog import ApiServerDialog
    from AppCode.ui.dialogs.execution_dialog import ExecutionDialog
    from AppCode.ui.dialogs.plugins_dialog import PluginsDialog
    from AppCode.ui.dialogs.settings_dialog import SettingsDialog
    from AppCode.ui.dialogs.users_dialog import UsersDialog
    from AppCode.ui.viewmodels.api_server_viewmodel import ApiServerViewModel
    from AppCode.ui.viewmodels.backup_viewmodel import BackupViewModel
    from AppCode.ui.viewmodels.batch_viewmodel import BatchViewModel
    from AppCode.ui.viewmodels.history_viewmodel import ExecutionDetailsViewModel, HistoryViewModel
    from AppCode.ui.viewmodels.library_viewmodel import LibraryViewModel
    from AppCode.ui.viewmodels.performance_viewmodel import (
        AnalysisViewModel,
        PerformanceViewModel,
    )
    from AppCode.ui.viewmodels.plugins_viewmodel import PluginsViewModel
    from AppCode.ui.viewmodels.report_viewmodel import ReportViewModel
    from AppCode.ui.viewmodels.session_viewmodel import SessionViewModel
    from AppCode.ui.viewmodels.settings_viewmodel import SettingsViewModel
    from AppCode.ui.viewmodels.status_viewmodel import SystemLoadViewModel
    from AppCode.ui.viewmodels.users_viewmodel import UsersViewModel
    from AppCode.ui.views.main_window import MainWindow

    settings = container.settings()
    execution = settings.execution
    history_service = container.history_service()
    monitoring = container.monitoring_service()
    batch = BatchViewModel(
        container.batch_service(),
        history_service,
        container.event_bus().subscribe,
        jobs=execution.jobs,
        timeout_s=execution.timeout_s,
        retries=execution.retries,
        backend=execution.backend,
        fail_fast=execution.fail_fast,
        start_method=execution.start_method,
    )

    def open_settings(parent) -> None:  # type: ignore[no-untyped-def]
        vm = SettingsViewModel(
            settings,
            container.settings_service().save,
            sections=("execution", "sandbox", "monitoring", "cache", "ui"),
            policies=container.policy_resolver().available,
            check_python=container.python_checker(),
        )
        # Saved run options become the batch panel's (and so the next run's) options.
        vm.applied.connect(lambda keys: batch.use_settings(keys, settings.execution))
        dialog = SettingsDialog(vm, parent)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.exec_()

    def open_execution(parent, execution_id: str) -> None:  # type: ignore[no-untyped-def]
        details = ExecutionDetailsViewModel(history_service)
        dialog = ExecutionDialog(execution_id, details, parent, live=batch)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.show()

    session = SessionViewModel(container.access(), container.user_service())
    api_server = ApiServerViewModel(
        str(container.data_dir().root),
        str(container.config_file()),
        settings.api.host,
        settings.api.port,
    )

    def open_users(parent) -> None:  # type: ignore[no-untyped-def]
        dialog = UsersDialog(UsersViewModel(container.user_service()), parent)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.show()

    def open_api_server(parent) -> None:  # type: ignore[no-untyped-def]
        users = UsersViewModel(container.user_service())
        dialog = ApiServerDialog(api_server, users, session.user_name, parent)
        users.setParent(dialog)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.show()

    # One plugins ViewModel for the window (plugin problems go to its status bar) and the
    # Plugins dialog; viewers see the dialog read only.
    plugin_service = container.plugin_service()
    plugins = PluginsViewModel(plugin_service)

    def open_plugins(parent) -> None:  # type: ignore[no-untyped-def]
        dialog = PluginsDialog(plugins, session.may(Level.MANAGE), parent)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.show()

    return MainWindow(
        LibraryViewModel(container.script_service()),
        batch,
        HistoryViewModel(history_service),
        SystemLoadViewModel(container.system_load()),
        PerformanceViewModel(monitoring),
        AnalysisViewModel(monitoring),
        BackupViewModel(container.backup_service()),
        session,
        api_server,
        plugins,
        ReportViewModel(container.report_service(), plugin_service),
        open_settings=open_settings,
        open_execution=open_execution,
        open_users=open_users,
        open_api_server=open_api_server,
        open_plugins=open_plugins,
        log_folder=str(container.data_dir().logs),
        settings=qsettings,
    )


def _close_on_signals(app, window) -> None:  # type: ignore[no-untyped-def]
    """SIGTERM/SIGINT close the window cleanly (a running batch is stopped and recorded)
    instead of killing the app mid-write. Qt's loop runs in C, so a timer lets Python look
    at pending signals a few times a second."""
    import signal

    from PyQt5.QtCore import QTimer

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: window.shut_down())
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)
    timer.start(250)


def _activate_running_instance(socket_class, key: str) -> bool:  # type: ignore[no-untyped-def]
    socket = socket_class()
    socket.connectToServer(key)
    if not socket.waitForConnected(2000):
        return False
    socket.write(b"activate\n")
    socket.waitForBytesWritten(2000)
    socket.disconnectFromServer()
    return True


def _on_second_launch(server, window) -> None:  # type: ignore[no-untyped-def]
    from AppCode.ui.views.main_window import activate

    connection = server.nextPendingConnection()
    if connection is not None:
        connection.disconnected.connect(connection.deleteLater)
    activate(window)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``scriptbatch-gui`` launcher."""
    parser = argparse.ArgumentParser(prog="scriptbatch-gui", description="Open ScriptBatch.")
    parser.add_argument("--data-dir", metavar="DIR")
    parser.add_argument("--config", metavar="FILE")
    args = parser.parse_args(argv)
    return run_gui(args.data_dir, args.config)
