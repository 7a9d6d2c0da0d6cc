"""``scriptbatch history``, ``history prune`` and ``show``: past runs."""

from __future__ import annotations

import argparse
import shlex
import sys

from AppCode.cli.output import (
    MAX_LIMIT,
    human_size,
    print_error,
    print_json,
    print_table,
    printable,
    require_range,
    require_value,
)
from AppCode.cli.plugins_cmd import parse_output
from AppCode.container import Container
from AppCode.core.domain.errors import ConfigurationError, NotFoundError
from AppCode.core.domain.models import ExecutionStatus
from AppCode.core.domain.ports import ExecutionFilter
from AppCode.core.managers.script_manager import absolute
from AppCode.services.json_shapes import attempt_json, execution_json, iso
from AppCode.utils.timeparse import parse_duration, parse_since

_STATUSES = [s.value for s in ExecutionStatus]


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    history = commands.add_parser(
        "history",
        parents=[common],
        help="list past executions (or prune old ones)",
        description="List past executions, newest first.",
    )
    history.add_argument("--script", metavar="PATH", help="only runs of this script")
    history.add_argument(
        "--status",
        action="append",
        default=[],
        metavar="S",
        help=f"only these statuses (repeat, or comma-separated): {', '.join(_STATUSES)}",
    )
    history.add_argument("--batch", metavar="ID", help="only this batch (id or unique prefix)")
    history.add_argument("--since", metavar="WHEN", help="only since then: 10m, 12h, 7d or a date")
    history.add_argument(
        "--limit", type=int, default=50, metavar="N", help=f"at most N, 1-{MAX_LIMIT} (50)"
    )
    history.add_argument("--json", action="store_true", help="print a JSON list")
    history.add_argument(
        "--export",
        metavar="FORMAT:PATH",
        help="write every matching execution (no --limit) to a file, e.g. xlsx:history.xlsx",
    )
    history.set_defaults(handler=_history)
    sub = history.add_subparsers(dest="history_command", metavar="ACTION")
    prune = sub.add_parser(
        "prune",
        parents=[common],
        help="delete old executions and their logs",
        description="Delete executions older than AGE, with their log files. Only finished "
        "batches are pruned: a batch still running keeps all its executions.",
    )
    prune.add_argument(
        "--older-than",
        metavar="AGE",
        help="e.g. 90d, 12h (default: [history] retention_days, else 90d)",
    )
    prune.set_defaults(handler=_prune)

    show = commands.add_parser(
        "show",
        parents=[common],
        help="one execution in detail",
        description="Show one execution: status, timings, attempts, and with --log its output.",
    )
    show.add_argument("execution", metavar="EXECUTION_ID", help="id or a unique prefix")
    show.add_argument(
        "--log",
        action="store_true",
        help="print its output (stdout to stdout, stderr to stderr); exit 1 if the log is gone",
    )
    show.add_argument("--json", action="store_true", help="print it as JSON")
    show.set_defaults(handler=_show)


def _history(container: Container, args: argparse.Namespace) -> int:
    statuses = []
    for item in args.status:
        for name in item.split(","):
            if name.strip() not in _STATUSES:
                raise ConfigurationError(
                    f"unknown status {name.strip()!r}", hint=f"Use one of: {', '.join(_STATUSES)}."
                )
            statuses.append(ExecutionStatus(name.strip()))
    require_range("--limit", args.limit, 1, MAX_LIMIT)
    require_value("--script", args.script, "Give a script's path, or leave --script out.")
    require_value("--batch", args.batch, "Give a batch id (or a prefix), or leave --batch out.")
    require_value("--since", args.since, "For example: --since 12h, or --since 2026-11-01.")
    require_value("--export", args.export, "For example: --export xlsx:history.xlsx")
    export = parse_output(container, "--export", args.export, "export") if args.export else None
    history = container.history_service()
    batch_id = history.find_batch(args.batch).id if args.batch is not None else None
    try:
        since = parse_since(args.since) if args.since is not None else None
    except ValueError as exc:
        raise ConfigurationError(f"--since: {exc}") from None
    where = ExecutionFilter(
        script_path=absolute(args.script) if args.script is not None else None,
        statuses=tuple(statuses),
        batch_id=batch_id,
        since=since,
    )
    if export:
        words = [
            f"{name} {value}"
            for name, value in (
                ("script", args.script),
                ("status", ",".join(s.value for s in statuses)),
                ("batch", batch_id),
                ("since", args.since),
            )
            if value
        ]
        path, count = container.report_service().export(
            where, export[0], export[1], description=", ".join(words) or "all executions"
        )
        print(f"{count} executions written to {path}")
        return 0
    executions = history.executions(where, limit=args.limit)
    if args.json:
        print_json([execution_json(e) for e in executions])
        return 0
    if not executions:
        print("no executions match")
        return 0
    print_table(
        ["ID", "STARTED", "STATUS", "EXIT", "TIME", "SCRIPT"],
        [
            [
                e.id,
                e.started_at.astimezone().strftime("%Y-%m-%d %H:%M:%S") if e.started_at else "-",
                e.status.value,
                "-" if e.exit_code is None else e.exit_code,
                "-" if e.duration_s is None else f"{e.duration_s:.2f}s",
                e.script_path + ("  " + shlex.join(e.args) if e.args else ""),
            ]
            for e in executions
        ],
        max_widths={5: 90},
    )
    return 0


