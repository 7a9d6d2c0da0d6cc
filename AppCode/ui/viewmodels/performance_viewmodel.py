"""The performance panel's state (live charts, running scripts, caches) and the analysis tab's.

Snapshots arrive on the monitoring service's sampling thread; there they are only appended to
a pending list under a lock. A 250 ms timer on the GUI thread takes what is pending and applies
it at once, so however short ``[monitoring].interval_s`` is, the GUI thread updates the panel at
most four times a second.
"""

from __future__ import annotations

import math
import os
import threading
from collections import deque
from dataclasses import dataclass

from PyQt5.QtCore import QObject, QTimer, pyqtSignal

from AppCode.core.analyzers.performance import Finding
from AppCode.services.monitoring_service import RING_MINUTES, MonitoringService, Snapshot
from AppCode.ui.viewmodels.background import Background, user_message

__all__ = [
    "FLUSH_INTERVAL_MS",
    "AnalysisViewModel",
    "PerformanceViewModel",
    "ScriptRow",
    "Series",
]

FLUSH_INTERVAL_MS = 250
DEFAULT_WINDOW_MINUTES = 5.0
_MAX_PENDING = 10_000  # snapshots kept while the GUI thread is busy; older ones are dropped


@dataclass(frozen=True)
class Series:
    """The charts' data, oldest first: one entry per sample. Missing figures are NaN."""

    at: list[float]  # POSIX timestamps (seconds)
    cpu_percent: list[float]
    memory_percent: list[float]
    disk_read: list[float]  # bytes per second
    disk_write: list[float]  # bytes per second
    script_processes: list[float]

    def __len__(self) -> int:
        return len(self.at)


@dataclass(frozen=True)
class ScriptRow:
    """One running script's process tree, as the panel's table shows it."""

    execution_id: str
    script_path: str
    cpu_percent: float | None
    rss_bytes: int | None
    processes: int

    @property
    def name(self) -> str:
        return os.path.basename(self.script_path) or self.script_path or self.execution_id


def _number(value: float | int | None) -> float:
    return math.nan if value is None else float(value)


class PerformanceViewModel(QObject):
    """Rolling series of the last ``window_minutes``, the running scripts and the cache figures.

    ``series_changed`` says ``series`` has new points; ``scripts_changed`` carries the running
    scripts' rows; ``figures_changed`` carries ``{"queue_depth", "running", "caches"}`` where
    ``caches`` is a list of ``{"region", "hits", "misses", "size", "max_size"}``.
    """

    series_changed = pyqtSignal()
    scripts_changed = pyqtSignal(list)  # list[ScriptRow]
    figures_changed = pyqtSignal(dict)
    error_occurred = pyqtSignal(str)

    def __init__(
        self,
        monitoring: MonitoringService,
        parent: QObject | None = None,
        *,
        window_minutes: float = DEFAULT_WINDOW_MINUTES,
    ) -> None:
        super().__init__(parent)
        self._monitoring = monitoring
        self._background = Background(self)
        self._window_s = self._clamp_window(window_minutes) * 60
        self._columns: tuple[deque[float], ...] = tuple(deque() for _ in range(6))
        self._series = Series([], [], [], [], [], [])
        self._scripts: list[ScriptRow] = []
        self._figures: dict[str, object] = {"queue_depth": 0, "running": 0, "caches": []}
        self._lock = threading.Lock()
        self._pending: deque[Snapshot] = deque(maxlen=_MAX_PENDING)
        self._updates = 0  # how many times pending snapshots were applied (for tests, benches)
        self._timer = QTimer(self)
        self._timer.setInterval(FLUSH_INTERVAL_MS)
        self._timer.timeout.connect(self._flush)
        self._unsubscribe = None
        if not self.disabled:
            self._unsubscribe = monitoring.subscribe(self._on_snapshot)
            self._timer.start()
        self._apply(monitoring.recent())  # what was sampled before the panel opened, at once

    # -- state -------------------------------------------------------------------------------

    @property
    def disabled(self) -> bool:
        """Monitoring is switched off in the settings: there is nothing to show."""
        return not self._monitoring.enabled

    @property
    def window_minutes(self) -> float:
        """How many minutes the series span (at most the service's ring of ten)."""
        return self._window_s / 60

    @window_minutes.setter
    def window_minutes(self, minutes: float) -> None:
        window_s = self._clamp_window(minutes) * 60
        if window_s == self._window_s:
            return
        self._window_s = window_s
        for column in self._columns:
            column.clear()
        with self._lock:
            self._pending.clear()
        self._apply(self._monitoring.recent())
        self.series_changed.emit()

    @property
    def series(self) -> Series:
        return self._series

    @property
    def scripts(self) -> list[ScriptRow]:
        return list(self._scripts)

    @property
    def figures(self) -> dict[str, object]:
        return dict(self._figures)

    @property
    def updates(self) -> int:
        """How many times pending snapshots were applied on the GUI thread."""
        return self._updates

    # -- intents -----------------------------------------------------------------------------

    def start(self) -> None:
        """Ask the service to sample now (the panel is live even with no batch running)."""
        if self.disabled:
            return
        self._background.submit(
            self._monitoring.start,
            lambda _: None,
            lambda error: self.error_occurred.emit(user_message(error)),
        )

    def shutdown(self) -> None:
        """Stop listening; the service itself keeps running until the app closes."""
        self._timer.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    # -- snapshots (sampling thread) -------------------------------------------------------------

    def _on_snapshot(self, snapshot: Snapshot) -> None:
        with self._lock:
            self._pending.append(snapshot)

    # -- applying them (GUI thread) ---------------------------------------------------------------

    def _flush(self) -> None:
        with self._lock:
            if not self._pending:
                return
            pending, self._pending = self._pending, deque(maxlen=_MAX_PENDING)
        self._apply(list(pending))

    def _apply(self, snapshots: list[Snapshot]) -> None:
        at, cpu, memory, read, write, processes = self._columns
        last = at[-1] if at else -math.inf
        fresh = [s for s in snapshots if s.at.timestamp() > last]
        if not fresh:
            return
        self._updates += 1
        for snapshot in fresh:
            system = snapshot.system
            at.append(snapshot.at.timestamp())
            cpu.append(_number(system.cpu_percent))
            memory.append(_number(system.memory_percent))
            read.append(_number(system.disk_read_bytes_per_s))
            write.append(_number(system.disk_write_bytes_per_s))
            count = system.script_processes
            if count is None:
                count = sum(f.processes for f in snapshot.scripts.values())
            processes.append(float(count))
        oldest = at[-1] - self._window_s
        while at and at[0] < oldest:
            for column in self._columns:
                column.popleft()
        self._series = Series(*(list(column) for column in self._columns))
        latest = fresh[-1]
        self._scripts = sorted(
            (
                ScriptRow(
                    execution_id,
                    latest.script_paths.get(execution_id, ""),
                    figures.cpu_percent,
                    figures.rss_bytes,
                    figures.processes,
                )
                for execution_id, figures in latest.scripts.items()
            ),
            key=lambda row: (row.name.lower(), row.execution_id),
        )
        self._figures = {
            "queue_depth": latest.queue_depth,
            "running": latest.running,
            "caches": [
                {
                    "region": c.region,
                    "hits": c.hits,
                    "misses": c.misses,
                    "size": c.size,
                    "max_size": c.max_size,
                }
                for c in latest.caches
            ],
        }
        self.series_changed.emit()
        self.scripts_changed.emit(list(self._scripts))
        self.figures_changed.emit(dict(self._figures))

    @staticmethod
    def _clamp_window(minutes: float) -> float:
        return min(max(float(minutes), 0.25), float(RING_MINUTES))


