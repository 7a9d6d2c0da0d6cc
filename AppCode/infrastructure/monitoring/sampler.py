"""The resource sampler on psutil: the system, this app, and every running script's process tree.

One call of ``sample()`` reads everything once (a single pass over the process table for all
script trees). Whatever psutil cannot read here (disk counters in a container, swap on some
systems) comes back as None, with one note in the log, never an error.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime

import psutil

from AppCode.core.domain.models import MetricSample, ProcessFigures, SystemReading

log = logging.getLogger(__name__)

# The shortest time a CPU percentage is measured over: the shortest sampling interval the
# settings allow ([monitoring] interval_s >= 0.05), so that regular samples always have one.
MIN_CPU_INTERVAL_S = 0.05


class PsutilSampler:
    """Keeps the psutil objects between calls: CPU percentages are measured since the last one.

    A CPU figure is only given when it was measured over at least ``MIN_CPU_INTERVAL_S``:
    psutil's percentages are averages since the previous call, and over a few milliseconds
    (the first sample, taken just after the sampler was made; a process seen for the first
    time) they read 0% or 100% whatever the load. Such a sample has no CPU figure (None), and
    the next one measures over the whole time since."""

    def __init__(self) -> None:
        self._me = psutil.Process()
        self._me.cpu_percent(None)
        psutil.cpu_percent(None, percpu=True)
        self._times_percent_ok = True
        self._cpu_times_percent()  # starts the measurement
        self._cpu_since = time.monotonic()  # when the system and app measurements started
        self._processes: dict[int, psutil.Process] = {}
        self._process_cpu_since: dict[int, float] = {}  # pid -> when its measurement started
        self._last_disk: tuple[float, int, int] | None = None
        self._proc_children = os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
        self._noted: set[str] = set()

    def sample(self, scripts: Mapping[str, int]) -> SystemReading:
        """System figures now, and each script's tree for ``{execution_id: pid}``."""
        now = datetime.now(UTC)
        measure_cpu = time.monotonic() - self._cpu_since >= MIN_CPU_INTERVAL_S
        if measure_cpu:
            self._cpu_since = time.monotonic()
            per_cpu = tuple(float(x) for x in psutil.cpu_percent(None, percpu=True))
            cpu = sum(per_cpu) / len(per_cpu) if per_cpu else None
            iowait = self._cpu_times_percent()
        else:
            per_cpu, cpu, iowait = (), None, None
        memory = psutil.virtual_memory()
        swap_used, swap_percent = self._swap()
        read_rate, write_rate = self._disk_rates()
        trees = self._trees(scripts)
        script_figures = {eid: self._figures(procs) for eid, procs in trees.items()}
        details: dict[str, object] = {
            "memory_available_bytes": int(memory.available),
            "swap_percent": swap_percent,
        }
        if per_cpu:
            details["per_cpu"] = list(per_cpu)
        if iowait is not None:
            details["iowait_percent"] = iowait
        system = MetricSample(
            at=now,
            cpu_percent=cpu,
            memory_used_bytes=int(memory.used),
            memory_percent=float(memory.percent),
            swap_used_bytes=swap_used,
            disk_read_bytes_per_s=read_rate,
            disk_write_bytes_per_s=write_rate,
            script_processes=sum(f.processes for f in script_figures.values()),
            rss_bytes=None,
            details=details,
        )
        return SystemReading(
            system=system,
            app=self._app_figures(measure_cpu),
            scripts=script_figures,
        )

    # -- parts ------------------------------------------------------------------------------

    def _swap(self) -> tuple[int | None, float | None]:
        try:
            swap = psutil.swap_memory()
            return int(swap.used), float(swap.percent)
        except (OSError, RuntimeError, psutil.Error) as exc:
            self._note("swap", exc)
            return None, None

    def _disk_rates(self) -> tuple[float | None, float | None]:
        try:
            counters = psutil.disk_io_counters()
        except (OSError, RuntimeError, psutil.Error) as exc:
            counters = None
            self._note("disk", exc)
        if counters is None:
            self._note("disk", "no disk counters on this system")
            return None, None
        now = time.monotonic()
        last, self._last_disk = self._last_disk, (now, counters.read_bytes, counters.write_bytes)
        if last is None or now <= last[0]:
            return 0.0, 0.0
        elapsed = now - last[0]
        return (
            max(0.0, (counters.read_bytes - last[1]) / elapsed),
            max(0.0, (counters.write_bytes - last[2]) / elapsed),
        )

    def _cpu_times_percent(self) -> float | None:
        if not self._times_percent_ok:
            return None
        try:
            times = psutil.cpu_times_percent(None)
        except (OSError, RuntimeError, psutil.Error) as exc:
            self._times_percent_ok = False
            self._note("iowait", exc)
            return None
        value = getattr(times, "iowait", None)
        return None if value is None else float(value)

    def _app_figures(self, measure_cpu: bool) -> ProcessFigures:
        try:
            with self._me.oneshot():
                return ProcessFigures(
                    cpu_percent=float(self._me.cpu_percent(None)) if measure_cpu else None,
                    rss_bytes=int(self._me.memory_info().rss),
                    processes=1,
                    threads=int(self._me.num_threads()),
                )
        except psutil.Error as exc:
            self._note("app", exc)
            return ProcessFigures(None, None, 1, None)

    def _trees(self, scripts: Mapping[str, int]) -> dict[str, list[psutil.Process]]:
        """Each script's process and all its descendants. On Linux the kernel lists each
        task's children (/proc/PID/task/TID/children), so only the scripts' own trees are
        read; elsewhere one pass over the process table serves every script (psutil's
        children() would scan the whole table once per script: 80% of a sample's cost)."""
        if not scripts:
            self._processes.clear()
            self._process_cpu_since.clear()
            return {}
        children = _children_from_proc(scripts.values()) if self._proc_children else None
        if children is None:
            self._proc_children = False
            children = {}
            for process in psutil.process_iter(["ppid"]):
                ppid = process.info.get("ppid")
                if ppid is not None:
                    children.setdefault(ppid, []).append(process.pid)
        trees: dict[str, list[psutil.Process]] = {}
        alive: set[int] = set()
        for execution_id, root in scripts.items():
            pids, stack = [], [root]
            while stack:
                pid = stack.pop()
                pids.append(pid)
                stack.extend(children.get(pid, ()))
            procs = []
            for pid in pids:
                process = self._processes.get(pid)
                if process is None:
                    try:
                        process = psutil.Process(pid)
                        process.cpu_percent(None)  # starts the measurement
                    except psutil.Error:
                        continue
                    self._processes[pid] = process
                    self._process_cpu_since[pid] = time.monotonic()
                procs.append(process)
                alive.add(pid)
            trees[execution_id] = procs
        for pid in set(self._processes) - alive:
            del self._processes[pid]
            del self._process_cpu_since[pid]
        return trees

    def _figures(self, processes: list[psutil.Process]) -> ProcessFigures:
        """A tree's figures; its CPU sums the processes measured long enough (None when none
        was: the script has just started)."""
        cpu: float | None = None
        rss, count = 0, 0
        for process in processes:
            try:
                with process.oneshot():
                    started = self._process_cpu_since[process.pid]
                    if time.monotonic() - started >= MIN_CPU_INTERVAL_S:
                        cpu = (cpu or 0.0) + float(process.cpu_percent(None))
                        self._process_cpu_since[process.pid] = time.monotonic()
                    rss += int(process.memory_info().rss)
                    count += 1
            except psutil.Error:
                continue
        return ProcessFigures(cpu_percent=cpu, rss_bytes=rss, processes=count, threads=None)

    def _note(self, what: str, reason: object) -> None:
        if what not in self._noted:
            self._noted.add(what)
            log.info("monitoring: %s figures are not available here (%s)", what, reason)


def _children_from_proc(roots: object) -> dict[int, list[int]] | None:
    """``{pid: [child pids]}`` for the trees under ``roots``, from /proc; None where the
    kernel does not offer the children files."""
    children: dict[int, list[int]] = {}
    stack = list(roots)  # type: ignore[call-overload]
    seen: set[int] = set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue  # gone
        kids: list[int] = []
        for task in tasks:
            try:
                with open(f"/proc/{pid}/task/{task}/children", "rb") as fh:
                    kids.extend(int(k) for k in fh.read().split())
            except FileNotFoundError:
                if not os.path.exists(f"/proc/{pid}"):
                    break  # the process ended while we read it
                return None
            except OSError:
                continue
        children[pid] = kids
        stack.extend(kids)
    return children


def cpu_count() -> int:
    return os.cpu_count() or 1
