"""The history tab: past executions, filtered, newest first, loaded a page at a time.

The table model asks the ViewModel for the next page when the table scrolls to its bottom
(Qt's ``canFetchMore``/``fetchMore``), so even a million stored executions load only as far as
the user scrolls.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from datetime import datetime, time
from typing import NamedTuple

from PyQt5.QtCore import (
    QAbstractTableModel,
    QDate,
    QModelIndex,
    QObject,
    QPoint,
    Qt,
    QTimer,
    pyqtSignal,
)
from PyQt5.QtGui import QBrush, QKeyEvent, QShowEvent
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from AppCode.core.domain.models import Execution, ExecutionStatus
from AppCode.ui.viewmodels.history_viewmodel import HistoryViewModel
from AppCode.ui.widgets import formatting as fmt

__all__ = ["DEBOUNCE_MS", "HistoryTableModel", "HistoryView"]

DEBOUNCE_MS = 300
ID_ROLE = Qt.UserRole

# Column order; the header labels are translated in HistoryTableModel.
(
    COL_STARTED,
    COL_STATUS,
    COL_SCRIPT,
    COL_ARGS,
    COL_DURATION,
    COL_EXIT,
    COL_ATTEMPTS,
    COL_CPU,
    COL_MEMORY,
    COL_ERROR,
) = range(10)
_NUMERIC = {COL_DURATION, COL_EXIT, COL_ATTEMPTS, COL_CPU, COL_MEMORY}
# Each column is as wide as its header and the widest text it shows, and at least this wide
# (the Script and Arguments columns, whose long texts are elided, get room to be useful).
_MIN_WIDTHS = {
    COL_STARTED: 120,
    COL_STATUS: 90,
    COL_SCRIPT: 280,
    COL_ARGS: 140,
    COL_DURATION: 60,
    COL_EXIT: 50,
    COL_ATTEMPTS: 50,
    COL_CPU: 60,
    COL_MEMORY: 70,
}
# The widest texts of the columns whose texts have a known form (see widgets.formatting).
_WIDEST_TEXTS = {
    COL_STARTED: ("2000-12-31 23:59:59",),
    COL_DURATION: ("59.99 s", "99:59:59"),
    COL_EXIT: ("-15", "255"),
    COL_ATTEMPTS: ("100",),
    COL_CPU: ("59.99 s", "99:59:59"),
    COL_MEMORY: ("1023.9 MB",),
}
CELL_PADDING = 16  # the item's margins and the grid line
ICON_SPACE = 20  # the status dot and the gap after it


class _Filter(NamedTuple):
    """The filter bar's values, in the ViewModel's terms."""

    script: str
    statuses: frozenset[ExecutionStatus]
    batch: str
    since: datetime | None
    until: datetime | None


class HistoryTableModel(QAbstractTableModel):
    """The loaded executions as table rows; more are fetched through the ViewModel on demand."""

    def __init__(self, vm: HistoryViewModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._vm = vm
        self._rows: list[Execution] = vm.executions
        self._headers = [
            self.tr("Started"),
            self.tr("Status"),
            self.tr("Script"),
            self.tr("Arguments"),
            self.tr("Duration"),
            self.tr("Exit code"),
            self.tr("Attempts"),
            self.tr("CPU time"),
            self.tr("Peak memory"),
            self.tr("Error"),
        ]
        vm.reset.connect(self._on_reset)
        vm.appended.connect(self._on_appended)

    # -- Qt's model interface ----------------------------------------------------------------

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._headers)

    def canFetchMore(self, parent: QModelIndex) -> bool:
        """More rows may exist (Qt asks when the last row comes into view)."""
        return not parent.isValid() and self._vm.can_fetch_more

    def fetchMore(self, parent: QModelIndex) -> None:
        """Ask for the next page; it arrives later, through ``appended``."""
        if not parent.isValid():
            self._vm.fetch_more()

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.DisplayRole):  # type: ignore[no-untyped-def]
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return self._headers[section]
        if orientation == Qt.Horizontal and role == Qt.TextAlignmentRole and section in _NUMERIC:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):  # type: ignore[no-untyped-def]
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        execution = self._rows[index.row()]
        column = index.column()
        if role == Qt.DisplayRole:
            return self._text(execution, column)
        if role == Qt.ToolTipRole:
            return self._tooltip(execution, column)
        if role == ID_ROLE:
            return execution.id
        if column == COL_STATUS:
            if role == Qt.DecorationRole:
                return fmt.status_icon(execution.status)
            if role == Qt.ForegroundRole:
                return QBrush(fmt.status_colour(execution.status))
        if column == COL_ERROR and role == Qt.ForegroundRole and execution.error_type:
            return QBrush(fmt.status_colour(ExecutionStatus.FAILED))
        if role == Qt.TextAlignmentRole and column in _NUMERIC:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    # -- helpers ----------------------------------------------------------------------------

    def execution_at(self, row: int) -> Execution | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def _text(self, e: Execution, column: int) -> str:
        if column == COL_STARTED:
            return fmt.local_time(e.started_at)
        if column == COL_STATUS:
            return fmt.status_label(e.status, e.attempts)
        if column == COL_SCRIPT:
            return e.script_path
        if column == COL_ARGS:
            return shlex.join(e.args)
        if column == COL_DURATION:
            return fmt.seconds(e.duration_s)
        if column == COL_EXIT:
            return "" if e.exit_code is None else str(e.exit_code)
        if column == COL_ATTEMPTS:
            return str(e.attempts) if e.attempts else ""
        if column == COL_CPU:
            return fmt.seconds(e.cpu_s)
        if column == COL_MEMORY:
            return fmt.size(e.memory_peak_bytes)
        if column == COL_ERROR:
            return fmt.error_text(e).split("\n", 1)[0]
        return ""

    def _tooltip(self, e: Execution, column: int) -> str:
        lines = [self.tr("Batch: {id}").format(id=e.batch_id)]
        if column == COL_STARTED and e.created_at is not None:
            lines.append(self.tr("Queued: {time}").format(time=fmt.local_time(e.created_at)))
        elif column == COL_ERROR and fmt.error_text(e):
            lines.append(fmt.error_text(e))
        elif column == COL_ARGS and e.args:
            lines.append(shlex.join(e.args))
        return "\n".join(lines)

    def _on_reset(self, executions: list[Execution]) -> None:
        self.beginResetModel()
        self._rows = list(executions)
        self.endResetModel()

    def _on_appended(self, executions: list[Execution]) -> None:
        if not executions:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(executions) - 1)
        self._rows.extend(executions)
        self.endInsertRows()


class _HistoryTable(QTableView):
    """A table view that reports Enter/Return on a row as a request to open it."""

    open_requested = pyqtSignal(QModelIndex)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key_Return, Qt.Key_Enter) and self.currentIndex().isValid():
            self.open_requested.emit(self.currentIndex())
            return
        super().keyPressEvent(event)


class HistoryView(QWidget):
    """Filter bar and table of past executions; double-click or Enter opens one, the context
    menu or the Export report button asks for a report of its batch."""

    export_report_requested = pyqtSignal(str)  # the batch id of the selected execution

    def __init__(
        self,
        vm: HistoryViewModel,
        open_execution: Callable[[str], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._vm = vm
        self._open_execution = open_execution

        self.script_edit = QLineEdit(self)
        self.script_edit.setPlaceholderText(self.tr("Script path contains…"))
        self.script_edit.setClearButtonEnabled(True)
        self.status_combo = QComboBox(self)
        self.status_combo.addItem(self.tr("All statuses"), None)
        for status in ExecutionStatus:
            self.status_combo.addItem(
                fmt.status_icon(status), fmt.status_label(status), status.value
            )
        self.batch_edit = QLineEdit(self)
        self.batch_edit.setPlaceholderText(self.tr("Batch id or prefix"))
        self.batch_edit.setClearButtonEnabled(True)
        today = QDate.currentDate()
        self.since_check = QCheckBox(self.tr("From"), self)
        self.since_edit = self._date_edit(today.addDays(-7))
        self.until_check = QCheckBox(self.tr("To"), self)
        self.until_edit = self._date_edit(today)
        self.refresh_button = QPushButton(self.tr("Refresh"), self)
        self.count_label = QLabel(self)
        self.loading_label = QLabel(self.tr("Loading…"), self)
        self.loading_label.setVisible(False)
        self.error_label = QLabel(self)
        self.error_label.setStyleSheet(f"color: {fmt.STDERR_COLOUR};")
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.error_label.setVisible(False)
        self.export_button = QPushButton(self.tr("Export report…"), self)
        self.export_button.setToolTip(
            self.tr("Save a report of the selected execution's batch (HTML, Excel…)")
        )
        self.export_button.setEnabled(False)
        self.export_button.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Fixed)

        self.model = HistoryTableModel(vm, self)
        self.table = _HistoryTable(self)
        self.table.setModel(self.model)
        self.table.setSortingEnabled(False)  # always newest first: that is how pages are cut
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setContextMenuPolicy(Qt.CustomContextMenu)
        self.table.setTextElideMode(Qt.ElideMiddle)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        self._size_columns()

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)

        bar = QHBoxLayout()
        bar.addWidget(self.script_edit, 3)
        bar.addWidget(self.status_combo, 1)
        bar.addWidget(self.batch_edit, 2)
        bar.addWidget(self.since_check)
        bar.addWidget(self.since_edit)
        bar.addWidget(self.until_check)
        bar.addWidget(self.until_edit)
        bar.addWidget(self.refresh_button)
        status_line = QHBoxLayout()
        status_line.addWidget(self.count_label)
        status_line.addWidget(self.loading_label)
        status_line.addWidget(self.error_label, 1)
        status_line.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(status_line)
        layout.addWidget(self.table, 1)

        self.script_edit.textChanged.connect(lambda _text: self._debounce.start())
        self.batch_edit.textChanged.connect(lambda _text: self._debounce.start())
        self.since_edit.dateChanged.connect(lambda _date: self._on_date_changed())
        self.until_edit.dateChanged.connect(lambda _date: self._on_date_changed())
        self._debounce.timeout.connect(self._apply_filter)
        self.status_combo.currentIndexChanged.connect(lambda _index: self._apply_filter())
        self.since_check.toggled.connect(lambda _on: self._on_date_toggled())
        self.until_check.toggled.connect(lambda _on: self._on_date_toggled())
        self.refresh_button.clicked.connect(lambda _checked: self.refresh())
        self.table.doubleClicked.connect(self._open)
        self.table.open_requested.connect(self._open)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.selectionModel().selectionChanged.connect(
            lambda _selected, _deselected: self._update_export()
        )
        self.model.modelReset.connect(self._update_export)
        self.export_button.clicked.connect(lambda _checked: self._export_selected())
        vm.reset.connect(self._on_reset)
        vm.count_changed.connect(self._on_count)
        vm.loading_changed.connect(self.loading_label.setVisible)
        vm.error_occurred.connect(self._on_error)
        if vm.count is not None:
            self._on_count(vm.count)

    # -- intents -----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Apply the filter as shown now and reload from the first page (new runs appear)."""
        self._debounce.stop()
        self._vm.set_filter(**self._filter()._asdict())

    def showEvent(self, event: QShowEvent) -> None:
        """Load lazily: the first page is queried when the view is first shown."""
        super().showEvent(event)
        if not self._vm.has_loaded:
            self.refresh()

    # -- layout ----------------------------------------------------------------------------

    def _size_columns(self) -> None:
        """Every column wide enough for its header and the widest text it can show at the
        current font, and at least its minimum; the Error column takes what is left."""
        header = self.table.horizontalHeader()
        metrics = self.table.fontMetrics()
        widest = dict(_WIDEST_TEXTS)
        statuses = [fmt.status_label(s) for s in ExecutionStatus]
        widest[COL_STATUS] = (*statuses, fmt.status_label(ExecutionStatus.PENDING, attempts=1))
        for column in range(self.model.columnCount() - 1):
            texts = widest.get(column, ())
            cell = max((metrics.horizontalAdvance(text) for text in texts), default=0)
            if cell and column == COL_STATUS:
                cell += ICON_SPACE
            width = max(
                _MIN_WIDTHS.get(column, 0),
                header.sectionSizeHint(column),
                cell + CELL_PADDING if cell else 0,
            )
            header.resizeSection(column, width)

    # -- filter bar -------------------------------------------------------------------------

    def _date_edit(self, date: QDate) -> QDateEdit:
        edit = QDateEdit(date, self)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setEnabled(False)
        return edit

    def _filter(self) -> _Filter:
        value = self.status_combo.currentData()
        since = _local_midnight(self.since_edit.date()) if self.since_check.isChecked() else None
        # "To" includes that whole day: the filter's upper bound is exclusive.
        until = (
            _local_midnight(self.until_edit.date().addDays(1))
            if self.until_check.isChecked()
            else None
        )
        return _Filter(
            script=self.script_edit.text().strip(),
            statuses=frozenset({ExecutionStatus(value)} if value else ()),
            batch=self.batch_edit.text().strip(),
            since=since,
            until=until,
        )

    def _apply_filter(self) -> None:
        self._debounce.stop()
        where = self._filter()
        vm = self._vm
        current = _Filter(vm.script_text, vm.statuses, vm.batch_ref, vm.since, vm.until)
        if where == current and vm.has_loaded:
            return  # e.g. a space typed at the end: nothing to reload
        vm.set_filter(**where._asdict())

    def _on_date_toggled(self) -> None:
        self.since_edit.setEnabled(self.since_check.isChecked())
        self.until_edit.setEnabled(self.until_check.isChecked())
        self._apply_filter()

    def _on_date_changed(self) -> None:
        if self.since_check.isChecked() or self.until_check.isChecked():
            self._debounce.start()  # typing a date changes it once per digit

    # -- ViewModel signals --------------------------------------------------------------------

    def _on_reset(self, _executions: list[Execution]) -> None:
        self.error_label.setVisible(False)
        self.table.scrollToTop()

    def _on_count(self, count: int) -> None:
        self.count_label.setText(self.tr("%n execution(s)", "", count))

    def _on_error(self, message: str) -> None:
        self.error_label.setText(message.replace("\n\n", " "))
        self.error_label.setToolTip(message)
        self.error_label.setVisible(True)

    def _open(self, index: QModelIndex) -> None:
        execution = self.model.execution_at(index.row()) if index.isValid() else None
        if execution is not None:
            self._open_execution(execution.id)

    # -- reports ------------------------------------------------------------------------------

    def selected_execution(self) -> Execution | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.execution_at(rows[0].row()) if rows else None

    def _update_export(self) -> None:
        self.export_button.setEnabled(self.selected_execution() is not None)

    def _export_selected(self) -> None:
        execution = self.selected_execution()
        if execution is not None:
            self.export_report_requested.emit(execution.batch_id)

    def _context_menu(self, position: QPoint) -> None:
        index = self.table.indexAt(position)
        execution = self.model.execution_at(index.row()) if index.isValid() else None
        if execution is None:
            return
        self.table.selectRow(index.row())
        menu = QMenu(self)
        menu.addAction(self.tr("Open details…"), lambda: self._open_execution(execution.id))
        menu.addAction(
            self.tr("Export report of this batch…"),
            lambda: self.export_report_requested.emit(execution.batch_id),
        )
        menu.exec_(self.table.viewport().mapToGlobal(position))


def _local_midnight(date: QDate) -> datetime:
    """The start of ``date`` in the local time zone, timezone-aware."""
    return datetime.combine(date.toPyDate(), time.min).astimezone()
