"""Benchmark G (GUI start-up) child: ``python -m bench.gui_startup OUT [scriptbatch args...]``.

Runs ``python -m AppCode <args>`` in this process, unchanged (``runpy``, as ``-m`` does), after
patching ``QMainWindow.show`` so that the first window shown records when it was shown, when its
first paint began and when that first frame was complete, and then quits the app's event loop.
The times (``time.perf_counter()``, which on Linux is CLOCK_MONOTONIC and so comparable with the
parent's clock) are written as JSON to OUT; the parent adds its own clock reading from just
before it spawned this process, which puts interpreter start-up into the figure.
"""

from __future__ import annotations

import time

T_START = time.perf_counter()  # the first thing this module does (the interpreter is up)

import json  # noqa: E402
import runpy  # noqa: E402
import sys  # noqa: E402

# Give up if the window never paints (seconds after show()).
PAINT_TIMEOUT_MS = 10_000


def _patch_show(times: dict[str, float]) -> None:
    from PyQt5.QtCore import QEvent, QObject, QTimer
    from PyQt5.QtWidgets import QApplication, QMainWindow

    original = QMainWindow.show

    class FirstPaint(QObject):
        def eventFilter(self, obj: QObject | None, event: QEvent | None) -> bool:  # noqa: N802
            kind = event.type() if event is not None else None
            if kind == QEvent.Show:  # type: ignore[attr-defined]
                times.setdefault("show_event", time.perf_counter())
            elif kind == QEvent.Paint and "paint" not in times:  # type: ignore[attr-defined]
                # The window paints first, then its children in the same pass; a zero timer
                # runs once that pass (the whole first frame) is done.
                times["paint"] = time.perf_counter()
                QTimer.singleShot(0, painted)
            return False

    def painted() -> None:
        times["frame"] = time.perf_counter()
        QApplication.quit()

    watcher = FirstPaint()

    def show(self: QMainWindow) -> None:
        if "show_called" not in times:
            times["show_called"] = time.perf_counter()
            self.installEventFilter(watcher)
            QTimer.singleShot(PAINT_TIMEOUT_MS, QApplication.quit)
        original(self)
        times.setdefault("shown", time.perf_counter())

    QMainWindow.show = show  # type: ignore[method-assign]


def main() -> int:
    out, args = sys.argv[1], sys.argv[2:]
    times: dict[str, float] = {"start": T_START}
    _patch_show(times)
    sys.argv = ["python -m AppCode", *args]
    code: object = 0
    try:
        runpy.run_module("AppCode", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code
    times["exited"] = time.perf_counter()
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"times": times, "code": code}, f)
    return code if isinstance(code, int) else 1


if __name__ == "__main__":
    sys.exit(main())
