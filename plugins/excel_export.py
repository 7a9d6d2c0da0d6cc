"""Built-in plugin: Excel workbooks of a batch (report) and of history queries (export).

Cells hold real types (int, float, datetime) so that people can sort, filter and chart in
Excel without converting text first.
"""

from __future__ import annotations

import io
import re
import shlex
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import AppCode
from AppCode.core.domain.models import Execution, MetricSample
from AppCode.services.plugin_spec import BatchReport, ExportQuery, PluginInfo, hookimpl

FORMAT = "xlsx"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DECIMAL_FORMAT = "0.00"
MAX_WIDTH = 60
MIN_WIDTH = 8
MAX_CELL_CHARS = 32767  # Excel's limit; longer text makes it "repair" the file
HEADER_COLOUR = "DDEBF7"

if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

# openpyxl (with numpy behind it) takes ~0.3 s to import: it is imported when a workbook is made,
# not when the plugin is loaded at every start of the app.

Value = str | int | float | datetime | None

EXECUTION_HEADERS = (
    "Sequence",
    "Script",
    "Arguments",
    "Status",
    "Exit code",
    "Attempts",
    "Started at (UTC)",
    "Finished at (UTC)",
    "Duration s",
    "CPU s",
    "Peak memory MiB",
    "Error type",
    "Error message",
    "Worker",
)
METRIC_HEADERS = (
    "At (UTC)",
    "CPU %",
    "Memory used bytes",
    "Memory %",
    "Swap used bytes",
    "Disk read B/s",
    "Disk write B/s",
    "Script processes",
)
FAILURE_HEADERS = (
    "Sequence",
    "Script",
    "Status",
    "Exit code",
    "Error type",
    "Error message",
    "Last output",
)


@hookimpl
def plugin_info() -> PluginInfo:
    return PluginInfo(
        name="excel_export",
        version=AppCode.__version__,
        description="Excel workbooks of batches and history",
        author="ScriptBatch",
        formats=(FORMAT,),
    )


@hookimpl
def generate_report(batch: BatchReport, format: str) -> bytes | None:
    """``batch`` as a workbook (Summary, Executions, Metrics, Failures), or None when the
    format is not xlsx."""
    if format != FORMAT:
        return None
    from openpyxl import Workbook

    workbook = Workbook()
    summary = workbook.active
    assert summary is not None  # a new workbook always has one sheet
    summary.title = "Summary"
    _fill(summary, ("Key", "Value"), _summary_rows(batch))
    _fill(
        workbook.create_sheet("Executions"),
        EXECUTION_HEADERS,
        execution_rows(batch.executions),
    )
    _fill(workbook.create_sheet("Metrics"), METRIC_HEADERS, _metric_rows(batch.samples))
    _fill(
        workbook.create_sheet("Failures"),
        FAILURE_HEADERS,
        _failure_rows(batch),
        wrapped=("Error message", "Last output"),
    )
    return _save(workbook)


@hookimpl
def export_data(query: ExportQuery, format: str) -> bytes | None:
    """``query``'s executions as a workbook (Executions, Query), or None when the format is
    not xlsx."""
    if format != FORMAT:
        return None
    from openpyxl import Workbook

    workbook = Workbook()
    executions = workbook.active
    assert executions is not None
    executions.title = "Executions"
    _fill(
        executions,
        ("Batch", *EXECUTION_HEADERS),
        execution_rows(query.executions, with_batch=True),
    )
    _fill(
        workbook.create_sheet("Query"),
        ("Key", "Value"),
        [
            ("Title", query.title),
            ("Description", query.description),
            ("Exported rows", len(query.executions)),
        ],
    )
    return _save(workbook)


def execution_rows(
    executions: Iterable[Execution], with_batch: bool = False
) -> list[tuple[Value, ...]]:
    """One row per execution, in EXECUTION_HEADERS order (with the batch id first when asked);
    shared by the report and the export so that both sheets read the same."""
    rows = []
    for e in executions:
        row: tuple[Value, ...] = (
            e.sequence,
            e.script_path,
            _join_args(e.args) or None,
            e.status.value,
            e.exit_code,
            e.attempts,
            e.started_at,
            e.finished_at,
            e.duration_s,
            e.cpu_s,
            None if e.memory_peak_bytes is None else e.memory_peak_bytes / 2**20,
            e.error_type,
            e.error_message,
            e.worker,
        )
        rows.append((e.batch_id, *row) if with_batch else row)
    return rows


