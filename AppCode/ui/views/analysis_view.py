"""The Analysis tab: what the performance analyzer finds in the recorded history.

Findings load in the background when the tab is first shown, on Refresh, and again after a
batch finishes (when the tab is next shown). Double-click or "Show history" on a script's
finding opens the History tab filtered on that script.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from PyQt5.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt, pyqtSignal
from PyQt5.QtGui import QBrush, QColor, QKeyEvent, QShowEvent
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from AppCode.core.analyzers.performance import Finding
from AppCode.ui.viewmodels.performance_viewmodel import AnalysisViewModel
from AppCode.ui.widgets import formatting as fmt

__all__ = ["AnalysisView", "FindingsModel", "figures_text"]

COL_KIND, COL_SCRIPT, COL_MESSAGE, COL_FIGURES = range(4)
_WIDTHS = {COL_KIND: 130, COL_SCRIPT: 190, COL_FIGURES: 300}
KIND_COLOURS = {
    "failing": fmt.STATUS_COLOURS[fmt.S.FAILED],
    "regression": fmt.STATUS_COLOURS[fmt.S.TIMED_OUT],
    "slowest": fmt.STATUS_COLOURS[fmt.S.RUNNING],
    "memory": fmt.NOTE_COLOUR,
    "memory_pressure": fmt.NOTE_COLOUR,
    "cpu_saturated": fmt.STATUS_COLOURS[fmt.S.TIMED_OUT],
    "io_bound": fmt.STATUS_COLOURS[fmt.S.INTERRUPTED],
}
_LONG_TEXT = 28


def figure_text(key: str, value: object) -> str:
    """One figure as "key: value", with sizes, durations and shares made readable."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        text = str(value)
        if len(text) > _LONG_TEXT:
            text = text[: _LONG_TEXT - 1] + "…"
    elif key.endswith("_bytes"):
        text = fmt.size(value)
    elif key.endswith("_s"):
        text = fmt.seconds(float(value))
    elif key.endswith("_percent"):
        text = f"{value:.0f}%"
    elif key.endswith(("_rate", "_fraction")):
        text = f"{100 * value:.0f}%"
    elif key == "ratio":
        text = f"{value:.1f}×"
    elif isinstance(value, float):
        text = f"{value:.3g}"
    else:
        text = str(value)
    return f"{key}: {text}"


def figures_text(figures: dict[str, Any], separator: str = " · ", message: str = "") -> str:
    """The figures that are set, as "key: value" pairs; texts ``message`` already says (the
    last error, say) are left out."""
    return separator.join(
        figure_text(k, v)
        for k, v in figures.items()
        if v is not None and not (isinstance(v, str) and message and v in message)
    )


