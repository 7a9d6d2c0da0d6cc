"""A launched script process, as the launchers (spawn, fork server) hand it to the runner."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from typing import NamedTuple

import psutil


class Exit(NamedTuple):
    """How a script's process ended, from its parent's ``wait4``."""

    status: int  # the wait status
    cpu_s: float | None
    # ru_maxrss, where it is the script's own: for a child of the small fork server, not for
    # one spawned by the app (it counts the app's pages). For a script that could not report
    # its peak itself (killed, os._exit).
    peak_rss_bytes: int | None = None
    # The fork server (or cell) it came from died while it ran, and it died with it: the script
    # did not end by itself, ScriptBatch's helper was killed (``interrupted``, not ``failed``).
    lost: bool = False


@dataclass
class Child:
    pid: int
    stdout_fd: int
    stderr_fd: int
    report_fd: int
    exited: asyncio.Future[Exit]
    started_at: float | None = None
    extra_fds: list[int] = field(default_factory=list)


def start_time(pid: int) -> float | None:
    """The process's start time, recorded so a later start-up can recognise an orphan by
    (pid, start time) and not kill an unrelated process that reused the pid. The same figure
    as psutil's ``create_time``; on Linux read straight from /proc (psutil re-reads the boot
    time on every call, which shows at thousands of launches)."""
    if _BOOT_TIME is not None:
        try:
            fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)  # no file object: once per launch
            try:
                fields = os.read(fd, 4096).rpartition(b")")[2].split()
            finally:
                os.close(fd)
            return _BOOT_TIME + int(fields[19]) / _CLOCK_TICKS
        except (OSError, IndexError, ValueError):
            return None
    try:
        return float(psutil.Process(pid).create_time())
    except psutil.Error:
        return None


def _linux_boot_time() -> float | None:
    try:
        return float(psutil.boot_time()) if os.path.exists("/proc/self/stat") else None
    except (psutil.Error, OSError):
        return None


_BOOT_TIME = _linux_boot_time()
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
