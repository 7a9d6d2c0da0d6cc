"""The performance panel (a dock): live charts of the system, the running scripts, the caches.

Cheap by design: four small pyqtgraph plots whose curves are created once and only get new data
(``setData``), antialiasing off, no mouse interaction, and nothing redrawn while the panel is
hidden (it catches up when shown again).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt5.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt
from PyQt5.QtGui import QColor, QPalette, QShowEvent
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from AppCode.ui.viewmodels.performance_viewmodel import PerformanceViewModel, ScriptRow, Series
from AppCode.ui.widgets import formatting as fmt

__all__ = ["PerformancePanel", "ScriptTableModel"]

CPU_COLOUR = "#1565c0"
MEMORY_COLOUR = "#6a1b9a"
READ_COLOUR = "#2e7d32"
WRITE_COLOUR = "#ef6c00"
PROCESSES_COLOUR = "#00838f"
AXIS_WIDTH = 52
PLOT_HEIGHT = 74
MIN_SPAN_S = 10.0  # the time axis spans at least this much, even with a single sample
WINDOWS = (1, 5, 10)  # minutes the user can choose from
_SIZE_STEPS = [m * 1024**p for p in range(5) for m in (1, 2, 5, 10, 20, 50, 100, 200, 500)]


class _SizeAxis(pg.AxisItem):
    """Ticks at round binary sizes (0, 512K, 1M), short enough for the narrow axis."""

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:  # noqa: N803
        span = max(maxVal - minVal, 1.0)
        for spacing in _SIZE_STEPS:
            if span / spacing <= 3:
                return [(spacing, 0.0)]
        return [(span / 3, 0.0)]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [_short_size(v * scale) for v in values]


class _CountAxis(pg.AxisItem):
    """Whole-number ticks only."""

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, float]]:  # noqa: N803
        return [
            (max(spacing, 1.0), offset)
            for spacing, offset in super().tickSpacing(minVal, maxVal, size)
        ]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [f"{v:.0f}" for v in values]


class _PercentAxis(pg.AxisItem):
    """0%, 50% and 100% only: the plots are too small for more."""

    def __init__(self) -> None:
        super().__init__(orientation="left")
        self.setTicks([[(0.0, "0%"), (50.0, "50%"), (100.0, "100%")], []])


class ScriptTableModel(QAbstractTableModel):
    """The running scripts: file name, CPU %, memory (RSS), processes."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[ScriptRow] = []
        self._headers = [self.tr("Script"), self.tr("CPU"), self.tr("Memory"), self.tr("Proc.")]

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._headers)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.DisplayRole
    ) -> Any:
        if orientation != Qt.Horizontal:
            return None
        if role == Qt.DisplayRole:
            return self._headers[section]
        if role == Qt.TextAlignmentRole and section > 0:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row, column = self._rows[index.row()], index.column()
        if role == Qt.DisplayRole:
            if column == 0:
                return row.name
            if column == 1:
                return "" if row.cpu_percent is None else f"{row.cpu_percent:.0f}%"
            if column == 2:
                return fmt.size(row.rss_bytes)
            return str(row.processes)
        if role == Qt.ToolTipRole and column == 0:
            return row.script_path or row.execution_id
        if role == Qt.TextAlignmentRole and column > 0:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None

    def set_rows(self, rows: list[ScriptRow]) -> None:
        """New figures: repaint in place when the same scripts run, else reset."""
        same = [r.execution_id for r in rows] == [r.execution_id for r in self._rows]
        if same and rows:
            self._rows = list(rows)
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(rows) - 1, len(self._headers) - 1)
            )
        elif not same:
            self.beginResetModel()
            self._rows = list(rows)
            self.endResetModel()


