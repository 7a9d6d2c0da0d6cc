"""Built-in plugin: a batch as one self-contained HTML file.

The file has no external assets and no JavaScript, so it can be mailed, archived or opened
offline as it is. Everything taken from the batch is autoescaped by Jinja: script output is
untrusted text.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import AppCode
from AppCode.core.domain.models import Execution, ExecutionStatus
from AppCode.services.plugin_spec import OUTPUT_TAIL_LINES, BatchReport, PluginInfo, hookimpl

FORMAT = "html"
TEMPLATE = "report.html.j2"
NONE = "—"  # shown for any value the history does not have
MAX_BARS = 50  # a chart of hundreds of bars is unreadable; the table lists them all
MAX_LINE_CHARS = 2000  # one output line of megabytes would swamp the page
MAX_LABEL_CHARS = 48

# Bar chart geometry, in SVG user units (the SVG scales to the page width).
CHART_WIDTH = 900
LABEL_WIDTH = 330
VALUE_WIDTH = 110
BAR_AREA = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH
ROW_HEIGHT = 22
AXIS_HEIGHT = 24

STATUS_COLOURS: dict[ExecutionStatus, str] = {
    ExecutionStatus.PENDING: "#90a4ae",
    ExecutionStatus.RUNNING: "#1565c0",
    ExecutionStatus.SUCCEEDED: "#2e7d32",
    ExecutionStatus.FAILED: "#c62828",
    ExecutionStatus.TIMED_OUT: "#ef6c00",
    ExecutionStatus.BLOCKED: "#6a1b9a",
    ExecutionStatus.CANCELLED: "#757575",
    ExecutionStatus.INTERRUPTED: "#ad1457",
}


@hookimpl
def plugin_info() -> PluginInfo:
    return PluginInfo(
        name="html_report",
        version=AppCode.__version__,
        description="Self-contained HTML report of a batch",
        author="ScriptBatch",
        formats=(FORMAT,),
    )


@hookimpl
def generate_report(batch: BatchReport, format: str) -> bytes | None:
    """``batch`` as UTF-8 HTML, or None for any format other than html."""
    if format != FORMAT:
        return None
    return render(batch).encode("utf-8")


def render(report: BatchReport) -> str:
    """The report's HTML text; separate from the hook so that it can be previewed and tested."""
    durations = [e.duration_s for e in report.executions if e.duration_s is not None]
    counts = report.counts()
    context = {
        "batch_id": report.batch.id,
        "batch_status": report.batch.status.value,
        "note": report.batch.note,
        "created_by": report.batch.created_by or NONE,
        "counts": [
            {"status": status, "count": count, "colour": STATUS_COLOURS[ExecutionStatus(status)]}
            for status, count in counts.items()
        ],
        "total": len(report.executions),
        "wall": format_seconds(report.wall_s),
        "duration_sum": format_seconds(sum(durations) if durations else None),
        "jobs": report.batch.options.jobs,
        "started": format_time(report.batch.started_at),
        "finished": format_time(report.batch.finished_at),
        "app_version": report.app_version,
        "generated_at": format_time(report.generated_at),
        "chart": _chart(report.executions),
        "rows": [_row(e) for e in report.executions],
        "failures": [_failure(e, report.output_tails.get(e.id, ())) for e in report.failures()],
        "tail_lines": OUTPUT_TAIL_LINES,
    }
    return _environment().get_template(TEMPLATE).render(context)


if TYPE_CHECKING:
    from jinja2 import Environment


