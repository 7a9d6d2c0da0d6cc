"""A launched script process, as the launchers (spawn, fork server) hand it to the runner."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import psutil


@dataclass
class Child:
    pid: int
    stdout_fd: int
    stderr_fd: int
    report_fd: int
    exited: asyncio.Future[tuple[int, float | None]]  # (wait status, CPU seconds)
    started_at: float | None = None
    extra_fds: list[int] = field(default_factory=list)


def start_time(pid: int) -> float | None:
    """The process's start time, recorded so a later start-up can recognise an orphan by
    (pid, start time) and not kill an unrelated process that reused the pid."""
    try:
        return float(psutil.Process(pid).create_time())
    except psutil.Error:
        return None