class _Chart:
    """A caption (the latest value) above a small plot."""

    def __init__(self, parent: QWidget, left_axis: pg.AxisItem, bottom_axis: bool) -> None:
        palette = parent.palette()
        background = palette.color(QPalette.Base)
        foreground = palette.color(QPalette.Text)
        self.caption = QLabel(parent)
        self.caption.setTextFormat(Qt.RichText)
        axes: dict[str, pg.AxisItem] = {"left": left_axis}
        if bottom_axis:
            axes["bottom"] = pg.DateAxisItem(orientation="bottom")
        self.widget = pg.PlotWidget(parent, background=background, axisItems=axes)
        self.widget.setAntialiasing(False)
        self.widget.setMinimumHeight(PLOT_HEIGHT)
        self.widget.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.plot: pg.PlotItem = self.widget.getPlotItem()
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setClipToView(True)
        self.plot.setDownsampling(auto=True, mode="peak")
        # A y grid would hide the labels at the plot's edges (0% and 100%).
        self.plot.showGrid(x=True, y=False, alpha=0.15)
        self.plot.getViewBox().setDefaultPadding(0.0)
        self.plot.layout.setContentsMargins(0, 8, 6, 0 if bottom_axis else 8)
        grid = QColor(foreground)
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setPen(pg.mkPen(grid))
            axis.setTextPen(pg.mkPen(foreground))
        self.plot.getAxis("left").setWidth(AXIS_WIDTH)
        self.plot.getAxis("left").setStyle(hideOverlappingLabels=False)  # labels at the edges
        if not bottom_axis:
            self.plot.hideAxis("bottom")

    def curve(self, colour: str) -> pg.PlotDataItem:
        return self.plot.plot([], [], pen=pg.mkPen(colour, width=1), antialias=False)


