"""The built-in report plugins: the HTML report is safe and self-contained, the workbooks hold
real types. No Qt, no database: reports are built from domain objects."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook

from AppCode.core.domain.models import (
    Batch,
    BatchStatus,
    Execution,
    ExecutionStatus,
    MetricSample,
    RunOptions,
)
from AppCode.services.plugin_spec import BatchReport, ExportQuery
from plugins import excel_export, html_report

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
XSS = "<script>alert(1)</script>"
VOID_TAGS = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source"}


def _execution(sequence: int, path: str, status: ExecutionStatus, **fields: object) -> Execution:
    return Execution(
        id=f"e{sequence}",
        batch_id="b1",
        sequence=sequence,
        script_path=path,
        status=status,
        **fields,  # type: ignore[arg-type]
    )


def _report(executions: tuple[Execution, ...] | None = None) -> BatchReport:
    if executions is None:
        executions = (
            _execution(
                1,
                "scripts/ok.py",
                ExecutionStatus.SUCCEEDED,
                args=("--n", "1"),
                exit_code=0,
                attempts=1,
                started_at=T0,
                finished_at=T0 + timedelta(seconds=2.5),
                duration_s=2.5,
                cpu_s=1.25,
                memory_peak_bytes=50 * 2**20,
                worker="local-1",
            ),
            _execution(
                2,
                "scripts/数据处理.py",
                ExecutionStatus.FAILED,
                args=("输入 文件.csv",),
                exit_code=1,
                attempts=2,
                started_at=T0,
                finished_at=T0 + timedelta(seconds=75),
                duration_s=75.0,
                cpu_s=3.0,
                memory_peak_bytes=123456,
                error_type="ValueError",
                error_message="bad <value> & more",
            ),
            _execution(
                3,
                "scripts/slow.py",
                ExecutionStatus.TIMED_OUT,
                attempts=1,
                started_at=T0,
                duration_s=30.0,
                error_type="Timeout",
            ),
            _execution(4, "scripts/blocked.py", ExecutionStatus.BLOCKED),
            _execution(
                5,
                "scripts/formula.py",
                ExecutionStatus.FAILED,
                exit_code=2,
                attempts=1,
                duration_s=0.5,
                error_message="=1+1",
            ),
        )
    batch = Batch(
        id="b1",
        options=RunOptions(jobs=4),
        status=BatchStatus.FAILED,
        started_at=T0,
        finished_at=T0 + timedelta(seconds=80),
    )
    samples = (
        MetricSample(
            at=T0,
            cpu_percent=12.5,
            memory_used_bytes=2**30,
            memory_percent=40.0,
            swap_used_bytes=0,
            disk_read_bytes_per_s=1024.0,
            disk_write_bytes_per_s=2048.0,
            script_processes=3,
        ),
        MetricSample(at=T0 + timedelta(seconds=1)),  # psutil could read nothing
        MetricSample(at=T0, rss_bytes=1000, execution_id="e1"),  # a script's, not the system's
    )
    tails = {
        "e2": ("Traceback (most recent call last):", f"print({XSS})", "a & b", "ValueError: 数据"),
        "e3": ("x" * 10_000,),
        "e5": ("bell\x07 rings",),
    }
    return BatchReport(
        batch=batch,
        executions=executions,
        output_tails=tails,
        samples=samples,
        generated_at=T0 + timedelta(minutes=5),
        app_version="9.9.9",
    )


class _StrictParser(HTMLParser):
    """Records text, tags and attributes, and fails on tags that do not nest."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)
        if tag not in VOID_TAGS:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _StrictParser:
    parser = _StrictParser()
    parser.feed(page)
    parser.close()
    assert parser.stack == [], f"unclosed tags: {parser.stack}"
    return parser


def _html(report: BatchReport) -> str:
    data = html_report.generate_report(batch=report, format="html")
    assert isinstance(data, bytes)
    return data.decode("utf-8")


def test_html_report_is_well_formed_and_names_every_execution() -> None:
    report = _report()
    page = _html(report)
    parser = _parse(page)
    text = "".join(parser.text)
    assert "b1" in text
    for execution in report.executions:
        assert execution.script_path in text
    assert "输入 文件.csv" in text
    assert "ValueError: bad <value> & more" in text
    assert "—" in text  # None fields
    assert "<svg" in page
    assert parser.tags.count("rect") == len(report.executions)


def test_html_report_escapes_script_output() -> None:
    page = _html(_report())
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "a &amp; b" in page
    assert "script" not in _parse(page).tags


def test_html_report_is_self_contained() -> None:
    page = _html(_report())
    parser = _parse(page)
    assert "http://" not in page and "https://" not in page
    assert not [value for name, value in parser.attrs if name == "src"]
    assert all((value or "").startswith("#") for name, value in parser.attrs if name == "href")


