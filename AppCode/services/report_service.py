"""Reports and exports: a batch (or a history query) read from storage and turned into a file
by the plugin that makes that format (html_report, excel_export, or a third-party one)."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from AppCode import __version__
from AppCode.core.domain.errors import ConfigurationError, NotFoundError
from AppCode.core.domain.models import Execution
from AppCode.core.domain.ports import ExecutionFilter, UnitOfWorkFactory
from AppCode.core.security.permissions import ALLOW_ALL, AccessControl, Level, requires
from AppCode.services.history_service import LogReader, find_batch, stored_output
from AppCode.services.plugin_service import PluginService
from AppCode.services.plugin_spec import OUTPUT_TAIL_LINES, BatchReport, ExportQuery

__all__ = ["BatchReportBuilder", "ReportService"]

log = logging.getLogger(__name__)

TAIL_BYTES = 64 * 1024  # enough for OUTPUT_TAIL_LINES lines of any sane width
EXPORT_LIMIT = 1_000_000


class BatchReportBuilder:
    """One batch, its executions, the end of each failed one's output, and the system samples
    of its run, as the ``BatchReport`` every report plugin receives."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        read_log: LogReader,
        flush_results: Callable[[float], bool] = lambda timeout: True,
    ) -> None:
        self._uow = uow
        self._read_log = read_log
        self._flush_results = flush_results

    def __call__(self, batch_ref: str) -> BatchReport:
        self._flush_results(10.0)  # a batch that just finished: its last results are stored
        with self._uow() as uow:
            batch = find_batch(uow, batch_ref)
            executions = uow.executions.of_batch(batch.id)
            samples = []
            if batch.started_at:
                until = (batch.finished_at or datetime.now(UTC)) + timedelta(seconds=1)
                samples = uow.metrics.query(since=batch.started_at, until=until)
        executions.sort(key=lambda e: e.sequence)
        tails = {
            e.id: self._tail(e) for e in executions if e.status.value != "succeeded" and e.log_path
        }
        return BatchReport(
            batch=batch,
            executions=tuple(executions),
            output_tails=tails,
            samples=tuple(samples),
            generated_at=datetime.now(UTC),
            app_version=__version__,
        )

    def _tail(self, execution: Execution) -> tuple[str, ...]:
        try:
            chunks = list(stored_output(self._read_log, execution))
        except NotFoundError as exc:
            return (f"(output not available: {exc.message})",)
        except OSError as exc:
            return (f"(output not available: {exc.strerror or exc})",)
        kept: list[bytes] = []
        size = 0
        for _stream, data in reversed(chunks):
            kept.append(data[-(TAIL_BYTES - size) :])
            size += len(kept[-1])
            if size >= TAIL_BYTES:
                break
        text = b"".join(reversed(kept)).decode("utf-8", "replace")
        return tuple(text.splitlines()[-OUTPUT_TAIL_LINES:])


class ReportService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        plugins: PluginService,
        build_report: Callable[[str], BatchReport],
        flush_results: Callable[[float], bool] = lambda timeout: True,
        access: AccessControl = ALLOW_ALL,
    ) -> None:
        self._uow = uow
        self._plugins = plugins
        self._build_report = build_report
        self._flush_results = flush_results
        self._access = access

    @requires(Level.VIEW, "export report")
    def report(self, batch_ref: str, fmt: str) -> bytes:
        """The batch's report as a file's bytes in ``fmt`` ("html", "xlsx", ...). Raises
        ``NotFoundError`` for an unknown batch and ``PluginError`` when no enabled plugin makes
        ``fmt`` or the one that does failed."""
        report = self._build_report(batch_ref)
        return self._plugins.produce("generate_report", fmt.lower(), batch=report)

    def check_target(self, path: str | Path) -> Path:
        """The absolute path a report or export to ``path`` would be written to, if it can be:
        else a ``ConfigurationError`` saying why (empty, a folder, no folder, not writable).
        For adapters to check before the work that ends in writing it."""
        return _writable(path)

    @requires(Level.VIEW, "export report")
    def write_report(self, batch_ref: str, fmt: str, path: str | Path) -> Path:
        """Write the report to ``path`` (replaced atomically); returns the absolute path."""
        target = _writable(path)
        _write_atomically(target, self.report(batch_ref, fmt))
        log.info("wrote the %s report of batch %s to %s", fmt, batch_ref, target)
        return target

    @requires(Level.VIEW, "export data")
    def export(
        self, where: ExecutionFilter, fmt: str, path: str | Path, *, description: str = ""
    ) -> tuple[Path, int]:
        """Write the executions matching ``where`` to ``path`` as ``fmt``; returns the path and
        how many executions it holds."""
        target = _writable(path)
        self._flush_results(10.0)
        with self._uow() as uow:
            executions = uow.executions.query(where, limit=EXPORT_LIMIT)
        if not executions and where.batch_id:
            raise NotFoundError(f"batch {where.batch_id} has no executions")
        query = ExportQuery(
            title="ScriptBatch history",
            description=description or "all executions",
            executions=tuple(executions),
        )
        _write_atomically(target, self._plugins.produce("export_data", fmt.lower(), query=query))
        return target, len(executions)


def _writable(path: str | Path) -> Path:
    if not str(path).strip():
        raise ConfigurationError(
            "the output path is empty", hint="Give a file name to write the report to."
        )
    target = Path(path).expanduser().resolve()
    if target.is_dir():
        raise ConfigurationError(
            f"{target} is a folder", hint="Give a file name to write the report to."
        )
    if target.exists() and not target.is_file():
        raise ConfigurationError(
            f"{target} is not a regular file (a device, a pipe or a socket); a report is "
            "written as a file of its own, replacing only a regular file",
            hint="Give the path of a new or existing regular file.",
        )
    if not target.parent.is_dir():
        what = "is a file, not a folder" if target.parent.exists() else "does not exist"
        raise ConfigurationError(
            f"cannot write {target}: {target.parent} {what}",
            hint="Create the folder first or choose another path.",
        )
    # The file is written next to its place and moved there: what must be writable is the
    # folder. Trying is the only sure test (permission bits say nothing for root, /proc, a
    # read-only mount).
    try:
        with tempfile.TemporaryFile(dir=target.parent, prefix=f".{target.name}."):
            pass
    except OSError as exc:
        raise ConfigurationError(
            f"cannot write {target}: the folder {target.parent} does not take new files "
            f"({exc.strerror or exc})",
            hint="Choose a folder you can write to.",
        ) from None
    return target


def _write_atomically(target: Path, data: bytes) -> None:
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigurationError(
            f"cannot write {target}: {exc.strerror or exc}",
            hint="Check that the folder is writable and the disk is not full.",
        ) from None
