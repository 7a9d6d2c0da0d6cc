"""The local runner: each attempt is a child process on this machine.

Two start methods give identical results (same statuses, exit codes, output):
- ``spawn``: a fresh interpreter per script, ``python bootstrap.py ... SCRIPT ARGS``; on Linux
  the app's fork server forks and execs it, applying the sandbox's kernel layers before the exec
  where ctypes and libseccomp are already loaded; elsewhere ``subprocess.Popen`` starts it;
- ``forkserver`` (Linux): a warm helper per interpreter forks one child per script
  (``forkserver.py``), so a script does not pay interpreter start-up.

Every child runs in its own session (process group = its pid) with stdin closed, and the runner
watches it from the engine's asyncio loop: stdout, stderr and the bootstrap's report pipe are read
without blocking, the exit is noticed through a pidfd (Linux) or the fork server, and a timeout or
cancel sends SIGTERM to the whole group, then SIGKILL ``kill_grace_s`` later. After the script's
process ends, anything left in its group is killed.
"""

from __future__ import annotations

import ast
import asyncio
import logging
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

from AppCode.core.domain.models import ExecutionStatus, RunOptions
from AppCode.core.engines.runner import AttemptOutcome, LaunchRequest, OutputSink, StartedSink
from AppCode.core.security.policy import (
    MAX_OPEN_FILES,
    STRICT_ENV_ALLOWED,
    SandboxPolicy,
    ScriptSandbox,
)
from AppCode.infrastructure.execution import bootstrap, seatbelt
from AppCode.infrastructure.execution.cgroups import PidsCgroups
from AppCode.infrastructure.execution.child import Child, Exit, start_time
from AppCode.infrastructure.execution.forkserver_client import ForkServer
from AppCode.infrastructure.execution.log_file import STDERR, STDOUT, LogWriter

log = logging.getLogger(__name__)

# Linux spawns through the fork server (fork + exec), elsewhere with subprocess.Popen.
SPAWN_THROUGH_FORK_SERVER = sys.platform.startswith("linux")
# macOS: sandboxed scripts start under sandbox-exec (seatbelt.py).
USE_SEATBELT = sys.platform == "darwin"
# Children talk to the runner over inherited POSIX file descriptors: not on Windows (yet).
PLATFORM_SUPPORTED = os.name == "posix"
UNSUPPORTED_MESSAGE = (
    "this system cannot run scripts yet: ScriptBatch runs them on Linux and macOS (on Windows, "
    "use WSL)"
)
_READ_SIZE = 64 * 1024
_UNKNOWN = object()
_TAIL_BYTES = 4096


def child_environment(extra: dict[str, str]) -> dict[str, str]:
    """The app's environment plus the run's variables; output is always UTF-8."""
    env = dict(os.environ)
    env.pop("PYTHONUNBUFFERED", None)  # stdout stays block-buffered; the bootstrap flushes it
    env.update(extra)
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def _scrubbed(env: dict[str, str], run_env: dict[str, str]) -> dict[str, str]:
    """Strict policies: only an allow-list of the app's variables, plus the run's own."""
    kept = {k: v for k, v in env.items() if k in STRICT_ENV_ALLOWED or k.startswith("LC_")}
    return {**kept, **run_env, "PYTHONIOENCODING": "utf-8"}


def _encoded(env: dict[str, str]) -> dict[bytes, bytes]:
    # Popen encodes every variable of a str environment on every launch; bytes pass through.
    return {os.fsencode(k): os.fsencode(v) for k, v in env.items()}


_TEMP_PREFIX = "scriptbatch-"


def _new_temp_dir() -> str:
    """A sandboxed run's temp dir, named after this process (``scriptbatch-PID@HOST-...``) so
    that the next app finds the ones a killed app left (``remove_orphan_temp_dirs``)."""
    return tempfile.mkdtemp(prefix=f"{_TEMP_PREFIX}{_owner()}-")


def _owner() -> str:
    """This process as temp dirs name it: the pid, and the host (a container sharing /tmp
    with another has its own pids; its host name tells its folders apart)."""
    host = "".join(c for c in socket.gethostname() if c.isalnum() or c in "._") or "host"
    return f"{os.getpid()}@{host}"


