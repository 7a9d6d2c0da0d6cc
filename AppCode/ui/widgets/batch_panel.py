"""The batch panel: run options, the whole batch's progress, and a table of its executions."""

from __future__ import annotations

import os
import shlex
from datetime import UTC, datetime
from typing import Any

from PyQt5.QtCore import QAbstractTableModel, QModelIndex, QRect, Qt, QTimer, pyqtSignal
from PyQt5.QtGui import QColor, QPainter
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QAction,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QSpinBox,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from AppCode.core.domain.models import Execution, ExecutionStatus
from AppCode.services.settings import MAX_JOBS, MAX_RETRIES, MAX_SECONDS
from AppCode.ui.viewmodels.batch_viewmodel import BatchViewModel
from AppCode.ui.widgets import formatting as fmt

ID_ROLE = Qt.UserRole + 1
STATUS_ROLE = Qt.UserRole + 2


class ExecutionTableModel(QAbstractTableModel):
    """The current batch's executions, one row each, as the ViewModel holds them."""

    COLUMNS = (
        "status",
        "script",
        "args",
        "progress",
        "duration",
        "exit",
        "attempts",
        "cpu",
        "memory",
        "error",
    )

    def __init__(self, vm: BatchViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vm = vm
        self._headers = {
            "status": self.tr("Status"),
            "script": self.tr("Script"),
            "args": self.tr("Arguments"),
            "progress": self.tr("Progress"),
            "duration": self.tr("Duration"),
            "exit": self.tr("Exit code"),
            "attempts": self.tr("Attempts"),
            "cpu": self.tr("CPU time"),
            "memory": self.tr("Peak memory"),
            "error": self.tr("Error"),
        }
        self._texts: dict[int, list[str]] = {}
        vm.rows_reset.connect(self._on_reset)
        vm.rows_changed.connect(self._on_changed)

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._vm.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.DisplayRole
    ) -> Any:
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return self._headers[self.COLUMNS[section]]
        return None

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole) -> Any:
        if not index.isValid():
            return None
        execution = self._vm.rows[index.row()]
        column = self.COLUMNS[index.column()]
        if role == ID_ROLE:
            return execution.id
        if role == STATUS_ROLE:
            return execution
        if role == Qt.DisplayRole:
            # Painting asks for every visible cell many times a second: texts are computed
            # once per change of the row, not per call.
            texts = self._texts.get(index.row())
            if texts is None:
                texts = self._texts[index.row()] = self._row_texts(execution)
            return texts[index.column()]
        if column == "status":
            if role == Qt.DecorationRole:
                if _degraded(execution):
                    return fmt.warning_icon()
                return fmt.status_icon(execution.status)
            if role == Qt.ForegroundRole:
                return fmt.status_colour(execution.status)
        if role == Qt.ToolTipRole:
            if column == "script":
                return execution.script_path
            if column == "error":
                return self._text(execution, column) or None
            if column == "status" and _degraded(execution):
                layers = ", ".join(execution.sandbox.get("layers", []))  # type: ignore[union-attr]
                return self.tr(
                    "Reduced isolation: not every sandbox layer could be applied here "
                    "(held: {layers})"
                ).format(layers=layers or "-")
            if column == "status" and execution.sandbox and execution.sandbox.get("layers"):
                return self.tr("Sandbox policy {policy}: {layers}").format(
                    policy=execution.sandbox.get("policy"),
                    layers=", ".join(execution.sandbox.get("layers", [])),
                )
        if role == Qt.TextAlignmentRole and column in (
            "duration",
            "exit",
            "attempts",
            "cpu",
            "memory",
        ):
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def _row_texts(self, e: Execution) -> list[str]:
        texts = [self._text(e, column) for column in self.COLUMNS]
        if _degraded(e):
            texts[0] += self.tr(" · reduced isolation")
        return texts

    def _text(self, e: Execution, column: str) -> str:
        if column == "status":
            return fmt.status_label(e.status, e.attempts)
        if column == "script":
            return os.path.basename(e.script_path)
        if column == "args":
            return shlex.join(e.args)
        if column == "duration":
            if e.status is ExecutionStatus.RUNNING and e.started_at:
                return fmt.seconds((datetime.now(UTC) - e.started_at).total_seconds())
            return fmt.seconds(e.duration_s)
        if column == "exit":
            return "" if e.exit_code is None else str(e.exit_code)
        if column == "attempts":
            return str(e.attempts) if e.attempts else ""
        if column == "cpu":
            return fmt.seconds(e.cpu_s)
        if column == "memory":
            return fmt.size(e.memory_peak_bytes)
        if column == "error":
            return fmt.error_text(e) if e.status is not ExecutionStatus.SUCCEEDED else ""
        return ""

    def _on_reset(self, _rows: list[Execution]) -> None:
        self.beginResetModel()
        self._texts.clear()
        self.endResetModel()

    def _on_changed(self, rows: list[int]) -> None:
        """Repaint only the rows that changed (runs of neighbours at once), not every row
        between the first and the last."""
        for row in rows:
            self._texts.pop(row, None)
        last = self.columnCount() - 1
        for first, end in _runs(rows):
            self.dataChanged.emit(self.index(first, 0), self.index(end, last))

    def refresh_running(self) -> None:
        """Durations of running executions tick every second."""
        running = [i for i, e in enumerate(self._vm.rows) if e.status is ExecutionStatus.RUNNING]
        column = self.COLUMNS.index("duration")
        for row in running:
            self._texts.pop(row, None)
        for first, end in _runs(running):
            self.dataChanged.emit(self.index(first, column), self.index(end, column))


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Sorted row numbers as (first, last) runs of neighbours: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and row == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


