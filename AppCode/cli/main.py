"""``scriptbatch``: the command-line adapter. Parses arguments, calls services, prints results.

Exit codes (ARCHITECTURE.md): 0 success, 1 the command ran but something failed, 2 usage or
configuration error, 130 interrupted by Ctrl-C. Errors are printed as a message and a hint;
tracebacks go to the app log only.
"""

from __future__ import annotations

import argparse
import errno
import getpass
import logging
import os
import signal
import sys
import tempfile
import traceback

from AppCode import __version__
from AppCode.cli import (
    backup_cmd,
    db_cmd,
    history_cmd,
    monitor_cmd,
    plugins_cmd,
    run_cmd,
    scripts_cmd,
    serve_cmd,
    users_cmd,
)
from AppCode.cli.output import print_error, require_value
from AppCode.core.domain.errors import ConfigurationError, NotFoundError, ScriptBatchError

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
_WRITE_FAILURES = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO}
EXIT_BROKEN_PIPE = 141  # what a shell reports for a command killed by SIGPIPE


def _add_common_options(parser: argparse.ArgumentParser) -> None:
    """--data-dir, --config and --user: accepted before the command, after it, and after a
    command group's name (``scriptbatch backup --data-dir D list``)."""
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="data directory (default: $SCRIPTBATCH_HOME unless empty, else the per-user "
        "data directory)",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="user config file (default: config.toml in the data directory)",
    )
    parser.add_argument(
        "--user",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help="act as this user (multi-user mode); the password comes from "
        "$SCRIPTBATCH_PASSWORD or is asked on the terminal",
    )


def build_parser() -> argparse.ArgumentParser:
    # Defaults are SUPPRESS: a sub-command's parser never overwrites a value given before it.
    common = argparse.ArgumentParser(add_help=False)
    _add_common_options(common)
    parser = argparse.ArgumentParser(
        prog="scriptbatch",
        parents=[common],
        description="Run folders of Python scripts as safe, parallel, recorded batches. "
        "Without a command, opens the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"scriptbatch {__version__}")
    # No set_defaults for --data-dir/--config: the action objects are shared with the
    # sub-commands, and a default there would overwrite a value given before the command.
    parser.set_defaults(handler=None, migrate=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run_cmd.register(commands, common)
    history_cmd.register(commands, common)
    monitor_cmd.register(commands, common)
    backup_cmd.register(commands, common)
    scripts_cmd.register(commands, common)
    db_cmd.register(commands, common)
    users_cmd.register(commands, common)
    plugins_cmd.register(commands, common)
    serve_cmd.register(commands, common)
    # A command group (backup, scripts, users, ...) is made without `common`: give it the
    # options here, so that every command takes them whatever its module does.
    for command in {id(p): p for p in commands.choices.values()}.values():
        try:
            _add_common_options(command)
        except argparse.ArgumentError:
            pass  # it has them (made with parents=[common])
    return parser


def where(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """``--data-dir`` and ``--config`` (None when not given); empty ones are refused."""
    data_dir, config = getattr(args, "data_dir", None), getattr(args, "config", None)
    require_value("--data-dir", data_dir, "Give the data directory's path, or leave it out.")
    require_value("--config", config, "Give the config file's path, or leave it out.")
    return data_dir, config


def run(args: argparse.Namespace) -> int:
    """Run the command ``args`` names (parsed by ``build_parser``); returns the exit code."""
    _safe_console()
    try:
        from AppCode.container import build

        data_dir, config = where(args)
        container = build(data_dir, config, migrate=args.migrate)
        try:
            if getattr(args, "user", None):
                _log_in(container, args.user)
            code: int = args.handler(container, args)
            return code
        finally:
            container.shutdown_resources()
    except KeyboardInterrupt:
        return interrupted()
    except BrokenPipeError:
        # The reader went away (``scriptbatch history --json | head``): stop quietly, as
        # ``cat`` or ``grep`` would; nothing is left to print to.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE
    except OSError as exc:
        if exc.filename is not None or exc.errno not in _WRITE_FAILURES:
            return unexpected_error()
        # A write without a file name: the output or a file the command writes, on a full
        # (or failing) disk, e.g. ``scriptbatch history --json > /dev/full``.
        log.warning("command failed: a write failed", exc_info=True)
        print_error(
            ScriptBatchError(
                f"a write failed: {exc.strerror or exc}",
                hint="Free some disk space (or check the disk), then run the command again.",
            )
        )
        return EXIT_FAILED
    except ScriptBatchError as exc:
        log.info("command failed: %s", exc.message)
        print_error(exc)
        return EXIT_USAGE if isinstance(exc, ConfigurationError | NotFoundError) else EXIT_FAILED
    except Exception:
        return unexpected_error()


def interrupted() -> int:
    """Ctrl-C: say so and exit 130; a further Ctrl-C while the process ends changes nothing."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    print("interrupted", file=sys.stderr)
    return EXIT_INTERRUPTED


def unexpected_error() -> int:
    """The exception being handled, which no layer expected: its traceback goes to the app log,
    or before that log is open (start-up) to a file of its own; the user gets one line saying
    where. Never a traceback on the console."""
    logs = [
        h.baseFilename for h in logging.getLogger().handlers if isinstance(h, logging.FileHandler)
    ]
    if logs:
        log.exception("unexpected error in %s", " ".join(sys.argv))
        where = logs[0]
    else:
        try:
            fd, where = tempfile.mkstemp(prefix="scriptbatch-error-", suffix=".log")
            with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as out:
                out.write(f"unexpected error in {' '.join(sys.argv)}\n")
                traceback.print_exc(file=out)
        except OSError:
            where = "(nowhere: no file could be written)"
    print(
        f"error: an unexpected error stopped the command; the details are in {where}",
        file=sys.stderr,
    )
    return EXIT_FAILED


def _log_in(container: object, name: str) -> None:
    """``--user NAME``: check the password; the command then acts as that user."""
    password = os.environ.get("SCRIPTBATCH_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise ConfigurationError(
                f"--user {name}: a password is needed, and there is no terminal to ask on",
                hint="Set SCRIPTBATCH_PASSWORD in the environment.",
            )
        password = getpass.getpass(f"Password for {name}: ")
    container.user_service().log_in(name, password)  # type: ignore[attr-defined]


def _safe_console() -> None:
    """Never crash on printing a path the console's encoding cannot show."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
