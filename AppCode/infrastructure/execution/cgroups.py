"""Pids cgroups for the sandbox: a process cap, and every process of a run found after it ends.

A script's process tree can leave its process group (``setsid``, double-forked daemons); a
cgroup holds all of them whatever they do. Each cgroup belongs to a fork server cell (see
``forkserver.py``), which runs one script at a time inside it; the runner sets the cap before
each run and kills what a run left behind after it. Used where this process may create cgroups:
a writable cgroup-v1 ``pids`` hierarchy (root), or a delegated cgroup-v2 subtree with the pids
controller. Elsewhere the runner falls back to process-group kills (``available()`` is None).
"""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path

log = logging.getLogger(__name__)

_V1_ROOT = Path("/sys/fs/cgroup/pids")
_V2_ROOT = Path("/sys/fs/cgroup")


class PidsCgroups:
    """Creates ``<base>/<name>`` cgroups, caps them (``pids.max``) and empties them."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self._base = str(base)
        self._limits: dict[str, int | None] = {}  # path -> the cap last written

    @classmethod
    def available(cls) -> PidsCgroups | None:
        """A usable cgroup base for this process, or None (checked by creating one)."""
        for candidate in (_v1_base(), _v2_base()):
            if candidate is None:
                continue
            try:
                _sweep(candidate.parent)
                candidate.mkdir(exist_ok=True)
                probe = candidate / "probe"
                probe.mkdir(exist_ok=True)
                (probe / "pids.max").write_text("max")
                probe.rmdir()
                return cls(candidate)
            except OSError:
                continue
        return None

    def create(self, name: str) -> str:
        """A cgroup ``<base>/<name>`` (no cap yet); returns its path."""
        path = f"{self._base}/{name}"
        try:
            os.mkdir(path)
        except FileExistsError:
            pass
        self._limits[path] = None
        return path

    def limit(self, path: str, max_pids: int) -> None:
        """Cap the cgroup at ``max_pids`` processes and threads (0 = no cap); written only when
        it changes."""
        if self._limits.get(path) == max_pids:
            return
        fd = os.open(f"{path}/pids.max", os.O_WRONLY)
        try:
            os.write(fd, (str(max_pids) if max_pids > 0 else "max").encode())
        finally:
            os.close(fd)
        self._limits[path] = max_pids

    def refusals(self, path: str) -> int:
        """How many new processes or threads the cgroup refused at its cap so far
        (``pids.events``: ``max N``); 0 when it cannot be read."""
        try:
            events = _read(f"{path}/pids.events")
        except OSError:
            return 0
        for line in events.split(b"\n"):
            if line.startswith(b"max "):
                return int(line[4:])
        return 0

    def kill_all(self, path: str, keep: int | None = None) -> int:
        """SIGKILL every process in the cgroup but ``keep`` until none is left; returns how
        many."""
        killed = 0
        procs = f"{path}/cgroup.procs"
        for _ in range(50):  # a fork bomb may still be forking while we kill
            try:
                pids = [int(p) for p in _read(procs).split()]
            except (OSError, ValueError):
                return killed
            pids = [pid for pid in pids if pid != keep]
            if not pids:
                return killed
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                except OSError:
                    pass
        return killed

    def close(self) -> None:
        """Remove this process's base cgroup (the cells' cgroups are gone already)."""
        try:
            self.base.rmdir()
        except OSError:
            pass

    def remove(self, path: str) -> None:
        """Delete the cgroup, killing what is still in it (a process still dying keeps it a
        moment longer)."""
        self._limits.pop(path, None)
        for _ in range(100):
            try:
                os.rmdir(path)
                return
            except FileNotFoundError:
                return
            except OSError:
                self.kill_all(path)
        log.warning("could not remove cgroup %s", path)


def _read(path: str) -> bytes:
    """A small kernel file, without a file object (read after every run)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _sweep(parent: Path) -> None:
    """Remove the base cgroups of ScriptBatch processes that are gone (killed, crashed), with
    whatever their scripts left running in them."""
    for base in parent.glob("scriptbatch-*"):
        try:
            os.kill(int(base.name.rpartition("-")[2]), 0)
            continue  # alive (or a pid reused: left alone either way)
        except ValueError:
            continue
        except ProcessLookupError:
            pass
        except OSError:
            continue
        gone = PidsCgroups(base)
        for cgroup in (path for path in base.iterdir() if path.is_dir()):
            gone.remove(str(cgroup))
        gone.close()
        if not base.exists():
            log.info("removed the cgroups of a ScriptBatch process that is gone: %s", base)


def _v1_base() -> Path | None:
    if not _V1_ROOT.is_dir() or not os.access(_V1_ROOT, os.W_OK):
        return None
    return _V1_ROOT / f"scriptbatch-{os.getpid()}"


def _v2_base() -> Path | None:
    try:
        line = next(
            line
            for line in Path("/proc/self/cgroup").read_text().splitlines()
            if line.startswith("0::")
        )
    except (OSError, StopIteration):
        return None
    own = _V2_ROOT / line[3:].lstrip("/")
    controllers = own / "cgroup.controllers"
    if not controllers.is_file() or "pids" not in controllers.read_text().split():
        return None
    if not os.access(own, os.W_OK):
        return None
    return own / f"scriptbatch-{os.getpid()}"
