"""The batch panel's state: run options, the current batch's executions, live output.

Engine events arrive on the engine's thread; they are only recorded there (under a lock) and
applied on the GUI thread by a 50 ms timer, so however fast scripts run or print, the views
repaint at most ~20 times a second.
"""

from __future__ import annotations

import copy
import os
import shlex
import threading
from collections import Counter
from collections.abc import Callable, Collection

from PyQt5.QtCore import QObject, QTimer, pyqtSignal

from AppCode.core.domain.events import (
    AttemptFinished,
    BatchFinished,
    BatchStarted,
    Event,
    ExecutionFinished,
    ExecutionStarted,
    OutputAppended,
)
from AppCode.core.domain.models import Batch, Execution, ExecutionStatus
from AppCode.services.batch_service import BatchService, StartBatch
from AppCode.services.history_service import HistoryService
from AppCode.services.settings import ExecutionSettings
from AppCode.ui.viewmodels.background import Background, user_message

FLUSH_INTERVAL_MS = 50
# The output viewer shows at most this much of a finished execution's log; the whole file is
# one click away ("Open full log").
MAX_LOADED_LOG_BYTES = 2 * 1024 * 1024


class _Pending:
    """Changes recorded on the engine's thread, waiting for the GUI thread."""

    def __init__(self) -> None:
        self.reset: tuple[Batch, list[Execution]] | None = None
        self.started: dict[str, ExecutionStarted] = {}
        self.retrying: dict[str, AttemptFinished] = {}
        self.finished: dict[str, Execution] = {}
        self.output: dict[str, list[tuple[str, str]]] = {}
        self.batch_finished: Batch | None = None

    def empty(self) -> bool:
        return not (
            self.reset
            or self.started
            or self.retrying
            or self.finished
            or self.output
            or self.batch_finished
        )