@cache
def _environment() -> Environment:
    """One Jinja environment, built on first use: templates are compiled once. (Jinja is
    imported here, not when the plugin loads at every start of the app.)"""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(
        loader=FileSystemLoader(Path(__file__).parent),
        autoescape=True,
        undefined=StrictUndefined,  # a misspelt name in the template fails loudly
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass(frozen=True)
class _Bar:
    y: int
    width: float
    colour: str
    label: str
    title: str
    value: str


@dataclass(frozen=True)
class _Tick:
    x: float
    label: str


def _chart(executions: tuple[Execution, ...]) -> dict[str, object]:
    """Bars of the longest executions, scaled here so that the template only places them."""
    ordered = sorted(executions, key=lambda e: e.duration_s or 0.0, reverse=True)
    shown = ordered[:MAX_BARS]
    longest = max((e.duration_s or 0.0 for e in shown), default=0.0)
    scale = BAR_AREA / longest if longest > 0 else 0.0
    bars = []
    for index, execution in enumerate(shown):
        seconds = execution.duration_s or 0.0
        title = f"#{execution.sequence} {execution.script_path}: {execution.status.value}"
        bars.append(
            _Bar(
                y=index * ROW_HEIGHT,
                width=round(max(seconds * scale, 1.0 if seconds > 0 else 0.0), 1),
                colour=STATUS_COLOURS[execution.status],
                label=_shorten(f"#{execution.sequence} {execution.script_path}"),
                title=f"{title}, {format_seconds(execution.duration_s)}",
                value=format_seconds(execution.duration_s),
            )
        )
    fractions = (0.0, 0.5, 1.0) if longest > 0 else ()
    ticks = [_Tick(LABEL_WIDTH + BAR_AREA * f, format_seconds(longest * f)) for f in fractions]
    return {
        "bars": bars,
        "ticks": ticks,
        "hidden": len(ordered) - len(shown),
        "width": CHART_WIDTH,
        "height": len(bars) * ROW_HEIGHT + AXIS_HEIGHT,
        "label_width": LABEL_WIDTH,
        "bar_area": BAR_AREA,
        "row_height": ROW_HEIGHT,
        "axis_y": len(bars) * ROW_HEIGHT,
    }


def _row(execution: Execution) -> dict[str, object]:
    return {
        "sequence": execution.sequence,
        "script": execution.script_path,
        "args": join_args(execution.args) or NONE,
        "status": execution.status.value,
        "colour": STATUS_COLOURS[execution.status],
        "failed": execution.status is not ExecutionStatus.SUCCEEDED,
        "exit_code": NONE if execution.exit_code is None else execution.exit_code,
        "attempts": execution.attempts,
        "duration": format_seconds(execution.duration_s),
        "cpu": NONE if execution.cpu_s is None else f"{execution.cpu_s:.2f}",
        "memory": format_bytes(execution.memory_peak_bytes),
        "error": _error(execution),
    }


def _failure(execution: Execution, tail: tuple[str, ...]) -> dict[str, object]:
    lines = [_clip(line) for line in tail[-OUTPUT_TAIL_LINES:]]
    return {
        "sequence": execution.sequence,
        "script": execution.script_path,
        "status": execution.status.value,
        "colour": STATUS_COLOURS[execution.status],
        "exit_code": NONE if execution.exit_code is None else execution.exit_code,
        "error": _error(execution),
        "output": "\n".join(lines),
    }


def _error(execution: Execution) -> str:
    parts = [p for p in (execution.error_type, execution.error_message) if p]
    return ": ".join(parts) or NONE


def _clip(line: str) -> str:
    line = line.rstrip("\r\n")
    if len(line) <= MAX_LINE_CHARS:
        return line
    return f"{line[:MAX_LINE_CHARS]}… ({len(line) - MAX_LINE_CHARS} more characters)"


def _shorten(text: str) -> str:
    """Keep the end of a long label: the file name says more than the folders above it."""
    if len(text) <= MAX_LABEL_CHARS:
        return text
    return "…" + text[-(MAX_LABEL_CHARS - 1) :]


def join_args(args: tuple[str, ...]) -> str:
    """Arguments as a command line, quoted only where needed (shlex.join would quote any
    non-ASCII argument, which makes Chinese arguments unreadable)."""
    return " ".join(
        shlex.quote(a) if not a or any(c.isspace() or c in "'\"\\$`" for c in a) else a
        for a in args
    )


def format_time(value: datetime | None) -> str:
    """UTC, to the second: the history stores UTC and readers may be anywhere."""
    if value is None:
        return NONE
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def format_seconds(value: float | None) -> str:
    if value is None:
        return NONE
    if value < 60:
        return f"{value:.2f} s"
    whole = round(value)
    hours, rest = divmod(whole, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {seconds:02d} s"
    return f"{minutes} min {seconds:02d} s"


def format_bytes(value: int | None) -> str:
    if value is None:
        return NONE
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(size) < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"
