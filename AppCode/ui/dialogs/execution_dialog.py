"""One past execution in full: its results, its attempts and its output.

Everything is loaded by an ``ExecutionDetailsViewModel`` in the background; the dialog opens at
once and fills in. Errors (an unknown id, a deleted log) show inline, in red.
"""

from __future__ import annotations

import os
import shlex

from PyQt5.QtCore import Qt, QUrl
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

from AppCode.core.domain.models import Attempt, Execution
from AppCode.ui.viewmodels.history_viewmodel import ExecutionDetailsViewModel
from AppCode.ui.widgets import formatting as fmt

__all__ = ["ExecutionDialog"]


class ExecutionDialog(QDialog):
    """Details, attempts (when retried) and output of one execution."""

    def __init__(
        self, execution_id: str, vm: ExecutionDetailsViewModel, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._vm = vm
        self._execution_id = execution_id
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
        e = execution
        self.setWindowTitle(self.tr("Execution {id}").format(id=e.id))
        f = self.fields
        f["script"].setText(e.script_path)
        f["args"].setText(shlex.join(e.args))
        f["status"].setText(fmt.status_label(e.status, e.attempts))
        f["status"].setStyleSheet(f"color: {fmt.STATUS_COLOURS[e.status]}; font-weight: bold;")
        f["exit_code"].setText("" if e.exit_code is None else str(e.exit_code))
        f["started"].setText(fmt.local_time(e.started_at))
        f["finished"].setText(fmt.local_time(e.finished_at))
        f["duration"].setText(fmt.seconds(e.duration_s))
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
        if self._log_path is None:
            self.output.setPlaceholderText(self.tr("This execution has no output."))
        self._show_attempts(attempts)

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
        self.output.clear()
        if not chunks:
            self.output.setPlaceholderText(self.tr("This execution printed nothing."))
        cursor = QTextCursor(self.output.document())
        cursor.beginEditBlock()
        for stream, text in chunks:
            cursor.insertText(text, self._stderr if stream == "stderr" else self._stdout)
        cursor.endEditBlock()
        self.copy_button.setEnabled(bool(chunks))
        self.output.moveCursor(QTextCursor.End)  # the end of a log is where failures show

    def _on_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(True)
        if self._vm.execution is None:
            self.fields["status"].setText("")
        self.output.setPlaceholderText("")
