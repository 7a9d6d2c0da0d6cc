"""The engine's scheduling rules, against a fake runner (no processes)."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from AppCode.core.domain.events import (
    AttemptFinished,
    BatchFinished,
    BatchStarted,
    Event,
    ExecutionFinished,
    ExecutionStarted,
    OutputAppended,
)
from AppCode.core.domain.ids import new_id
from AppCode.core.domain.models import Batch, BatchStatus, Execution, ExecutionStatus, RunOptions
from AppCode.core.engines.engine import BatchHandle, ExecutionEngine, LaunchPlan
from AppCode.core.engines.event_bus import EventBus
from AppCode.core.engines.runner import AttemptOutcome, LaunchRequest, OutputSink, StartedSink

S = ExecutionStatus


@dataclass
class Script:
    """What the fake runner does for one script: outcomes per attempt, or block until told."""

    outcomes: list[ExecutionStatus] = field(default_factory=lambda: [S.SUCCEEDED])
    block: bool = False
    output: list[tuple[str, bytes]] = field(default_factory=list)


class FakeRunner:
    def __init__(self, scripts: dict[str, Script]) -> None:
        self.scripts = scripts
        self.running = 0
        self.max_running = 0
        self.launched: list[tuple[str, int]] = []
        self.release = threading.Event()
        self.closed = False

    async def run(
        self,
        request: LaunchRequest,
        on_output: OutputSink,
        on_started: StartedSink,
        cancel: asyncio.Event,
    ) -> AttemptOutcome:
        script = self.scripts[request.script_path]
        self.launched.append((request.script_path, request.attempt))
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        try:
            on_started(1000 + len(self.launched), None)
            for stream, data in script.output:
                on_output(stream, data)
            if script.block:
                while not cancel.is_set() and not self.release.is_set():
                    await asyncio.sleep(0.001)
                if cancel.is_set():
                    return AttemptOutcome(S.CANCELLED)
            else:
                await asyncio.sleep(0)
            status = script.outcomes[min(request.attempt, len(script.outcomes)) - 1]
            return AttemptOutcome(
                status, exit_code=0 if status is S.SUCCEEDED else 1, duration_s=0.01, cpu_s=0.005
            )
        finally:
            self.running -= 1

    async def prepare(self, options: object) -> int | None:
        return None

    async def aclose(self) -> None:
        self.closed = True


class Harness:
    def __init__(self, scripts: dict[str, Script]) -> None:
        self.runner = FakeRunner(scripts)
        self.bus = EventBus()
        self.events: list[Event] = []
        self.lock = threading.Lock()
        self.bus.subscribe(self._record)
        self.engine = ExecutionEngine(self.runner, self.bus, rng=random.Random(1))

    def _record(self, event: Event) -> None:
        with self.lock:
            self.events.append(event)

    def submit(self, paths: list[str], **options: object) -> tuple[BatchHandle, list[Execution]]:
        opts = {"jobs": 2, "retry_backoff_s": 0.0, **options}
        batch = Batch(new_id(), RunOptions(**opts))  # type: ignore[arg-type]
        executions = [Execution(new_id(), batch.id, i, p) for i, p in enumerate(paths)]
        plans = {e.id: LaunchPlan(log_path=f"/nonexistent/{e.id}.log") for e in executions}
        return self.engine.submit(batch, executions, plans), executions

    def of(self, kind: type) -> list:  # type: ignore[type-arg]
        with self.lock:
            return [e for e in self.events if isinstance(e, kind)]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, "condition not reached"
            threading.Event().wait(0.005)


@pytest.fixture
def make() -> object:
    harnesses: list[Harness] = []

    def build(scripts: dict[str, Script]) -> Harness:
        harness = Harness(scripts)
        harnesses.append(harness)
        return harness

    yield build
    for harness in harnesses:
        harness.engine.stop()


def statuses(handle: BatchHandle) -> list[ExecutionStatus]:
    return [e.status for e in handle.executions]


def test_all_succeed_and_events_come_in_order(make) -> None:  # type: ignore[no-untyped-def]
    h = make({"a": Script(), "b": Script()})
    handle, _ = h.submit(["a", "b"])
    assert handle.wait(10)
    assert handle.batch.status is BatchStatus.SUCCEEDED
    assert statuses(handle) == [S.SUCCEEDED, S.SUCCEEDED]
    kinds = [type(e) for e in h.events]
    assert kinds[0] is BatchStarted and kinds[-1] is BatchFinished
    assert kinds.count(ExecutionStarted) == 2 and kinds.count(ExecutionFinished) == 2
    assert all(e.attempts == 1 for e in handle.executions)
    assert h.runner.closed is False


def test_never_more_than_jobs_at_once(make) -> None:  # type: ignore[no-untyped-def]
    scripts = {f"s{i}": Script() for i in range(30)}
    h = make(scripts)
    handle, _ = h.submit(list(scripts), jobs=3)
    assert handle.wait(10)
    assert h.runner.max_running == 3
    assert len(h.runner.launched) == 30


def test_failed_attempts_are_retried_and_the_last_one_counts(make) -> None:  # type: ignore[no-untyped-def]
    h = make({"flaky": Script(outcomes=[S.FAILED, S.TIMED_OUT, S.SUCCEEDED])})
    handle, _ = h.submit(["flaky"], retries=2)
    assert handle.wait(10)
    (execution,) = handle.executions
    assert execution.status is S.SUCCEEDED and execution.attempts == 3
    attempts = [e.attempt for e in h.of(AttemptFinished)]
    assert [a.number for a in attempts] == [1, 2, 3]
    assert [a.status for a in attempts] == [S.FAILED, S.TIMED_OUT, S.SUCCEEDED]
    assert [e.will_retry for e in h.of(AttemptFinished)] == [True, True, False]


def test_retries_stop_when_exhausted(make) -> None:  # type: ignore[no-untyped-def]
    h = make({"bad": Script(outcomes=[S.FAILED])})
    handle, _ = h.submit(["bad"], retries=2)
    assert handle.wait(10)
    assert handle.executions[0].attempts == 3
    assert handle.batch.status is BatchStatus.FAILED


def test_blocked_is_never_retried_and_retry_on_is_respected(make) -> None:  # type: ignore[no-untyped-def]
    h = make({"blocked": Script(outcomes=[S.BLOCKED]), "slow": Script(outcomes=[S.TIMED_OUT])})
    handle, _ = h.submit(["blocked", "slow"], retries=3, retry_on=(S.FAILED,))
    assert handle.wait(10)
    assert [e.attempts for e in handle.executions] == [1, 1]


def test_cancel_stops_running_and_pending_never_start(make) -> None:  # type: ignore[no-untyped-def]
    scripts = {f"s{i}": Script(block=True) for i in range(10)}
    h = make(scripts)
    handle, _ = h.submit(list(scripts), jobs=2)
    h.wait_for(lambda: len(h.of(ExecutionStarted)) == 2)
    assert h.engine.cancel_batch(handle.batch_id)
    assert handle.wait(10)
    assert handle.batch.status is BatchStatus.CANCELLED
    assert statuses(handle) == [S.CANCELLED] * 10
    assert len(h.runner.launched) == 2
    never_started = [e for e in handle.executions if e.attempts == 0]
    assert len(never_started) == 8
    assert all(e.error_message == "cancelled before it started" for e in never_started)


def test_cancel_one_execution_leaves_the_others(make) -> None:  # type: ignore[no-untyped-def]
    h = make({"stuck": Script(block=True), "ok": Script(), "waiting": Script()})
    handle, executions = h.submit(["stuck", "ok", "waiting"], jobs=1)
    h.wait_for(lambda: len(h.of(ExecutionStarted)) == 1)
    assert h.engine.cancel_execution(executions[2].id)  # still pending
    assert h.engine.cancel_execution(executions[0].id)  # running
    assert handle.wait(10)
    assert statuses(handle) == [S.CANCELLED, S.SUCCEEDED, S.CANCELLED]
    assert handle.batch.status is BatchStatus.FAILED  # not a user stop of the whole batch


def test_fail_fast_cancels_the_rest_and_the_batch_fails(make) -> None:  # type: ignore[no-untyped-def]
    scripts = {"bad": Script(outcomes=[S.FAILED])} | {f"s{i}": Script() for i in range(20)}
    h = make(scripts)
    handle, _ = h.submit(list(scripts), jobs=1, fail_fast=True)
    assert handle.wait(10)
    assert statuses(handle)[0] is S.FAILED
    assert set(statuses(handle)[1:]) == {S.CANCELLED}
    assert {e.error_message for e in handle.executions[1:]} == {
        "cancelled by fail-fast after bad failed"  # said by the engine, for every adapter
    }
    assert handle.batch.status is BatchStatus.FAILED
    assert len(h.runner.launched) == 1


def test_fail_fast_says_why_it_stopped_a_running_script(make) -> None:  # type: ignore[no-untyped-def]
    h = make({"slow": Script(block=True), "bad": Script(outcomes=[S.FAILED])})
    handle, _ = h.submit(["slow", "bad"], jobs=2, fail_fast=True)
    assert handle.wait(10)
    slow = handle.executions[0]
    assert slow.status is S.CANCELLED
    assert slow.error_message == "cancelled by fail-fast after bad failed"


@pytest.mark.parametrize("whole_batch", [True, False])
def test_cancel_during_retry_backoff_keeps_the_last_attempts_status(
    make, whole_batch: bool
) -> None:  # type: ignore[no-untyped-def]
    """The retry that never comes was no attempt: the execution's final status stays its last
    attempt's (failed), as its attempt rows say; no other attempt is made."""
    h = make({"bad": Script(outcomes=[S.FAILED])})
    handle, executions = h.submit(["bad"], retries=5, retry_backoff_s=60.0)
    h.wait_for(lambda: len(h.of(AttemptFinished)) == 1)
    if whole_batch:
        h.engine.cancel_batch(handle.batch_id)
    else:
        h.engine.cancel_execution(executions[0].id)
    assert handle.wait(10)
    assert handle.executions[0].status is S.FAILED
    assert len(h.runner.launched) == 1