def remove_orphan_temp_dirs(root: str | None = None) -> int:
    """Remove the temp dirs of runs whose app is gone (killed: ``aclose`` never ran), with what
    their scripts left there; returns how many. Only folders of this user named after a
    process that no longer exists; never through a symlink."""
    root = root or tempfile.gettempdir()
    removed = 0
    try:
        names = os.listdir(root)
    except OSError:
        return 0
    host = _owner().partition("@")[2]
    for name in names:
        pid, _, owner_host = name[len(_TEMP_PREFIX) :].partition("-")[0].partition("@")
        if not name.startswith(_TEMP_PREFIX) or owner_host != host or not pid.isdigit():
            continue  # another app's naming, or another host's (a container sharing /tmp)
        if _alive(int(pid)):
            continue
        path = os.path.join(root, name)
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid():
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's
    return True


def _fork_server_python(start_method: str, python: str) -> str | None:
    """The interpreter of the fork server that starts a script run with ``start_method`` and
    ``python``: that interpreter's own for forkserver, the app's for spawn on Linux (the child
    execs the chosen one); None where no fork server does (spawn elsewhere)."""
    if start_method == "forkserver":
        return python or sys.executable
    return sys.executable if SPAWN_THROUGH_FORK_SERVER else None


@dataclass
class _Cell:
    """A fork server cell (see ``forkserver.py``): scripts forked by it are born in ``cgroup``,
    which it joined (``joined``) or, on a machine that would not let it, did not."""

    python: str  # the fork server's interpreter
    server: ForkServer
    cgroup: str
    joined: bool