class FindingsModel(QAbstractTableModel):
    """The findings as rows: kind, script file name, message, figures."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Finding] = []
        self._headers = [self.tr("Kind"), self.tr("Script"), self.tr("Finding"), self.tr("Figures")]

    def kind_label(self, kind: str) -> str:
        labels = {
            "slowest": self.tr("Slowest"),
            "memory": self.tr("Memory-heavy"),
            "failing": self.tr("Failing"),
            "regression": self.tr("Slower than usual"),
            "cpu_saturated": self.tr("CPU saturated"),
            "memory_pressure": self.tr("Memory pressure"),
            "io_bound": self.tr("Waiting on disk"),
        }
        return labels.get(kind, kind)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._headers)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.DisplayRole
    ) -> Any:
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return self._headers[section]
        return None

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole) -> Any:
        finding = self.finding_at(index.row()) if index.isValid() else None
        if finding is None:
            return None
        column = index.column()
        if role == Qt.DisplayRole:
            if column == COL_KIND:
                return self.kind_label(finding.kind)
            if column == COL_SCRIPT:
                if finding.script is None:
                    return self.tr("(the batch)")
                return os.path.basename(finding.script) or finding.script
            if column == COL_MESSAGE:
                return finding.message
            return figures_text(finding.figures, message=finding.message)
        if role == Qt.ToolTipRole:
            if column == COL_SCRIPT:
                return finding.script or ""
            if column == COL_FIGURES:
                return figures_text(finding.figures, "\n")
            return finding.message
        if role == Qt.ForegroundRole and column == COL_KIND:
            return QBrush(QColor(KIND_COLOURS.get(finding.kind, fmt.STATUS_COLOURS[fmt.S.PENDING])))
        return None

    def finding_at(self, row: int) -> Finding | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def set_findings(self, findings: list[Finding]) -> None:
        self.beginResetModel()
        self._rows = list(findings)
        self.endResetModel()


class _FindingsTable(QTableView):
    """Reports Enter/Return on a row as a request to open it."""

    open_requested = pyqtSignal(QModelIndex)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key_Return, Qt.Key_Enter) and self.currentIndex().isValid():
            self.open_requested.emit(self.currentIndex())
            return
        super().keyPressEvent(event)


class AnalysisView(QWidget):
    """Refresh, an optional batch id, and the findings; a script's finding opens its history."""

    def __init__(
        self,
        vm: AnalysisViewModel,
        show_script_history: Callable[[str], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._vm = vm
        self._show_script_history = show_script_history
        self._stale = False

        self.batch_edit = QLineEdit(self)
        self.batch_edit.setPlaceholderText(self.tr("Batch id or prefix (optional)"))
        self.batch_edit.setToolTip(
            self.tr("Also say what held this batch back: CPU, memory or disk")
        )
        self.batch_edit.setClearButtonEnabled(True)
        self.refresh_button = QPushButton(self.tr("Refresh"), self)
        self.history_button = QPushButton(self.tr("Show history"), self)
        self.history_button.setToolTip(self.tr("Show the past runs of the selected script"))
        self.history_button.setEnabled(False)
        self.loading_label = QLabel(self.tr("Analysing…"), self)
        self.loading_label.setVisible(False)
        self.error_label = QLabel(self)
        self.error_label.setStyleSheet(f"color: {fmt.STDERR_COLOUR};")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.error_label.setVisible(False)

        self.model = FindingsModel(self)
        self.table = _FindingsTable(self)
        self.table.setModel(self.model)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setWordWrap(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setHighlightSections(False)
        for column, width in _WIDTHS.items():
            header.resizeSection(column, width)
        header.setSectionResizeMode(COL_MESSAGE, QHeaderView.Stretch)
        self.placeholder = QLabel(self)
        self.placeholder.setAlignment(Qt.AlignCenter)
        self.placeholder.setEnabled(False)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.table)
        self._show_placeholder(self.tr("Press Refresh to analyse the recorded runs."))

        bar = QHBoxLayout()
        bar.addWidget(QLabel(self.tr("Batch:"), self))
        bar.addWidget(self.batch_edit, 1)
        bar.addWidget(self.refresh_button)
        bar.addStretch(2)
        bar.addWidget(self.history_button)
        status_line = QHBoxLayout()
        status_line.addWidget(self.loading_label)
        status_line.addWidget(self.error_label, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(status_line)
        layout.addWidget(self.stack, 1)

        self.refresh_button.clicked.connect(lambda _checked: self.refresh())
        self.batch_edit.returnPressed.connect(self.refresh)
        self.history_button.clicked.connect(lambda _checked: self._open(self.table.currentIndex()))
        self.table.doubleClicked.connect(self._open)
        self.table.open_requested.connect(self._open)
        self.table.selectionModel().currentRowChanged.connect(
            lambda current, _previous: self._update_history_button(current)
        )
        vm.findings_changed.connect(self._on_findings)
        vm.loading_changed.connect(self._on_loading)
        vm.error_occurred.connect(self._on_error)

    # -- intents -------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Analyse again, with the batch id as typed."""
        self._stale = False
        self.error_label.setVisible(False)
        self._vm.refresh(self.batch_edit.text())

    def mark_stale(self) -> None:
        """New runs were recorded: refresh now if shown, else the next time the tab is shown."""
        if self.isVisible():
            self.refresh()
        elif self._vm.has_loaded:
            self._stale = True

    def showEvent(self, event: QShowEvent) -> None:
        """Load lazily: the analysis runs when the tab is first shown."""
        super().showEvent(event)
        if not self._vm.has_loaded or self._stale:
            self.refresh()

    # -- ViewModel signals -----------------------------------------------------------------------

    def _on_findings(self, findings: list[Finding]) -> None:
        self.model.set_findings(findings)
        if findings:
            self.stack.setCurrentWidget(self.table)
        else:
            self._show_placeholder(self.tr("Nothing stands out."))
        self._update_history_button(self.table.currentIndex())

    def _on_loading(self, loading: bool) -> None:
        self.loading_label.setVisible(loading)
        self.refresh_button.setEnabled(not loading)

    def _on_error(self, message: str) -> None:
        self.error_label.setText(message.replace("\n\n", " "))
        self.error_label.setToolTip(message)
        self.error_label.setVisible(True)

    # -- helpers ---------------------------------------------------------------------------------

    def _show_placeholder(self, text: str) -> None:
        self.placeholder.setText(text)
        self.stack.setCurrentWidget(self.placeholder)

    def _update_history_button(self, index: QModelIndex) -> None:
        finding = self.model.finding_at(index.row()) if index.isValid() else None
        self.history_button.setEnabled(finding is not None and finding.script is not None)

    def _open(self, index: QModelIndex) -> None:
        finding = self.model.finding_at(index.row()) if index.isValid() else None
        if finding is not None and finding.script:
            self._show_script_history(finding.script)