def test_html_report_clips_long_output_and_caps_the_chart() -> None:
    many = tuple(
        _execution(i, f"s{i}.py", ExecutionStatus.SUCCEEDED, duration_s=float(i))
        for i in range(1, 61)
    )
    page = _html(_report(many))
    assert page.count("<rect") == html_report.MAX_BARS
    assert "10 more not shown" in page

    page = _html(_report())
    assert "x" * html_report.MAX_LINE_CHARS in page
    assert "x" * (html_report.MAX_LINE_CHARS + 1) not in page


def _workbook(data: bytes | None):  # type: ignore[no-untyped-def]
    assert isinstance(data, bytes)
    return load_workbook(io.BytesIO(data))


def test_xlsx_report_has_typed_sheets() -> None:
    report = _report()
    book = _workbook(excel_export.generate_report(batch=report, format="xlsx"))
    assert book.sheetnames == ["Summary", "Executions", "Metrics", "Failures"]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref
        assert sheet["A1"].font.b

    sheet = book["Executions"]
    headers = [c.value for c in sheet[1]]
    rows = {
        row[0]: dict(zip(headers, row, strict=True))
        for row in sheet.iter_rows(min_row=2, values_only=True)
    }
    assert sheet.max_row == len(report.executions) + 1
    assert isinstance(rows[1]["Exit code"], int) and rows[1]["Exit code"] == 0
    assert isinstance(rows[1]["Attempts"], int)
    assert isinstance(rows[1]["Duration s"], float)
    assert rows[1]["Started at (UTC)"] == T0.replace(tzinfo=None)
    assert rows[1]["Peak memory MiB"] == pytest.approx(50.0)
    assert rows[1]["Arguments"] == "--n 1"
    assert rows[2]["Script"] == "scripts/数据处理.py"
    assert rows[2]["Arguments"] == "'输入 文件.csv'"
    blocked = rows[4]
    for header in ("Exit code", "Started at (UTC)", "Duration s", "Error message", "Arguments"):
        assert blocked[header] is None, header
    assert sheet["G2"].number_format == excel_export.DATETIME_FORMAT
    # Text that looks like a formula stays text.
    formula = next(c for c in sheet["M"] if c.value == "=1+1")
    assert formula.data_type == "s"

    summary = dict(book["Summary"].iter_rows(min_row=2, values_only=True))
    assert summary["Batch"] == "b1"
    assert summary["Wall time s"] == pytest.approx(80.0)
    assert summary["Parallel jobs"] == 4
    assert summary["Executions failed"] == 2
    assert summary["Executions running"] == 0
    assert summary["Note"] is None

    metrics = list(book["Metrics"].iter_rows(min_row=2, values_only=True))
    assert len(metrics) == 2  # the script's own sample is not a system sample
    assert metrics[0][0] == T0.replace(tzinfo=None)
    assert metrics[1][1:] == (None,) * 7

    failures = {row[0]: row for row in book["Failures"].iter_rows(min_row=2, values_only=True)}
    assert sorted(failures) == [2, 3, 4, 5]
    assert failures[2][-1].splitlines()[1] == f"print({XSS})"
    assert failures[5][-1] == "bell rings"  # the control character is dropped
    assert failures[4][-1] is None


def test_xlsx_export_has_one_row_per_execution() -> None:
    report = _report()
    query = ExportQuery(title="History", description="status failed", executions=report.executions)
    book = _workbook(excel_export.export_data(query=query, format="xlsx"))
    assert book.sheetnames == ["Executions", "Query"]
    sheet = book["Executions"]
    assert sheet["A1"].value == "Batch"
    assert [c.value for c in sheet[1]][1:] == list(excel_export.EXECUTION_HEADERS)
    assert sheet.max_row == len(report.executions) + 1
    assert {c.value for c in sheet["A"][1:]} == {"b1"}
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    info = dict(book["Query"].iter_rows(min_row=2, values_only=True))
    assert info == {"Title": "History", "Description": "status failed", "Exported rows": 5}


def test_unknown_formats_return_none() -> None:
    report = _report()
    query = ExportQuery(title="t", description="d", executions=())
    assert html_report.generate_report(batch=report, format="pdf") is None
    assert html_report.generate_report(batch=report, format="xlsx") is None
    assert excel_export.generate_report(batch=report, format="html") is None
    assert excel_export.export_data(query=query, format="csv") is None


def test_empty_batch_renders_in_both_formats() -> None:
    report = _report(())
    page = _html(report)
    _parse(page)
    assert "No executions." in page
    book = _workbook(excel_export.generate_report(batch=report, format="xlsx"))
    assert book["Executions"].max_row == 1
    assert book["Failures"].max_row == 1
    query = ExportQuery(title="t", description="d", executions=())
    assert (
        _workbook(excel_export.export_data(query=query, format="xlsx"))["Executions"].max_row == 1
    )


def test_plugin_info() -> None:
    html_info = html_report.plugin_info()
    excel_info = excel_export.plugin_info()
    assert (html_info.name, html_info.formats) == ("html_report", ("html",))
    assert (excel_info.name, excel_info.formats) == ("excel_export", ("xlsx",))
