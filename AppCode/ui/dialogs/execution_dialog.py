"""One execution in full: its results, its attempts and its output.

Everything is loaded by an ``ExecutionDetailsViewModel`` in the background; the dialog opens at
once and fills in. Errors (an unknown id, a deleted log) show inline, in red. An execution of
the batch running in the window is followed live (status, timings, output) through the batch
ViewModel until it ends; then its stored details and whole log are loaded.
"""

from __future__ import annotations

import os
import shlex
from datetime import UTC, datetime

from PyQt5.QtCore import Qt, QTimer, QUrl
from PyQt5.QtGui import QColor, QDesktopServices, QFontDatabase, QTextCharFormat, QTextCursor
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from AppCode.core.domain.models import Attempt, Execution, ExecutionStatus
from AppCode.ui.viewmodels.batch_viewmodel import BatchViewModel
from AppCode.ui.viewmodels.history_viewmodel import ExecutionDetailsViewModel
from AppCode.ui.widgets import formatting as fmt

__all__ = ["ExecutionDialog"]


class ExecutionDialog(QDialog):
    """Details, attempts (when retried) and output of one execution."""

    def __init__(
        self,
        execution_id: str,
        vm: ExecutionDetailsViewModel,
        parent: QWidget | None = None,
        live: BatchViewModel | None = None,
    ) -> None:
        super().__init__(parent)
        self._vm = vm
        self._execution_id = execution_id
        # The batch ViewModel while this execution has not finished; None once it has.
        running = live.execution(execution_id) if live is not None else None
        self._live = live if running is not None and not running.status.is_final else None
        self._known = running  # as the batch ViewModel last reported it
        self._log_path: str | None = None
        self.setWindowTitle(self.tr("Execution {id}").format(id=execution_id))
        self.resize(900, 700)

        self.error_label = QLabel(self)
        self.error_label.setStyleSheet(f"color: {fmt.STDERR_COLOUR};")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.error_label.setVisible(False)

        self.fields: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.ExpandingFieldsGrow)
        for key, label in (
            ("script", self.tr("Script")),
            ("args", self.tr("Arguments")),
            ("status", self.tr("Status")),
            ("exit_code", self.tr("Exit code")),
            ("started", self.tr("Started")),
            ("finished", self.tr("Finished")),
            ("duration", self.tr("Duration")),
            ("cpu", self.tr("CPU time")),
            ("memory", self.tr("Peak memory")),
            ("output_size", self.tr("Output size")),
            ("log_path", self.tr("Log file")),
            ("error", self.tr("Error")),
        ):
            value = QLabel(self)
            value.setTextInteractionFlags(Qt.TextSelectableByMouse)
            value.setWordWrap(key in ("script", "args", "log_path", "error"))
            self.fields[key] = value
            form.addRow(label, value)
        self.fields["status"].setText(self.tr("Loading…"))

        self.attempts_box = QGroupBox(self.tr("Attempts"), self)
        self.attempts_table = QTableWidget(0, 7, self.attempts_box)
        self.attempts_table.setHorizontalHeaderLabels(
            [
                self.tr("#"),
                self.tr("Status"),
                self.tr("Exit code"),
                self.tr("Started"),
                self.tr("Duration"),
                self.tr("Worker"),
                self.tr("Error"),
            ]
        )
        self.attempts_table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.attempts_table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.attempts_table.verticalHeader().setVisible(False)
        self.attempts_table.horizontalHeader().setStretchLastSection(True)
        self.attempts_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeToContents)
        self.attempts_table.setMaximumHeight(160)
        box_layout = QVBoxLayout(self.attempts_box)
        box_layout.addWidget(self.attempts_table)
        self.attempts_box.setVisible(False)

        self.output = QPlainTextEdit(self)
        self.output.setReadOnly(True)
        self.output.setUndoRedoEnabled(False)
        self.output.setLineWrapMode(QPlainTextEdit.NoWrap)
        self.output.setFont(QFontDatabase.systemFont(QFontDatabase.FixedFont))
        self.output.setPlaceholderText(self.tr("Loading output…"))
        self.copy_button = QPushButton(self.tr("Copy output"), self)
        self.copy_button.setEnabled(False)
        self.open_log_button = QPushButton(self.tr("Open log file"), self)
        self.open_log_button.setEnabled(False)
        buttons = QDialogButtonBox(QDialogButtonBox.Close, self)

        output_bar = QHBoxLayout()
        output_bar.addWidget(QLabel(self.tr("Output"), self), 1)
        output_bar.addWidget(self.copy_button)
        output_bar.addWidget(self.open_log_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.error_label)
        layout.addLayout(form)
        layout.addWidget(self.attempts_box)
        layout.addLayout(output_bar)
        layout.addWidget(self.output, 1)
        layout.addWidget(buttons)

        self._stdout = QTextCharFormat()
        self._stderr = QTextCharFormat()
        self._stderr.setForeground(QColor(fmt.STDERR_COLOUR))

        buttons.rejected.connect(self.reject)
        self.copy_button.clicked.connect(lambda _checked: self.copy_output())
        self.open_log_button.clicked.connect(lambda _checked: self.open_log())
        vm.loaded.connect(self._on_loaded)
        vm.output_loaded.connect(self._on_output)
        vm.error_occurred.connect(self._on_error)
        self._ticker = QTimer(self)  # a running execution's duration
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self._show_duration)
        if self._live is not None and running is not None:
            self._live.rows_changed.connect(self._on_live_rows)
            self._live.output_reset.connect(self._on_live_output_reset)
            self._live.output_appended.connect(self._on_live_output_appended)
            self.finished.connect(self._stop_following)
            self._live.follow_output(execution_id)
            self._show_execution(running)
            self._ticker.start()
        vm.load(execution_id)

    # -- intents -----------------------------------------------------------------------------

    def copy_output(self) -> None:
        """Put the whole output shown on the clipboard."""
        QApplication.clipboard().setText(self.output.toPlainText())

    def open_log(self) -> None:
        """Open the full log file with the desktop's viewer for text files."""
        if self._log_path:
            QDesktopServices.openUrl(QUrl.fromLocalFile(self._log_path))

    # -- ViewModel signals --------------------------------------------------------------------

    def _on_loaded(self, execution: Execution, attempts: list[Attempt]) -> None:
        known = self._known
        if known is not None and not execution.status.is_final:
            execution = known  # its results may not be stored yet: the live view is ahead
        self._show_execution(execution)
        self._show_attempts(attempts)

    def _show_execution(self, e: Execution) -> None:
        self.setWindowTitle(self.tr("Execution {id}").format(id=e.id))
        f = self.fields
        f["script"].setText(e.script_path)
        f["args"].setText(shlex.join(e.args))
        f["status"].setText(fmt.status_label(e.status, e.attempts))
        f["status"].setStyleSheet(f"color: {fmt.STATUS_COLOURS[e.status]}; font-weight: bold;")
        f["exit_code"].setText("" if e.exit_code is None else str(e.exit_code))
        f["started"].setText(fmt.local_time(e.started_at))
        f["finished"].setText(fmt.local_time(e.finished_at))
        f["duration"].setText(fmt.seconds(_duration(e)))
        f["cpu"].setText(fmt.seconds(e.cpu_s))
        f["memory"].setText(fmt.size(e.memory_peak_bytes))
        f["output_size"].setText(fmt.size(e.output_bytes))
        f["log_path"].setText(e.log_path or "")
        f["error"].setText(fmt.error_text(e))
        if e.error_type or e.error_message:
            f["error"].setStyleSheet(f"color: {fmt.STDERR_COLOUR};")
        # Its log may have been deleted (history prune, a backup restored without logs).
        self._log_path = e.log_path if e.log_path and os.path.exists(e.log_path) else None
        self.open_log_button.setEnabled(self._log_path is not None)
        if self._log_path is None and e.status.is_final:
            self.output.setPlaceholderText(self.tr("This execution has no output."))

    def _show_attempts(self, attempts: list[Attempt]) -> None:
        self.attempts_box.setVisible(len(attempts) > 1)
        self.attempts_table.setRowCount(len(attempts))
        for row, a in enumerate(attempts):
            error = (
                f"{a.error_type}: {a.error_message}"
                if a.error_type and a.error_message
                else a.error_message or a.error_type or ""
            )
            cells = (
                str(a.number),
                fmt.status_label(a.status),
                "" if a.exit_code is None else str(a.exit_code),
                fmt.local_time(a.started_at),
                fmt.seconds(a.duration_s),
                a.worker or "",
                error,
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 1:
                    item.setIcon(fmt.status_icon(a.status))
                    item.setForeground(fmt.status_colour(a.status))
                if column == 6 and error:
                    item.setToolTip(error)
                self.attempts_table.setItem(row, column, item)
        self.attempts_table.resizeColumnsToContents()

    def _on_output(self, chunks: list[tuple[str, str]]) -> None:
        if self._live is not None:
            return  # the live output is shown until the execution ends, then the whole log
        self.output.clear()
        if not chunks:
            self.output.setPlaceholderText(self.tr("This execution printed nothing."))
        self._append(chunks)
        self.output.moveCursor(QTextCursor.End)  # the end of a log is where failures show

    def _append(self, chunks: list[tuple[str, str]]) -> None:
        bar = self.output.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 4
        cursor = QTextCursor(self.output.document())
        cursor.movePosition(QTextCursor.End)
        cursor.beginEditBlock()
        for stream, text in chunks:
            cursor.insertText(text, self._stderr if stream == "stderr" else self._stdout)
        cursor.endEditBlock()
        self.copy_button.setEnabled(not self.output.document().isEmpty())
        if at_bottom:
            bar.setValue(bar.maximum())

    # -- the batch ViewModel, while the execution runs -----------------------------------------

    def _on_live_rows(self, rows: list[int]) -> None:
        live = self._live
        if live is None or not any(live.rows[r].id == self._execution_id for r in rows):
            return
        execution = live.execution(self._execution_id)
        if execution is None:
            return
        self._known = execution
        self._show_execution(execution)
        if execution.status.is_final:
            # Ended: its stored details (attempts) and its whole log, as for a past one.
            self._stop_following()
            self._vm.load(self._execution_id)

    def _on_live_output_reset(self, execution_id: str, chunks: list[tuple[str, str]]) -> None:
        if execution_id == self._execution_id and self._live is not None:
            self.output.clear()
            self.output.setPlaceholderText(self.tr("No output yet."))
            self._append(chunks)

    def _on_live_output_appended(self, execution_id: str, chunks: list[tuple[str, str]]) -> None:
        if execution_id == self._execution_id and self._live is not None:
            self._append(chunks)

    def _show_duration(self) -> None:
        execution = self._live.execution(self._execution_id) if self._live else None
        if execution is not None:
            self.fields["duration"].setText(fmt.seconds(_duration(execution)))

    def _stop_following(self) -> None:
        live, self._live = self._live, None
        self._ticker.stop()
        if live is not None:
            live.rows_changed.disconnect(self._on_live_rows)
            live.output_reset.disconnect(self._on_live_output_reset)
            live.output_appended.disconnect(self._on_live_output_appended)
            live.unfollow_output(self._execution_id)

    def _on_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(True)
        if self._vm.execution is None:
            self.fields["status"].setText("")
        self.output.setPlaceholderText("")


def _duration(e: Execution) -> float | None:
    """How long it ran, or has been running."""
    if e.status is ExecutionStatus.RUNNING and e.started_at is not None:
        return (datetime.now(UTC) - e.started_at).total_seconds()
    return e.duration_s