class PerformancePanel(QWidget):
    """Charts of CPU, memory, disk and script processes; the running scripts; the caches."""

    def __init__(self, vm: PerformanceViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vm = vm
        self._dirty = True

        self.disabled_label = QLabel(
            self.tr(
                "Monitoring is switched off. Turn on “Monitor the system” in "
                "Tools > Settings > Monitoring to see live figures."
            ),
            self,
        )
        self.disabled_label.setWordWrap(True)
        self.disabled_label.setVisible(vm.disabled)

        self.window_combo = QComboBox(self)
        for minutes in WINDOWS:
            self.window_combo.addItem(self.tr("Last %n min", "", minutes), minutes)
        closest = min(WINDOWS, key=lambda m: abs(m - vm.window_minutes))
        self.window_combo.setCurrentIndex(WINDOWS.index(closest))
        vm.window_minutes = closest
        self.window_combo.setToolTip(self.tr("How much time the charts show"))

        self.cpu = _Chart(self, _PercentAxis(), bottom_axis=False)
        self.memory = _Chart(self, _PercentAxis(), bottom_axis=False)
        self.disk = _Chart(self, _SizeAxis(orientation="left"), bottom_axis=False)
        self.processes = _Chart(self, _CountAxis(orientation="left"), bottom_axis=True)
        self.charts = (self.cpu, self.memory, self.disk, self.processes)
        for chart in (self.cpu, self.memory, self.disk):
            chart.plot.setXLink(self.processes.plot)
        for chart in (self.cpu, self.memory):
            chart.plot.setYRange(0, 100, padding=0)
            middle = QColor(self.palette().color(QPalette.Text))
            middle.setAlpha(40)
            chart.plot.addItem(pg.InfiniteLine(50, angle=0, pen=pg.mkPen(middle)))
        self.cpu_curve = self.cpu.curve(CPU_COLOUR)
        self.memory_curve = self.memory.curve(MEMORY_COLOUR)
        self.read_curve = self.disk.curve(READ_COLOUR)
        self.write_curve = self.disk.curve(WRITE_COLOUR)
        self.processes_curve = self.processes.curve(PROCESSES_COLOUR)

        self.scripts_title = QLabel(self.tr("Running scripts"), self)
        self.scripts_model = ScriptTableModel(self)
        self.scripts_table = QTableView(self)
        self.scripts_table.setModel(self.scripts_model)
        self.scripts_table.setSelectionMode(QAbstractItemView.NoSelection)
        self.scripts_table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.scripts_table.setFocusPolicy(Qt.NoFocus)
        self.scripts_table.setTextElideMode(Qt.ElideRight)
        self.scripts_table.setWordWrap(False)
        self.scripts_table.verticalHeader().setVisible(False)
        row_height = self.scripts_table.fontMetrics().height() + 6
        self.scripts_table.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
        self.scripts_table.verticalHeader().setDefaultSectionSize(row_height)
        header = self.scripts_table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(0, QHeaderView.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeToContents)
        self.scripts_table.setFixedHeight(header.sizeHint().height() + 4 * row_height + 4)
        self.no_scripts_label = QLabel(self.tr("No scripts are running."), self)
        self.no_scripts_label.setAlignment(Qt.AlignCenter)
        self.no_scripts_label.setEnabled(False)
        self.scripts_stack = QStackedWidget(self)
        self.scripts_stack.addWidget(self.no_scripts_label)
        self.scripts_stack.addWidget(self.scripts_table)
        self.scripts_stack.setFixedHeight(self.scripts_table.height())

        self.figures_label = QLabel(self)
        self.figures_label.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(self.cpu.caption, 1)
        top.addWidget(self.window_combo)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.setSpacing(2)
        layout.addWidget(self.disabled_label)
        layout.addLayout(top)
        layout.addWidget(self.cpu.widget, 1)
        for chart in (self.memory, self.disk, self.processes):
            layout.addSpacing(4)
            layout.addWidget(chart.caption)
            layout.addWidget(chart.widget, 1)
        layout.addSpacing(6)
        layout.addWidget(self.scripts_title)
        layout.addWidget(self.scripts_stack)
        layout.addSpacing(4)
        layout.addWidget(self.figures_label)
        if vm.disabled:  # nothing will come: say so instead of showing empty charts
            layout.addStretch(1)
            for index in range(layout.count()):
                widget = layout.itemAt(index).widget()
                if widget is not None and widget is not self.disabled_label:
                    widget.setVisible(False)
            self.window_combo.setVisible(False)
            self.cpu.caption.setVisible(False)

        self.window_combo.currentIndexChanged.connect(self._on_window_chosen)
        vm.series_changed.connect(self._on_series)
        vm.scripts_changed.connect(self._on_scripts)
        vm.figures_changed.connect(self._on_figures)
        self._draw()
        self._on_scripts(vm.scripts)
        self._on_figures(vm.figures)

    # -- ViewModel signals ---------------------------------------------------------------------

    def _on_series(self) -> None:
        self._dirty = True
        if self.isVisible():
            self._draw()

    def _on_scripts(self, rows: list[ScriptRow]) -> None:
        self.scripts_model.set_rows(rows)
        self.scripts_stack.setCurrentIndex(1 if rows else 0)

    def _on_figures(self, figures: dict[str, Any]) -> None:
        parts = [
            self.tr("Queue {queued} · Running {running}").format(
                queued=figures.get("queue_depth", 0), running=figures.get("running", 0)
            )
        ]
        rates, details = [], []
        for cache in figures.get("caches", []):
            region = self._region_name(str(cache["region"]))
            hits, misses = int(cache["hits"]), int(cache["misses"])
            rate = f"{100 * hits / (hits + misses):.0f}%" if hits + misses else "–"
            rates.append(f"{region} {rate}")
            details.append(
                self.tr(
                    "{region}: {hits} hits, {misses} misses, {size} of {max_size} entries"
                ).format(
                    region=region,
                    hits=hits,
                    misses=misses,
                    size=cache["size"],
                    max_size=cache["max_size"],
                )
            )
        if rates:
            parts.append(self.tr("Cache hits: {rates}").format(rates=", ".join(rates)))
        self.figures_label.setText(" · ".join(parts))
        self.figures_label.setToolTip("\n".join(details))

    def _on_window_chosen(self, index: int) -> None:
        self._vm.window_minutes = float(self.window_combo.itemData(index))

    # -- drawing ------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        """Catch up on what arrived while hidden."""
        super().showEvent(event)
        if self._dirty:
            self._draw()

    def _draw(self) -> None:
        self._dirty = False
        series = self._vm.series
        at = np.asarray(series.at, dtype=float)
        cpu, memory, read, write, processes = (
            np.asarray(values, dtype=float)
            for values in (
                series.cpu_percent,
                series.memory_percent,
                series.disk_read,
                series.disk_write,
                series.script_processes,
            )
        )
        self.cpu_curve.setData(at, cpu, connect="finite")
        self.memory_curve.setData(at, memory, connect="finite")
        self.read_curve.setData(at, read, connect="finite")
        self.write_curve.setData(at, write, connect="finite")
        self.processes_curve.setData(at, processes, connect="finite")
        latest = float(at[-1]) if len(at) else time.time()
        first = float(at[0]) if len(at) else latest
        start = max(first, latest - self._vm.window_minutes * 60)
        # update=False: the views apply their new ranges once, when they next paint, instead of
        # each call re-laying out the linked plots and their axes at once (~40 ms a second).
        self.processes.plot.setXRange(
            min(start, latest - MIN_SPAN_S), latest, padding=0, update=False
        )
        disk_top = max(_peak(read), _peak(write), 1024.0)
        self.disk.plot.setYRange(0, disk_top * 1.1, padding=0, update=False)
        self.processes.plot.setYRange(0, max(_peak(processes), 2.0) * 1.1, padding=0, update=False)
        self._set_captions(series)

    def _set_captions(self, series: Series) -> None:
        cpu, memory = _last(series.cpu_percent), _last(series.memory_percent)
        read, write = _last(series.disk_read), _last(series.disk_write)
        processes = _last(series.script_processes)
        self.cpu.caption.setText(
            _caption(self.tr("CPU"), CPU_COLOUR, "" if cpu is None else f"{cpu:.0f}%")
        )
        self.memory.caption.setText(
            _caption(self.tr("Memory"), MEMORY_COLOUR, "" if memory is None else f"{memory:.0f}%")
        )
        disk = self.tr("Disk")
        if read is None and write is None:
            self.disk.caption.setText(f"<b>{disk}</b> " + self.tr("not available here"))
        else:
            rate_read = self.tr("read {rate}/s").format(rate=fmt.size(read or 0))
            rate_write = self.tr("write {rate}/s").format(rate=fmt.size(write or 0))
            self.disk.caption.setText(
                f"<b>{disk}</b> <span style='color:{READ_COLOUR}'>{rate_read}</span>"
                f" · <span style='color:{WRITE_COLOUR}'>{rate_write}</span>"
            )
        self.processes.caption.setText(
            _caption(
                self.tr("Script processes"),
                PROCESSES_COLOUR,
                "" if processes is None else f"{processes:.0f}",
            )
        )

    def _region_name(self, region: str) -> str:
        names = {
            "scripts": self.tr("library"),
            "history": self.tr("history"),
            "config": self.tr("settings"),
        }
        return names.get(region, region)


def _short_size(value: float) -> str:
    if value <= 0:
        return "0"
    for unit in ("", "K", "M", "G"):
        if value < 1024 or unit == "G":
            return f"{value:.1f}{unit}" if value < 10 and unit else f"{value:.0f}{unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def _caption(title: str, colour: str, value: str) -> str:
    return f"<b>{title}</b> <span style='color:{colour}'>{value}</span>"


def _last(values: list[float]) -> float | None:
    """The newest value that is not NaN."""
    if values and not math.isnan(values[-1]):
        return values[-1]
    finite = np.flatnonzero(np.isfinite(np.asarray(values, dtype=float)))
    return float(values[finite[-1]]) if len(finite) else None


def _peak(values: np.ndarray) -> float:
    """The largest value that is not NaN (0 when there is none)."""
    finite = values[np.isfinite(values)]
    return float(finite.max()) if len(finite) else 0.0
