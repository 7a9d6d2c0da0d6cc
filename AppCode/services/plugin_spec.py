"""What a plugin can implement: the hook specifications and the data the hooks receive.

This module is the plugin author's whole API (see docs/plugins.md for a complete example)::

    from AppCode.services.plugin_spec import BatchReport, PluginInfo, hookimpl

    @hookimpl
    def plugin_info() -> PluginInfo:
        return PluginInfo(name="hello", version="1.0", description="Says hello")

    @hookimpl
    def on_batch_finished(report: BatchReport) -> None:
        print(f"batch {report.batch.id} finished: {report.counts()}")

A plugin is a module (or any object) with ``@hookimpl`` functions named after the hooks below;
it implements only the hooks it needs and may leave out arguments it does not use. The event
and report hooks also receive ``settings``: the plugin's ``[plugins.<name>]`` config section
validated with the model its ``settings_schema`` returns (``None`` when it has none).

Datetimes are timezone-aware UTC. The objects a hook receives are shared with other plugins:
read them, do not change them.

Hooks run on the plugin service's own threads, never on the GUI thread or the engine's, each
within ``[plugins].hook_timeout_s``. A plugin that raises or overruns is marked errored and
skipped until someone enables it again; the app keeps working. A plugin that could not deliver
(a mail server down) raises ``DeliveryError``: that is logged and shown, and the plugin stays
enabled.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pluggy
from pydantic import BaseModel

from AppCode.core.domain.errors import PluginError
from AppCode.core.domain.models import Batch, Execution, ExecutionStatus, MetricSample

__all__ = [
    "BATCH_FINISHED",
    "OUTPUT_TAIL_LINES",
    "PROJECT",
    "Attachment",
    "BatchReport",
    "DeliveryError",
    "ExportQuery",
    "HookSpecs",
    "Notification",
    "PluginInfo",
    "hookimpl",
    "hookspec",
]

PROJECT = "scriptbatch"
OUTPUT_TAIL_LINES = 50  # lines of output per failed execution in BatchReport.output_tails
BATCH_FINISHED = "batch_finished"  # Notification.kind
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class DeliveryError(PluginError):
    """A plugin could not deliver (mail server unreachable, login refused...). Logged and shown
    to the user; unlike any other exception it does not mark the plugin errored."""


@dataclass(frozen=True)
class PluginInfo:
    name: str  # unique; also the name of its config section [plugins.<name>]
    version: str
    description: str = ""
    author: str = ""
    min_app_version: str = "0"  # the plugin refuses to load on an older ScriptBatch
    formats: tuple[str, ...] = ()  # what its generate_report / export_data produce, e.g. "html"


@dataclass(frozen=True)
class BatchReport:
    """One batch as a report sees it, read from the history once the batch is stored."""

    batch: Batch
    executions: tuple[Execution, ...]  # in the order they were queued
    # The last lines of output (stdout and stderr interleaved as written) of every execution
    # that did not succeed, by execution id; at most OUTPUT_TAIL_LINES each.
    output_tails: Mapping[str, tuple[str, ...]]
    # System-wide samples (not per-script ones) taken while the batch ran, oldest first; older
    # than an hour they are 1-minute aggregates (resolution_s 60).
    samples: tuple[MetricSample, ...]
    generated_at: datetime
    app_version: str

    def counts(self) -> dict[str, int]:
        """Executions by status, every status present (zero when none)."""
        found = Counter(e.status for e in self.executions)
        return {status.value: found.get(status, 0) for status in ExecutionStatus}

    def failures(self) -> list[Execution]:
        """Executions that did not succeed (a finished batch has none pending), in queue
        order."""
        return [e for e in self.executions if e.status is not ExecutionStatus.SUCCEEDED]

    @property
    def wall_s(self) -> float | None:
        """The batch's elapsed time from start to finish."""
        if self.batch.started_at and self.batch.finished_at:
            return (self.batch.finished_at - self.batch.started_at).total_seconds()
        return None


@dataclass(frozen=True)
class ExportQuery:
    """Executions chosen in the history (any filter), to be exported as data."""

    title: str  # e.g. "ScriptBatch history"
    description: str  # the filter in words, e.g. "status failed, since 2026-11-01"
    executions: tuple[Execution, ...]  # newest first, as the history lists them


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes  # text formats are UTF-8
    mime_type: str  # e.g. "text/html"


@dataclass(frozen=True)
class Notification:
    """Something worth telling people about; today the end of a batch."""

    kind: str  # BATCH_FINISHED, the only kind so far
    subject: str  # one line, e.g. "ScriptBatch: batch 1a2b3c failed (2 of 40 scripts)"
    text: str  # plain-text summary naming each script that did not succeed
    failed: bool  # did any execution end other than succeeded
    report: BatchReport | None = None
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)


class HookSpecs:
    """The hooks, called by the plugin service (never directly by views or the engine)."""

    @hookspec(firstresult=True)
    def plugin_info(self) -> PluginInfo:  # type: ignore[empty-body]
        """Who the plugin is. Required."""

    @hookspec(firstresult=True)
    def settings_schema(self) -> type[BaseModel] | None:
        """The pydantic model of the plugin's ``[plugins.<name>]`` config section; the GUI
        builds its settings form from it. Field defaults are the plugin's defaults."""

    @hookspec
    def on_batch_started(
        self, batch: Batch, executions: Sequence[Execution], settings: Any
    ) -> None:
        """A batch was created and its executions queued."""

    @hookspec
    def on_execution_finished(self, execution: Execution, settings: Any) -> None:
        """An execution reached its final status (after any retries)."""

    @hookspec
    def on_batch_finished(self, report: BatchReport, settings: Any) -> None:
        """A batch finished and its results are stored."""

    @hookspec(firstresult=True)
    def generate_report(self, batch: BatchReport, format: str, settings: Any) -> bytes | None:
        """The report of ``batch`` as a file's bytes in ``format`` (one of the plugin's
        ``formats``), or ``None`` when the plugin does not produce that format."""

    @hookspec(firstresult=True)
    def export_data(self, query: ExportQuery, format: str, settings: Any) -> bytes | None:
        """``query``'s executions as a file's bytes in ``format``, or ``None`` when the plugin
        does not produce that format."""

    @hookspec
    def wants_notification(self, failed: bool, settings: Any) -> bool:  # type: ignore[empty-body]
        """Whether ``notify`` should be called for the batch that just ended (``failed``: not
        every script succeeded). Asked before the batch's report is built, so a plugin switched
        off in its own settings costs nothing; leaving the hook out means yes."""

    @hookspec
    def notify(self, event: Notification, settings: Any) -> None:
        """Tell someone about ``event`` (send a mail, post a message). Raise
        ``DeliveryError`` when it could not be delivered."""
