"""System load at a glance for the status bar, sampled off the GUI thread."""

from __future__ import annotations

import threading
from collections.abc import Callable

from PyQt5.QtCore import QObject, pyqtSignal

LoadSample = Callable[[], tuple[float, float]]  # (CPU %, memory %)


class SystemLoadViewModel(QObject):
    """Samples CPU and memory use every ``interval_s`` on a small background thread."""

    load_changed = pyqtSignal(float, float)

    def __init__(
        self, sample: LoadSample, interval_s: float = 1.0, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._sample = sample
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="scriptbatch-load", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        try:
            self._sample()  # the first CPU figure only starts the measurement
        except Exception:
            return
        while not self._stop.wait(self._interval):
            try:
                cpu, memory = self._sample()
            except Exception:  # a platform without these counters: show nothing
                return
            self.load_changed.emit(cpu, memory)
