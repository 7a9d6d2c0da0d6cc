"""The execution engine (the seed design's ``IExecutionEngine``).

It schedules the executions of each batch on its own background thread, which runs an asyncio
loop that owns every child process and pipe (no thread per child): at most ``jobs`` attempts run
at once per batch, each through the runner port; timeouts are applied by the runner, retries with
exponential backoff and jitter, cancel and fail-fast here. Everything that happens is published
as domain events on the bus; the engine itself stores nothing.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import os
import random
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from AppCode.core.domain.errors import ConfigurationError
from AppCode.core.domain.events import (
    AttemptFinished,
    BatchFinished,
    BatchStarted,
    ExecutionFinished,
    ExecutionStarted,
)
from AppCode.core.domain.models import (
    Attempt,
    Batch,
    BatchStatus,
    Execution,
    ExecutionStatus,
    RunOptions,
)
from AppCode.core.engines.event_bus import EventBus
from AppCode.core.engines.live_output import LiveOutput
from AppCode.core.engines.runner import AttemptOutcome, LaunchRequest, Runner
from AppCode.core.security.policy import SandboxPolicy

__all__ = ["FAIL_FAST_CANCEL", "BatchHandle", "ExecutionEngine", "LaunchPlan", "fail_fast_message"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")
OUTPUT_EVENT_INTERVAL_S = 0.1
NEVER_RETRIED = frozenset({ExecutionStatus.BLOCKED, ExecutionStatus.CANCELLED})


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class LaunchPlan:
    """Per-execution launch details the engine passes through to the runner."""

    log_path: str
    env: dict[str, str] = field(default_factory=dict)
    sandbox: SandboxPolicy | None = None


class BatchHandle:
    """A submitted batch: wait for it, or look at its executions (snapshots)."""

    def __init__(self, batch: Batch, total: int) -> None:
        self.batch_id = batch.id
        self.total = total  # executions in the batch
        self._done = threading.Event()
        self._batch = batch
        self._executions: list[Execution] = []

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the batch has finished; returns False on timeout."""
        return self._done.wait(timeout)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def batch(self) -> Batch:
        return self._batch

    @property
    def executions(self) -> list[Execution]:
        return list(self._executions)

    def _finish(self, batch: Batch, executions: list[Execution]) -> None:
        self._batch = batch
        self._executions = executions
        self._done.set()


class _Running:
    def __init__(self) -> None:
        self.cancel = asyncio.Event()
        self.by_fail_fast = False  # the cancel is fail-fast's, not the user's


FAIL_FAST_CANCEL = "cancelled by fail-fast"  # how the message of such an execution starts


def fail_fast_message(script_path: str) -> str:
    """Why fail-fast cancelled an execution: its error message, which every adapter shows."""
    return f"{FAIL_FAST_CANCEL} after {os.path.basename(script_path)} failed"


class _BatchRun:
    def __init__(
        self, batch: Batch, executions: list[Execution], plans: dict[str, LaunchPlan]
    ) -> None:
        self.batch = batch
        self.executions = {e.id: e for e in executions}
        self.order = [e.id for e in executions]
        self.plans = plans
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.remaining = len(executions)
        self.running: dict[str, _Running] = {}
        # Executions waiting for their retry: the timer, and the status of the attempt that
        # failed, which becomes the execution's if the retry never comes (cancelled).
        self.retry_timers: dict[str, tuple[asyncio.TimerHandle, ExecutionStatus]] = {}
        self.user_cancelled = False
        self.stopping = False
        self.fail_fast_after: str | None = None  # the script whose failure stopped the batch
        self.handle = BatchHandle(batch, len(executions))


