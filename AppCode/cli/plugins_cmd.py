"""``scriptbatch plugins list|enable|disable`` and ``scriptbatch report``."""

from __future__ import annotations

import argparse
from pathlib import Path

from AppCode.cli.output import display_width, print_json, print_table
from AppCode.container import Container
from AppCode.core.domain.errors import ConfigurationError
from AppCode.services.json_shapes import plugin_json

_TEXT_WIDTH = 70  # of the DESCRIPTION / ERROR column of `plugins list`


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    plugins = commands.add_parser(
        "plugins",
        help="list, enable and disable plugins",
        description="Plugins are found among the built-ins, installed packages (entry points "
        "'scriptbatch.plugins') and <data-dir>/plugins/. See docs/plugins.md.",
    )
    sub = plugins.add_subparsers(dest="plugins_command", metavar="ACTION", required=True)
    lst = sub.add_parser("list", parents=[common], help="every plugin found, with its state")
    lst.add_argument("--json", action="store_true", help="print a JSON list")
    lst.set_defaults(handler=_list)
    for action, handler, text in (
        ("enable", _enable, "switch a plugin on (also clears an error and reloads it)"),
        ("disable", _disable, "switch a plugin off"),
    ):
        command = sub.add_parser(action, parents=[common], help=text)
        command.add_argument("name", metavar="NAME")
        command.set_defaults(handler=handler)

    report = commands.add_parser(
        "report",
        parents=[common],
        help="write a batch's report (html, xlsx, ...)",
        description="Write the report of a past batch with the plugin that makes the format.",
    )
    report.add_argument("batch", metavar="BATCH_ID", help="batch id (or a unique prefix)")
    report.add_argument(
        "--format", required=True, metavar="FORMAT", help="html, xlsx, or a plugin's format"
    )
    report.add_argument("--output", "-o", required=True, metavar="PATH", help="file to write")
    report.set_defaults(handler=_report)


def _list(container: Container, args: argparse.Namespace) -> int:
    plugins = container.plugin_service().list()
    if args.json:
        print_json([plugin_json(p) for p in plugins])
        return 0
    print_table(
        ["NAME", "STATE", "VERSION", "FORMATS", "SOURCE", "DESCRIPTION / ERROR"],
        [
            [
                p.name,
                p.state,
                p.info.version if p.info else "-",
                ",".join(p.info.formats) if p.info else "",
                p.source,
                p.error or (p.info.description if p.info else ""),
            ]
            for p in plugins
        ],
        max_widths={4: 40, 5: _TEXT_WIDTH},
    )
    for p in plugins:
        if p.error and display_width(p.error) > _TEXT_WIDTH:
            print(f"{p.name}: {p.error}")  # the whole reason, which the table cut short
        if p.last_problem:
            print(f"{p.name}: last problem: {p.last_problem}")
    return 0


def _enable(container: Container, args: argparse.Namespace) -> int:
    container.plugin_service().enable(args.name)
    print(f"plugin {args.name} enabled")
    return 0


def _disable(container: Container, args: argparse.Namespace) -> int:
    container.plugin_service().disable(args.name)
    print(f"plugin {args.name} disabled")
    return 0


def _report(container: Container, args: argparse.Namespace) -> int:
    fmt = check_format(container, args.format)
    path = container.report_service().write_report(args.batch, fmt, args.output)
    print(f"{fmt} report written: {path}")
    return 0


def check_format(container: Container, fmt: str, kind: str = "report") -> str:
    """The format in lower case if an enabled plugin makes it (``kind`` "report" or
    "export"); else a usage error."""
    available = container.plugin_service().formats(kind)
    fmt = fmt.strip().lower()
    if fmt not in available:
        raise ConfigurationError(
            f"no enabled plugin makes {fmt!r} {kind}s",
            hint=f"Formats available: {', '.join(sorted(available)) or 'none'}. "
            "`scriptbatch plugins list` shows the plugins and their state.",
        )
    return fmt


def parse_output(container: Container, option: str, spec: str, kind: str) -> tuple[str, Path]:
    """A ``FORMAT:PATH`` option value, checked before any work is done: an enabled plugin
    makes the format and the file can be written there (``ReportService.check_target``)."""
    fmt, sep, path = spec.partition(":")
    if not sep or not fmt.strip() or not path.strip():
        raise ConfigurationError(
            f"{option} {spec!r} is not FORMAT:PATH", hint=f"For example: {option} html:out.html"
        )
    try:
        target = container.report_service().check_target(path)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{option} {spec!r}: {exc.message}", hint=exc.hint) from None
    return check_format(container, fmt, kind), target
