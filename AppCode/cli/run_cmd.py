"""``scriptbatch run`` and ``scriptbatch rerun``: run a batch in the foreground.

Progress goes to stderr (a bar on a terminal, a line per change otherwise), the summary table or
the ``--json`` object to stdout. Ctrl-C stops the batch: children are killed, their executions
recorded as cancelled, and the exit code is 130.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shlex
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn, TextIO

from pydantic import BaseModel, ValidationError

from AppCode.cli.output import (
    human_size,
    print_error,
    print_json,
    print_table,
    require_value,
    shown_path,
)
from AppCode.cli.plugins_cmd import parse_output
from AppCode.container import Container
from AppCode.core.domain.errors import ConfigurationError, ScriptBatchError
from AppCode.core.domain.events import Event, ExecutionFinished, ExecutionStarted
from AppCode.core.domain.models import Batch, Execution, ExecutionStatus
from AppCode.core.engines.engine import BatchHandle
from AppCode.core.managers.script_manager import Rejected
from AppCode.services.batch_service import StartBatch
from AppCode.services.json_shapes import batch_json, summary
from AppCode.services.policies import MIN_MEMORY_LIMIT_MB, PolicyOverrides
from AppCode.utils.validation import bounds, problems_of_options
from AppCode.utils.validation import number as shown_number

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130

# Each option whose value the request validates: its field's dotted place in StartBatch, and
# the model and field that hold its bounds (shown in --help and in the error).
_OPTIONS: dict[str, tuple[str, type[BaseModel], str]] = {
    "paths": ("PATH", StartBatch, "paths"),
    "jobs": ("--jobs", StartBatch, "jobs"),
    "timeout_s": ("--timeout", StartBatch, "timeout_s"),
    "retries": ("--retries", StartBatch, "retries"),
    "sandbox_policy": ("--policy", StartBatch, "sandbox_policy"),
    "sandbox_overrides.memory_limit_mb": ("--memory-limit", PolicyOverrides, "memory_limit_mb"),
    "sandbox_overrides.cpu_time_limit_s": ("--cpu-limit", PolicyOverrides, "cpu_time_limit_s"),
    "sandbox_overrides.allow_write": ("--allow-write", PolicyOverrides, "allow_write"),
    "sandbox_overrides.allow_read": ("--allow-read", PolicyOverrides, "allow_read"),
    "sandbox_overrides.block_modules": ("--block-module", PolicyOverrides, "block_modules"),
}


def _range(place: str) -> str:
    _option, model, field = _OPTIONS[place]
    low, high = bounds(model, field)
    return f"{shown_number(low)}-{shown_number(high)}"


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    run = commands.add_parser(
        "run",
        parents=[common],
        help="run scripts as a batch",
        description="Run each script in its own process, several at a time. Folders expand "
        "to the *.py files under them. Exit code 0 only if every script succeeded.",
    )
    run.add_argument("paths", nargs="+", metavar="PATH", help="scripts or folders")
    run.add_argument(
        "--jobs",
        "-j",
        type=int,
        metavar="N",
        help=f"scripts at once, {_range('jobs')} (default: [execution] jobs; 0 = CPU count)",
    )
    run.add_argument(
        "--timeout",
        type=float,
        metavar="S",
        help=f"time limit per script, seconds, {_range('timeout_s')} (0 = none)",
    )
    run.add_argument(
        "--retries",
        type=int,
        metavar="N",
        help=f"extra attempts after a failure, {_range('retries')}",
    )
    run.add_argument(
        "--arg",
        action="append",
        default=[],
        metavar="A",
        help="argument for every script (repeat for more); with --each-args, after each "
        "line's arguments",
    )
    run.add_argument(
        "--each-args",
        metavar="FILE",
        help="run each script once per line of FILE (shell-style words and # comments), "
        "followed by the --arg arguments",
    )
    run.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="environment variable for the scripts (repeat for more)",
    )
    run.add_argument("--python", metavar="EXE", help="interpreter to run the scripts with")
    run.add_argument(
        "--start-method",
        choices=["auto", "spawn", "forkserver"],
        help="fresh interpreter per script (spawn) or a warm fork server",
    )
    run.add_argument(
        "--fail-fast",
        action="store_true",
        default=None,
        help="cancel the rest after the first failure",
    )
    run.add_argument(
        "--backend",
        choices=["local", "dask"],
        help="run on this computer or on a Dask cluster (default: [execution] backend)",
    )
    run.add_argument(
        "--scheduler",
        metavar="ADDR",
        help="the Dask scheduler, e.g. tcp://host:8786 (default: [execution] dask_scheduler; "
        "empty: a Dask cluster on this computer)",
    )
    sandbox = run.add_argument_group("sandbox")
    sandbox.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run without the sandbox (policy 'off'; a script with a pinned policy keeps it); the "
        "other sandbox options are then errors",
    )
    sandbox.add_argument(
        "--policy",
        metavar="NAME|FILE",
        help="off, standard, strict, a custom policy name, or a .toml file",
    )
    memory = _range("sandbox_overrides.memory_limit_mb")
    sandbox.add_argument(
        "--memory-limit",
        type=int,
        metavar="MB",
        help=f"memory limit per script, {memory} (0 = none; else at least {MIN_MEMORY_LIMIT_MB})",
    )
    sandbox.add_argument(
        "--cpu-limit",
        type=float,
        metavar="S",
        help=f"CPU-time limit per script, seconds, {_range('sandbox_overrides.cpu_time_limit_s')} "
        "(0 = none)",
    )
    sandbox.add_argument(
        "--allow-network",
        action="store_true",
        default=None,
        help="allow network access even if the policy does not",
    )
    sandbox.add_argument(
        "--allow-write",
        action="append",
        default=[],
        metavar="PATH",
        help="also allow writing under PATH (repeat for more)",
    )
    sandbox.add_argument(
        "--allow-read",
        action="append",
        default=[],
        metavar="PATH",
        help="also allow reading under PATH with strict (repeat for more)",
    )
    sandbox.add_argument(
        "--block-module",
        action="append",
        default=[],
        metavar="NAME",
        help="forbid importing module NAME (repeat for more)",
    )
    _output_options(run)
    run.set_defaults(handler=_run)

    rerun = commands.add_parser(
        "rerun",
        parents=[common],
        help="run a past batch again",
        description="Make a new batch from a past one's scripts, arguments and options.",
    )
    rerun.add_argument("batch", metavar="BATCH_ID", help="batch id (or a unique prefix)")
    rerun.add_argument("--failed", action="store_true", help="only those that did not succeed")
    _output_options(rerun)
    rerun.set_defaults(handler=_rerun)


def _output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument(
        "--report",
        action="append",
        default=[],
        metavar="FORMAT:PATH",
        help="when the batch ends, write its report, e.g. html:report.html (repeat for more)",
    )
    parser.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="no progress, no table and no info lines; errors and the exit code tell",
    )


def _run(container: Container, args: argparse.Namespace) -> int:
    require_value("--each-args", args.each_args, "Give a text file with one line of arguments.")
    try:
        request = StartBatch(
            paths=args.paths,
            jobs=args.jobs,
            timeout_s=args.timeout,
            retries=args.retries,
            args=args.arg,
            each_args=_read_each_args(args.each_args) if args.each_args is not None else None,
            env=_parse_env(args.env),
            python=args.python,
            start_method=args.start_method,
            fail_fast=args.fail_fast,
            backend=args.backend or ("dask" if args.scheduler else None),
            scheduler=args.scheduler,
            sandbox_policy=args.policy,
            no_sandbox=args.no_sandbox,
            sandbox_overrides={
                "memory_limit_mb": args.memory_limit,
                "cpu_time_limit_s": args.cpu_limit,
                "network": args.allow_network,
                "allow_write": [_absolute(p) for p in args.allow_write],
                "allow_read": [_absolute(p) for p in args.allow_read],
                "block_modules": args.block_module,
            },
        )
    except ValidationError as exc:
        raise ConfigurationError(
            problems_of_options(exc, _OPTIONS), hint="See 'scriptbatch run --help'."
        ) from None

    def warn(rejected: Rejected) -> None:
        print(f"warning: skipped {shown_path(rejected.path)}: {rejected.reason}", file=sys.stderr)

    return _foreground(
        container, args, lambda: container.batch_service().start(request, on_skipped=warn)
    )


def _absolute(path: str) -> str:
    """An --allow-* path made absolute; an empty one stays empty, for the request to refuse."""
    return str(Path(path).expanduser().resolve()) if path.strip() else ""


def _rerun(container: Container, args: argparse.Namespace) -> int:
    return _foreground(
        container,
        args,
        lambda: container.batch_service().rerun(args.batch, failed_only=args.failed),
    )


def _foreground(container: Container, args: argparse.Namespace, start: Any) -> int:
    service = container.batch_service()
    reports = _parse_reports(container, args.report)
    plugins = container.plugin_service()
    progress = _Progress(sys.stderr, enabled=not (args.quiet or args.json))
    unsubscribe = container.event_bus().subscribe(progress.on_event)
    stop_hearing = plugins.subscribe_problems(
        lambda problem: print(
            f"warning: plugin {problem.plugin}: {problem.message}", file=sys.stderr
        )
    )
    try:
        handle: BatchHandle = start()
        progress.begin(handle.total)
        interrupted: int | None = None  # the exit code of a stop by Ctrl-C or a signal
        try:
            with _stop_signals():
                while not handle.wait(0.2):
                    progress.render()
        except KeyboardInterrupt as stop:
            interrupted = _exit_code(stop)
            try:
                with _stop_signals():
                    progress.message(
                        "stopping: killing running scripts… (Ctrl-C again: stop waiting)"
                    )
                    service.cancel(handle.batch_id)
                    while not handle.wait(0.2):
                        progress.render()
            except KeyboardInterrupt:
                _stop_waiting(container, args, handle, interrupted)
        service.wait(handle)
        progress.finish()
        # What plugins do at the end of a batch (an email) finishes before the command does.
        plugins.wait_idle(timeout=container.settings().plugins.hook_timeout_s * 4)
    finally:
        unsubscribe()
        stop_hearing()
    batch, executions = handle.batch, handle.executions
    reports_ok = _write_reports(container, batch.id, reports, quiet=args.quiet)
    if args.json:
        print_json(batch_json(batch, executions))
    elif not args.quiet:
        _print_summary(batch, executions)
    if interrupted is not None:
        return interrupted
    succeeded = all(e.status is ExecutionStatus.SUCCEEDED for e in executions)
    return EXIT_OK if succeeded and reports_ok else EXIT_FAILED


class _Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP while a batch runs: stopped like Ctrl-C, exit code 128 + signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_stopped(signum: int, _frame: object) -> None:
    raise _Stopped(signum)


@contextlib.contextmanager
def _stop_signals() -> Iterator[None]:
    """While a batch runs, ``kill`` (SIGTERM) and a closed terminal (SIGHUP) stop it as
    Ctrl-C does: children killed, their status recorded, the summary printed."""
    names = ("SIGTERM", "SIGHUP")
    kinds = [getattr(signal, name) for name in names if hasattr(signal, name)]
    previous = [signal.signal(kind, _raise_stopped) for kind in kinds]
    try:
        yield
    finally:
        for kind, handler in zip(kinds, previous, strict=True):
            signal.signal(kind, handler)


def _exit_code(stop: KeyboardInterrupt) -> int:
    return 128 + stop.signum if isinstance(stop, _Stopped) else EXIT_INTERRUPTED


def _stop_waiting(
    container: Container, args: argparse.Namespace, handle: BatchHandle, code: int
) -> NoReturn:
    """A second Ctrl-C (or signal): no more waiting for the scripts to end. With ``--json``,
    the batch as stored so far (executions still being stopped show as running; the next
    start marks any that never ended as interrupted). Reports are not written."""
    for kind in (signal.SIGINT, getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)):
        if kind is not None:
            signal.signal(kind, signal.SIG_IGN)  # a third one changes nothing
    print("interrupted: not waiting for the last scripts to end", file=sys.stderr)
    if args.json:
        batch, executions = container.history_service().batch(handle.batch_id)
        print_json(batch_json(batch, executions))
    # Not waiting means not stopping the engine either (that waits for the scripts): what has
    # ended is stored, then the process ends; its scripts die with it (the fork server ends
    # their process groups, as for kill -9 of the app), and the next start-up marks those as
    # interrupted.
    container.result_writer().flush(5.0)
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def _parse_reports(container: Container, specs: list[str]) -> list[tuple[str, Path]]:
    """``--report FORMAT:PATH`` values, checked before the batch starts (the format, and that
    the file can be written), so a typo does not waste a run."""
    reports = []
    for spec in specs:
        fmt, target = parse_output(container, "--report", spec, "report")
        reports.append((fmt, container.report_service().check_target(target)))
    return reports


def _write_reports(
    container: Container, batch_id: str, reports: list[tuple[str, Path]], *, quiet: bool
) -> bool:
    ok = True
    for fmt, target in reports:
        try:
            container.report_service().write_report(batch_id, fmt, target)
            if not quiet:
                print(f"{fmt} report written: {target}", file=sys.stderr)
        except ScriptBatchError as exc:
            print_error(exc)
            ok = False
    return ok


def _read_each_args(path: str) -> list[list[str]]:
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read the --each-args file {path}: {exc.strerror}",
            hint="Give a text file with one line of arguments per run.",
        ) from None
    except UnicodeDecodeError:
        raise ConfigurationError(f"the --each-args file {path} is not UTF-8 text") from None
    lines = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            words = shlex.split(_without_comment(line))
        except ValueError as exc:
            raise ConfigurationError(
                f"{path}, line {number}: {exc}",
                hint='Quote arguments the way a shell would, e.g. "two words".',
            ) from None
        if words:  # blank and comment-only lines are no run; a line of '' is one argument
            lines.append(words)
    return lines


def _without_comment(line: str) -> str:
    """``line`` up to a comment, as a shell reads it: a ``#`` that starts a word outside
    quotes (``a#b`` and ``'#'`` are words; shlex's own comments would cut ``a#b``)."""
    quote, escaped = "", False
    for i, char in enumerate(line):
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def _parse_env(items: list[str]) -> dict[str, str]:
    env = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigurationError(f"--env {item!r} is not KEY=VALUE")
        env[key] = value
    return env


def _print_summary(batch: Batch, executions: list[Execution]) -> None:
    rows = []
    for e in executions:
        script = e.script_path + ("  " + shlex.join(e.args) if e.args else "")
        rows.append(
            [
                e.status.value,
                "-" if e.exit_code is None else e.exit_code,
                e.attempts,
                "-" if e.duration_s is None else f"{e.duration_s:.2f}s",
                human_size(e.memory_peak_bytes),
                script,
                e.error_message if e.error_type is None else f"{e.error_type}: {e.error_message}",
            ]
        )
    print_table(
        ["STATUS", "EXIT", "TRIES", "TIME", "MEMORY", "SCRIPT", "ERROR"],
        rows,
        max_widths={5: 70, 6: 60},
    )
    counts = summary(executions)
    parts = [f"{counts[k]} {k.replace('_', ' ')}" for k in counts if k != "total" and counts[k]]
    elapsed = (
        (batch.finished_at - batch.started_at).total_seconds()
        if batch.finished_at and batch.started_at
        else 0.0
    )
    print(
        f"\nbatch {batch.id} {batch.status.value}: {counts['total']} executions, "
        f"{', '.join(parts) or 'none run'} in {elapsed:.1f} s"
    )


class _Progress:
    """Counts finished executions from bus events; draws on stderr from the main thread."""

    def __init__(self, stream: TextIO, *, enabled: bool) -> None:
        self._stream = stream
        self._enabled = enabled
        self._tty = enabled and stream.isatty()
        self._lock = threading.Lock()
        self._total = 0
        self._done = 0
        self._failed = 0
        self._running: set[str] = set()
        self._started = time.monotonic()
        self._last_line = ""
        self._last_print = 0.0

    def begin(self, total: int) -> None:
        self._total = total
        self._started = time.monotonic()

    def on_event(self, event: Event) -> None:
        with self._lock:
            if isinstance(event, ExecutionStarted):
                self._running.add(event.execution_id)
            elif isinstance(event, ExecutionFinished):
                self._running.discard(event.execution.id)
                self._done += 1
                if event.execution.status not in (
                    ExecutionStatus.SUCCEEDED,
                    ExecutionStatus.CANCELLED,
                ):
                    self._failed += 1

    def message(self, text: str) -> None:
        if self._enabled:
            self._clear()
            print(text, file=self._stream, flush=True)

    def render(self, *, final: bool = False) -> None:
        if not self._enabled:
            return
        with self._lock:
            done, running, failed = self._done, len(self._running), self._failed
        elapsed = time.monotonic() - self._started
        clock = f"{int(elapsed // 60):02d}:{int(elapsed % 60):02d}"
        counts = f"{done}/{self._total}  running {running}  failed {failed}  {clock}"
        if self._tty:
            width = 24
            filled = int(width * done / self._total) if self._total else width
            bar = "#" * filled + "-" * (width - filled)
            self._stream.write(f"\r[{bar}] {counts}  ")
            if final:
                self._stream.write("\n")
            self._stream.flush()
            return
        line = f"progress: {done}/{self._total} done, {running} running, {failed} failed"
        now = time.monotonic()
        if final or (line != self._last_line and now - self._last_print >= 1.0):
            print(f"{line}, {clock} elapsed", file=self._stream, flush=True)
            self._last_line, self._last_print = line, now

    def finish(self) -> None:
        self.render(final=True)

    def _clear(self) -> None:
        if self._tty:
            self._stream.write("\r\033[K")