class ExecutionEngine:
    """Runs batches in the background; every method is safe to call from any thread."""

    def __init__(
        self,
        runner: Runner,
        bus: EventBus,
        *,
        clock: Callable[[], datetime] = _utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self._runner = runner
        self._bus = bus
        self._clock = clock
        self._rng = rng or random.Random()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._batches: dict[str, _BatchRun] = {}
        self._execution_batch: dict[str, str] = {}
        self._live = LiveOutput(bus.publish)
        self._flush_scheduled = False
        self._lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the engine thread (idempotent)."""
        with self._lock:
            if self._thread is not None:
                return
            ready = threading.Event()

            def run_loop() -> None:
                loop = asyncio.new_event_loop()
                asyncio.set_event_loop(loop)
                self._loop = loop
                ready.set()
                try:
                    loop.run_forever()
                finally:
                    loop.close()

            self._thread = threading.Thread(target=run_loop, name="scriptbatch-engine", daemon=True)
            self._thread.start()
            ready.wait()

    def prepare(self, options: RunOptions, timeout: float = 120.0) -> int | None:
        """Ask the runner whether it can run a batch with ``options`` (on the engine's thread,
        where the runner lives); returns its capacity if known. Raises what the runner raises,
        ``ConfigurationError`` for an unreachable or unusable backend."""
        self.start()
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(self._runner.prepare(options), self._loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise ConfigurationError(
                f"the {options.backend} backend did not answer within {timeout:g} s",
                hint="Check that the scheduler and its workers are running.",
            ) from None

    def stop(self, timeout: float = 30.0) -> None:
        """Cancel every batch, wait for their children to be gone, and stop the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        for batch_id in list(self._batches):
            self.cancel_batch(batch_id, by_user=True)
        for run in list(self._batches.values()):
            run.handle.wait(timeout)
        asyncio.run_coroutine_threadsafe(self._runner.aclose(), loop).result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        with self._lock:
            self._thread = None
            self._loop = None

    # -- commands ----------------------------------------------------------------------------

    def submit(
        self, batch: Batch, executions: list[Execution], plans: dict[str, LaunchPlan]
    ) -> BatchHandle:
        """Start running ``batch``; ``plans`` gives each execution's log path and extras."""
        self.start()
        assert self._loop is not None
        run = _BatchRun(batch, executions, plans)
        with self._lock:
            self._batches[batch.id] = run
            for execution in executions:
                self._execution_batch[execution.id] = batch.id
        future: Future[None] = asyncio.run_coroutine_threadsafe(self._run_batch(run), self._loop)
        future.add_done_callback(_log_crash)
        return run.handle

    def cancel_batch(self, batch_id: str, *, by_user: bool = True) -> bool:
        """Stop a batch: pending executions become cancelled, running ones are killed."""
        run = self._batches.get(batch_id)
        if run is None or self._loop is None:
            return False
        self._loop.call_soon_threadsafe(self._cancel_run, run, by_user)
        return True

    def cancel_execution(self, execution_id: str) -> bool:
        """Stop one execution (pending: never starts; running: killed)."""
        batch_id = self._execution_batch.get(execution_id)
        run = self._batches.get(batch_id) if batch_id else None
        if run is None or self._loop is None:
            return False
        self._loop.call_soon_threadsafe(self._cancel_one, run, execution_id)
        return True

    # -- queries -----------------------------------------------------------------------------

    def live_output(self, execution_id: str) -> tuple[int, list[tuple[str, str]]]:
        """``(seq, chunks)``: the last lines of a running execution and the number of the last
        ``OutputAppended`` event they include (see ``LiveOutput.tail``)."""
        return self._live.tail(execution_id)

    def active_batches(self) -> list[str]:
        return list(self._batches)

    def queue_depth(self) -> int:
        """Executions waiting for a free slot, over all batches."""
        return sum(run.remaining - len(run.running) for run in list(self._batches.values()))

    def running_count(self) -> int:
        return sum(len(run.running) for run in list(self._batches.values()))

    # -- the loop ----------------------------------------------------------------------------

    async def _run_batch(self, run: _BatchRun) -> None:
        batch = run.batch
        batch.status = BatchStatus.RUNNING
        batch.started_at = self._clock()
        self._bus.publish(
            BatchStarted(
                _snapshot(batch),
                tuple(_snapshot(e) for e in run.executions.values()),
            )
        )
        for execution_id in run.order:
            run.queue.put_nowait(execution_id)
        workers = max(1, min(batch.options.jobs, len(run.order)))
        if run.remaining == 0:
            run.queue.put_nowait(None)
        await asyncio.gather(*(self._worker(run) for _ in range(workers)))
        self._finish_batch(run)

    async def _worker(self, run: _BatchRun) -> None:
        while True:
            execution_id = await run.queue.get()
            if execution_id is None:
                run.queue.put_nowait(None)  # wake the next worker, too
                return
            execution = run.executions[execution_id]
            if execution.status.is_final:
                continue  # cancelled while it waited
            if run.stopping:
                self._finalize(run, execution, ExecutionStatus.CANCELLED)
                continue
            await self._attempt(run, execution)

    async def _attempt(self, run: _BatchRun, execution: Execution) -> None:
        options = run.batch.options
        plan = run.plans[execution.id]
        execution.attempts += 1
        number = execution.attempts
        started_at = self._clock()
        execution.status = ExecutionStatus.RUNNING
        execution.started_at = execution.started_at or started_at
        execution.log_path = plan.log_path
        running = _Running()
        run.running[execution.id] = running
        self._live.open(execution.id)

        def on_started(pid: int | None, pid_started_at: float | None) -> None:
            execution.pid = pid
            execution.pid_started_at = pid_started_at
            self._bus.publish(
                ExecutionStarted(
                    execution.id,
                    run.batch.id,
                    number,
                    pid,
                    pid_started_at,
                    started_at,
                    plan.log_path,
                )
            )

        def on_output(stream: str, data: bytes) -> None:
            self._live.append(execution.id, stream, data)
            self._schedule_output_flush()

        request = LaunchRequest(
            execution_id=execution.id,
            attempt=number,
            script_path=execution.script_path,
            args=execution.args,
            env={**execution.env, **plan.env},
            log_path=plan.log_path,
            python=options.python,
            start_method=options.start_method,
            timeout_s=options.timeout_s,
            kill_grace_s=options.kill_grace_s,
            max_log_bytes=options.max_log_bytes,
            sandbox=plan.sandbox,
            backend=options.backend,
            scheduler=options.scheduler,
        )
        try:
            outcome = await self._runner.run(request, on_output, on_started, running.cancel)
        except Exception as exc:  # a runner bug must not take the batch down
            log.exception("runner failed on %s", execution.script_path)
            outcome = AttemptOutcome(
                ExecutionStatus.FAILED,
                error_type="RunnerError",
                error_message=f"ScriptBatch could not run the script: {exc}",
            )
        finally:
            run.running.pop(execution.id, None)
        self._live.close(execution.id)
        if running.cancel.is_set() and outcome.status is not ExecutionStatus.SUCCEEDED:
            outcome.status = ExecutionStatus.CANCELLED
            if running.by_fail_fast and run.fail_fast_after is not None:
                outcome.error_message = fail_fast_message(run.fail_fast_after)
        finished_at = self._clock()
        attempt = Attempt(
            execution_id=execution.id,
            number=number,
            status=outcome.status,
            exit_code=outcome.exit_code,
            started_at=started_at,
            finished_at=finished_at,
            duration_s=outcome.duration_s,
            cpu_s=outcome.cpu_s,
            memory_peak_bytes=outcome.memory_peak_bytes,
            error_type=outcome.error_type,
            error_message=outcome.error_message,
            output_bytes=outcome.output_bytes,
            worker=outcome.worker,
        )
        _apply(execution, attempt, outcome)
        will_retry = self._should_retry(run, execution, outcome.status)
        self._bus.publish(AttemptFinished(_snapshot(attempt), will_retry))
        if will_retry:
            execution.status = ExecutionStatus.PENDING
            delay = options.retry_backoff_s * 2 ** (number - 1) * self._rng.uniform(0.5, 1.5)
            loop = asyncio.get_running_loop()
            timer = loop.call_later(delay, self._requeue, run, execution.id)
            run.retry_timers[execution.id] = (timer, outcome.status)
            return
        self._finalize(run, execution, outcome.status, finished_at=finished_at)

    def _should_retry(self, run: _BatchRun, execution: Execution, status: ExecutionStatus) -> bool:
        options = run.batch.options
        return (
            not run.stopping
            and status not in NEVER_RETRIED
            and status in options.retry_on
            and execution.attempts <= options.retries
        )

    def _requeue(self, run: _BatchRun, execution_id: str) -> None:
        run.retry_timers.pop(execution_id, None)
        run.queue.put_nowait(execution_id)

    def _finalize(
        self,
        run: _BatchRun,
        execution: Execution,
        status: ExecutionStatus,
        *,
        finished_at: datetime | None = None,
    ) -> None:
        execution.status = status
        execution.finished_at = finished_at or self._clock()
        if status is ExecutionStatus.CANCELLED and execution.error_message is None:
            execution.error_type = "Cancelled"
            if run.fail_fast_after is not None and not run.user_cancelled:
                execution.error_message = fail_fast_message(run.fail_fast_after)
            else:
                execution.error_message = (
                    "cancelled before it started" if execution.attempts == 0 else "cancelled"
                )
        run.remaining -= 1
        self._bus.publish(ExecutionFinished(_snapshot(execution)))
        failed = status not in (ExecutionStatus.SUCCEEDED, ExecutionStatus.CANCELLED)
        if failed and run.batch.options.fail_fast and not run.stopping:
            log.info("fail-fast: stopping batch %s after %s", run.batch.id, execution.script_path)
            run.fail_fast_after = execution.script_path
            self._cancel_run(run, by_user=False)
        if run.remaining == 0:
            run.queue.put_nowait(None)

    def _cancel_run(self, run: _BatchRun, by_user: bool) -> None:
        if run.handle.done:
            return
        run.user_cancelled = run.user_cancelled or by_user
        run.stopping = True
        for execution_id, (timer, last_status) in list(run.retry_timers.items()):
            timer.cancel()
            run.retry_timers.pop(execution_id, None)
            # The retry that never comes was not an attempt: the last one's status stands.
            self._finalize(run, run.executions[execution_id], last_status)
        for running in run.running.values():
            running.by_fail_fast = not by_user and run.fail_fast_after is not None
            running.cancel.set()
        # Executions still queued are finalized now, so their status shows at once.
        for execution_id in run.order:
            execution = run.executions[execution_id]
            if execution.status is ExecutionStatus.PENDING and execution_id not in run.running:
                self._finalize(run, execution, ExecutionStatus.CANCELLED)

    def _cancel_one(self, run: _BatchRun, execution_id: str) -> None:
        execution = run.executions.get(execution_id)
        if execution is None or execution.status.is_final:
            return
        if execution_id in run.running:
            run.running[execution_id].cancel.set()
            return
        waiting = run.retry_timers.pop(execution_id, None)
        if waiting is not None:
            waiting[0].cancel()
        self._finalize(run, execution, waiting[1] if waiting else ExecutionStatus.CANCELLED)

    def _finish_batch(self, run: _BatchRun) -> None:
        batch = run.batch
        statuses = [e.status for e in run.executions.values()]
        if run.user_cancelled:
            batch.status = BatchStatus.CANCELLED
        elif all(s is ExecutionStatus.SUCCEEDED for s in statuses):
            batch.status = BatchStatus.SUCCEEDED
        else:
            batch.status = BatchStatus.FAILED
        batch.finished_at = self._clock()
        self._live.flush()
        snapshot = _snapshot(batch)
        executions = [_snapshot(run.executions[i]) for i in run.order]
        with self._lock:
            self._batches.pop(batch.id, None)
            for execution_id in run.order:
                self._execution_batch.pop(execution_id, None)
        self._bus.publish(BatchFinished(snapshot))
        run.handle._finish(snapshot, executions)

    def _schedule_output_flush(self) -> None:
        if self._flush_scheduled or self._loop is None:
            return
        self._flush_scheduled = True
        self._loop.call_later(OUTPUT_EVENT_INTERVAL_S, self._flush_output)

    def _flush_output(self) -> None:
        self._flush_scheduled = False
        self._live.flush()


def _snapshot(value: _T) -> _T:
    """A copy for subscribers on other threads (the engine keeps mutating its own). Shallow:
    the dicts inside (env, sandbox) are replaced, never changed in place. ``copy.copy`` costs
    a tenth of ``dataclasses.replace``, which matters at a few thousand events a second."""
    return copy.copy(value)


def _apply(execution: Execution, attempt: Attempt, outcome: AttemptOutcome) -> None:
    """The execution shows its latest attempt's results."""
    execution.exit_code = attempt.exit_code
    execution.duration_s = attempt.duration_s
    execution.cpu_s = attempt.cpu_s
    execution.memory_peak_bytes = attempt.memory_peak_bytes
    execution.error_type = attempt.error_type
    execution.error_message = attempt.error_message
    execution.output_bytes = attempt.output_bytes
    execution.worker = attempt.worker
    if outcome.sandbox is not None:
        execution.sandbox = outcome.sandbox
    if execution.cpu_s is not None and execution.duration_s:
        execution.cpu_percent_avg = round(100.0 * execution.cpu_s / execution.duration_s, 1)


def _log_crash(future: Future[None]) -> None:
    exc = future.exception()
    if exc is not None:
        log.error("batch coroutine crashed", exc_info=exc)


def default_jobs(jobs: int) -> int:
    """``jobs`` = 0 means one per CPU core."""
    return jobs if jobs > 0 else (os.cpu_count() or 1)
