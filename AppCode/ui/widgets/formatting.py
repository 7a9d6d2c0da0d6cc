"""How executions look everywhere in the GUI: status names, colours, icons, numbers."""

from __future__ import annotations

import functools
import math
from datetime import datetime

from PyQt5.QtCore import QCoreApplication, Qt
from PyQt5.QtGui import QColor, QIcon, QPainter, QPixmap

from AppCode.core.domain.models import Execution, ExecutionStatus

S = ExecutionStatus

STATUS_COLOURS: dict[ExecutionStatus, str] = {
    S.PENDING: "#9e9e9e",
    S.RUNNING: "#1565c0",
    S.SUCCEEDED: "#2e7d32",
    S.FAILED: "#c62828",
    S.TIMED_OUT: "#ef6c00",
    S.BLOCKED: "#6a1b9a",
    S.CANCELLED: "#616161",
    S.INTERRUPTED: "#8d6e63",
}

STDERR_COLOUR = "#c62828"
NOTE_COLOUR = "#6a1b9a"


def status_label(status: ExecutionStatus, attempts: int = 0) -> str:
    """The status in the user's language; a pending execution that already ran is retrying."""
    # Literal translate() calls, so that pylupdate5 finds every string.
    translate = QCoreApplication.translate
    if status is S.PENDING and attempts > 0:
        return translate("Status", "retrying")
    labels = {
        S.PENDING: translate("Status", "pending"),
        S.RUNNING: translate("Status", "running"),
        S.SUCCEEDED: translate("Status", "succeeded"),
        S.FAILED: translate("Status", "failed"),
        S.TIMED_OUT: translate("Status", "timed out"),
        S.BLOCKED: translate("Status", "blocked"),
        S.CANCELLED: translate("Status", "cancelled"),
        S.INTERRUPTED: translate("Status", "interrupted"),
    }
    return labels[status]


def status_colour(status: ExecutionStatus) -> QColor:
    return QColor(STATUS_COLOURS[status])


@functools.cache
def status_icon(status: ExecutionStatus) -> QIcon:
    """A filled circle in the status colour (a ring while pending)."""
    return dot_icon(STATUS_COLOURS[status], hollow=status is S.PENDING)


@functools.cache
def dot_icon(colour_name: str, *, hollow: bool = False) -> QIcon:
    """A circle in ``colour_name``: filled, or a ring (something not under way)."""
    size = 14
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.Antialiasing)
    colour = QColor(colour_name)
    if hollow:
        painter.setPen(colour)
        painter.setBrush(Qt.NoBrush)
    else:
        painter.setPen(Qt.NoPen)
        painter.setBrush(colour)
    painter.drawEllipse(2, 2, size - 4, size - 4)
    painter.end()
    return QIcon(pixmap)


def warning_icon() -> QIcon:
    """The "reduced isolation" badge."""
    from PyQt5.QtWidgets import QApplication, QStyle

    return QApplication.style().standardIcon(QStyle.SP_MessageBoxWarning)


def seconds(value: float | None) -> str:
    if value is None:
        return ""
    if value < 60:
        return f"{value:.2f} s"
    minutes, secs = divmod(int(value), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def size(value: int | float | None) -> str:
    if value is None:
        return ""
    units = ("B", "KB", "MB", "GB", "TB")
    if value <= 0:
        return "0 B"
    power = min(int(math.log(value, 1024)), len(units) - 1)
    scaled = value / 1024**power
    return f"{scaled:.0f} {units[power]}" if power == 0 else f"{scaled:.1f} {units[power]}"


def local_time(value: datetime | None) -> str:
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S") if value else ""


def error_text(execution: Execution) -> str:
    if execution.error_type and execution.error_message:
        return f"{execution.error_type}: {execution.error_message}"
    return execution.error_message or execution.error_type or ""
