"""Child bootstrap: the first code that runs in a script's process, before the script itself.

Runs in a fresh interpreter (``command()``: ``python -c "...import bootstrap; bootstrap.main()"
REPORT_FD LIFELINE_FD CODE_FD POLICY SCRIPT [ARG...]``; POLICY is ``-`` or the sandbox
instructions as a dict literal from the runner; CODE_FD is -1 or the script already compiled, see
``compiled_script``) under any Python
3.8+ interpreter, a user's virtualenv included, so it imports the standard library only and never
the ScriptBatch package. The fork server imports it and calls ``run_script`` in each forked child.

In order, it: applies the sandbox (hook point, filled by the sandbox layer), keeps stdout
block-buffered but flushed every 0.1 s by a thread (unbuffered output makes output-heavy scripts
~1.8x slower; live views still see output within ~200 ms), which also watches the lifeline when
there is one (the app's end of a pipe; EOF means the app died, so the script's process group is
killed; under the fork server, LIFELINE_FD is -1: the server does that, and the thread starts
with the first write to stdout), sets ``sys.argv``/``sys.path[0]`` as ``python SCRIPT`` would,
runs the script as ``__main__`` exactly as
``runpy.run_path(path, run_name="__main__")`` does for a file (see ``run_path``), and reports how
it ended (exit code, exception type and message, peak memory) as one line on REPORT_FD: a Python
literal (``repr`` of a dict), read back with ``ast.literal_eval``.

Every import here is paid on each spawned script, so the module stays lean (measured on the
2-core CI machine, per launch: json 17 ms, runpy with the pkgutil it imports 19 ms, threading
6 ms; a bare interpreter start is 15 ms).
"""

from __future__ import annotations

import io
import marshal
import os
import sys

FLUSH_INTERVAL_S = 0.1
_HERE = os.path.dirname(os.path.abspath(__file__))


