"""Benchmark F (GUI responsiveness): the real main window, offscreen, running a chatty batch.

Run by ``python -m bench gui`` as a child process (``python -m bench.gui_inproc ...``), so that
the GUI thread measured and the RSS belong to a process doing nothing but this, and a hang can
be timed out from outside. Prints one JSON object on the last line of stdout.

What it does, in order (bench/README.md explains why):

1. ``AppCode.container.build(<fresh data dir>)``, ``install_examples`` (as a first GUI start
   does), ``_build_window`` with a throw-away QSettings file (so the default jobs = CPU count),
   ``window.show()``.
2. Registers a folder of N generated scripts through the library ViewModel (``add_paths``, what
   "Add folder..." does), waits until ``window._library.refresh()`` has loaded all of them
   (``all_scripts``), ticks them with ``set_checked``, lets the window idle for a second and
   takes the idle RSS.
3. Starts a 10 ms heartbeat QTimer (precise) and an RSS sampler thread, then
   ``window.run_selected()``. While the batch runs, a "user" keeps a running execution selected
   in the batch table, so that the output viewer follows live output all the time, and clicks
   another running row about once a second. Stops at ``window._batch.batch_finished``.
4. Stall = actual interval between two heartbeats minus 10 ms; reports max, p99, the biggest
   stalls with their time into the batch, the RSS peak over the idle figure, the wall time and
   the executions' statuses.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

HEARTBEAT_MS = 10
OPENING_S = 3.0  # how long after show() the opening stalls are watched
_MB = 1024 * 1024


def stall_stats(stamps: list[float], interval_s: float = HEARTBEAT_MS / 1000) -> dict[str, object]:
    """Stalls (ms) from heartbeat timestamps: each actual interval minus the nominal one."""
    stalls = [max(0.0, (b - a) - interval_s) * 1000 for a, b in itertools.pairwise(stamps)]
    if not stalls:
        return {"beats": 0}
    ordered = sorted(stalls)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    worst = sorted(range(len(stalls)), key=stalls.__getitem__, reverse=True)[:5]
    return {
        "beats": len(stalls),
        "max_ms": ordered[-1],
        "p99_ms": p99,
        "p50_ms": statistics.median(stalls),
        "over_50ms": sum(1 for s in stalls if s > 50),
        "over_100ms": sum(1 for s in stalls if s > 100),
        # (stall ms, seconds since the start of the measurement when it ended)
        "worst": [(round(stalls[i], 1), round(stamps[i + 1] - stamps[0], 2)) for i in worst],
    }


def _wait_until(app, predicate, timeout_s: float, what: str) -> None:  # type: ignore[no-untyped-def]
    """Run the event loop (as the app would) until ``predicate()`` holds."""
    from PyQt5.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    poll = QTimer()
    poll.timeout.connect(lambda: loop.quit() if predicate() else None)
    poll.start(20)
    deadline = QTimer()
    deadline.setSingleShot(True)
    deadline.timeout.connect(loop.quit)
    deadline.start(int(timeout_s * 1000))
    if not predicate():
        loop.exec_()
    poll.stop()
    deadline.stop()
    if not predicate():
        raise TimeoutError(f"{what} did not happen within {timeout_s:.0f} s")


def _idle(app, seconds: float) -> None:  # type: ignore[no-untyped-def]
    from PyQt5.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec_()


def _progress(text: str) -> None:
    print(f"    {text}", file=sys.stderr, flush=True)


def measure(root: Path, n: int, lines: int, timeout: float) -> dict[str, object]:
    import psutil
    from PyQt5.QtCore import QEventLoop, QSettings, QTimer
    from PyQt5.QtWidgets import QApplication

    from AppCode.container import build, install_examples
    from AppCode.core.domain.models import ExecutionStatus
    from AppCode.ui.app import _build_window
    from bench.common import write_scripts
    from bench.inproc import RssSampler

    source = f'for i in range({lines}):\n    print(f"line {{i}} " + "x" * 40)\n'
    folder = root / "scripts"
    paths = set(write_scripts(folder, n, source, prefix="chatty"))
    me = psutil.Process()

    app = QApplication.instance() or QApplication([sys.argv[0]])
    container = build(root / "data")
    window = None
    try:
        install_examples(container)
        qsettings = QSettings(str(root / "gui.ini"), QSettings.IniFormat)  # type: ignore[attr-defined]
        window = _build_window(container, qsettings)  # type: ignore[no-untyped-call]
        library, batch, table = window._library, window._batch, window.batch_panel.table
        # -- the first seconds after show(): what the app does once its window is up --------------
        opening = Heartbeat()
        opening.start()
        window.show()
        shown = time.perf_counter()
        _wait_until(app, lambda: len(library.all_scripts) > 0, 60, "loading the examples")
        _idle(app, max(0.0, OPENING_S - (time.perf_counter() - shown)))
        opening.stop()

        # -- the library: add the folder (as "Add folder..." does) and tick every script -------
        loading = Heartbeat()
        loading.start()
        t0 = time.perf_counter()
        library.add_paths([str(folder)])
        _wait_until(
            app,
            lambda: paths <= {s.path for s in library.all_scripts},
            300,
            f"the library listing all {n} scripts",
        )
        library.refresh()  # and once more, as the brief's user would: loaded from the database
        _wait_until(app, lambda: library._background.pending() == 0, 300, "refresh()")
        library.set_checked(sorted(paths), True)
        loaded_s = time.perf_counter() - t0
        loading.stop()
        if len(library.checked_paths()) != n:
            return {"error": f"{len(library.checked_paths())} scripts ticked, expected {n}"}
        _progress(f"library loaded and ticked in {loaded_s:.2f} s; jobs {batch.jobs}")

        # -- idle -------------------------------------------------------------------------------
        _idle(app, 1.5)
        gc.collect()
        idle_rss = me.memory_info().rss

        # -- the batch --------------------------------------------------------------------------
        model = window.batch_panel.model
        clicks = {"follow": 0, "switch": 0, "ticks": 0}
        running = ExecutionStatus.RUNNING

        def selected_running() -> bool:
            row = table.currentIndex().row()
            rows = batch.rows
            return 0 <= row < len(rows) and rows[row].status is running

        def click() -> None:
            """A user keeping a running script selected and clicking around once a second."""
            clicks["ticks"] += 1
            switch = clicks["ticks"] % 4 == 0  # every ~1 s (the timer runs every 250 ms)
            if selected_running() and not switch:
                return
            current = table.currentIndex().row()
            candidates = [i for i, e in enumerate(batch.rows) if e.status is running]
            others = [i for i in candidates if i != current]
            if not others:
                return
            table.setCurrentIndex(model.index(others[0], 1))
            clicks["switch" if switch else "follow"] += 1

        user = QTimer()
        user.timeout.connect(click)
        finished: dict[str, object] = {}
        loop = QEventLoop()

        def on_finished(batch_id: str, status: str) -> None:
            finished.update(t=time.perf_counter(), id=batch_id, status=status)
            loop.quit()

        batch.batch_finished.connect(on_finished)
        deadline = QTimer()
        deadline.setSingleShot(True)
        deadline.timeout.connect(loop.quit)
        deadline.start(int(timeout * 1000))
        beat = Heartbeat()
        _progress(f"running {n} scripts x {lines} lines, following live output")
        with RssSampler(0.1) as sampler:
            cpu0 = me.cpu_times()
            beat.start()
            user.start(250)
            start = time.perf_counter()
            window.run_selected()
            loop.exec_()
            beat.stop()
            user.stop()
            cpu1 = me.cpu_times()
        deadline.stop()
        if "t" not in finished:
            batch.stop()
            _wait_until(app, lambda: not batch.is_running, 120, "stopping the batch")
            return {"error": f"the batch did not finish within {timeout:.0f} s"}
        wall = float(finished["t"]) - start  # type: ignore[arg-type]
        statuses = dict(Counter(e.status.value for e in batch.rows))
        _idle(app, 1.0)
        gc.collect()
        end_rss = me.memory_info().rss
        result: dict[str, object] = {
            "jobs": batch.jobs,
            "n": n,
            "lines": lines,
            "seconds": wall,
            "statuses": statuses,
            "batch_status": finished["status"],
            "stalls": stall_stats(beat.stamps),
            "library_stalls": stall_stats(loading.stamps),
            "opening_stalls": stall_stats(opening.stamps),
            "library_seconds": loaded_s,
            "idle_rss_mb": idle_rss / _MB,
            "peak_rss_mb": sampler.peak / _MB,
            "growth_mb": (sampler.peak - idle_rss) / _MB,
            "end_growth_mb": (end_rss - idle_rss) / _MB,
            "rss_samples": sampler.samples,
            "app_cpu_s": (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system),
            "clicks": clicks["follow"] + clicks["switch"],
            "output_blocks": window.output.text.document().blockCount(),
        }
        if statuses != {"succeeded": n}:
            result["error"] = f"not every execution succeeded: {statuses}"
        return result
    finally:
        if window is not None:
            if window._batch.is_running:
                window._batch.stop()
                _wait_until(app, lambda: not window._batch.is_running, 120, "stopping the batch")
            window.close()  # the app's own shutdown path (saves to the throw-away QSettings)
        container.shutdown_resources()


class Heartbeat:
    """A precise 10 ms QTimer on the GUI thread that records when each timeout really ran."""

    def __init__(self, interval_ms: int = HEARTBEAT_MS) -> None:
        from PyQt5.QtCore import Qt, QTimer

        self.stamps: list[float] = []
        self._timer = QTimer()
        self._timer.setTimerType(Qt.PreciseTimer)  # type: ignore[attr-defined]
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(lambda: self.stamps.append(time.perf_counter()))

    def start(self) -> None:
        self.stamps = [time.perf_counter()]
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self.stamps.append(time.perf_counter())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True, help="a fresh folder for data and scripts")
    parser.add_argument("--n", type=int, default=500, help="scripts in the batch")
    parser.add_argument("--lines", type=int, default=2000, help="lines each script prints")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds for the batch")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        out = measure(Path(args.root), args.n, args.lines, args.timeout)
    except Exception as exc:  # reported as a row, not a traceback in the table
        import traceback

        traceback.print_exc()
        out = {"error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