class AnalysisViewModel(QObject):
    """The analyzer's findings over the stored history (and one batch's bottlenecks when a
    batch id is given), loaded off the GUI thread; the newest request wins.
    """

    findings_changed = pyqtSignal(list)  # list[Finding]
    loading_changed = pyqtSignal(bool)
    error_occurred = pyqtSignal(str)

    def __init__(
        self,
        monitoring: MonitoringService,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._monitoring = monitoring
        self._background = Background(self)
        self._findings: list[Finding] = []
        self._batch_ref = ""
        self._generation = 0
        self._loading = False
        self._loaded_once = False

    @property
    def findings(self) -> list[Finding]:
        return list(self._findings)

    @property
    def batch_ref(self) -> str:
        return self._batch_ref

    @property
    def is_loading(self) -> bool:
        return self._loading

    @property
    def has_loaded(self) -> bool:
        """Whether findings were asked for yet (the view loads lazily on first show)."""
        return self._loaded_once

    def refresh(self, batch_ref: str | None = None) -> None:
        """Analyse again; ``batch_ref`` (an id or unique prefix, "" for none) replaces the
        batch whose bottlenecks are included, ``None`` keeps the current one."""
        if batch_ref is not None:
            self._batch_ref = batch_ref.strip()
        self._generation += 1
        self._loaded_once = True
        generation, ref, monitoring = self._generation, self._batch_ref, self._monitoring

        def work() -> list[Finding]:
            return monitoring.findings(ref or None)

        self._set_loading(True)
        self._background.submit(
            work,
            lambda found: self._on_done(generation, found),
            lambda error: self._on_failed(generation, error),
        )

    def shutdown(self) -> None:
        """Drop results still on their way."""
        self._generation += 1

    def _on_done(self, generation: int, found: list[Finding]) -> None:
        if generation != self._generation:
            return
        self._set_loading(False)
        self._findings = list(found)
        self.findings_changed.emit(list(found))

    def _on_failed(self, generation: int, error: BaseException) -> None:
        if generation != self._generation:
            return
        self._set_loading(False)
        self.error_occurred.emit(user_message(error))

    def _set_loading(self, loading: bool) -> None:
        if loading != self._loading:
            self._loading = loading
            self.loading_changed.emit(loading)
