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
from AppCode.infrastructure.execution.child import Child, Exit, start_time

log = logging.getLogger(__name__)

FORKSERVER_PATH = str(Path(bootstrap.__file__).with_name("forkserver.py"))
# As in forkserver.py (which runs as a script under any interpreter, so it cannot be imported).
MARSHAL_VERSION = 4
READY = b"ready"
_START_TIMEOUT_S = 30.0
# Reported for children whose fork server died under them (they die with it: PDEATHSIG).
_KILLED_STATUS = signal.SIGKILL.value

_Exit = asyncio.Future[Exit]


class ForkServer:
    """One warm helper per interpreter, started on first use from the engine's loop; or one of
    its cells (``fork_cell``), which serve launches the same way from inside a cgroup."""

    def __init__(self, python: str, env: dict[str, str]) -> None:
        self.pid: int | None = None  # once started
        self._is_cell = False
        self._python = python
        # What the interpreter reads once at start-up (PYTHONIOENCODING, PYTHONUNBUFFERED, ...)
        # is fixed for every child from here; each child then gets its run's os.environ.
        self._env = env
        self._sock: socket.socket | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._start_lock = asyncio.Lock()
        self._ids = itertools.count(1)
        # request id -> future of (pid, future of its exit; None for a cell)
        self._pending: dict[int, asyncio.Future[tuple[int, _Exit | None]]] = {}
        self._exits: dict[int, _Exit] = {}

    @property
    def alive(self) -> bool:
        """Started and not gone."""
        return self._sock is not None

    async def launch(
        self,
        script: str,
        args: list[str],
        cwd: str,
        env_update: dict[str, str],
        env: dict[str, str] | None = None,
        sandbox: dict[str, object] | None = None,
        exec_python: str | None = None,
        log_path: str | None = None,
    ) -> Child:
        """Fork a child that runs ``script`` with the server's environment (or ``env``, which
        replaces it) plus ``env_update``, under ``sandbox``; returns a ``Child``. With
        ``exec_python`` (spawn mode) the child execs that interpreter on the bootstrap instead
        of running the script itself. ``log_path``: the child creates that (empty) file
        first."""
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        rep_r, rep_w = os.pipe()
        message = {
            "script": script,
            "args": args,
            "cwd": cwd,
            "env_update": env_update,
            "env": env,
            "sandbox": sandbox,
            "exec": exec_python,
            "log": log_path,
        }
        try:
            pid, exited = await self._request(message, [out_w, err_w, rep_w])
        except OSError:
            for fd in (out_r, err_r, rep_r):
                os.close(fd)
            raise
        assert exited is not None
        return Child(pid, out_r, err_r, rep_r, exited, start_time(pid))

    async def fork_cell(self, cgroup: str) -> tuple[ForkServer, bool]:
        """A cell of this server (see ``forkserver.py``) that has moved itself into
        ``cgroup``: the children it forks are born in it. Returns the cell and whether it
        joined the cgroup. Give a cell one launch at a time; ``aclose`` ends it."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            pid, _ = await self._request({"cell": cgroup}, [theirs.detach()])
        except OSError:
            ours.close()
            raise
        cell = ForkServer(self._python, self._env)
        cell._is_cell = True
        try:
            hello = await cell._attach(ours, pid)
        except OSError:
            ours.close()
            raise
        return cell, bool(hello.get("joined"))

    async def _request(self, fields: dict[str, object], fds: list[int]) -> tuple[int, _Exit | None]:
        """Send a request with ``fds`` (closed here, sent or not); returns the server's answer:
        the new process's pid and, for a script, the future of its exit."""
        try:
            sock = await self._ensure_started()
            request_id = next(self._ids)
            started: asyncio.Future[tuple[int, _Exit | None]] = (
                asyncio.get_running_loop().create_future()
            )
            self._pending[request_id] = started
            message = marshal.dumps({"id": request_id, **fields}, MARSHAL_VERSION)
            try:
                await self._send(sock, message, fds)
            except OSError:
                self._pending.pop(request_id, None)
                raise
        finally:
            for fd in fds:
                os.close(fd)
        return await started

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

    async def start(self) -> None:
        """Start the server now rather than at the first launch (which waits for it)."""
        await self._ensure_started()

    async def _ensure_started(self) -> socket.socket:
        async with self._start_lock:
            if self._sock is not None:
                return self._sock
            if self._is_cell:  # gone: a cell is not restarted (its owner makes another)
                raise OSError(f"the fork server cell {self.pid} is gone")
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
            try:
                ready = await self._first_message(ours)
            except OSError:
                ready = b""
            if ready != READY:
                ours.close()
                self._proc.kill()
                raise OSError(f"the fork server for {self._python} did not start")
            self._listen(ours, self._proc.pid)
            log.info("fork server for %s started (pid %d)", self._python, self._proc.pid)
            return ours

    async def _attach(self, sock: socket.socket, pid: int) -> dict[str, object]:
        """Serve from a cell that was forked with ``sock``; returns its first message."""
        hello = marshal.loads(await self._first_message(sock) or marshal.dumps({}))
        if not isinstance(hello, dict) or not hello.get("ready"):
            raise OSError(f"the fork server cell {pid} did not start")
        self._listen(sock, pid)
        return hello

    @staticmethod
    async def _first_message(sock: socket.socket) -> bytes:
        sock.setblocking(False)
        try:
            return await asyncio.wait_for(
                asyncio.get_running_loop().sock_recv(sock, 4096), _START_TIMEOUT_S
            )
        except TimeoutError:
            return b""

    def _listen(self, sock: socket.socket, pid: int) -> None:
        asyncio.get_running_loop().add_reader(sock.fileno(), self._on_message)
        self._sock = sock
        self.pid = pid

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
                what = f"cell {self.pid}" if self._is_cell else f"for {self._python}"
                log.error("the fork server %s exited unexpectedly", what)
                asyncio.get_running_loop().remove_reader(sock.fileno())
                sock.close()
                self._sock = None
                self._fail_all("the fork server exited unexpectedly")
                return
            message = marshal.loads(data)
            if "exit" in message:
                exited = self._exits.pop(message["exit"], None)
                if exited is not None and not exited.done():
                    maxrss_kb = message.get("maxrss_kb")
                    peak = maxrss_kb * 1024 if isinstance(maxrss_kb, int) else None
                    exited.set_result(Exit(message["status"], message["cpu_s"], peak))
                continue
            started = self._pending.pop(message["id"], None)
            if started is None or started.done():
                continue
            if "error" in message:
                started.set_exception(OSError(f"fork failed: {message['error']}"))
            elif "cell" in message:
                started.set_result((message["cell"], None))
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
                exited.set_result(Exit(_KILLED_STATUS, None, None, lost=True))
        self._pending.clear()
        self._exits.clear()
