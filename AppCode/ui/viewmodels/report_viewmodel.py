"""Reports of a batch ("Export report…" in the batch panel and the history): the formats the
enabled plugins make, what the save dialog offers, and writing the file off the GUI thread."""

from __future__ import annotations

import logging
import os
from typing import Any

from PyQt5.QtCore import QObject, pyqtSignal

from AppCode.services.plugin_service import PluginService
from AppCode.services.report_service import ReportService
from AppCode.ui.viewmodels.background import Background, user_message

log = logging.getLogger(__name__)

# Formats the built-in plugins make, offered first and in this order.
PREFERRED_FORMATS = ("html", "xlsx")


class ReportViewModel(QObject):
    formats_changed = pyqtSignal(dict)  # format -> the plugin that makes it
    busy_changed = pyqtSignal(bool)  # a report is being written
    done = pyqtSignal(str)  # the path written
    failed = pyqtSignal(str)  # what went wrong, in words

    def __init__(
        self, reports: ReportService, plugins: PluginService, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._reports = reports
        self._plugins = plugins
        self._background = Background(self)
        self._formats: dict[str, str] = {}
        self._formats_error = ""  # why the formats could not be loaded
        self._writing = 0

    # -- state -------------------------------------------------------------------------------

    @property
    def formats(self) -> list[str]:
        """The report formats available, as last loaded: the built-ins' first."""
        known = [f for f in PREFERRED_FORMATS if f in self._formats]
        return known + sorted(f for f in self._formats if f not in PREFERRED_FORMATS)

    @property
    def is_busy(self) -> bool:
        return self._writing > 0

    def unavailable_reason(self) -> str:
        """Why no report can be made now ("" when some format can)."""
        if self._formats:
            return ""
        return self._formats_error or self.tr(
            "No enabled plugin makes reports. Enable html_report or excel_export in "
            "Tools > Plugins."
        )

    def label(self, fmt: str) -> str:
        labels = {"html": self.tr("HTML report"), "xlsx": self.tr("Excel workbook")}
        return labels.get(fmt, self.tr("{0} report").format(fmt.upper()))

    def file_filters(self) -> list[str]:
        """The save dialog's filters, one per format: "HTML report (*.html)"."""
        return [f"{self.label(fmt)} (*.{fmt})" for fmt in self.formats]

    def default_file_name(self, batch_id: str, fmt: str) -> str:
        return f"batch-{batch_id[:8]}.{fmt}"

    def choose_format(self, path: str, selected_filter: str) -> tuple[str, str]:
        """The path and format the user picked: a known extension typed into the name wins,
        else the selected filter's format, whose extension is then added."""
        extension = os.path.splitext(path)[1].lstrip(".").lower()
        if extension in self._formats:
            return path, extension
        filters = self.file_filters()
        formats = self.formats
        fmt = formats[filters.index(selected_filter)] if selected_filter in filters else ""
        fmt = fmt or (formats[0] if formats else extension)
        return f"{path}.{fmt}", fmt

    # -- intents -----------------------------------------------------------------------------

    def load_formats(self) -> None:
        """Ask which formats the enabled plugins make; ``formats_changed`` follows."""
        self._background.submit(self._plugins.formats, self._on_formats, self._on_formats_failed)

    def write_report(self, batch_ref: str, fmt: str, path: str) -> None:
        """Write the batch's report as ``fmt`` to ``path``; ``done`` or ``failed`` follows."""

        def done(written: Any) -> None:
            self._finish()
            self.done.emit(str(written))

        def failed(error: BaseException) -> None:
            self._finish()
            self._on_failed(error)

        self._writing += 1
        if self._writing == 1:
            self.busy_changed.emit(True)
        self._background.submit(
            lambda: self._reports.write_report(batch_ref, fmt, path), done, failed
        )

    # -- helpers -----------------------------------------------------------------------------

    def _finish(self) -> None:
        self._writing -= 1
        if self._writing == 0:
            self.busy_changed.emit(False)

    def _on_formats(self, formats: dict[str, str]) -> None:
        self._formats = dict(formats)
        self._formats_error = ""
        self.formats_changed.emit(dict(formats))

    def _on_formats_failed(self, error: BaseException) -> None:
        # Nobody asked yet: said when the user asks for a report (unavailable_reason).
        log.warning("the report formats could not be loaded: %s", error)
        self._formats = {}
        self._formats_error = user_message(error)
        self.formats_changed.emit({})

    def _on_failed(self, error: BaseException) -> None:
        self.failed.emit(user_message(error))
