"""Live progress of one batch as server-sent events (``GET /api/v1/batches/{id}/events``).

The stream starts with a ``snapshot`` (the batch as ``GET /batches/{id}`` shows it), then
carries the engine's events for that batch, and ends with ``batch_finished`` (the final batch,
again in that shape). A batch that had already finished gets its snapshot and
``batch_finished`` at once. Each message is ``event: <type>\\ndata: <json>\\n\\n``.

Engine events arrive on the engine's thread; they are handed to the request's event loop with
``call_soon_threadsafe``. A batch run by another process (a CLI ``run`` on the same data)
sends no events here, so while nothing arrives the stream looks at the stored status every few
seconds, and ends when the batch has.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

from starlette.concurrency import run_in_threadpool

from AppCode.api.auth import Caller
from AppCode.core.domain.errors import ScriptBatchError
from AppCode.core.domain.events import (
    AttemptFinished,
    BatchFinished,
    BatchStarted,
    Event,
    ExecutionFinished,
    ExecutionStarted,
    OutputAppended,
)
from AppCode.services.json_shapes import batch_json, execution_json, iso

__all__ = ["batch_events", "sse"]

log = logging.getLogger(__name__)

TICK_S = 0.5  # how soon a stream notices that the server stops
RECHECK_S = 5.0  # no events for this long: look at the stored status
KEEPALIVE_S = 15.0  # a comment line, so proxies and clients keep the connection


def sse(kind: str, data: dict[str, Any]) -> str:
    # json.dumps escapes newlines, so the data is one line as the format requires.
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def batch_events(
    caller: Caller, batch_id: str, stopping: threading.Event
) -> AsyncIterator[str]:
    """The messages of one batch's stream (``batch_id`` is a full id that exists)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Event] = asyncio.Queue()
    known: list[frozenset[str]] = []  # the batch's execution ids, once the snapshot is read

    def on_event(event: Event) -> None:  # on the engine's thread: filter and hand over only
        if _concerns(event, batch_id, known[0] if known else None):
            try:
                loop.call_soon_threadsafe(queue.put_nowait, event)
            except RuntimeError:
                pass  # the loop is closed: this stream has ended

    # Subscribe before reading the snapshot, so no event falls between the two.
    unsubscribe = caller.container.event_bus().subscribe(on_event)
    try:
        batch, executions = await run_in_threadpool(caller.history.batch, batch_id)
        known.append(frozenset(e.id for e in executions))
        yield sse("snapshot", {"id": batch.id, **batch_json(batch, executions)})
        if batch.status.is_final:
            yield sse("batch_finished", {"id": batch.id, **batch_json(batch, executions)})
            return
        idle = 0.0
        since_check = 0.0
        while not stopping.is_set():
            try:
                event = await asyncio.wait_for(queue.get(), TICK_S)
            except TimeoutError:
                idle += TICK_S
                since_check += TICK_S
                if since_check >= RECHECK_S:
                    since_check = 0.0
                    stored = await run_in_threadpool(caller.history.find_batch, batch_id)
                    if stored.status.is_final:
                        yield await _finished(caller, batch_id)
                        return
                if idle >= KEEPALIVE_S:
                    idle = 0.0
                    yield ": keepalive\n\n"
                continue
            idle = since_check = 0.0
            if isinstance(event, BatchFinished):
                yield await _finished(caller, batch_id)
                return
            message = _message(event, known[0])
            if message is not None:
                yield message
    except ScriptBatchError as exc:  # e.g. the batch was pruned while watched
        yield sse("error", {"type": type(exc).__name__, "message": exc.message, "hint": exc.hint})
    except Exception:
        log.exception("the event stream of batch %s failed", batch_id)
        yield sse(
            "error",
            {"type": "InternalError", "message": "the event stream failed", "hint": None},
        )
    finally:
        unsubscribe()


async def _finished(caller: Caller, batch_id: str) -> str:
    batch, executions = await run_in_threadpool(caller.history.batch, batch_id)
    return sse("batch_finished", {"id": batch.id, **batch_json(batch, executions)})


def _concerns(event: Event, batch_id: str, known: frozenset[str] | None) -> bool:
    """Whether ``event`` belongs to the batch (before the snapshot is read, events that name
    only an execution are let through and filtered afterwards)."""
    if isinstance(event, BatchStarted | BatchFinished):
        return event.batch.id == batch_id
    if isinstance(event, ExecutionStarted):
        return event.batch_id == batch_id
    if isinstance(event, ExecutionFinished):
        return event.execution.batch_id == batch_id
    if isinstance(event, OutputAppended):
        return known is None or event.execution_id in known
    if isinstance(event, AttemptFinished):
        return known is None or event.attempt.execution_id in known
    return False


def _message(event: Event, known: frozenset[str]) -> str | None:
    if isinstance(event, BatchStarted):
        return sse("batch_started", {"id": event.batch.id, "status": event.batch.status.value})
    if isinstance(event, ExecutionStarted):
        return sse(
            "execution_started",
            {
                "execution_id": event.execution_id,
                "batch_id": event.batch_id,
                "attempt": event.attempt,
                "pid": event.pid,
                "started_at": iso(event.started_at),
            },
        )
    if isinstance(event, OutputAppended):
        if event.execution_id not in known:
            return None
        return sse(
            "output",
            {
                "execution_id": event.execution_id,
                "seq": event.seq,
                "chunks": [{"stream": s, "text": t} for s, t in event.chunks],
            },
        )
    if isinstance(event, AttemptFinished):
        attempt = event.attempt
        if attempt.execution_id not in known:
            return None
        return sse(
            "attempt_finished",
            {
                "execution_id": attempt.execution_id,
                "number": attempt.number,
                "status": attempt.status.value,
                "exit_code": attempt.exit_code,
                "duration_s": attempt.duration_s,
                "error_type": attempt.error_type,
                "error_message": attempt.error_message,
                "will_retry": event.will_retry,
            },
        )
    if isinstance(event, ExecutionFinished):
        return sse("execution_finished", execution_json(event.execution))
    return None