def _degraded(execution: Execution) -> bool:
    return bool(execution.sandbox and execution.sandbox.get("degraded"))


class ProgressDelegate(QStyledItemDelegate):
    """A thin bar: empty while pending, striped while running, full in the status colour."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        execution = index.data(STATUS_ROLE)
        if execution is None:
            super().paint(painter, option, index)
            return
        if option.state & QStyle.State_Selected:
            painter.fillRect(option.rect, option.palette.highlight())
        rect = QRect(option.rect.adjusted(4, option.rect.height() // 2 - 3, -4, 0))
        rect.setHeight(6)
        painter.save()
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setPen(Qt.NoPen)
        painter.setBrush(QColor("#e0e0e0"))
        painter.drawRoundedRect(rect, 3, 3)
        status = execution.status
        colour = fmt.status_colour(status)
        if status is ExecutionStatus.RUNNING:
            painter.setBrush(colour)
            painter.setBrush(Qt.BDiagPattern)
            painter.setPen(colour)
            painter.drawRoundedRect(rect, 3, 3)
        elif status.is_final:
            painter.setBrush(colour)
            painter.drawRoundedRect(rect, 3, 3)
        painter.restore()


class SecondsBox(QDoubleSpinBox):
    """Seconds to the millisecond, shown without trailing zeros ("0.5 s", "2 s"): what it
    shows is exactly the value that applies."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(3)

    def textFromValue(self, value: float) -> str:
        text = super().textFromValue(value)
        point = self.locale().decimalPoint()
        if point in text:
            text = text.rstrip("0").rstrip(point)
        return text


