"""The fork server: a small, warm helper process that forks one child per script (Linux).

It serves both start methods: for ``forkserver`` the forked child runs the script itself; for
``spawn`` it applies the sandbox's kernel layers and execs a fresh interpreter on the bootstrap,
handing it the script already compiled when that interpreter is this server's own (see
``_exec_bootstrap``).

Started by the runner as ``python forkserver.py CONTROL_FD`` before it is needed,
with the interpreter the scripts should use. Like the bootstrap it imports only the standard
library (it may run under a user's virtualenv), and it never runs a script itself: every child is
forked from the same clean, pre-warmed state, so nothing a script does (globals, monkeypatching,
``chdir``) can reach the next one.

Forking from this ~10 MB single-threaded helper costs ~0.5 ms; forking the app itself (large,
threaded) would cost several ms and can deadlock. Messages on the control socket (a
``SOCK_SEQPACKET`` pair, one ``marshal``'ed dict per message, format version 4):

- runner -> server: ``{"id", "script", "args", "cwd", "env_update", "env", "sandbox", "exec",
  "log"}`` (``env``, when present, replaces the environment: strict policies scrub it; ``exec``,
  when present, is the interpreter to exec for a spawned script; ``log``, the run's log file, which
  the child creates before anything else) with three file
  descriptors attached (the child's stdout, stderr and report pipe ends); the server was started
  with the children's base environment, so a request carries only the run's own variables;
- runner -> server: ``{"id", "cell": CGROUP}`` with one file descriptor attached (a new control
  socket): fork a *cell* (below);
- server -> runner: ``{"id", "pid"}`` once forked, ``{"id", "cell": pid}`` for a cell, or
  ``{"id", "error"}``; ``{"exit": pid, "status": wait_status, "cpu_s": seconds, "maxrss_kb"}``
  when a child ends.

**Cells** carry the sandbox's per-run pids cgroups. Moving a process into a cgroup waits for an
RCU grace period (~10 ms on this kind of machine whenever moves are more than a few ms apart),
during which the script could not start; a process forked inside a cgroup is in it from its first
instruction, for free. So a cell is a fork of this server that moves itself into a cgroup of its
own once, and then serves the runner on its own control socket exactly as this server does: one
script at a time (the runner's rule), each forked inside the cell's cgroup. Between two scripts
the runner kills whatever the last one left in the cgroup. A cell is the subreaper of its scripts'
orphans (it reaps them, so none lingers in the cgroup as a zombie), and its first message says
whether it joined the cgroup: ``{"ready": 1, "joined": bool}``.

When the app dies, the server gets SIGTERM (``PR_SET_PDEATHSIG``) and kills the process group
of every script it forked, grandchildren included, before it exits; it does the same when the
control socket closes. Each child also dies with the server (``PR_SET_PDEATHSIG``); each cell gets
SIGTERM when the server dies and does the same for its own scripts.
"""

from __future__ import annotations

# Only C modules beyond the bootstrap's: every module imported here is memory each fork copies
# the page tables of and each child's exit unmaps (~0.5 ms per script for json, socket, signal
# and the modules they pull in: enum, re, ...). Messages are marshal'ed, not JSON.
import _signal
import _socket
import gc
import marshal
import os
import select
import sys

import bootstrap  # this file runs as a script; bootstrap.py sits beside it

# A script may have a module of its own called "bootstrap": it must not find ours.
del sys.modules["bootstrap"]

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
MARSHAL_VERSION = 4  # read by every Python 3 since 3.4: the server may run another interpreter
READY = b"ready"  # the server's first message, once it is warm
_wakeup_fds: tuple[int, ...] = ()
_OWN_EXECUTABLE = os.path.realpath(sys.executable)


def _prewarm() -> None:
    """Pay once, here, what every child would otherwise pay: the first ``compile()`` builds the
    AST types (~1.2 ms), the modules the bootstrap and the sandbox use in every child (the
    flushing thread's ``time``, the rlimits' ``resource``, the guard rail's ``stat``), and on
    Linux the sandbox's ctypes handles and libseccomp. Nothing a script merely might use: that
    would make every fork and exit dearer for the scripts that do not."""
    import stat  # noqa: F401
    import time  # noqa: F401

    compile("def f(x):\n    return [i for i in x]\n", "<prewarm>", "exec")
    if sys.platform.startswith("linux"):
        import resource  # noqa: F401

        bootstrap._sandbox().preload()


_prctl = None


def _set_pdeathsig(sig: int) -> None:
    """Get ``sig`` when the parent dies; Linux only, silently skipped elsewhere."""
    _prctl_call(_PR_SET_PDEATHSIG, sig)


