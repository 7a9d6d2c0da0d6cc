"""The output viewer: follows the selected execution live; stderr in red; find and copy.

Memory is bounded: the text widget keeps at most MAX_BLOCKS lines, and one update never inserts
more than MAX_INSERT_CHARS (a flood shows its newest part; the log file has everything).
"""

from __future__ import annotations

import os

from PyQt5.QtCore import Qt, QUrl, pyqtSignal
from PyQt5.QtGui import (
    QColor,
    QDesktopServices,
    QFontDatabase,
    QKeySequence,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PyQt5.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QShortcut,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from AppCode.ui.widgets import formatting as fmt

MAX_BLOCKS = 10_000
MAX_INSERT_CHARS = 48 * 1024  # ~1,000 lines: shown at once when a run is picked (~10 ms)


class OutputView(QWidget):
    open_log_requested = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._log_path: str | None = None
        self.title = QLabel(self.tr("Output"), self)
        self.title.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setMaximumBlockCount(MAX_BLOCKS)
        self.text.setLineWrapMode(QPlainTextEdit.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.FixedFont))
        self.text.setPlaceholderText(self.tr("Select an execution to see its output."))
        self.find = QLineEdit(self)
        self.find.setPlaceholderText(self.tr("Find in output (Enter: next, Shift+Enter: previous)"))
        self.find.setClearButtonEnabled(True)
        self.find_status = QLabel(self)
        self.copy_button = QPushButton(self.tr("Copy"), self)
        self.copy_button.setToolTip(self.tr("Copy the selection, or everything shown"))
        self.open_button = QPushButton(self.tr("Open full log"), self)
        self.open_button.setEnabled(False)

        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.find, 1)
        header.addWidget(self.find_status)
        header.addWidget(self.copy_button)
        header.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.text, 1)

        self._stderr = QTextCharFormat()
        self._stderr.setForeground(QColor(fmt.STDERR_COLOUR))
        self._stdout = QTextCharFormat()

        self.find.returnPressed.connect(self.find_next)
        QShortcut(QKeySequence("Shift+Return"), self.find, activated=self.find_previous)
        self.copy_button.clicked.connect(self.copy)
        self.open_button.clicked.connect(self.open_log)

    def show_execution(self, title: str, log_path: str | None) -> None:
        self.title.setText(title)
        self._log_path = log_path
        self.open_button.setEnabled(bool(log_path))

    def clear_execution(self) -> None:
        """Show no execution: no title, no output, no log to open."""
        self.show_execution(self.tr("Output"), None)
        self.text.clear()
        self.find_status.setText("")

    def set_chunks(self, chunks: list[tuple[str, str]]) -> None:
        self.text.clear()
        self.append_chunks(chunks)

    def append_chunks(self, chunks: list[tuple[str, str]]) -> None:
        total = sum(len(text) for _, text in chunks)
        if total > MAX_INSERT_CHARS:
            chunks = _newest(chunks, MAX_INSERT_CHARS)
        bar = self.text.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 4
        cursor = QTextCursor(self.text.document())
        cursor.movePosition(QTextCursor.End)
        cursor.beginEditBlock()
        for stream, text in chunks:
            cursor.insertText(text, self._stderr if stream == "stderr" else self._stdout)
        cursor.endEditBlock()
        if at_bottom:
            bar.setValue(bar.maximum())

    def focus_find(self) -> None:
        self.find.setFocus()
        self.find.selectAll()

    def find_next(self) -> None:
        self._find(QTextDocument.FindFlags())

    def find_previous(self) -> None:
        self._find(QTextDocument.FindBackward)

    def copy(self) -> None:
        cursor = self.text.textCursor()
        text = (
            cursor.selectedText().replace("\u2029", "\n")
            if cursor.hasSelection()
            else (self.text.toPlainText())
        )
        QApplication.clipboard().setText(text)

    def open_log(self) -> None:
        if not self._log_path:
            return
        if not os.path.exists(self._log_path):
            QToolTip.showText(
                self.open_button.mapToGlobal(self.open_button.rect().bottomLeft()),
                self.tr(
                    "The log file is not there: it was deleted (history prune, a restored "
                    "backup), or the script has not started yet."
                ),
                self.open_button,
            )
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(self._log_path))

    def _find(self, flags: QTextDocument.FindFlags) -> None:
        needle = self.find.text()
        if not needle:
            return
        if self.text.find(needle, flags):
            self.find_status.setText("")
            return
        # Wrap around once.
        cursor = self.text.textCursor()
        cursor.movePosition(
            QTextCursor.End if flags & QTextDocument.FindBackward else QTextCursor.Start
        )
        self.text.setTextCursor(cursor)
        found = self.text.find(needle, flags)
        self.find_status.setText("" if found else self.tr("not found"))


def _newest(chunks: list[tuple[str, str]], limit: int) -> list[tuple[str, str]]:
    kept: list[tuple[str, str]] = []
    size = 0
    for stream, text in reversed(chunks):
        if size + len(text) >= limit:
            kept.append((stream, text[-(limit - size) :]))
            break
        kept.append((stream, text))
        size += len(text)
    kept.append(("stderr", "\n[… output skipped in the viewer; the full log has it]\n"))
    kept.reverse()
    return kept
