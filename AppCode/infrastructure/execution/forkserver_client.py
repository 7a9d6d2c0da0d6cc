"""The runner's side of the fork server (see ``forkserver.py``): start it, ask it for children."""

from __future__ import annotations

import asyncio
import itertools
import logging
import marshal
import os
import signal
import socket
import subprocess
from pathlib import Path

from AppCode.infrastructure.execution import bootstrap
from AppCode.infrastructure.execution.child import Child, start_time

log = logging.getLogger(__name__)

FORKSERVER_PATH = str(Path(bootstrap.__file__).with_name("forkserver.py"))
# As in forkserver.py (which runs as a script under any interpreter, so it cannot be imported).
MARSHAL_VERSION = 4
READY = b"ready"
_START_TIMEOUT_S = 30.0
# Reported for children whose fork server died under them (they die with it: PDEATHSIG).
_KILLED_STATUS = signal.SIGKILL.value

_Exit = asyncio.Future[tuple[int, float | None]]  # (wait status, CPU seconds)


class ForkServer:
    """One warm helper per interpreter, started on first use from the engine's loop."""

    def __init__(self, python: str, env: dict[str, str]) -> None:
        self._python = python
        # What the interpreter reads once at start-up (PYTHONIOENCODING, PYTHONUNBUFFERED, ...)
        # is fixed for every child from here; each child then gets its run's os.environ.
        self._env = env
        self._sock: socket.socket | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._start_lock = asyncio.Lock()
        self._ids = itertools.count(1)
        # request id -> future of (pid, future of its exit)
        self._pending: dict[int, asyncio.Future[tuple[int, _Exit]]] = {}
        self._exits: dict[int, _Exit] = {}

    async def launch(
        self,
        script: str,
        args: list[str],
        cwd: str,
        env_update: dict[str, str],
        env: dict[str, str] | None = None,
        sandbox: dict[str, object] | None = None,
        exec_python: str | None = None,
        cgroup_fd: int = -1,
    ) -> Child:
        """Fork a child that runs ``script`` with the server's environment (or ``env``, which
        replaces it) plus ``env_update``, under ``sandbox``; returns a ``Child``. With
        ``exec_python`` (spawn mode) the child execs that interpreter on the bootstrap instead
        of running the script itself. ``cgroup_fd`` (when >= 0) is passed on to the child, which
        waits on it for the runner to have moved it into the run's cgroup."""
        sock = await self._ensure_started()
        loop = asyncio.get_running_loop()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        rep_r, rep_w = os.pipe()
        request_id = next(self._ids)
        started: asyncio.Future[tuple[int, _Exit]] = loop.create_future()
        self._pending[request_id] = started
        message = marshal.dumps(
            {
                "id": request_id,
                "script": script,
                "args": args,
                "cwd": cwd,
                "env_update": env_update,
                "env": env,
                "sandbox": sandbox,
                "exec": exec_python,
            },
            MARSHAL_VERSION,
        )
        try:
            fds = [out_w, err_w, rep_w] + ([cgroup_fd] if cgroup_fd >= 0 else [])
            await self._send(sock, message, fds)
        except OSError:
            self._pending.pop(request_id, None)
            for fd in (out_r, err_r, rep_r):
                os.close(fd)
            raise
        finally:
            for fd in (out_w, err_w, rep_w):
                os.close(fd)
        try:
            pid, exited = await started
        except OSError:
            for fd in (out_r, err_r, rep_r):
                os.close(fd)
            raise
        return Child(pid, out_r, err_r, rep_r, exited, start_time(pid))

    async def aclose(self) -> None:
        sock, proc = self._sock, self._proc
        self._sock = self._proc = None
        if sock is not None:
            asyncio.get_running_loop().remove_reader(sock.fileno())
            sock.close()
        if proc is not None:
            try:
                await asyncio.wait_for(asyncio.to_thread(proc.wait), 10)
            except TimeoutError:
                proc.kill()
        self._fail_all("the fork server was stopped")

    async def _ensure_started(self) -> socket.socket:
        async with self._start_lock:
            if self._sock is not None:
                return self._sock
            loop = asyncio.get_running_loop()
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                self._proc = subprocess.Popen(
                    [self._python, FORKSERVER_PATH, str(theirs.fileno())],
                    pass_fds=(theirs.fileno(),),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    env=self._env,
                    start_new_session=True,
                )
            finally:
                theirs.close()
            ours.setblocking(False)
            try:
                ready = await asyncio.wait_for(loop.sock_recv(ours, 4096), _START_TIMEOUT_S)
            except TimeoutError:
                ready = b""
            if ready != READY:
                ours.close()
                self._proc.kill()
                raise OSError(f"the fork server for {self._python} did not start")
            loop.add_reader(ours.fileno(), self._on_message)
            self._sock = ours
            log.info("fork server for %s started (pid %d)", self._python, self._proc.pid)
            return ours

    async def _send(self, sock: socket.socket, message: bytes, fds: list[int]) -> None:
        while True:
            try:
                socket.send_fds(sock, [message], fds)
                return
            except BlockingIOError:
                await asyncio.sleep(0.001)

    def _on_message(self) -> None:
        sock = self._sock
        if sock is None:
            return
        while True:
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                log.error("the fork server for %s exited unexpectedly", self._python)
                asyncio.get_running_loop().remove_reader(sock.fileno())
                sock.close()
                self._sock = None
                self._fail_all("the fork server exited unexpectedly")
                return
            message = marshal.loads(data)
            if "exit" in message:
                exited = self._exits.pop(message["exit"], None)
                if exited is not None and not exited.done():
                    exited.set_result((message["status"], message["cpu_s"]))
                continue
            started = self._pending.pop(message["id"], None)
            if started is None or started.done():
                continue
            if "error" in message:
                started.set_exception(OSError(f"fork failed: {message['error']}"))
            else:
                # The exit may be the very next message: its future must exist before then.
                pid = message["pid"]
                exited: _Exit = asyncio.get_running_loop().create_future()
                self._exits[pid] = exited
                started.set_result((pid, exited))

    def _fail_all(self, reason: str) -> None:
        for started in self._pending.values():
            if not started.done():
                started.set_exception(OSError(reason))
        for exited in self._exits.values():
            if not exited.done():
                exited.set_result((_KILLED_STATUS, None))
        self._pending.clear()
        self._exits.clear()
