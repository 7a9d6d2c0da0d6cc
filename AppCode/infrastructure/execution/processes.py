"""The process table port on psutil: batch owners and leftover script processes."""

from __future__ import annotations

import logging
import os
import signal
import socket

import psutil

log = logging.getLogger(__name__)


def _token(process: psutil.Process) -> str:
    return f"{process.create_time():.3f}"


class PsutilProcessTable:
    def current_owner(self) -> tuple[int, str, str]:
        me = psutil.Process()
        return me.pid, socket.gethostname(), _token(me)

    def owner_alive(self, pid: int | None, host: str | None, token: str | None) -> bool:
        if pid is None:
            return False
        if host and host != socket.gethostname():
            return True  # another machine's batch: we cannot tell, so leave it alone
        try:
            return _token(psutil.Process(pid)) == token
        except psutil.Error:
            return False

    def kill_leftover(self, pid: int, started_at: float | None) -> bool:
        try:
            process = psutil.Process(pid)
            if started_at is None or abs(process.create_time() - started_at) > 0.01:
                return False
        except psutil.Error:
            return False
        log.warning("ending leftover script process %d of a batch whose app died", pid)
        try:
            if hasattr(os, "killpg"):
                os.killpg(pid, signal.SIGKILL)
            else:
                for child in process.children(recursive=True):
                    child.kill()
                process.kill()
        except (OSError, psutil.Error):
            return False
        return True
