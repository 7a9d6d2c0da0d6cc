"""``scriptbatch`` and ``python -m AppCode``: a command runs in the CLI; none opens the GUI."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``scriptbatch`` console script. Called without ``argv`` (the console
    script, ``python -m AppCode``), a CLI command ends the process itself when it is done.

    No traceback reaches the console, from the first import on: Ctrl-C is "interrupted" (130),
    anything unexpected is one line naming the file that holds the details (1)."""
    _fill_closed_std_streams()
    try:
        from AppCode.cli.main import build_parser, run

        args = build_parser().parse_args(argv)
        if args.handler is None:
            from AppCode.cli.main import where
            from AppCode.cli.output import print_error
            from AppCode.core.domain.errors import ConfigurationError

            try:
                data_dir, config = where(args)
            except ConfigurationError as exc:
                print_error(exc)
                return 2
            from AppCode.ui.app import run_gui

            return run_gui(data_dir, config)
        code = run(args)
    except KeyboardInterrupt:
        code = _interrupted()
    except Exception as exc:
        try:
            from AppCode.cli.main import unexpected_error
        except Exception:  # the CLI itself cannot be imported: a broken installation
            print(f"error: scriptbatch cannot start: {exc!r}", file=sys.stderr)
            code = 1
        else:
            code = unexpected_error()
    if argv is None:
        exit_now(code)
    return code


def _fill_closed_std_streams() -> None:
    """Started with stdin, stdout or stderr closed (``scriptbatch history >&-``): put the null
    device there, so that what is written goes nowhere instead of failing, and so that no file
    the command opens (the database, a log) gets descriptor 1 or 2 and receives its output."""
    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        try:
            os.fstat(fd)
            continue
        except OSError:
            pass
        null = os.open(os.devnull, os.O_RDWR)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, mode, encoding="utf-8", closefd=False))  # noqa: SIM115 (for the whole run)


def _interrupted() -> int:
    # Ctrl-C while the CLI itself is imported: answer without importing anything more.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    print("interrupted", file=sys.stderr)
    return 130


def exit_now(code: int) -> None:
    """End the process as the interpreter would, without its teardown.

    What a normal exit does that matters is done here, in the same order: wait for non-daemon
    threads (and the executors' shutdown hooks), run the ``atexit`` handlers (logging's flush
    among them), flush stdout and stderr. What is skipped is freeing every module and object one
    by one, ~0.17 s after each command on the 2-core CI machine: a quarter of what a short
    command like ``scriptbatch history`` costs. Every file and database the command wrote is
    closed or committed by then (``run`` shuts the container's resources down first).
    """
    import atexit
    import threading

    try:
        threading._shutdown()  # type: ignore[attr-defined]
        atexit._run_exitfuncs()
    except KeyboardInterrupt:
        code = 130  # Ctrl-C while the last threads finished: nothing more is waited for
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass  # a closed pipe (``scriptbatch history | head``): nothing left to say
        except OSError as exc:  # a full disk (``> /dev/full``): the output is not all there
            code = code or 1
            _say(f"error: could not write the output: {exc.strerror or exc}\n")
    os._exit(code & 0xFF)


def _say(text: str) -> None:
    """``text`` on stderr's descriptor, whatever became of ``sys.stderr``."""
    try:
        os.write(2, text.encode("utf-8", "backslashreplace"))
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main())