def _prune(container: Container, args: argparse.Namespace) -> int:
    require_value("--older-than", args.older_than, "For example: --older-than 90d")
    if args.older_than is not None:
        try:
            age = parse_duration(args.older_than)
        except ValueError as exc:
            raise ConfigurationError(f"--older-than: {exc}") from None
    else:
        days = container.settings().history.retention_days or 90
        age = parse_duration(f"{days}d")
    report = container.batch_service().prune(age)
    container.history_service().forget_cached()
    print(f"deleted {report.executions} executions and {report.log_files} log files")
    return 0


def _show(container: Container, args: argparse.Namespace) -> int:
    history = container.history_service()
    execution = history.execution(args.execution)
    if args.log:
        try:
            chunks = list(history.output(execution))  # read here: writing fails otherwise
        except NotFoundError as exc:  # the execution is there, its log file is not
            print_error(exc)
            return 1
        except OSError as exc:  # it is there but cannot be read (permissions, a folder)
            print_error(
                NotFoundError(
                    f"the output of execution {execution.id} cannot be read from "
                    f"{execution.log_path}: {exc.strerror or exc}",
                    hint="Check that this user may read the file.",
                )
            )
            return 1
        out, err = sys.stdout.buffer, sys.stderr.buffer
        sys.stdout.flush()
        for stream, data in chunks:
            target = err if stream == "stderr" else out
            target.write(data)
            target.flush()
        return 0
    if args.json:
        shape = execution_json(execution)
        shape["attempt_list"] = [attempt_json(a) for a in history.attempts(execution.id)]
        print_json(shape)
        return 0
    fields = [
        ("execution", execution.id),
        ("batch", execution.batch_id),
        ("script", execution.script_path),
        ("arguments", shlex.join(execution.args) if execution.args else "(none)"),
        ("status", execution.status.value),
        ("exit code", "-" if execution.exit_code is None else str(execution.exit_code)),
        ("started", iso(execution.started_at) or "-"),
        ("finished", iso(execution.finished_at) or "-"),
        ("duration", "-" if execution.duration_s is None else f"{execution.duration_s:.3f} s"),
        ("cpu time", "-" if execution.cpu_s is None else f"{execution.cpu_s:.3f} s"),
        ("peak memory", human_size(execution.memory_peak_bytes)),
        ("output", human_size(execution.output_bytes)),
        ("log", execution.log_path or "-"),
    ]
    if execution.error_type or execution.error_message:
        fields.append(("error", f"{execution.error_type or ''}: {execution.error_message or ''}"))
    width = max(len(name) for name, _ in fields)
    for name, value in fields:
        print(f"{name.ljust(width)}  {printable(value)}")
    attempts = history.attempts(execution.id)
    if len(attempts) > 1:
        print()
        print_table(
            ["ATTEMPT", "STATUS", "EXIT", "TIME", "ERROR"],
            [
                [
                    a.number,
                    a.status.value,
                    "-" if a.exit_code is None else a.exit_code,
                    "-" if a.duration_s is None else f"{a.duration_s:.2f}s",
                    a.error_message or "",
                ]
                for a in attempts
            ],
        )
    return 0