def _prctl_call(option: int, value: int) -> None:
    """``prctl(option, value)``; Linux only, silently skipped elsewhere. The libc handle is made
    once, here in the server (each child would pay ~0.3 ms for it)."""
    global _prctl
    try:
        if _prctl is None:
            import ctypes

            _prctl = ctypes.CDLL(None, use_errno=True).prctl
        _prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError, ImportError):
        pass


def _kill_children_and_exit(children: set[int]) -> None:
    for pid in children:
        try:
            os.killpg(pid, _signal.SIGKILL)
        except OSError:
            pass
    os._exit(0)


def _child(request: dict, fds: list[int], control: _socket.socket) -> None:
    """In the forked child: become the script's process and never return. The script needs no
    lifeline of its own (-1 below): this server ends every child's process group when the app
    dies (see the module's docstring)."""
    code = 1
    try:
        control.close()
        _create_log(request.get("log"))
        os.setsid()
        _set_pdeathsig(_signal.SIGKILL)
        _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL)
        _signal.signal(_signal.SIGTERM, _signal.SIG_DFL)
        _signal.set_wakeup_fd(-1)
        for fd in _wakeup_fds:
            os.close(fd)
        stdout_fd, stderr_fd, report_fd = fds[:3]
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(stdout_fd, 1)
        os.dup2(stderr_fd, 2)
        for fd in (devnull, stdout_fd, stderr_fd):
            os.close(fd)
        os.chdir(request["cwd"])
        if request.get("env") is not None:
            os.environ.clear()
            os.environ.update(request["env"])
        os.environ.update(request["env_update"])
        # PYTHONPATH is read at interpreter start-up, which a forked child skips: apply it here.
        extra_path = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        sys.path[1:1] = [p for p in extra_path if p not in sys.path]
        if request.get("exec"):
            _exec_bootstrap(request, report_fd)
        code = bootstrap.run_script(
            request["script"], request["args"], report_fd, -1, request.get("sandbox")
        )
        _interpreter_exit()
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        os._exit(code)


def _create_log(path: str | None) -> None:
    """Make the run's (empty) log file, and its batch's folder, here rather than on the app's
    loop (see log_file.py); if it cannot, the runner does when the run ends."""
    if not path:
        return
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
    try:
        try:
            os.close(os.open(path, flags, 0o644))
        except FileNotFoundError:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            os.close(os.open(path, flags, 0o644))
    except OSError:
        pass


def _exec_bootstrap(request: dict, report_fd: int) -> None:
    """Spawn mode: replace this child with a fresh interpreter running the bootstrap.

    The sandbox's kernel layers survive ``execve``, so where the policy allows (see
    ``sandbox_child.survives_exec``) they are applied here, with ctypes and libseccomp already
    loaded, instead of in the new interpreter (~15 ms less per launch); the bootstrap then adds
    the guard rail. Never returns: a failed exec is reported like a failed start.
    """
    policy = request.get("sandbox")
    sandbox = bootstrap._sandbox()
    python = request["exec"]
    before_exec = not policy or sandbox.survives_exec(policy)
    code_fd = -1
    if before_exec and _is_own_interpreter(python):
        # Read as the new interpreter would: no layer restricts reading when they survive exec.
        code_fd = bootstrap.compiled_script(request["script"])
    if policy and before_exec:
        try:
            layers, degraded = sandbox.apply_kernel_layers(policy)
        except Exception as exc:  # a required layer is missing: the script must not run
            bootstrap._send(report_fd, {"refused": str(exc), "exit_code": 126})
            os._exit(126)
        policy = dict(policy, before_exec={"layers": layers, "degraded": degraded})
    os.set_inheritable(report_fd, True)
    script, args = request["script"], request["args"]
    argv = bootstrap.command(python, report_fd, -1, policy, script, args, code_fd)
    try:
        os.execve(python, argv, os.environ)
    except OSError as exc:
        message = f"could not start {python}: {exc.strerror or exc}"
        report = {"error_type": "LaunchError", "error_message": message, "exit_code": 127}
        bootstrap._send(report_fd, report)
        os._exit(127)


def _is_own_interpreter(python: str) -> bool:
    """Whether ``python`` is the executable this server runs on (through any symlink, a
    virtualenv's included): then its bytecode is this server's, which may compile for it."""
    return os.path.realpath(python) == _OWN_EXECUTABLE


def _interpreter_exit() -> None:
    """What the interpreter does at exit, without the slow parts of finalization: wait for the
    script's non-daemon threads (only a script that imported threading can have any), run its
    atexit handlers, flush its streams."""
    import atexit

    threading = sys.modules.get("threading")
    if threading is not None:
        try:
            threading._shutdown()  # type: ignore[attr-defined]
        except Exception:
            pass
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except Exception:
            pass


