"""Domain events the engine publishes on the event bus (ARCHITECTURE.md, "The flow of a run").

Subscribers (the result writer, monitoring, plugins, API streams, ViewModels) receive them on the
engine's thread and must return quickly: queue the work, never block.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from AppCode.core.domain.models import Attempt, Batch, Execution

__all__ = [
    "AttemptFinished",
    "BatchFinished",
    "BatchStarted",
    "Event",
    "ExecutionFinished",
    "ExecutionStarted",
    "OutputAppended",
]


@dataclass(frozen=True)
class BatchStarted:
    batch: Batch
    executions: tuple[Execution, ...]


@dataclass(frozen=True)
class ExecutionStarted:
    """An attempt of an execution has started (``attempt`` counts from 1)."""

    execution_id: str
    batch_id: str
    attempt: int
    pid: int | None
    pid_started_at: float | None
    started_at: datetime
    log_path: str | None


@dataclass(frozen=True)
class OutputAppended:
    """New output of a running execution, coalesced (at most ~10 events a second each).

    ``chunks`` are ``(stream, text)`` pairs, stream "stdout" or "stderr", decoded with
    replacement characters for display; the log file keeps the original bytes. ``seq`` counts
    the execution's output events from 1, so a view that started from a tail snapshot (which
    says up to which event it goes) skips what it already has.
    """

    execution_id: str
    chunks: tuple[tuple[str, str], ...]
    seq: int = 0


@dataclass(frozen=True)
class AttemptFinished:
    """One attempt ended; a retry may follow."""

    attempt: Attempt
    will_retry: bool


@dataclass(frozen=True)
class ExecutionFinished:
    """An execution reached its final status (after any retries)."""

    execution: Execution


@dataclass(frozen=True)
class BatchFinished:
    batch: Batch


Event = (
    BatchStarted
    | ExecutionStarted
    | OutputAppended
    | AttemptFinished
    | ExecutionFinished
    | BatchFinished
)
