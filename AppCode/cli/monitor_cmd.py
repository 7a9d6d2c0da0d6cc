"""``scriptbatch metrics`` and ``scriptbatch analyze``: stored samples and the analyzer."""

from __future__ import annotations

import argparse
import os

from AppCode.cli.output import human_size, print_json, print_table, printable, require_value
from AppCode.container import Container
from AppCode.core.domain.errors import ConfigurationError
from AppCode.services.json_shapes import finding_json, metric_json
from AppCode.utils.timeparse import parse_since


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    metrics = commands.add_parser(
        "metrics",
        parents=[common],
        help="stored system samples (CPU, memory, disk, script processes)",
        description="Print the performance samples stored while batches ran: every sample of "
        "the last hour, one-minute aggregates before that.",
    )
    metrics.add_argument(
        "--since",
        default="10m",
        metavar="WHEN",
        help="from then on: 10m, 12h, 7d or a date (default 10m)",
    )
    metrics.add_argument("--json", action="store_true", help="print a JSON list")
    metrics.set_defaults(handler=_metrics)

    analyze = commands.add_parser(
        "analyze",
        parents=[common],
        help="slow, failing, memory-hungry and regressing scripts; batch bottlenecks",
        description="Look through the run history for the slowest, most memory-hungry and most "
        "failing scripts and for scripts that became slower; with --batch, also why that batch "
        "was slow (CPU saturated, memory pressure, I/O bound).",
    )
    analyze.add_argument("--batch", metavar="ID", help="also analyse this batch (id or prefix)")
    analyze.add_argument("--json", action="store_true", help='print {"findings": [...]}')
    analyze.set_defaults(handler=_analyze)


def _metrics(container: Container, args: argparse.Namespace) -> int:
    require_value("--since", args.since, "For example: --since 12h, or leave it out for 10m.")
    try:
        since = parse_since(args.since)
    except ValueError as exc:
        raise ConfigurationError(f"--since: {exc}") from None
    samples = container.monitoring_service().metrics(since=since)
    if args.json:
        print_json([metric_json(s) for s in samples])
        return 0
    if not samples:
        print("no samples stored since then (samples are taken while batches run)")
        return 0
    print_table(
        ["TIME", "CPU %", "MEMORY", "MEM %", "DISK READ/S", "DISK WRITE/S", "SCRIPT PROCS"],
        [
            [
                s.at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
                + ("" if s.resolution_s == 1 else f" ({s.resolution_s}s)"),
                "-" if s.cpu_percent is None else f"{s.cpu_percent:.0f}",
                human_size(s.memory_used_bytes),
                "-" if s.memory_percent is None else f"{s.memory_percent:.0f}",
                human_size(s.disk_read_bytes_per_s),
                human_size(s.disk_write_bytes_per_s),
                "-" if s.script_processes is None else s.script_processes,
            ]
            for s in samples
        ],
    )
    return 0


def _analyze(container: Container, args: argparse.Namespace) -> int:
    require_value("--batch", args.batch, "Give a batch id (or a prefix), or leave --batch out.")
    findings = container.monitoring_service().findings(args.batch)
    if args.json:
        print_json({"findings": [finding_json(f) for f in findings]})
        return 0
    if not findings:
        print("nothing stands out in the history")
        return 0
    for finding in findings:
        where = f" {os.path.basename(finding.script)}" if finding.script else ""
        print(printable(f"[{finding.kind}]{where}: {finding.message}"))
    return 0