def serve(control: _socket.socket) -> None:
    global _wakeup_fds
    for fd in _wakeup_fds:  # a cell: the server's own
        os.close(fd)
    wake_r, wake_w = os.pipe()
    _wakeup_fds = (wake_r, wake_w)
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    _signal.set_wakeup_fd(wake_w)
    _signal.signal(_signal.SIGCHLD, lambda *_: None)
    children: set[int] = set()
    _signal.signal(_signal.SIGTERM, lambda *_: _kill_children_and_exit(children))
    while True:
        ready, _, _ = select.select([control, wake_r], [], [])
        if wake_r in ready:
            try:
                while os.read(wake_r, 512):
                    pass
            except BlockingIOError:
                pass
            _reap(control, children)
        if control in ready:
            try:
                message, fds = _receive(control)
            except ConnectionResetError:
                message, fds = b"", []
            if not message:
                _kill_children_and_exit(children)  # the app closed the socket or died
            request = marshal.loads(message)
            if "cell" in request:
                _fork_cell(request, fds, control)
                continue
            if request.get("sandbox"):
                bootstrap._sandbox().prepare(request["sandbox"])
            pid = _fork(request, fds, control)
            if pid is None:
                continue
            if pid == 0:
                _child(request, fds, control)
            for fd in fds:
                os.close(fd)
            children.add(pid)
            _send(control, {"id": request["id"], "pid": pid})
            _reap(control, children)


def _fork_cell(request: dict, fds: list[int], control: _socket.socket) -> None:
    """Fork a cell (see the module's docstring) that serves on the socket sent with the
    request. Its exit is not reported: the runner sees its socket close."""
    pid = _fork(request, fds, control)
    if pid is None:
        return
    if pid == 0:
        try:
            _signal.set_wakeup_fd(-1)
            _signal.signal(_signal.SIGTERM, _signal.SIG_DFL)  # until serve() sets its own
            control.close()
            _set_pdeathsig(_signal.SIGTERM)
            _prctl_call(_PR_SET_CHILD_SUBREAPER, 1)
            own = _socket.socket(fileno=fds[0])
            own.send(marshal.dumps({"ready": 1, "joined": _join(request["cell"])}))
            serve(own)
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            os._exit(1)
    for fd in fds:
        os.close(fd)
    _send(control, {"id": request["id"], "cell": pid})


def _fork(request: dict, fds: list[int], control: _socket.socket) -> int | None:
    """``os.fork()`` for ``request``; if it fails, the request's fds are closed, the runner is
    told, and None is returned."""
    # Objects made so far stay out of the child's garbage collections, which would otherwise
    # write to (and so copy) every page holding one.
    gc.freeze()
    try:
        return os.fork()
    except OSError as exc:
        for fd in fds:
            os.close(fd)
        _send(control, {"id": request["id"], "error": str(exc)})
        return None


def _join(cgroup: str) -> bool:
    """Move this process into ``cgroup`` (its children are born there); False if it cannot."""
    try:
        fd = os.open(cgroup + "/cgroup.procs", os.O_WRONLY)
        try:
            os.write(fd, str(os.getpid()).encode())
        finally:
            os.close(fd)
        return True
    except OSError:
        return False


def _receive(control: _socket.socket) -> tuple[bytes, list[int]]:
    """One request and the file descriptors sent with it (``socket.recv_fds`` without the
    socket module)."""
    message, ancillary, _, _ = control.recvmsg(1 << 20, _socket.CMSG_LEN(8 * 4))
    fds: list[int] = []
    for level, kind, data in ancillary:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
            usable = len(data) - len(data) % 4
            fds += [int.from_bytes(data[i : i + 4], sys.byteorder) for i in range(0, usable, 4)]
    return message, fds


def _reap(control: _socket.socket, children: set[int]) -> None:
    """Reap every ended child; report the scripts' (a cell also reaps its scripts' orphans, and
    the server its cells)."""
    while True:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid in children:
            children.discard(pid)
            cpu_s = usage.ru_utime + usage.ru_stime
            # ru_maxrss (KiB on Linux): a fork of this small server counts its own pages only.
            message = {"exit": pid, "status": status, "cpu_s": cpu_s, "maxrss_kb": usage.ru_maxrss}
            _send(control, message)


def _send(control: _socket.socket, message: dict) -> None:
    try:
        control.send(marshal.dumps(message, MARSHAL_VERSION))
    except OSError:
        os._exit(0)  # the app is gone


def main() -> None:
    control_fd = int(sys.argv[1])
    _set_pdeathsig(_signal.SIGTERM)
    control = _socket.socket(fileno=control_fd)
    control.setblocking(True)
    _prewarm()
    os.write(control.fileno(), READY)
    serve(control)


if __name__ == "__main__":
    main()