def test_output_is_coalesced_into_few_events_and_tail_is_kept(make) -> None:  # type: ignore[no-untyped-def]
    lines = [("stdout", f"line {i}\n".encode()) for i in range(500)] + [("stderr", b"oops\n")]
    h = make({"chatty": Script(output=lines, block=True)})
    handle, executions = h.submit(["chatty"])
    h.wait_for(lambda: len(h.engine.live_output(executions[0].id)[1]) == 200)
    seq, tail = h.engine.live_output(executions[0].id)
    assert seq == 1
    assert tail[-1] == ("stderr", "oops\n") and tail[0] == ("stdout", "line 301\n")
    h.runner.release.set()
    assert handle.wait(10)
    events = h.of(OutputAppended)
    assert 1 <= len(events) <= 3  # 501 chunks, a few events
    text = "".join(t for e in events for s, t in e.chunks if s == "stdout")
    assert text.count("\n") == 500
    assert h.engine.live_output(executions[0].id) == (0, [])  # forgotten once finished


def test_a_runner_crash_fails_the_execution_not_the_batch(make) -> None:  # type: ignore[no-untyped-def]
    h = make({"ok": Script()})

    async def broken(*args: object) -> AttemptOutcome:
        raise RuntimeError("bug")

    h.runner.run = broken  # type: ignore[method-assign]
    handle, _ = h.submit(["ok"])
    assert handle.wait(10)
    (execution,) = handle.executions
    assert execution.status is S.FAILED and execution.error_type == "RunnerError"


def test_a_large_batch_runs_to_the_end(make) -> None:  # type: ignore[no-untyped-def]
    scripts = {f"s{i}": Script() for i in range(2000)}
    h = make(scripts)
    handle, _ = h.submit(list(scripts), jobs=8)
    assert handle.wait(60)
    assert handle.batch.status is BatchStatus.SUCCEEDED
    assert len(h.of(ExecutionFinished)) == 2000
    assert h.engine.queue_depth() == 0


def test_an_empty_batch_finishes(make) -> None:  # type: ignore[no-untyped-def]
    h = make({})
    handle, _ = h.submit([])
    assert handle.wait(10)
    assert handle.batch.status is BatchStatus.SUCCEEDED