def _summary_rows(report: BatchReport) -> list[tuple[Value, ...]]:
    batch = report.batch
    durations = [e.duration_s for e in report.executions if e.duration_s is not None]
    rows: list[tuple[Value, ...]] = [
        ("Batch", batch.id),
        ("Status", batch.status.value),
        ("Note", batch.note),
        ("Started by", batch.created_by),
        ("Started at (UTC)", batch.started_at),
        ("Finished at (UTC)", batch.finished_at),
        ("Wall time s", report.wall_s),
        ("Sum of script durations s", sum(durations) if durations else None),
        ("Parallel jobs", batch.options.jobs),
        ("Executions", len(report.executions)),
    ]
    rows += [(f"Executions {status}", count) for status, count in report.counts().items()]
    rows += [
        ("App version", report.app_version),
        ("Generated at (UTC)", report.generated_at),
    ]
    return rows


def _metric_rows(samples: Iterable[MetricSample]) -> list[tuple[Value, ...]]:
    """System samples only: a row with an execution id is one script's process tree."""
    return [
        (
            s.at,
            s.cpu_percent,
            s.memory_used_bytes,
            s.memory_percent,
            s.swap_used_bytes,
            s.disk_read_bytes_per_s,
            s.disk_write_bytes_per_s,
            s.script_processes,
        )
        for s in samples
        if s.execution_id is None
    ]


def _failure_rows(report: BatchReport) -> list[tuple[Value, ...]]:
    rows: list[tuple[Value, ...]] = []
    for e in report.failures():
        tail = "\n".join(line.rstrip("\r\n") for line in report.output_tails.get(e.id, ()))
        rows.append(
            (
                e.sequence,
                e.script_path,
                e.status.value,
                e.exit_code,
                e.error_type,
                e.error_message,
                # Keep the end: the last lines are the ones that explain the failure.
                tail[-MAX_CELL_CHARS:] or None,
            )
        )
    return rows


def _fill(
    sheet: Worksheet,
    headers: Sequence[str],
    rows: Sequence[Sequence[Value]],
    wrapped: Sequence[str] = (),
) -> None:
    """Write a header and rows, then make the sheet usable: styled frozen header, filter,
    number formats, fitted widths."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    header_font, wrap = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    header_fill = PatternFill(fill_type="solid", fgColor=HEADER_COLOUR)
    widths = [max(MIN_WIDTH, len(h) + 2) for h in headers]
    wrap_at = {headers.index(name) for name in wrapped}
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = header_font
        cell.fill = header_fill
    for row_number, row in enumerate(rows, start=2):
        for index, value in enumerate(row):
            cell = sheet.cell(row=row_number, column=index + 1)
            cell.value = _cell_value(value, ILLEGAL_CHARACTERS_RE)
            if isinstance(value, str):
                cell.data_type = "s"  # text starting with "=" is data, never a formula
            elif isinstance(value, datetime):
                cell.number_format = DATETIME_FORMAT
            elif isinstance(value, float):
                cell.number_format = DECIMAL_FORMAT
            if index in wrap_at:
                cell.alignment = wrap
            widths[index] = max(widths[index], _display_width(value) + 2)
    last_column = get_column_letter(len(headers))
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{last_column}{len(rows) + 1}"
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(width, MAX_WIDTH)


def _cell_value(value: Value, illegal: re.Pattern[str]) -> Any:
    """What openpyxl can store: naive UTC datetimes (Excel has no time zones) and text without
    the control characters it refuses."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value
    if isinstance(value, str):
        return illegal.sub("", value)[:MAX_CELL_CHARS]
    return value


def _display_width(value: Value) -> int:
    """Roughly how many characters wide a value shows; CJK characters take two."""
    if value is None:
        return 0
    if isinstance(value, datetime):
        return len("yyyy-mm-dd hh:mm:ss")
    if isinstance(value, float):
        return len(f"{value:.2f}")
    lines = str(value).splitlines()
    # The width is capped at MAX_WIDTH, so no line needs measuring further than that.
    return max((sum(_char_width(c) for c in line[:MAX_WIDTH]) for line in lines), default=0)


def _char_width(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


def _join_args(args: tuple[str, ...]) -> str:
    """Arguments as a command line, quoted only where needed (shlex.join would also quote
    every non-ASCII argument)."""
    return " ".join(
        shlex.quote(a) if not a or any(c.isspace() or c in "'\"\\$`" for c in a) else a
        for a in args
    )


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