class BatchPanel(QWidget):
    """Toolbar (run, stop, re-run failed, export report), run options, progress bar and
    execution table."""

    execution_selected = pyqtSignal(str)
    export_report_requested = pyqtSignal(str)  # the id of the batch shown

    def __init__(
        self,
        vm: BatchViewModel,
        run_action: QAction,
        stop_action: QAction,
        rerun_action: QAction,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._vm = vm
        self.toolbar = QToolBar(self.tr("Batch"), self)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.toolbar.addAction(run_action)
        self.toolbar.addAction(stop_action)
        self.toolbar.addAction(rerun_action)
        self.export_action = QAction(
            self.style().standardIcon(QStyle.SP_DialogSaveButton), self.tr("Export report…"), self
        )
        self.export_action.setToolTip(
            self.tr("Save a report of this batch (HTML, Excel…) once it has finished")
        )
        self.export_action.setEnabled(False)
        self.toolbar.addAction(self.export_action)
        self.toolbar.addSeparator()

        self.jobs = QSpinBox(self)
        self.jobs.setRange(1, MAX_JOBS)
        self.jobs.setToolTip(
            self.tr("Scripts running at once (default: one per CPU core, {n})").format(
                n=os.cpu_count() or 1
            )
        )
        self.timeout = SecondsBox(self)
        self.timeout.setRange(0, MAX_SECONDS)
        self.timeout.setSuffix(self.tr(" s"))
        self.timeout.setSpecialValueText(self.tr("none"))
        self.timeout.setToolTip(self.tr("Time limit per script (0 = none)"))
        self.retries = QSpinBox(self)
        self.retries.setRange(0, MAX_RETRIES)
        self.retries.setToolTip(self.tr("Extra attempts for a failed or timed-out script"))
        self.fail_fast = QCheckBox(self.tr("Fail fast"), self)
        self.fail_fast.setToolTip(
            self.tr("When a script fails, cancel the scripts that have not finished yet")
        )
        self.args = QLineEdit(self)
        self.args.setClearButtonEnabled(True)
        self.args.setPlaceholderText(
            self.tr("for every script, as in a shell: --input 'my file.csv' -v")
        )
        self.args.setToolTip(
            self.tr(
                "Command-line arguments given to every script of the run, split like a shell "
                "does: quote an argument that holds spaces"
            )
        )
        self.args_error = QLabel(self)
        self.args_error.setStyleSheet(f"color: {fmt.STDERR_COLOUR};")
        self.args_error.setWordWrap(True)
        self.args_error.setVisible(False)
        self.start_method = QComboBox(self)
        for label, value in (
            (self.tr("auto"), "auto"),
            (self.tr("fresh interpreter"), "spawn"),
            (self.tr("fork server"), "forkserver"),
        ):
            self.start_method.addItem(label, value)
        self.start_method.setToolTip(
            self.tr("How scripts start: a warm fork server (fast, Linux) or a fresh interpreter")
        )
        self.backend = QComboBox(self)
        self.backend.addItem(self.tr("This computer"), "local")
        self.backend.addItem(self.tr("Dask cluster"), "dask")
        self.backend.setToolTip(
            self.tr(
                "Where the scripts run: here, or on the Dask cluster set in Settings > Execution "
                "(none set: a cluster of this computer's cores)"
            )
        )
        self.policy = QComboBox(self)
        self.policy.setToolTip(
            self.tr(
                "Sandbox policy: off, standard (limits, writes only in the script's folder), "
                "strict (no network, no subprocesses, limited reads), or a custom policy"
            )
        )
        for name in vm.policies():
            self.policy.addItem(name, name)
        # Options on three short rows, so that the window fits a 1280 px wide screen.
        self.options = QGridLayout()
        self.options.setHorizontalSpacing(8)
        for position, (label, widget) in enumerate(
            (
                (self.tr("Parallel"), self.jobs),
                (self.tr("Timeout"), self.timeout),
                (self.tr("Retries"), self.retries),
                (self.tr("Start"), self.start_method),
                (self.tr("Run on"), self.backend),
                (self.tr("Sandbox"), self.policy),
                (self.tr("Arguments"), self.args),
            )
        ):
            row, pair = divmod(position, 3)
            caption = QLabel(label, self)
            caption.setBuddy(widget)
            self.options.addWidget(caption, row, 2 * pair)
            span = 3 if widget is self.args else 1  # to the Fail fast box
            self.options.addWidget(widget, row, 2 * pair + 1, 1, span)
        self.options.addWidget(self.fail_fast, 2, 5)
        self.options.addWidget(self.args_error, 3, 1, 1, 5)
        self.options.setColumnStretch(6, 1)

        self.progress = QProgressBar(self)
        self.progress.setFormat(self.tr("No batch yet: tick scripts and press Run"))
        self.progress.setMaximum(1)
        self.progress.setValue(0)

        self.model = ExecutionTableModel(vm, self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setItemDelegateForColumn(
            ExecutionTableModel.COLUMNS.index("progress"), ProgressDelegate(self.table)
        )
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.Interactive)
        header.setStretchLastSection(True)
        metrics = header.fontMetrics()
        for column, width in zip(
            ExecutionTableModel.COLUMNS, (120, 200, 110, 90, 80, 60, 60, 80, 90, 240), strict=True
        ):
            index = ExecutionTableModel.COLUMNS.index(column)
            title = self.model.headerData(index, Qt.Horizontal)
            header.resizeSection(index, max(width, metrics.horizontalAdvance(title) + 24))

        self.stop_execution_action = QAction(
            self.style().standardIcon(QStyle.SP_MediaStop), self.tr("Stop this script"), self
        )
        self.stop_execution_action.setToolTip(
            self.tr("Stop the selected script only; the rest of the batch goes on")
        )
        self.stop_execution_action.setEnabled(False)
        self.table.addAction(self.stop_execution_action)
        self.table.setContextMenuPolicy(Qt.ActionsContextMenu)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        # The toolbar may be narrower than its buttons: what does not fit goes behind its »
        # button, and the window still fits a small screen.
        layout.addWidget(self.toolbar)
        layout.addLayout(self.options)
        layout.addWidget(self.progress)
        layout.addWidget(self.table, 1)

        self._show_options()
        self.jobs.valueChanged.connect(lambda v: setattr(vm, "jobs", v))
        self.timeout.valueChanged.connect(lambda v: setattr(vm, "timeout_s", float(v)))
        self.retries.valueChanged.connect(lambda v: setattr(vm, "retries", v))
        self.fail_fast.toggled.connect(lambda on: setattr(vm, "fail_fast", on))
        self.args.textChanged.connect(vm.set_args_text)
        vm.args_error_changed.connect(self._on_args_error)
        vm.options_changed.connect(self._show_options)
        self.start_method.currentIndexChanged.connect(
            lambda _: setattr(vm, "start_method", self.start_method.currentData())
        )
        self.policy.currentIndexChanged.connect(
            lambda _: setattr(vm, "sandbox_policy", self.policy.currentData())
        )
        self.backend.currentIndexChanged.connect(
            lambda _: setattr(vm, "backend", self.backend.currentData())
        )
        self.table.selectionModel().currentRowChanged.connect(self._on_current_changed)
        self.stop_execution_action.triggered.connect(self.stop_current_execution)
        vm.rows_changed.connect(self._on_rows_changed)
        vm.counts_changed.connect(self._on_counts)
        vm.rows_reset.connect(self._on_rows_reset)
        self._pending_counts: dict[str, int] = {}
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.setInterval(250)
        self._progress_timer.timeout.connect(self._show_progress)
        self._ticker = QTimer(self)
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self.model.refresh_running)
        vm.running_changed.connect(self._on_running)
        vm.batch_finished.connect(self._on_batch_finished)
        self.export_action.triggered.connect(self._export_report)

    def set_options(
        self,
        jobs: int,
        timeout_s: float,
        retries: int,
        start_method: str,
        policy: str = "",
        fail_fast: bool | None = None,
    ) -> None:
        """Options remembered from the last session (a policy no longer there is left out)."""
        vm = self._vm
        vm.jobs, vm.timeout_s, vm.retries = jobs, timeout_s, retries
        if self.start_method.findData(start_method) >= 0:
            vm.start_method = start_method
        if policy and self.policy.findData(policy) >= 0:
            vm.sandbox_policy = policy
        if fail_fast is not None:
            vm.fail_fast = fail_fast
        self._show_options()

    def stop_current_execution(self) -> None:
        """Stop the script of the current row (the table's context menu)."""
        execution_id = self.table.currentIndex().data(ID_ROLE)
        if execution_id:
            self._vm.stop_execution(execution_id)
            self.stop_execution_action.setEnabled(False)

    def _show_options(self) -> None:
        """Show the ViewModel's run options, then give it back what the boxes hold, so that
        both agree (a box rounds to what it can show, e.g. to the millisecond)."""
        vm = self._vm
        self.jobs.setValue(vm.jobs)
        self.timeout.setValue(vm.timeout_s)
        self.retries.setValue(vm.retries)
        self.fail_fast.setChecked(vm.fail_fast)
        self.start_method.setCurrentIndex(max(0, self.start_method.findData(vm.start_method)))
        self.backend.setCurrentIndex(max(0, self.backend.findData(vm.backend)))
        if vm.sandbox_policy and self.policy.findData(vm.sandbox_policy) < 0:
            self.policy.addItem(vm.sandbox_policy, vm.sandbox_policy)  # a policy added since
        self.policy.setCurrentIndex(max(0, self.policy.findData(vm.sandbox_policy)))
        vm.jobs = self.jobs.value()
        vm.timeout_s = self.timeout.value()
        vm.retries = self.retries.value()
        vm.start_method = self.start_method.currentData()
        vm.backend = self.backend.currentData()
        vm.sandbox_policy = self.policy.currentData()

    def _on_args_error(self, message: str) -> None:
        self.args_error.setText(message and self.tr("Arguments: {reason}").format(reason=message))
        self.args_error.setVisible(bool(message))
        self.args.setStyleSheet(f"border: 1px solid {fmt.STDERR_COLOUR};" if message else "")

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._update_stop_execution()
        if current.isValid():
            self.execution_selected.emit(current.data(ID_ROLE))

    def _update_stop_execution(self) -> None:
        """Only a pending or running script of the running batch can be stopped."""
        execution_id = self.table.currentIndex().data(ID_ROLE)
        self.stop_execution_action.setEnabled(
            bool(execution_id) and self._vm.may_stop(execution_id)
        )

    # Bound methods, not lambdas: Qt drops their connections when the panel goes.
    def _on_rows_changed(self, _rows: list[int]) -> None:
        self._update_stop_execution()

    def _on_batch_finished(self, _batch_id: str, _status: str) -> None:
        self._update_export()

    def _on_rows_reset(self, _rows: list[Execution]) -> None:
        self._update_stop_execution()
        self._update_export()
        self._on_counts(self._vm.counts())

    def _on_counts(self, counts: dict[str, int]) -> None:
        # QProgressBar.setValue repaints at once (with every pending paint of the window), so
        # the bar follows the counts at most four times a second.
        self._pending_counts = counts
        if not self._progress_timer.isActive():
            self._progress_timer.start()

    def _show_progress(self) -> None:
        counts = self._pending_counts
        # QProgressBar.setValue repaints synchronously, and with it every dirty part of the
        # window (the whole batch table mid-batch): with updates off it only marks itself,
        # and switching them on again schedules one ordinary paint for the next frame.
        self.progress.setUpdatesEnabled(False)
        if counts.get("total", 0):
            self.progress.setFormat(self.tr("%v of %m done"))
        else:  # no batch shown (after a restore)
            self.progress.setFormat(self.tr("No batch yet: tick scripts and press Run"))
        self.progress.setMaximum(max(counts.get("total", 0), 1))
        self.progress.setValue(counts.get("done", 0))
        self.progress.setUpdatesEnabled(True)

    def _update_export(self) -> None:
        """A report is for a batch that has finished."""
        batch = self._vm.batch
        self.export_action.setEnabled(
            batch is not None and batch.status.is_final and not self._vm.is_running
        )

    def _export_report(self) -> None:
        batch = self._vm.batch
        if batch is not None and batch.status.is_final:
            self.export_report_requested.emit(batch.id)

    def _on_running(self, running: bool) -> None:
        self._update_export()
        self._update_stop_execution()
        for widget in (
            self.jobs,
            self.timeout,
            self.retries,
            self.fail_fast,
            self.args,
            self.start_method,
            self.backend,
            self.policy,
        ):
            widget.setEnabled(not running)
        if running:
            self._ticker.start()
        else:
            self._ticker.stop()
