"""The main window: library on the left; batch, output, history and analysis in the middle;
the performance panel docked on the right.

Later features plug in without placeholders: docks go in the dock areas, batch options in
``BatchPanel.options`` (a grid), and menus between Run and Help (Backup sits before Tools).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from PyQt5.QtCore import QSettings, Qt, QUrl
from PyQt5.QtGui import QCloseEvent, QDesktopServices, QDragEnterEvent, QDropEvent, QKeySequence
from PyQt5.QtWidgets import (
    QAction,
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QStyle,
    QSystemTrayIcon,
    QTabWidget,
    QWidget,
)

from AppCode import __version__
from AppCode.core.domain.models import BackupRecord, Execution, ExecutionStatus
from AppCode.core.engines.engine import FAIL_FAST_CANCEL
from AppCode.core.security.permissions import Level
from AppCode.ui.dialogs.backup_dialogs import (
    BusyProgress,
    ManageBackupsDialog,
    RestoreDialog,
    ask_and_create_backup,
)
from AppCode.ui.viewmodels.api_server_viewmodel import ApiServerViewModel
from AppCode.ui.viewmodels.backup_viewmodel import BackupViewModel
from AppCode.ui.viewmodels.batch_viewmodel import BatchViewModel
from AppCode.ui.viewmodels.history_viewmodel import HistoryViewModel
from AppCode.ui.viewmodels.library_viewmodel import LibraryViewModel
from AppCode.ui.viewmodels.performance_viewmodel import AnalysisViewModel, PerformanceViewModel
from AppCode.ui.viewmodels.plugins_viewmodel import PluginsViewModel
from AppCode.ui.viewmodels.report_viewmodel import ReportViewModel
from AppCode.ui.viewmodels.session_viewmodel import SessionViewModel
from AppCode.ui.viewmodels.status_viewmodel import SystemLoadViewModel
from AppCode.ui.views.analysis_view import AnalysisView
from AppCode.ui.views.history_view import HistoryView
from AppCode.ui.widgets import formatting as fmt
from AppCode.ui.widgets.batch_panel import BatchPanel
from AppCode.ui.widgets.library_panel import LibraryPanel
from AppCode.ui.widgets.output_view import OutputView
from AppCode.ui.widgets.performance_panel import PerformancePanel

HISTORY_TAB = 1
PERFORMANCE_DOCK_WIDTH = 340
PLUGIN_PROBLEM_MS = 10_000


class MainWindow(QMainWindow):
    def __init__(
        self,
        library: LibraryViewModel,
        batch: BatchViewModel,
        history: HistoryViewModel,
        load: SystemLoadViewModel,
        performance: PerformanceViewModel,
        analysis: AnalysisViewModel,
        backups: BackupViewModel,
        session: SessionViewModel,
        api_server: ApiServerViewModel,
        plugins: PluginsViewModel,
        reports: ReportViewModel,
        *,
        open_settings: Callable[[QWidget], None],
        open_execution: Callable[[QWidget, str], None],
        open_users: Callable[[QWidget], None],
        open_api_server: Callable[[QWidget], None],
        open_plugins: Callable[[QWidget], None],
        log_folder: str,
        settings: QSettings,
    ) -> None:
        super().__init__()
        self._library = library
        self._batch = batch
        self._history = history
        self._load = load
        self._performance = performance
        self._analysis = analysis
        self._backups = backups
        self._session = session
        self._api_server = api_server
        self._plugins = plugins
        self._reports = reports
        # What the user's role allows; the services check again, this only spares them
        # buttons that would be refused.
        self._may_execute = session.may(Level.EXECUTE)
        self._may_manage = session.may(Level.MANAGE)
        self._is_admin = session.may(Level.ADMIN)
        self._backup_dialog: QWidget | None = None  # the open Restore or Manage dialog
        self._open_settings = open_settings
        self._open_execution = open_execution
        self._open_users = open_users
        self._open_api_server = open_api_server
        self._open_plugins = open_plugins
        self._log_folder = log_folder
        self._settings = settings
        self._close_when_stopped = False
        self._selected_id: str | None = None
        self.setWindowTitle(self.tr("ScriptBatch"))
        self.setAcceptDrops(session.may(Level.MANAGE))  # dropping files adds them
        self.resize(1280, 800)

        self._make_actions()
        self.library_panel = LibraryPanel(library, self)
        self.library_panel.set_policies(batch.policies())
        self.batch_panel = BatchPanel(
            batch, self.run_action, self.stop_action, self.rerun_action, self
        )
        self.output = OutputView(self)
        self.history_view = HistoryView(history, lambda eid: open_execution(self, eid), self)
        self.analysis_view = AnalysisView(analysis, self.show_script_history, self)

        self.batch_split = QSplitter(Qt.Vertical, self)
        self.batch_split.addWidget(self.batch_panel)
        self.batch_split.addWidget(self.output)
        self.batch_split.setStretchFactor(0, 3)
        self.batch_split.setStretchFactor(1, 2)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self.batch_split, self.tr("Batch"))
        self.tabs.addTab(self.history_view, self.tr("History"))
        self.tabs.addTab(self.analysis_view, self.tr("Analysis"))
        self.main_split = QSplitter(Qt.Horizontal, self)
        self.main_split.addWidget(self.library_panel)
        self.main_split.addWidget(self.tabs)
        self.main_split.setStretchFactor(0, 1)
        self.main_split.setStretchFactor(1, 3)
        self.main_split.setSizes([320, 960])
        self.setCentralWidget(self.main_split)

        self.performance_panel = PerformancePanel(performance, self)
        self.performance_dock = QDockWidget(self.tr("Performance"), self)
        self.performance_dock.setObjectName("performance_dock")  # saveState needs a name
        self.performance_dock.setWidget(self.performance_panel)
        self.performance_dock.setAllowedAreas(Qt.LeftDockWidgetArea | Qt.RightDockWidgetArea)
        self.addDockWidget(Qt.RightDockWidgetArea, self.performance_dock)
        self.resizeDocks([self.performance_dock], [PERFORMANCE_DOCK_WIDTH], Qt.Horizontal)
        self.performance_action = self.performance_dock.toggleViewAction()
        self.performance_action.setText(self.tr("&Performance panel"))
        self.performance_action.setToolTip(self.tr("Show or hide live CPU, memory and disk charts"))

        self.counts_label = QLabel(self)
        self.load_label = QLabel(self)
        self.load_label.setContentsMargins(12, 0, 4, 0)
        self.statusBar().addPermanentWidget(self.counts_label)
        self.statusBar().addPermanentWidget(self.load_label)
        self.user_label = QLabel(self)
        if session.multi_user:
            self.user_label.setText(self.tr("{0} ({1})").format(session.user_name, session.role))
            self.user_label.setToolTip(self.tr("Logged-in user and role"))
            self.statusBar().addPermanentWidget(self.user_label)
        self._make_menus()
        self.tray = (
            QSystemTrayIcon(self.windowIcon(), self)
            if (QSystemTrayIcon.isSystemTrayAvailable())
            else None
        )

        library.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        library.error_occurred.connect(self._show_error)
        batch.error_occurred.connect(self._show_error)
        # History errors (a batch id prefix that matches nothing...) show inline in its view.
        performance.error_occurred.connect(self._show_error)
        self.backup_progress = BusyProgress(backups, self)
        backups.error_occurred.connect(self._on_backup_error)
        backups.created.connect(self._on_backup_created)
        backups.restored.connect(self._on_restored)
        backups.busy_changed.connect(lambda _busy, _text: self._update_backup_actions())
        batch.running_changed.connect(self._on_running_changed)
        batch.counts_changed.connect(self._on_counts)
        batch.rerun_available.connect(self.rerun_action.setEnabled)
        batch.batch_finished.connect(self._on_batch_finished)
        batch.output_reset.connect(self._on_output_reset)
        batch.output_appended.connect(self._on_output_appended)
        batch.rows_reset.connect(self._on_rows_reset)
        self.batch_panel.execution_selected.connect(self._on_execution_selected)
        batch.rows_changed.connect(self._on_rows_changed)
        self.batch_panel.table.doubleClicked.connect(
            lambda index: open_execution(self, index.data(Qt.UserRole + 1))
        )
        load.load_changed.connect(self._on_load)
        plugins.problem.connect(self._on_plugin_problem)
        plugins.plugins_changed.connect(lambda _plugins: reports.load_formats())
        self.batch_panel.export_report_requested.connect(self.export_report)
        self.history_view.export_report_requested.connect(self.export_report)
        reports.done.connect(self._on_report_written)
        reports.failed.connect(self._on_report_failed)
        self._on_running_changed(False)
        self.rerun_action.setEnabled(False)
        self._restore_state()
        library.refresh()
        reports.load_formats()
        load.start()
        performance.start()

    # -- construction --------------------------------------------------------------------------

    def _make_actions(self) -> None:
        style = self.style()
        self.add_files_action = QAction(self.tr("Add &scripts…"), self)
        self.add_folder_action = QAction(self.tr("Add &folder…"), self)
        self.quit_action = QAction(self.tr("&Quit"), self)
        self.quit_action.setShortcut(QKeySequence.Quit)
        self.run_action = QAction(
            style.standardIcon(QStyle.SP_MediaPlay), self.tr("&Run selected"), self
        )
        self.run_action.setShortcuts([QKeySequence("F5"), QKeySequence("Ctrl+R")])
        self.run_action.setToolTip(self.tr("Run the ticked scripts (F5)"))
        self.stop_action = QAction(style.standardIcon(QStyle.SP_MediaStop), self.tr("&Stop"), self)
        self.stop_action.setShortcut(QKeySequence("Shift+F5"))
        self.stop_action.setToolTip(self.tr("Stop the batch: kill running scripts (Shift+F5)"))
        self.rerun_action = QAction(
            style.standardIcon(QStyle.SP_BrowserReload), self.tr("Re-run &failed"), self
        )
        self.rerun_action.setToolTip(self.tr("Run again what did not succeed in the last batch"))
        self.find_action = QAction(self.tr("&Find in output"), self)
        self.find_action.setShortcut(QKeySequence.Find)
        self.settings_action = QAction(self.tr("&Settings…"), self)
        self.settings_action.setShortcut(QKeySequence.Preferences)
        self.about_action = QAction(self.tr("&About ScriptBatch"), self)
        self.users_action = QAction(self.tr("&Users and audit log…"), self)
        self.users_action.setToolTip(self.tr("Add users, change roles, read the audit log"))
        self.api_server_action = QAction(self.tr("&API server…"), self)
        self.api_server_action.setToolTip(
            self.tr("Start or stop the REST API other programs drive ScriptBatch with")
        )
        self.plugins_action = QAction(self.tr("&Plugins…"), self)
        self.plugins_action.setToolTip(
            self.tr("See the plugins, switch them on or off, change their settings")
        )
        self.log_folder_action = QAction(self.tr("Open &log folder"), self)

        self.add_files_action.triggered.connect(lambda: self.library_panel.add_files())
        self.add_folder_action.triggered.connect(lambda: self.library_panel.add_folder())
        self.quit_action.triggered.connect(self.close)
        self.run_action.triggered.connect(self.run_selected)
        self.stop_action.triggered.connect(self._batch.stop)
        self.rerun_action.triggered.connect(self._batch.rerun_failed)
        self.find_action.triggered.connect(self._focus_find)
        self.settings_action.triggered.connect(lambda: self._open_settings(self))
        self.users_action.triggered.connect(lambda: self._open_users(self))
        self.api_server_action.triggered.connect(lambda: self._open_api_server(self))
        self.plugins_action.triggered.connect(lambda: self._open_plugins(self))
        self.about_action.triggered.connect(self._about)
        self.log_folder_action.triggered.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(self._log_folder))
        )

        self.create_backup_action = QAction(self.tr("&Create backup…"), self)
        self.create_backup_action.setToolTip(
            self.tr("Back up the database (scripts, runs, history) and the settings now")
        )
        self.restore_backup_action = QAction(self.tr("&Restore…"), self)
        self.restore_backup_action.setToolTip(
            self.tr("Replace the current data with a backup (not while a batch runs)")
        )
        self.manage_backups_action = QAction(self.tr("&Manage backups…"), self)
        self.manage_backups_action.setToolTip(
            self.tr("Verify and delete backups, open the backup folder")
        )
        self.create_backup_action.triggered.connect(self.create_backup)
        self.restore_backup_action.triggered.connect(lambda: self.open_backup_dialog(RestoreDialog))
        self.manage_backups_action.triggered.connect(
            lambda: self.open_backup_dialog(ManageBackupsDialog)
        )

    def _make_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu(self.tr("&File"))
        file_menu.addAction(self.add_files_action)
        file_menu.addAction(self.add_folder_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        run_menu = bar.addMenu(self.tr("&Run"))
        for action in (self.run_action, self.stop_action, self.rerun_action):
            run_menu.addAction(action)
        run_menu.addSeparator()
        run_menu.addAction(self.find_action)
        self.view_menu: QMenu = bar.addMenu(self.tr("&View"))
        self.view_menu.addAction(self.performance_action)
        self.backup_menu: QMenu = bar.addMenu(self.tr("&Backup"))
        self.backup_menu.addAction(self.create_backup_action)
        self.backup_menu.addAction(self.restore_backup_action)
        self.backup_menu.addSeparator()
        self.backup_menu.addAction(self.manage_backups_action)
        self.tools_menu: QMenu = bar.addMenu(self.tr("&Tools"))
        self.tools_menu.addAction(self.settings_action)
        self.tools_menu.addAction(self.plugins_action)  # every role: viewers read only
        self.tools_menu.addAction(self.api_server_action)
        self.tools_menu.addAction(self.users_action)
        self._apply_permissions()
        help_menu = bar.addMenu(self.tr("&Help"))
        help_menu.addAction(self.about_action)
        help_menu.addAction(self.log_folder_action)

    # -- intents -------------------------------------------------------------------------------

    def run_selected(self) -> None:
        self.tabs.setCurrentIndex(0)
        self._batch.run(self._library.checked_paths())

    def show_script_history(self, script_path: str) -> None:
        """Switch to the History tab, showing the runs of ``script_path``."""
        edit = self.history_view.script_edit
        edit.blockSignals(True)  # the filter is set right below, not after the typing delay
        edit.setText(script_path)
        edit.blockSignals(False)
        self.tabs.setCurrentIndex(HISTORY_TAB)
        self._history.set_script_text(script_path)

    def create_backup(self) -> None:
        """Backup > Create backup: an optional note, then the backup in the background."""
        ask_and_create_backup(self._backups, self, self.backup_progress)

    def open_backup_dialog(
        self, dialog_class: type[RestoreDialog] | type[ManageBackupsDialog]
    ) -> None:
        """Open the Restore or Manage dialog (modal); it reports its own errors."""
        dialog = dialog_class(self._backups, self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        self._backup_dialog = dialog
        try:
            dialog.exec_()
        finally:
            self._backup_dialog = None

    def export_report(self, batch_id: str) -> None:
        """Ask where to save a report of the batch (the format follows the file type), then
        write it in the background; ``_on_report_written`` or ``_on_report_failed`` follows."""
        reports = self._reports
        reason = reports.unavailable_reason()
        if reason:
            reports.load_formats()  # a plugin may have been enabled elsewhere since
            QMessageBox.warning(self, self.tr("Export report"), reason)
            return
        folder = str(self._settings.value("reports/folder", os.path.expanduser("~")))
        first = reports.formats[0]
        path, selected = QFileDialog.getSaveFileName(
            self,
            self.tr("Export report of batch {0}").format(batch_id[:8]),
            os.path.join(folder, reports.default_file_name(batch_id, first)),
            ";;".join(reports.file_filters()),
        )
        if not path:
            return
        path, fmt = reports.choose_format(path, selected)
        self._settings.setValue("reports/folder", os.path.dirname(path))
        self.statusBar().showMessage(self.tr("Writing the report {0}…").format(path))
        reports.write_report(batch_id, fmt, path)

    def _focus_find(self) -> None:
        self.tabs.setCurrentIndex(0)
        self.output.focus_find()

    def _about(self) -> None:
        from PyQt5.QtCore import PYQT_VERSION_STR, QT_VERSION_STR

        QMessageBox.about(
            self,
            self.tr("About ScriptBatch"),
            self.tr(
                "<h3>ScriptBatch {version}</h3>"
                "<p>Run folders of Python scripts as safe, parallel, recorded batches.</p>"
                "<p>Python {python} · Qt {qt} · PyQt {pyqt}</p>"
            ).format(
                version=__version__,
                python=".".join(map(str, __import__("sys").version_info[:3])),
                qt=QT_VERSION_STR,
                pyqt=PYQT_VERSION_STR,
            ),
        )

    # -- updates -------------------------------------------------------------------------------

    def _on_execution_selected(self, execution_id: str) -> None:
        self._selected_id = execution_id
        self._show_output_title()
        self._batch.select_execution(execution_id)

    def _on_output_reset(self, execution_id: str, chunks: list[tuple[str, str]]) -> None:
        # Output of an execution a details dialog follows is not for this pane.
        if execution_id == (self._batch.selected_execution or ""):
            self.output.set_chunks(chunks)

    def _on_output_appended(self, execution_id: str, chunks: list[tuple[str, str]]) -> None:
        if execution_id == self._batch.selected_execution:
            self.output.append_chunks(chunks)

    def _on_rows_reset(self, _rows: list[Execution]) -> None:
        """A new batch (or none, after a restore): the previous one's output goes."""
        if self._batch.selected_execution is None:
            self._selected_id = None
            self.output.clear_execution()

    def _on_rows_changed(self, rows: list[int]) -> None:
        """Keep the output title current; reload a finished execution's output from its log,
        which is complete even where the live view skipped part of a flood."""
        selected = self._selected_id
        for row in rows:
            execution = self._batch.rows[row]
            if execution.id == selected:
                self._show_output_title()
                if execution.status.is_final:
                    self._batch.load_output(execution.id)

    def _show_output_title(self) -> None:
        selected = self._selected_id
        execution = next((e for e in self._batch.rows if e.id == selected), None)
        if execution is not None:
            title = f"{os.path.basename(execution.script_path)} — " + fmt.status_label(
                execution.status, execution.attempts
            )
            self.output.show_execution(title, execution.log_path)

    def _apply_permissions(self) -> None:
        """Hide what the role never allows (menus stay short) and disable what it does not
        allow now; the services refuse it anyway."""
        for action in (
            self.add_files_action,
            self.add_folder_action,
            self.settings_action,
            self.create_backup_action,
            self.manage_backups_action,
            self.api_server_action,
        ):
            action.setVisible(self._may_manage)
        self.restore_backup_action.setVisible(self._is_admin)
        self.users_action.setVisible(self._is_admin)
        for action in (self.run_action, self.stop_action, self.rerun_action):
            action.setVisible(self._may_execute)
        self.library_panel.set_permissions(
            may_execute=self._may_execute, may_manage=self._may_manage
        )

    def _on_running_changed(self, running: bool) -> None:
        self.run_action.setEnabled(not running and self._may_execute)
        self.stop_action.setEnabled(running and self._may_execute)
        if running:
            self.rerun_action.setEnabled(False)
        self._update_backup_actions()

    def _update_backup_actions(self) -> None:
        busy = self._backups.is_busy
        self.create_backup_action.setEnabled(not busy and self._may_manage)
        self.restore_backup_action.setEnabled(
            not busy and not self._batch.is_running and self._is_admin
        )

    def _on_backup_created(self, record: BackupRecord) -> None:
        self.statusBar().showMessage(
            self.tr("Backup written: {path} ({size})").format(
                path=record.path, size=fmt.size(record.size_bytes)
            ),
            15000,
        )

    def _on_restored(self, _backup_id: str, pre_restore_path: str) -> None:
        """Show the restored data: the library, the history and the analysis are reloaded."""
        self._library.refresh()
        self._history.reload()
        self._batch.clear()  # its batch is not in the restored data (or not as shown)
        self.analysis_view.mark_stale()
        self.statusBar().showMessage(
            self.tr("Backup restored; the previous state is in {path}").format(
                path=pre_restore_path
            ),
            15000,
        )

    def _on_backup_error(self, message: str) -> None:
        if self._backup_dialog is None:  # an open backup dialog shows its own errors
            self._show_error(message)

    def _on_counts(self, counts: dict[str, int]) -> None:
        failed = sum(counts.get(s, 0) for s in ("failed", "timed_out", "blocked", "interrupted"))
        text = self.tr("Running {running} · Succeeded {succeeded} · Failed {failed}").format(
            running=counts.get("running", 0),
            succeeded=counts.get("succeeded", 0),
            failed=failed,
        )
        if counts.get("cancelled", 0):
            text += " · " + self.tr("Cancelled {cancelled}").format(cancelled=counts["cancelled"])
        self.counts_label.setText(text)
        self.counts_label.setToolTip(
            "\n".join(
                f"{fmt.status_label(status)}: {counts[status.value]}"
                for status in ExecutionStatus
                if counts.get(status.value)
            )
        )

    def _on_load(self, cpu: float, memory: float) -> None:
        self.load_label.setText(
            self.tr("CPU {cpu:.0f}% · Memory {memory:.0f}%").format(cpu=cpu, memory=memory)
        )

    def _on_batch_finished(self, batch_id: str, status: str) -> None:
        counts = self._batch.counts()
        text = self.tr("Batch finished: {succeeded} of {total} succeeded").format(
            succeeded=counts.get("succeeded", 0), total=counts.get("total", 0)
        )
        # The engine says why fail-fast cancelled a script, in its error message.
        stopped = [
            e for e in self._batch.rows if (e.error_message or "").startswith(FAIL_FAST_CANCEL)
        ]
        if stopped:
            text += " · " + self.tr("{count} {reason}").format(
                count=len(stopped), reason=stopped[0].error_message
            )
        self.statusBar().showMessage(text, 15000)
        if self._close_when_stopped:
            self.close()
            return
        if self.tray is not None and not self.isActiveWindow():
            self.tray.show()
            icon = (
                QSystemTrayIcon.Information if status == "succeeded" else (QSystemTrayIcon.Warning)
            )
            self.tray.showMessage(self.tr("ScriptBatch"), text, icon, 10000)
        self._history.reload()
        self.analysis_view.mark_stale()

    def _on_report_written(self, path: str) -> None:
        self.statusBar().showMessage(self.tr("Report written: {0}").format(path), 15000)

    def _on_report_failed(self, message: str) -> None:
        self.statusBar().clearMessage()
        QMessageBox.warning(self, self.tr("Export report"), message)

    def _on_plugin_problem(self, text: str) -> None:
        self.statusBar().showMessage(text, PLUGIN_PROBLEM_MS)

    def _show_error(self, message: str) -> None:
        QMessageBox.warning(self, self.tr("ScriptBatch"), message)

    # -- window events -------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and all(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        self._library.add_paths(paths)
        event.acceptProposedAction()

    def shut_down(self) -> None:
        """Close without asking (SIGTERM, logout): stop a running batch first."""
        if self._batch.is_running:
            self._close_when_stopped = True
            self._batch.stop()
            self.statusBar().showMessage(self.tr("Stopping the batch…"))
            return
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._batch.is_running:
            answer = QMessageBox.question(
                self,
                self.tr("A batch is running"),
                self.tr(
                    "Stop the running batch and quit?\n\nRunning scripts are killed and "
                    "recorded as cancelled."
                ),
                QMessageBox.Yes | QMessageBox.No,
                QMessageBox.No,
            )
            if answer != QMessageBox.Yes:
                event.ignore()
                return
            self._close_when_stopped = True
            self._batch.stop()
            self.statusBar().showMessage(self.tr("Stopping the batch…"))
            event.ignore()
            return
        self._save_state()
        self.shutdown_viewmodels()
        event.accept()

    def shutdown_viewmodels(self) -> None:
        """Stop the ViewModels' timers, threads and subscriptions (the window is closing)."""
        self._load.stop()
        self._batch.shutdown()
        self._performance.shutdown()
        self._analysis.shutdown()
        self._api_server.stop()
        self._plugins.shutdown()

    def _save_state(self) -> None:
        s = self._settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/main_split", self.main_split.saveState())
        s.setValue("window/batch_split", self.batch_split.saveState())
        s.setValue("run/jobs", self._batch.jobs)
        s.setValue("run/timeout_s", self._batch.timeout_s)
        s.setValue("run/retries", self._batch.retries)
        s.setValue("run/start_method", self._batch.start_method)
        s.setValue("run/sandbox_policy", self._batch.sandbox_policy)
        s.setValue("run/fail_fast", self._batch.fail_fast)

    def _restore_state(self) -> None:
        s = self._settings
        if s.value("window/geometry") is not None:
            self.restoreGeometry(s.value("window/geometry"))
            self.restoreState(s.value("window/state"))
            self.main_split.restoreState(s.value("window/main_split"))
            self.batch_split.restoreState(s.value("window/batch_split"))
        if s.value("run/jobs") is not None:
            self.batch_panel.set_options(
                int(s.value("run/jobs")),
                float(s.value("run/timeout_s", 0)),
                int(s.value("run/retries", 0)),
                str(s.value("run/start_method", "auto")),
                str(s.value("run/sandbox_policy", "")),
                _bool(s.value("run/fail_fast")),
            )


def _bool(value: object) -> bool | None:
    """A flag read back from QSettings (an INI file gives "true"/"false"); None if unset."""
    if value is None:
        return None
    return value is True or str(value).lower() == "true"


def activate(window: QMainWindow) -> None:
    """Bring the window to the front (a second launch asked for it)."""
    window.setWindowState(window.windowState() & ~Qt.WindowMinimized)
    window.show()
    window.raise_()
    window.activateWindow()
    QApplication.alert(window)
