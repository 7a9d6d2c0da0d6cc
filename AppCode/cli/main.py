"""``scriptbatch``: the command-line adapter. Parses arguments, calls services, prints results.

Exit codes (ARCHITECTURE.md): 0 success, 1 the command ran but something failed, 2 usage or
configuration error, 130 interrupted by Ctrl-C. Errors are printed as a message and a hint;
tracebacks go to the app log only.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys

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
from AppCode.cli.output import print_error
from AppCode.core.domain.errors import ConfigurationError, NotFoundError, ScriptBatchError

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_BROKEN_PIPE = 141  # what a shell reports for a command killed by SIGPIPE


def build_parser() -> argparse.ArgumentParser:
    # --data-dir and --config are accepted before the command and after it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="data directory (default: $SCRIPTBATCH_HOME, else the per-user data directory)",
    )
    common.add_argument(
        "--config",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="user config file (default: config.toml in the data directory)",
    )
    common.add_argument(
        "--user",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help="act as this user (multi-user mode); the password comes from "
        "$SCRIPTBATCH_PASSWORD or is asked on the terminal",
    )
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
    return parser


def run(args: argparse.Namespace) -> int:
    """Run the command ``args`` names (parsed by ``build_parser``); returns the exit code."""
    _safe_console()
    from AppCode.container import build

    try:
        container = build(
            getattr(args, "data_dir", None), getattr(args, "config", None), migrate=args.migrate
        )
        try:
            if getattr(args, "user", None):
                _log_in(container, args.user)
            code: int = args.handler(container, args)
            return code
        finally:
            container.shutdown_resources()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``scriptbatch history --json | head``): stop quietly, as
        # ``cat`` or ``grep`` would; nothing is left to print to.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE
    except ScriptBatchError as exc:
        log.info("command failed: %s", exc.message)
        print_error(exc)
        return EXIT_USAGE if isinstance(exc, ConfigurationError | NotFoundError) else EXIT_FAILED
    except Exception:
        log.exception("unexpected error in %s", " ".join(sys.argv))
        print(
            "error: an unexpected error stopped the command; the details are in the app log "
            "(logs/scriptbatch.log in the data directory)",
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