def _peak_rss_bytes() -> int | None:
    """The process's own high-water RSS (VmHWM); not ``ru_maxrss``, which also counts the
    memory of the process it was forked from."""
    try:
        fd = os.open("/proc/self/status", os.O_RDONLY)
        try:
            status = os.read(fd, 16384)  # the whole file (~1.5 KB); no file object needed
        finally:
            os.close(fd)
        start = status.find(b"\nVmHWM:")
        if start >= 0:
            return int(status[start + 7 : status.find(b"\n", start + 1)].split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024
    except (ImportError, OSError):
        return None


class _StartsFlusher(io.BufferedWriter):
    """stdout's buffer when nothing else needs the flusher thread: the first write starts it
    (a script that prints nothing never pays for a thread), later writes go straight to the C
    method (an instance attribute, so no Python frame per write)."""

    def write(self, data):  # type: ignore[no-untyped-def, override]
        self.write = io.BufferedWriter.write.__get__(self)  # type: ignore[method-assign]
        try:
            _start_watch(-1)
        except Exception:  # no thread left (the sandbox's process or memory cap): the output
            pass  # still comes out, when the buffer fills and at exit; the print must not fail
        return io.BufferedWriter.write(self, data)


def _block_buffered_stdout(lazy_flusher: bool) -> None:
    """stdout keeps a large buffer, but every write goes straight into it (write_through), so
    another thread may flush it safely. ``lazy_flusher``: that thread is started by the first
    write (see ``_StartsFlusher``)."""
    stdout = sys.stdout
    if stdout is None:
        return
    try:
        fd = stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    raw = io.FileIO(fd, "wb", closefd=False)
    buffer_type = _StartsFlusher if lazy_flusher else io.BufferedWriter
    sys.stdout = io.TextIOWrapper(
        buffer_type(raw, 64 * 1024),
        encoding=stdout.encoding,
        errors=stdout.errors,
        write_through=True,
    )


def _start_watch(lifeline_fd: int) -> None:
    import _thread  # threading would cost 6 ms per spawned launch; a bare daemon thread will do

    _thread.start_new_thread(_watch, (lifeline_fd,))


def _watch(lifeline_fd: int) -> None:
    """Background thread: flush stdout every 0.1 s; with a lifeline (``lifeline_fd`` >= 0),
    kill the process group when the app dies."""
    import time

    select = None
    while True:
        if lifeline_fd >= 0:
            if select is None:
                import select
            try:
                ready, _, _ = select.select([lifeline_fd], [], [], FLUSH_INTERVAL_S)
            except (OSError, ValueError):
                ready = []
                lifeline_fd = -1  # its fd was closed by the script: keep flushing on a timer
            if ready:
                try:
                    os.killpg(os.getpgrp(), 9)  # SIGKILL (importing signal costs ~2 ms per launch)
                finally:
                    os._exit(137)
        else:
            time.sleep(FLUSH_INTERVAL_S)
        try:
            out = sys.stdout
            if out is not None:
                out.buffer.flush()
        except Exception:  # the script closed or replaced stdout: nothing left to flush
            pass


_sandbox_module = None


def _sandbox():  # type: ignore[no-untyped-def]
    """sandbox_child.py, beside this file (``sys.path[0]`` until the script runs); kept out of
    sys.modules, where a script's own module of that name must not find it."""
    global _sandbox_module
    if _sandbox_module is None:
        import sandbox_child  # type: ignore[import-not-found]

        sys.modules.pop("sandbox_child", None)
        _sandbox_module = sandbox_child
    return _sandbox_module


def command(
    python: str,
    report_fd: int,
    lifeline_fd: int,
    policy: dict | None,  # type: ignore[type-arg]
    script: str,
    args: list[str],
    code_fd: int = -1,
) -> list[str]:
    """The command line that runs ``script`` through this bootstrap in a fresh interpreter.

    The bootstrap is imported by ``-c`` rather than run as a file: an imported module's bytecode
    is cached, a script file is compiled again on every launch (~2 ms).
    """
    launcher = f"import sys; sys.path[0] = {_HERE!r}; import bootstrap; bootstrap.main()"
    return [
        python,
        "-c",
        launcher,
        str(report_fd),
        str(lifeline_fd),
        str(code_fd),
        "-" if policy is None else repr(policy),
        script,
        *args,
    ]


def precompile() -> None:
    """Write this module's and sandbox_child's bytecode for this interpreter when missing or
    stale, whatever PYTHONDONTWRITEBYTECODE says: a spawned script's interpreter runs under the
    sandbox, which does not let it write the cache itself, and compiling both modules costs
    ~11 ms per launch."""
    import importlib.util
    import py_compile

    for name in ("bootstrap.py", "sandbox_child.py"):
        source = os.path.join(_HERE, name)
        cached = importlib.util.cache_from_source(source)
        try:
            if os.stat(cached).st_mtime >= os.stat(source).st_mtime:
                continue
        except OSError:
            pass
        try:
            py_compile.compile(source, cached, doraise=True)
        except (OSError, py_compile.PyCompileError):
            pass  # a read-only installation: its packager compiled it, or each launch does


def apply_sandbox(policy: dict | None, report_fd: int) -> tuple[list[str], bool]:  # type: ignore[type-arg]
    """Apply the run's sandbox before the script's first line: (layers applied, degraded).

    Raises the sandbox's ``SandboxRefusedError`` when a required layer cannot be applied.
    """
    if not policy:
        return [], False
    return _sandbox().apply(policy, lambda message: _send(report_fd, message, close=False))


def compiled_script(path: str) -> int:
    """``path`` compiled as ``run_path`` compiles it, in an in-memory file for a fresh
    interpreter to read (``CODE_FD``); -1 when that interpreter must compile it itself.

    Called by the fork server before it execs this interpreter (the same executable: the
    bytecode is the interpreter's own), where ``compile()`` is warm: a fresh interpreter's first
    ``compile()`` builds the AST types, ~2.5 ms of a trivial script's ~20 ms. Anything out of
    the ordinary (the file cannot be read, a syntax error, a warning, no ``memfd_create``) gives
    -1, so that the script's own interpreter reports it exactly as it always does.
    """
    try:
        warnings = sys.modules.get("warnings")
        if warnings is None:
            import _warnings as warnings  # the filters in use while warnings is not imported
        warnings.filters.insert(0, ("error", None, Warning, None, 0))  # this process execs next
        with io.open_code(path) as fh:
            code = compile(fh.read(), path, "exec", dont_inherit=True)
        data = marshal.dumps((sys.flags.optimize, code))
        fd = os.memfd_create("scriptbatch-code", 0)
    except Exception:
        return -1
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.lseek(fd, 0, os.SEEK_SET)
        os.set_inheritable(fd, True)
    except OSError:
        os.close(fd)
        return -1
    return fd


def _read_code(code_fd: int):  # type: ignore[no-untyped-def]
    """The code ``compiled_script`` left in ``code_fd``, or None when it was compiled under
    another optimization level (``PYTHONOPTIMIZE`` in the run's environment) or cannot be read."""
    chunks = []
    try:
        while True:
            chunk = os.read(code_fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        optimize, code = marshal.loads(b"".join(chunks))
    except (OSError, ValueError, EOFError, TypeError):
        return None
    finally:
        try:
            os.close(code_fd)  # not left to the script
        except OSError:
            pass
    return code if optimize == sys.flags.optimize else None


def run_path(path: str, code_fd: int = -1) -> None:
    """What ``runpy.run_path(path, run_name="__main__")`` does for a script file, without
    importing runpy and the pkgutil it pulls in (19 ms per launch): a fresh ``__main__`` module
    in ``sys.modules`` with ``__file__`` set and no loader or spec, and the file compiled
    without inheriting this module's ``__future__`` flags (or already compiled so, in
    ``code_fd``)."""
    code = _read_code(code_fd) if code_fd >= 0 else None
    if code is None:
        with io.open_code(path) as fh:
            code = compile(fh.read(), path, "exec", dont_inherit=True)
    module = type(sys)("__main__")
    module.__dict__.update(
        __file__=path,
        __cached__=None,
        __loader__=None,
        __package__="",
        __spec__=None,
        __builtins__=__builtins__,
    )
    sys.modules["__main__"] = module
    exec(code, module.__dict__)


def run_script(
    script: str,
    args: list[str],
    report_fd: int,
    lifeline_fd: int,
    policy: dict | None = None,  # type: ignore[type-arg]
    code_fd: int = -1,
) -> int:
    """Run ``script`` as ``__main__`` and report how it ended; returns the exit code.

    ``lifeline_fd`` is the app's pipe to watch, or -1 when this process's parent does that
    (the fork server: it ends its children's process groups when the app dies). ``code_fd``:
    see ``compiled_script``."""
    try:
        layers, degraded = apply_sandbox(policy, report_fd)
    except Exception as exc:  # the sandbox could not be applied: the script must not run
        _send(report_fd, {"refused": str(exc), "exit_code": 126})
        return 126
    if policy:  # said at once: a script killed by the kernel sends no final report
        _send(report_fd, {"applied": layers, "degraded": degraded}, close=False)
    if lifeline_fd >= 0:
        _block_buffered_stdout(lazy_flusher=False)
        _start_watch(lifeline_fd)
    else:
        _block_buffered_stdout(lazy_flusher=True)

    sys.argv = [script, *args]
    sys.path[0] = os.path.dirname(script)
    report: dict[str, object] = {"layers": layers, "degraded": degraded}
    code = 0
    try:
        run_path(script, code_fd)
    except SystemExit as exc:
        code = _exit_code(exc, report)
    except BaseException as exc:
        trimmed = _script_frames(exc.__traceback__)
        sys.excepthook(type(exc), exc.with_traceback(trimmed), trimmed)
        report["error_type"] = type(exc).__name__
        report["error_message"] = _first_line(_text(exc))
        if isinstance(exc, OSError) and exc.errno is not None:
            report["errno"] = exc.errno
        code = 1
    finally:
        _flush_std_streams()
    report["exit_code"] = code
    report["peak_rss_bytes"] = _peak_rss_bytes()
    _send(report_fd, report)
    return code


def _exit_code(exc: SystemExit, report: dict[str, object]) -> int:
    """``SystemExit`` semantics of the interpreter: None/0 succeed, an int is the code, anything
    else is printed to stderr and exits 1."""
    value = exc.code
    if value is None:
        return 0
    if isinstance(value, int):
        if value != 0:
            report["error_type"] = "SystemExit"
            report["error_message"] = f"exit code {value}"
        return value & 0xFF
    text = _text(value)
    try:
        print(text, file=sys.stderr)
    except Exception:
        pass
    report["error_type"] = "SystemExit"
    report["error_message"] = _first_line(text)
    return 1


def _script_frames(tb):  # type: ignore[no-untyped-def]
    """The traceback without the bootstrap's own frames, as ``python SCRIPT`` shows it."""
    ours = (__file__,)
    while tb is not None and tb.tb_frame.f_code.co_filename in ours:
        tb = tb.tb_next
    return tb


def _text(value: object) -> str:
    """``str(value)``, or what Python itself shows when the script's ``__str__`` fails."""
    try:
        return str.__str__(str(value))
    except Exception:
        return "<exception str() failed>"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:2000] if text.strip() else ""


def _flush_std_streams() -> None:
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:
            continue
        try:
            stream.flush()
        except Exception:
            # The script closed the pipe (os.close(1)); do not let shutdown fail on it.
            setattr(sys, name, None)


def _send(fd: int, report: dict[str, object], *, close: bool = True) -> None:
    """One line on the report pipe (one write: atomic for a pipe up to 4 KB). It starts with a
    newline too: whatever the script may have written into the pipe without one ends there."""
    data = ("\n" + repr(report)[:3500] + "\n").encode("utf-8", "backslashreplace")
    try:
        os.write(fd, data)
        if close:
            os.close(fd)
    except OSError:
        pass


def main() -> None:
    # A script may have a module of its own called "bootstrap": it must not find ours.
    sys.modules.pop("bootstrap", None)
    report_fd, lifeline_fd, code_fd = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    # The policy comes from the runner (our own parent), as a literal of plain values.
    policy = None if sys.argv[4] == "-" else eval(sys.argv[4], {"__builtins__": {}})
    script, args = sys.argv[5], sys.argv[6:]
    code = run_script(script, args, report_fd, lifeline_fd, policy, code_fd)
    sys.exit(code)


if __name__ == "__main__":
    main()