class LocalRunner:
    """Runs attempts as local child processes (the runner port's local implementation)."""

    log_writer: type[LogWriter] = LogWriter  # a Dask worker's runner also forwards its notes

    def __init__(self) -> None:
        # Children started with subprocess.Popen (spawn outside Linux) inherit the read end of
        # the lifeline; when this process dies the write end closes and they kill their process
        # group (see bootstrap._watch). The fork server's children rely on the server for that.
        self._lifeline_r, self._lifeline_w = os.pipe()
        self._forkservers: dict[str, ForkServer] = {}
        # The environment every child starts from, computed once (rebuilding it from os.environ
        # cost ~1 ms per launch); a run's own variables are added per launch.
        self._base_env = _encoded(child_environment({}))
        bootstrap.precompile()
        self._cgroup_manager: PidsCgroups | object | None = _UNKNOWN
        self._free_cells: list[_Cell] = []
        self._warming: set[asyncio.Task[None]] = set()  # fork servers starting (kept referenced)
        self._free_temp_dirs: list[str] = []  # sandboxes' temp dirs, empty, for the next runs
        self._swept_temp_dirs = False  # a killed app's temp dirs removed (the first run does)
        self._cell_count = 0
        self._resolved_paths: dict[SandboxPolicy, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        self._real_dirs: dict[str, str] = {}

    async def run(
        self,
        request: LaunchRequest,
        on_output: OutputSink,
        on_started: StartedSink,
        cancel: asyncio.Event,
    ) -> AttemptOutcome:
        began = time.monotonic()
        writer = self.log_writer(request.log_path, request.max_log_bytes)
        try:
            if request.attempt > 1:
                writer.note(f"attempt {request.attempt}")
            if not PLATFORM_SUPPORTED:
                writer.note(UNSUPPORTED_MESSAGE)
                return AttemptOutcome.not_started(
                    "UnsupportedPlatform", UNSUPPORTED_MESSAGE, time.monotonic() - began
                )
            if not os.path.isfile(request.script_path):
                message = f"script not found: {request.script_path}"
                writer.note(message)
                return AttemptOutcome.not_started(
                    "FileNotFoundError", message, time.monotonic() - began
                )
            sandbox = self._prepare_sandbox(request)
            cell: _Cell | None = None
            try:
                try:
                    cell = await self._take_cell(request, sandbox)
                    child = await self._launch(request, sandbox, cell)
                except OSError as exc:
                    message = f"could not start the script: {exc}"
                    writer.note(message)
                    return AttemptOutcome.not_started(
                        "LaunchError", message, time.monotonic() - began
                    )
                on_started(child.pid, child.started_at)
                return await self._supervise(
                    request, child, writer, on_output, cancel, began, sandbox, cell
                )
            finally:
                await self._release(sandbox, cell)
        finally:
            writer.close()

    async def prepare(self, options: RunOptions) -> int | None:
        """This machine can always run a batch; the engine's ``jobs`` is its limit. Starts the
        fork server the batch will use, in the background: its ~40 ms of start-up then pass
        while the batch is being stored (a launch waits for it, if it comes first)."""
        python = _fork_server_python(options.start_method, options.python)
        if PLATFORM_SUPPORTED and python is not None:
            self._warming.add(asyncio.get_running_loop().create_task(self._warm(python)))
        return None

    async def _warm(self, python: str) -> None:
        try:
            await self._fork_server(python).start()
        except OSError as exc:  # the first launch tries again and reports it
            log.warning("could not start the fork server for %s: %s", python, exc)
        finally:
            self._warming.discard(asyncio.current_task())  # type: ignore[arg-type]

    async def aclose(self) -> None:
        """Stop the cells and fork servers and close the lifeline (no script may be running)."""
        for task in list(self._warming):
            await task
        for cell in self._free_cells:
            await self._discard(cell)
        self._free_cells.clear()
        for server in self._forkservers.values():
            await server.aclose()
        self._forkservers.clear()
        for temp_dir in self._free_temp_dirs:
            shutil.rmtree(temp_dir, ignore_errors=True)
        self._free_temp_dirs.clear()
        if isinstance(self._cgroup_manager, PidsCgroups):
            self._cgroup_manager.close()
        for fd in (self._lifeline_r, self._lifeline_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self._lifeline_r = self._lifeline_w = -1

    # -- launching ---------------------------------------------------------------------------

    async def _launch(
        self, request: LaunchRequest, sandbox: ScriptSandbox | None, cell: _Cell | None
    ) -> Child:
        python = request.python or sys.executable
        cwd = request.cwd or os.path.dirname(request.script_path)
        run_env = dict(request.env)
        full_env: dict[str, str] | None = None
        policy: dict[str, object] | None = None
        if sandbox is not None:
            run_env = {**run_env, **sandbox.env}
            policy = sandbox.to_child()
            if cell is not None:
                policy["cgroup"] = cell.joined
            if sandbox.policy.scrub_environment:
                full_env = _scrubbed(child_environment({}), run_env)
        server_python = _fork_server_python(request.start_method, request.python)
        if server_python is not None:
            # Spawn on Linux: the app's own fork server forks and execs a fresh interpreter
            # (of any Python), applying the sandbox's kernel layers in between (see forkserver.py).
            spawn = request.start_method != "forkserver"
            server = cell.server if cell is not None else self._fork_server(server_python)
            return await server.launch(
                request.script_path,
                list(request.args),
                cwd,
                run_env,
                full_env,
                policy,
                exec_python=python if spawn else None,
                log_path=request.log_path,
            )
        if full_env is not None:
            env = _encoded(full_env)
        else:
            env = {**self._base_env, **_encoded(run_env)} if run_env else self._base_env
        return self._spawn(
            python, request.script_path, list(request.args), cwd, env, policy, sandbox
        )

    def _fork_server(self, python: str) -> ForkServer:
        """The warm helper for ``python``, one per interpreter, started on first use."""
        server = self._forkservers.get(python)
        if server is None:
            server = ForkServer(python, child_environment({}))
            self._forkservers[python] = server
        return server

    # -- the sandbox's parent side -----------------------------------------------------------

    def _prepare_sandbox(self, request: LaunchRequest) -> ScriptSandbox | None:
        """An empty temp dir of the run's own (TMPDIR and caches point into it; an earlier run's,
        emptied, see ``_give_back``) and the folders the script may write (and, under strict,
        read). The pids cgroup is the cell's (``_take_cell``)."""
        policy = request.sandbox
        if policy is None or not policy.enabled:
            return None
        script_dir = self._real_dir(request.script_path)
        if not self._swept_temp_dirs:  # once, before this app makes its first one
            self._swept_temp_dirs = True
            remove_orphan_temp_dirs()
        temp_dir = self._free_temp_dirs.pop() if self._free_temp_dirs else _new_temp_dir()
        real_temp_dir = os.path.join(self._real_dir(temp_dir), os.path.basename(temp_dir))
        cache = os.path.join(temp_dir, "cache")  # created by whoever caches there
        env = {
            "TMPDIR": temp_dir,
            "TEMP": temp_dir,
            "TMP": temp_dir,
            "XDG_CACHE_HOME": cache,
            "MPLCONFIGDIR": os.path.join(cache, "matplotlib"),
        }
        extra_write, extra_read = self._policy_paths(policy)
        return ScriptSandbox(
            policy=policy,
            script_dir=script_dir,
            temp_dir=real_temp_dir,
            write_paths=(script_dir, real_temp_dir, *extra_write),
            read_paths=(script_dir, real_temp_dir, *extra_read),
            env=env,
        )

    def _real_dir(self, path: str) -> str:
        """The real path of ``path``'s folder, resolved once per folder (``realpath`` is an
        ``lstat`` per path component; a batch's scripts share a few folders)."""
        folder = os.path.dirname(os.path.abspath(path))
        real = self._real_dirs.get(folder)
        if real is None:
            real = self._real_dirs[folder] = os.path.realpath(folder)
        return real

    def _policy_paths(self, policy: SandboxPolicy) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """A policy's own folders, resolved once per policy (not once per script)."""
        cached = self._resolved_paths.get(policy)
        if cached is None:
            cached = (
                tuple(os.path.realpath(p) for p in policy.allowed_write_paths),
                tuple(os.path.realpath(p) for p in policy.allowed_read_paths),
            )
            self._resolved_paths[policy] = cached
        return cached

    async def _take_cell(
        self, request: LaunchRequest, sandbox: ScriptSandbox | None
    ) -> _Cell | None:
        """A free cell (see ``forkserver.py``) whose cgroup caps the run at the policy's
        ``max_processes``: sandboxed runs through a fork server, where this machine allows
        pids cgroups. None otherwise (the run is then held by its process group only)."""
        python = _fork_server_python(request.start_method, request.python)
        if sandbox is None or python is None:
            return None
        cgroups = self._cgroups()
        if cgroups is None:
            return None
        for gone in [c for c in self._free_cells if not c.server.alive]:
            self._free_cells.remove(gone)  # died idle (its fork server was killed, say)
            await self._discard(gone)
        cell = next((c for c in reversed(self._free_cells) if c.python == python), None)
        if cell is not None:
            self._free_cells.remove(cell)
        else:
            self._cell_count += 1
            try:
                path = cgroups.create(f"cell-{self._cell_count}")
            except OSError:
                log.warning("could not create a cgroup for a fork server cell", exc_info=True)
                return None
            try:
                server, joined = await self._fork_server(python).fork_cell(path)
            except OSError:
                cgroups.remove(path)
                raise
            if not joined:
                log.warning("a fork server cell could not move into its cgroup %s", path)
            cell = _Cell(python, server, path, joined)
        if cell.joined:
            # The cell itself is one of the cgroup's processes.
            cap = sandbox.policy.max_processes
            cgroups.limit(cell.cgroup, cap + 1 if cap > 0 else 0)
        return cell

    async def _release(self, sandbox: ScriptSandbox | None, cell: _Cell | None) -> None:
        if cell is not None:
            if cell.server.alive:
                self._free_cells.append(cell)
            else:  # killed under a script: its cgroup goes, leftovers included
                await self._discard(cell)
        if sandbox is not None:
            self._give_back(sandbox.env["TMPDIR"])

    def _give_back(self, temp_dir: str) -> None:
        """A run's temp dir goes to the next run only as it came: an empty folder of ours,
        mode 0700; otherwise it is removed. (Creating and removing one per run made ext4 scan
        past every recently deleted inode at each new file: ~13% of a batch of trivial
        scripts' time, growing with the batch.)"""
        try:
            st = os.lstat(temp_dir)
            if stat.S_ISLNK(st.st_mode):
                os.unlink(temp_dir)
                return
            if (
                stat.S_ISDIR(st.st_mode)
                and stat.S_IMODE(st.st_mode) == 0o700
                and st.st_uid == os.getuid()
                and not os.listdir(temp_dir)
            ):
                self._free_temp_dirs.append(temp_dir)
                return
        except OSError:
            pass
        shutil.rmtree(temp_dir, ignore_errors=True)

    async def _discard(self, cell: _Cell) -> None:
        await cell.server.aclose()
        cgroups = self._cgroups()
        if cgroups is not None:
            cgroups.remove(cell.cgroup)  # kills what is still in it, the cell included

    def _refusals(self, cell: _Cell | None) -> int:
        """How many processes or threads the cell's cgroup has refused so far (its cap)."""
        cgroups = self._cgroups()
        if cell is None or cgroups is None:
            return 0
        return cgroups.refusals(cell.cgroup)

    def _kill_leftovers(self, cell: _Cell | None) -> None:
        """End every process a run left in its cell's cgroup (daemons included), not the cell."""
        cgroups = self._cgroups()
        if cell is not None and cell.joined and cgroups is not None:
            cgroups.kill_all(cell.cgroup, keep=cell.server.pid)

    def _cgroups(self) -> PidsCgroups | None:
        if self._cgroup_manager is _UNKNOWN:
            self._cgroup_manager = (
                PidsCgroups.available() if sys.platform.startswith("linux") else None
            )
            log.info(
                "per-run pids cgroups: %s",
                self._cgroup_manager.base if self._cgroup_manager else "not available",
            )
        return self._cgroup_manager  # type: ignore[return-value]

    def _spawn(
        self,
        python: str,
        script: str,
        args: list[str],
        cwd: str,
        env: dict[bytes, bytes],
        policy: dict[str, object] | None,
        sandbox: ScriptSandbox | None,
    ) -> Child:
        loop = asyncio.get_running_loop()
        confined = sandbox if USE_SEATBELT and seatbelt.available() else None
        if confined is not None:
            policy = {**(policy or {}), "os_layers": [seatbelt.LAYER]}
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        rep_r, rep_w = os.pipe()
        inherited = (rep_w, self._lifeline_r)
        try:
            argv = bootstrap.command(python, rep_w, self._lifeline_r, policy, script, args)
            if confined is not None:
                argv = seatbelt.command(confined, python, argv)
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out_w,
                stderr=err_w,
                pass_fds=inherited,
                cwd=cwd,
                env=env,
                start_new_session=True,
            )
        except BaseException:
            for fd in (out_r, err_r, rep_r):
                os.close(fd)
            raise
        finally:
            for fd in (out_w, err_w, rep_w):
                os.close(fd)
        # We reap the child ourselves (wait4 gives its CPU time); Popen must not try again.
        proc.returncode = 0
        exited: asyncio.Future[Exit] = loop.create_future()
        child = Child(proc.pid, out_r, err_r, rep_r, exited, start_time(proc.pid))
        _watch_exit(loop, proc.pid, exited)
        return child

    # -- supervising -------------------------------------------------------------------------

    async def _supervise(
        self,
        request: LaunchRequest,
        child: Child,
        writer: LogWriter,
        on_output: OutputSink,
        cancel: asyncio.Event,
        began: float,
        sandbox: ScriptSandbox | None,
        cell: _Cell | None,
    ) -> AttemptOutcome:
        loop = asyncio.get_running_loop()
        report = _Report()
        refusals_before = self._refusals(cell) if cell is not None and cell.joined else None
        stderr_tail = bytearray()  # for the error message of a script that exits non-zero
        open_streams = {child.stdout_fd: STDOUT, child.stderr_fd: STDERR}
        streams_done = loop.create_future()

        def on_readable(fd: int, stream: str) -> None:
            try:
                data = os.read(fd, _READ_SIZE)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if data:
                writer.write(stream, data)
                on_output(stream, data)
                if stream == STDERR:
                    stderr_tail.extend(data[-_TAIL_BYTES:])
                    del stderr_tail[:-_TAIL_BYTES]
                return
            loop.remove_reader(fd)
            open_streams.pop(fd, None)
            if not open_streams and not streams_done.done():
                streams_done.set_result(None)

        def on_report() -> None:
            try:
                data = os.read(child.report_fd, _READ_SIZE)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if data:
                report.feed(data)
            else:
                loop.remove_reader(child.report_fd)

        for fd, stream in open_streams.items():
            os.set_blocking(fd, False)
            loop.add_reader(fd, on_readable, fd, stream)
        os.set_blocking(child.report_fd, False)
        loop.add_reader(child.report_fd, on_report)

        reason = await _wait_for_end(child.exited, cancel, request.timeout_s)
        if reason != "exited":
            await _stop_group(child.pid, child.exited, request.kill_grace_s)
        wait_status, cpu_s, rusage_peak, lost = await child.exited
        duration = time.monotonic() - began
        if lost and reason == "exited":
            reason = "lost"

        # The script is gone; a leftover child may still hold the pipes open. Give it the grace
        # period to finish writing, then end the whole group and stop reading.
        try:
            await asyncio.wait_for(asyncio.shield(streams_done), request.kill_grace_s)
        except TimeoutError:
            pass
        _kill_group(child.pid, signal.SIGKILL)
        cap_hit = self._refusals(cell) > refusals_before if refusals_before is not None else None
        self._kill_leftovers(cell)
        for fd in list(open_streams):
            _drain(fd, open_streams[fd], writer, on_output)
        on_report()
        for fd in (child.stdout_fd, child.stderr_fd, child.report_fd, *child.extra_fds):
            loop.remove_reader(fd)
            os.close(fd)
        outcome = _outcome(
            reason, wait_status, cpu_s, duration, report, writer, request, sandbox, cap_hit
        )
        if outcome.memory_peak_bytes is None:  # the script could not say (killed, os._exit)
            outcome.memory_peak_bytes = rusage_peak
        if outcome.error_type == "SystemExit" or (
            outcome.status is ExecutionStatus.FAILED and outcome.error_type is None
        ):
            # sys.exit(2) after printing why (argparse does this): the why is the better message.
            last = _last_line(bytes(stderr_tail))
            if last:
                outcome.error_message = last
        return outcome


def _watch_exit(loop: asyncio.AbstractEventLoop, pid: int, exited: asyncio.Future[Exit]) -> None:
    """Resolve ``exited`` with the wait status and CPU seconds when ``pid`` ends (not its
    ru_maxrss: a child spawned by the app counts the app's pages), without a thread
    per child where the OS allows (pidfd on Linux)."""
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is not None:
        try:
            pidfd = pidfd_open(pid)
        except OSError:
            pidfd = -1
        if pidfd >= 0:

            def on_exit() -> None:
                loop.remove_reader(pidfd)
                os.close(pidfd)
                _, status, usage = os.wait4(pid, 0)
                if not exited.done():
                    exited.set_result(Exit(status, usage.ru_utime + usage.ru_stime))

            loop.add_reader(pidfd, on_exit)
            return

    async def wait_in_thread() -> None:
        _, status, usage = await loop.run_in_executor(None, os.wait4, pid, 0)
        if not exited.done():
            exited.set_result(Exit(status, usage.ru_utime + usage.ru_stime))

    loop.create_task(wait_in_thread())


async def _wait_for_end(
    exited: asyncio.Future[Exit],
    cancel: asyncio.Event,
    timeout_s: float | None,
) -> str:
    """Wait until the child exits, the user cancels, or the time limit passes."""
    cancel_wait = asyncio.ensure_future(cancel.wait())
    try:
        done, _ = await asyncio.wait(
            {exited, cancel_wait},
            timeout=timeout_s or None,
            return_when=asyncio.FIRST_COMPLETED,
        )
    finally:
        cancel_wait.cancel()
    if exited in done:
        return "exited"
    if cancel.is_set():
        return "cancelled"
    return "timed_out"


async def _stop_group(pid: int, exited: asyncio.Future[Exit], grace_s: float) -> None:
    """SIGTERM to the process group, SIGKILL ``grace_s`` later if the script still runs."""
    _kill_group(pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(asyncio.shield(exited), grace_s)
    except TimeoutError:
        _kill_group(pid, signal.SIGKILL)


def _kill_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _drain(fd: int, stream: str, writer: LogWriter, on_output: OutputSink) -> None:
    """Read what is left in a pipe after its writers were killed."""
    while True:
        try:
            data = os.read(fd, _READ_SIZE)
        except OSError:
            return
        if not data:
            return
        writer.write(stream, data)
        on_output(stream, data)


def _outcome(
    reason: str,
    wait_status: int,
    cpu_s: float | None,
    duration: float,
    report: _Report,
    writer: LogWriter,
    request: LaunchRequest,
    sandbox: ScriptSandbox | None,
    cap_hit: bool | None,
) -> AttemptOutcome:
    """``cap_hit``: whether the run's cgroup refused a process or thread (None: no cgroup)."""
    final = report.final
    code = os.waitstatus_to_exitcode(wait_status)
    peak = final.get("peak_rss_bytes")
    policy = sandbox.policy if sandbox is not None else None
    outcome = AttemptOutcome(
        ExecutionStatus.FAILED,
        exit_code=code,
        duration_s=round(duration, 6),
        cpu_s=round(cpu_s, 6) if cpu_s is not None else None,
        memory_peak_bytes=peak if isinstance(peak, int) else None,
        output_bytes=writer.received,
        sandbox={
            "policy": policy.name if policy else "off",
            "layers": report.layers if policy else [],
            "degraded": report.degraded if policy else False,
        },
    )
    if reason == "timed_out":
        outcome.status = ExecutionStatus.TIMED_OUT
        outcome.error_type = "ScriptTimeoutError"
        outcome.error_message = f"exceeded its time limit of {request.timeout_s:g} s"
        writer.note(outcome.error_message)
        return outcome
    if reason == "lost":
        outcome.status = ExecutionStatus.INTERRUPTED
        outcome.error_type = "Interrupted"
        outcome.error_message = (
            "ScriptBatch's fork server was killed while the script ran, and the script with it"
        )
        writer.note(outcome.error_message)
        return outcome
    if reason == "cancelled":
        outcome.status = ExecutionStatus.CANCELLED
        outcome.error_type = "Cancelled"
        outcome.error_message = "cancelled while running"
        writer.note("cancelled")
        return outcome
    if policy is not None:
        blocked = _sandbox_verdict(report, final, code, cpu_s, policy, cap_hit)
        if blocked is not None:
            outcome.status, outcome.error_type, outcome.error_message = blocked
            writer.note(f"{outcome.error_type}: {outcome.error_message}")
            return outcome
    if code == 0:
        outcome.status = ExecutionStatus.SUCCEEDED
        return outcome
    if code < 0:
        name = _signal_name(-code)
        outcome.error_type = "Signal"
        outcome.error_message = f"killed by signal {-code} ({name})"
        return outcome
    outcome.error_type = _str(final.get("error_type"))
    outcome.error_message = _str(final.get("error_message")) or f"exited with code {code}"
    return outcome


def _sandbox_verdict(
    report: _Report,
    final: dict[str, object],
    code: int,
    cpu_s: float | None,
    policy: SandboxPolicy,
    cap_hit: bool | None,
) -> tuple[ExecutionStatus, str, str] | None:
    """How the sandbox ended a run, if it did: (status, error type, message).

    A limit is blamed only for what the limit itself makes: the kernel's own error (not an
    exception of the same type a script raised with its own text), a bare ``MemoryError``
    (the interpreter's), and for the process cap the cgroup's own count of refusals."""
    blocked, limit = ExecutionStatus.BLOCKED, "ResourceLimitError"
    if report.refused:
        return blocked, "SecurityError", f"the sandbox could not be applied: {report.refused}"
    if report.violations:
        # Reported by the guard rail as it happened: blocked even if the script caught it.
        return blocked, "SecurityError", report.violations[0]
    if code == -signal.SIGSYS:
        return (
            blocked,
            "SecurityError",
            (f"a forbidden system call was stopped (SIGSYS) by policy '{policy.name}'"),
        )
    if policy.cpu_time_limit_s and (
        code == -signal.SIGXCPU
        or (code == -signal.SIGKILL and (cpu_s or 0) >= policy.cpu_time_limit_s)
    ):
        return (
            ExecutionStatus.TIMED_OUT,
            "ScriptTimeoutError",
            (f"CPU time limit of {policy.cpu_time_limit_s:g} s reached"),
        )
    if code == 0:
        return None
    error_type, message = final.get("error_type"), _str(final.get("error_message")) or ""
    errno = final.get("errno")
    kernel = isinstance(errno, int) and _kernel_error(errno, message)
    processes = f"process limit of {policy.max_processes} reached (threads count toward it)"
    if cap_hit:
        return blocked, limit, processes
    if policy.memory_limit_mb and (
        (error_type == "MemoryError" and not message)
        or (kernel and errno == 12)  # ENOMEM: mmap, a thread's stack
        or (error_type == "RuntimeError" and message == "can't start new thread")
    ):
        return blocked, limit, f"memory limit of {policy.memory_limit_mb} MB reached"
    if policy.max_file_size_mb and (code == -signal.SIGXFSZ or (kernel and errno == 27)):
        return blocked, limit, f"file size limit of {policy.max_file_size_mb} MB reached"
    if kernel and errno == 24:  # EMFILE
        return blocked, limit, f"open-file limit of {MAX_OPEN_FILES} reached"
    if (
        cap_hit is None  # no cgroup to ask: EAGAIN from fork is the best sign there is
        and kernel
        and errno == 11
        and error_type == "BlockingIOError"
        and policy.max_processes
    ):
        return blocked, limit, processes
    if kernel and error_type in ("PermissionError", "SecurityError") and errno in (1, 13):
        # A kernel denial (Landlock, seccomp) that ended the script.
        return blocked, "SecurityError", f"{message} (denied by policy '{policy.name}')"
    return None


def _kernel_error(errno: int, message: str) -> bool:
    """Whether an OSError's text is the system's own for ``errno`` (``[Errno 13] Permission
    denied: 'x'``), not one a script made up (``PermissionError(13, "the API said no")``)."""
    return message.startswith(f"[Errno {errno}] {os.strerror(errno)}")


class _Report:
    """The bootstrap's report lines, read as they come: how the sandbox was set up (the first
    line, sent before the script's first line), violations as they happened, then how the
    script ended. The script could write into the pipe too: lines that are not ours are
    skipped without being kept, and it cannot replace the set-up line, which came first.
    """

    _MAX_LINE = 8192  # ours are at most ~3.5 KB
    _MAX_VIOLATIONS = 20

    def __init__(self) -> None:
        self.final: dict[str, object] = {}
        self.violations: list[str] = []
        self.refused: str | None = None
        self.layers: list[str] = []
        self.degraded = False
        self._set_up = False
        self._partial = bytearray()
        self._skipping = False  # inside a line too long to be ours

    def feed(self, data: bytes) -> None:
        lines = data.split(b"\n")
        for i, line in enumerate(lines):
            last = i == len(lines) - 1
            if self._skipping:
                if not last:
                    self._skipping = False
                continue
            if len(self._partial) + len(line) > self._MAX_LINE:
                self._partial.clear()
                self._skipping = last
                continue
            if last:
                self._partial.extend(line)
            else:
                self._line(bytes(self._partial) + line)
                self._partial.clear()

    def _line(self, raw: bytes) -> None:
        try:
            value = ast.literal_eval(raw.decode("utf-8", "replace"))
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            return
        if not isinstance(value, dict):
            return
        if "violation" in value:
            if len(self.violations) < self._MAX_VIOLATIONS:
                self.violations.append(_text(value["violation"]))
        elif "refused" in value or "applied" in value:
            if self._set_up:
                return  # only the bootstrap's, which came first
            self._set_up = True
            if "refused" in value:
                self.refused = _text(value["refused"])
            else:
                self.layers = [_text(layer) for layer in value["applied"] or []]
                self.degraded = bool(value.get("degraded"))
        else:
            self.final = value


def _last_line(data: bytes) -> str:
    lines = [line.strip() for line in data.decode("utf-8", "replace").splitlines()]
    return next((line for line in reversed(lines) if line), "")[:2000]


def _str(value: object) -> str | None:
    return _text(value) if isinstance(value, str) and value else None


def _text(value: object) -> str:
    """A string from the script's process as text that can be stored and shown anywhere: a
    lone surrogate (from undecodable bytes) becomes a backslash escape."""
    return str(value).encode("utf-8", "backslashreplace").decode("utf-8")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


ResolvePython = Callable[[str], str]