class BatchViewModel(QObject):
    """The batch panel's state. Output signals carry the execution id: they are for the
    selected execution and for those followed with ``follow_output`` (details dialogs)."""

    rows_reset = pyqtSignal(list)  # list[Execution]: a new batch, or none ([]) after a restore
    rows_changed = pyqtSignal(list)  # list[int]: rows whose execution changed
    counts_changed = pyqtSignal(dict)  # status -> count, plus "total" and "done"
    running_changed = pyqtSignal(bool)
    batch_finished = pyqtSignal(str, str)  # batch id, final status
    output_reset = pyqtSignal(str, list)  # execution id, [(stream, text)]
    output_appended = pyqtSignal(str, list)  # execution id, [(stream, text)]
    rerun_available = pyqtSignal(bool)
    options_changed = pyqtSignal()  # run options set from the settings (the view shows them)
    args_error_changed = pyqtSignal(str)  # why the arguments text cannot be split ("" = fine)
    error_occurred = pyqtSignal(str)

    def __init__(
        self,
        batches: BatchService,
        history: HistoryService,
        subscribe: Callable[[Callable[[Event], None]], Callable[[], None]],
        *,
        jobs: int,
        timeout_s: float,
        retries: int,
        backend: str = "local",
        fail_fast: bool = False,
        start_method: str = "auto",
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._batches = batches
        self._history = history
        self._background = Background(self)
        self.jobs = jobs if jobs > 0 else (os.cpu_count() or 1)
        self.timeout_s = timeout_s
        self.retries = retries
        self.fail_fast = fail_fast
        self.start_method = start_method
        self.backend = backend  # "local" or "dask" ([execution] dask_scheduler says where)
        self.sandbox_policy = batches.default_policy()
        self.args: list[str] = []  # for every script of the run, like the CLI's --arg
        self._args_error = ""
        self._rows: list[Execution] = []
        self._index: dict[str, int] = {}
        self._batch: Batch | None = None
        self._running = False
        # Stop pressed after Run but before the engine announced the new batch.
        self._stop_requested = False
        self._selected: str | None = None
        # Executions whose output is shown live (the selected one, open details dialogs): how
        # many views follow each, and the seq of the last output event they have.
        self._followers: Counter[str] = Counter()
        self._seqs: dict[str, int] = {}
        self._lock = threading.Lock()
        self._pending = _Pending()
        self._timer = QTimer(self)
        self._timer.setInterval(FLUSH_INTERVAL_MS)
        self._timer.timeout.connect(self._flush)
        self._timer.start()
        self._unsubscribe = subscribe(self._on_event)

    # -- state -------------------------------------------------------------------------------

    @property
    def rows(self) -> list[Execution]:
        return self._rows

    @property
    def batch(self) -> Batch | None:
        return self._batch

    @property
    def is_running(self) -> bool:
        return self._running

    @property
    def selected_execution(self) -> str | None:
        return self._selected

    @property
    def args_error(self) -> str:
        return self._args_error

    def execution(self, execution_id: str) -> Execution | None:
        """The current batch's execution with this id, as last reported."""
        row = self._index.get(execution_id)
        return self._rows[row] if row is not None else None

    def counts(self) -> dict[str, int]:
        tally = Counter(e.status.value for e in self._rows)
        done = sum(n for status, n in tally.items() if ExecutionStatus(status).is_final)
        return {"total": len(self._rows), "done": done, **tally}

    def has_failures(self) -> bool:
        return any(
            e.status.is_final and e.status is not ExecutionStatus.SUCCEEDED for e in self._rows
        )

    # -- intents -----------------------------------------------------------------------------

    def run(self, paths: list[str]) -> None:
        """Start a batch of ``paths`` with the current options."""
        if self._running:
            self.error_occurred.emit(self.tr("A batch is already running."))
            return
        if not paths:
            self.error_occurred.emit(self.tr("Tick the scripts to run in the library first."))
            return
        if self._args_error:
            self.error_occurred.emit(
                self.tr("The arguments cannot be read: {reason}").format(reason=self._args_error)
            )
            return
        request = StartBatch(
            paths=paths,
            jobs=self.jobs,
            timeout_s=self.timeout_s,
            retries=self.retries,
            args=list(self.args),
            fail_fast=self.fail_fast,
            start_method=self.start_method,  # type: ignore[arg-type]
            sandbox_policy=self.sandbox_policy or None,
            backend=self.backend,  # type: ignore[arg-type]
        )
        self._set_running(True)
        self._background.submit(
            lambda: self._batches.start(request), lambda _: None, self._on_start_failed
        )

    def rerun_failed(self) -> None:
        """A new batch with the executions of the last one that did not succeed."""
        if self._running or self._batch is None:
            return
        batch_id = self._batch.id
        self._set_running(True)
        self._background.submit(
            lambda: self._batches.rerun(batch_id, failed_only=True),
            lambda _: None,
            self._on_start_failed,
        )

    def stop(self) -> None:
        """Stop the running batch: queued scripts never start, running ones are killed."""
        if not self._running:
            return
        if self._batch is not None and not self._batch.status.is_final:
            self._batches.cancel(self._batch.id)
        else:
            self._stop_requested = True  # the batch is still being created

    def policies(self) -> list[str]:
        """The sandbox policies to choose from (built-ins and custom files)."""
        return self._batches.policies()

    def may_stop(self, execution_id: str) -> bool:
        """Whether this execution of the current batch can still be stopped on its own."""
        execution = self.execution(execution_id)
        return execution is not None and not execution.status.is_final and self._running

    def stop_execution(self, execution_id: str) -> None:
        """Stop one script: a queued one never starts, a running one is killed; the rest of
        the batch goes on."""
        if not self.may_stop(execution_id):
            return
        self._batches.cancel_execution(execution_id)

    def set_args_text(self, text: str) -> None:
        """The arguments for every script, split like a shell does ("a b" 'c d' e\\ f); a
        text that cannot be split (an open quote) leaves ``args_error`` set and no run starts."""
        try:
            args = shlex.split(text)
        except ValueError as exc:  # shlex says "No closing quotation" or "No escaped character"
            if "quotation" in str(exc):
                error = self.tr("a quote is not closed")
            else:
                error = self.tr("a backslash at the end has nothing to escape")
        else:
            self.args, error = args, ""
        if error != self._args_error:
            self._args_error = error
            self.args_error_changed.emit(error)

    def use_settings(self, keys: Collection[str], execution: ExecutionSettings) -> None:
        """Settings were saved: the run options of the applied ``keys`` ("section.key") take
        their new values (the others keep what was chosen in the panel)."""
        if "execution.jobs" in keys:
            self.jobs = execution.jobs if execution.jobs > 0 else (os.cpu_count() or 1)
        if "execution.timeout_s" in keys:
            self.timeout_s = execution.timeout_s
        if "execution.retries" in keys:
            self.retries = execution.retries
        if "execution.fail_fast" in keys:
            self.fail_fast = execution.fail_fast
        if "execution.start_method" in keys:
            self.start_method = execution.start_method
        if "execution.backend" in keys:
            self.backend = execution.backend
        if "sandbox.policy" in keys:
            self.sandbox_policy = self._batches.default_policy()
        self.options_changed.emit()

    def clear(self) -> None:
        """Show no batch (the data was replaced by a restored backup): no rows, no output,
        nothing to re-run or report."""
        if self._running:
            return
        self.select_execution(None)
        self._batch = None
        self._rows, self._index = [], {}
        self.rows_reset.emit(self._rows)
        self.counts_changed.emit(self.counts())
        self.rerun_available.emit(False)

    def select_execution(self, execution_id: str | None) -> None:
        """Show this execution's output: live while it runs, from its log once finished."""
        with self._lock:
            previous, self._selected = self._selected, execution_id
            if previous is not None:
                self._unfollow(previous)
            chunks = self._follow(execution_id) if execution_id else []
        if execution_id is None:
            self.output_reset.emit("", [])
            return
        execution = self.execution(execution_id)
        if execution is not None and not execution.status.is_final:
            self.output_reset.emit(execution_id, chunks)
            return
        self.load_output(execution_id)

    def follow_output(self, execution_id: str) -> None:
        """Also show this execution's output live (a details dialog): ``output_reset`` with
        its last lines, then ``output_appended``, both with its id; once it has finished,
        ``output_reset`` with its whole log. ``unfollow_output`` when the view closes."""
        with self._lock:
            chunks = self._follow(execution_id)
        execution = self.execution(execution_id)
        if execution is not None and not execution.status.is_final:
            self.output_reset.emit(execution_id, chunks)

    def unfollow_output(self, execution_id: str) -> None:
        with self._lock:
            self._unfollow(execution_id)

    def load_output(self, execution_id: str) -> None:
        """Load a finished execution's output from its log file (in the background)."""

        def load() -> list[tuple[str, str]]:
            execution = self._history.execution(execution_id)
            return read_output(self._history, execution)

        def done(chunks: list[tuple[str, str]]) -> None:
            if self._followers[execution_id]:
                self.output_reset.emit(execution_id, chunks)

        self._background.submit(load, done, lambda e: self.error_occurred.emit(user_message(e)))

    def shutdown(self) -> None:
        self._timer.stop()
        self._unsubscribe()

    def _follow(self, execution_id: str) -> list[tuple[str, str]]:
        """Add a follower (under the lock). Every view of this execution restarts from the
        live tail returned here: output events up to its seq are in it."""
        self._followers[execution_id] += 1
        seq, chunks = self._batches.live_output(execution_id)
        self._seqs[execution_id] = seq
        self._pending.output.pop(execution_id, None)
        return chunks

    def _unfollow(self, execution_id: str) -> None:
        self._followers[execution_id] -= 1
        if self._followers[execution_id] <= 0:
            del self._followers[execution_id]
            self._seqs.pop(execution_id, None)
            self._pending.output.pop(execution_id, None)

    # -- events (engine thread) ----------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        with self._lock:
            p = self._pending
            if isinstance(event, BatchStarted):
                self._pending = _Pending()
                self._pending.reset = (event.batch, list(event.executions))
            elif isinstance(event, ExecutionStarted):
                p.started[event.execution_id] = event
                p.retrying.pop(event.execution_id, None)
            elif isinstance(event, AttemptFinished) and event.will_retry:
                p.retrying[event.attempt.execution_id] = event
            elif isinstance(event, ExecutionFinished):
                p.finished[event.execution.id] = event.execution
                p.started.pop(event.execution.id, None)
            elif isinstance(event, OutputAppended):
                seq = self._seqs.get(event.execution_id)
                if seq is not None and event.seq > seq:
                    p.output.setdefault(event.execution_id, []).extend(event.chunks)
            elif isinstance(event, BatchFinished):
                p.batch_finished = event.batch

    # -- applying them (GUI thread) -------------------------------------------------------------

    def _flush(self) -> None:
        with self._lock:
            if self._pending.empty():
                return
            pending, self._pending = self._pending, _Pending()
        if pending.reset is not None:
            self._batch, executions = pending.reset
            self._rows = [copy.copy(e) for e in executions]
            self._index = {e.id: i for i, e in enumerate(self._rows)}
            if self._selected is not None and self._selected not in self._index:
                self.select_execution(None)  # the previous batch's output is no longer shown
            self._set_running(True)
            self.rows_reset.emit(self._rows)
            if self._stop_requested:
                self._stop_requested = False
                self._batches.cancel(self._batch.id)
        changed: set[int] = set()
        for execution_id, started in pending.started.items():
            row = self._index.get(execution_id)
            if row is None:
                continue
            execution = self._rows[row]
            execution.status = ExecutionStatus.RUNNING
            execution.attempts = started.attempt
            execution.started_at = execution.started_at or started.started_at
            execution.pid = started.pid
            changed.add(row)
        for execution_id, retry in pending.retrying.items():
            row = self._index.get(execution_id)
            if row is None:
                continue
            execution = self._rows[row]
            execution.status = ExecutionStatus.PENDING
            execution.attempts = retry.attempt.number
            execution.error_type = retry.attempt.error_type
            execution.error_message = retry.attempt.error_message
            changed.add(row)
        for execution_id, finished in pending.finished.items():
            row = self._index.get(execution_id)
            if row is None:
                continue
            self._rows[row] = finished
            changed.add(row)
        if changed:
            self.rows_changed.emit(sorted(changed))
            self.counts_changed.emit(self.counts())
        for execution_id, chunks in pending.output.items():
            if self._followers[execution_id]:
                self.output_appended.emit(execution_id, chunks)
        done = pending.batch_finished
        if done is not None and self._batch is not None and done.id == self._batch.id:
            self._batch = done
            self._set_running(False)
            self.counts_changed.emit(self.counts())
            self.batch_finished.emit(done.id, done.status.value)
            self.rerun_available.emit(self.has_failures())
        if pending.reset is not None and self._selected in self._index:
            self.select_execution(self._selected)

    def _set_running(self, running: bool) -> None:
        if running != self._running:
            self._running = running
            self.running_changed.emit(running)
            if running:
                self.rerun_available.emit(False)

    def _on_start_failed(self, error: BaseException) -> None:
        self._stop_requested = False
        self._set_running(False)
        self.rerun_available.emit(self.has_failures())
        self.error_occurred.emit(user_message(error))


def read_output(history: HistoryService, execution: Execution) -> list[tuple[str, str]]:
    """The tail (last 2 MB) of an execution's stored output, decoded for display."""
    chunks = list(history.output(execution))
    total = sum(len(data) for _, data in chunks)
    skipped = 0
    while chunks and total - len(chunks[0][1]) >= MAX_LOADED_LOG_BYTES:
        total -= len(chunks[0][1])
        skipped += len(chunks.pop(0)[1])
    if chunks and total > MAX_LOADED_LOG_BYTES:
        stream, data = chunks[0]
        cut = total - MAX_LOADED_LOG_BYTES
        chunks[0] = (stream, data[cut:])
        skipped += cut
    decoded = [(stream, data.decode("utf-8", "replace")) for stream, data in chunks]
    if skipped:
        note = f"[… {skipped} earlier bytes not shown: open the full log to see them]\n"
        decoded.insert(0, ("stderr", note))
    return decoded
