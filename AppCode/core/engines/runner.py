"""The runner port: how the engine asks for one attempt of a script to be run somewhere.

Implementations: the local runner (``infrastructure/execution/local_runner.py``, a child process
on this machine) and the Dask runner (``infrastructure/execution/dask_runner.py``, the same local
runner on a Dask worker), chosen per batch by ``infrastructure/execution/backends.py``. Each
writes the attempt's output to its log file and passes each chunk to ``on_output`` for live
views.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from AppCode.core.domain.models import ExecutionStatus, RunOptions
from AppCode.core.security.policy import SandboxPolicy

__all__ = ["AttemptOutcome", "LaunchRequest", "OutputSink", "Runner", "StartedSink"]


@dataclass(frozen=True)
class LaunchRequest:
    """Everything needed to run one attempt, independent of where it runs."""

    execution_id: str
    attempt: int
    script_path: str
    args: tuple[str, ...]
    env: Mapping[str, str]
    log_path: str
    python: str = ""
    start_method: str = "spawn"
    cwd: str | None = None
    timeout_s: float | None = None
    kill_grace_s: float = 3.0
    max_log_bytes: int = 100 * 1024 * 1024
    sandbox: SandboxPolicy | None = None
    backend: str = "local"  # where it runs: "local" or "dask" (RunOptions.backend)
    scheduler: str = ""  # the Dask scheduler's address ("" = a cluster on this machine)


@dataclass
class AttemptOutcome:
    """What became of an attempt, as the runner saw it."""

    status: ExecutionStatus
    exit_code: int | None = None
    duration_s: float = 0.0
    cpu_s: float | None = None
    memory_peak_bytes: int | None = None
    error_type: str | None = None
    error_message: str | None = None
    output_bytes: int = 0
    worker: str | None = None
    sandbox: dict[str, Any] | None = field(default=None)

    @classmethod
    def not_started(cls, error_type: str, message: str, duration_s: float) -> AttemptOutcome:
        """The attempt failed before its script could start (missing file, no interpreter...)."""
        return cls(
            ExecutionStatus.FAILED,
            error_type=error_type,
            error_message=message,
            duration_s=duration_s,
        )


OutputSink = Callable[[str, bytes], None]
"""Receives ``(stream, data)`` for each chunk of output, stream "stdout" or "stderr"."""

StartedSink = Callable[[int | None, float | None], None]
"""Receives the child's ``(pid, process start time)`` once it is running; ``(None, None)`` when
it runs on another machine (its pid means nothing here)."""


class Runner(Protocol):
    """Runs attempts; one instance serves many concurrent attempts on the engine's loop."""

    async def prepare(self, options: RunOptions) -> int | None:
        """Before a batch is stored: check that its backend can run it (reach the cluster,
        matching versions) and return how many scripts it can run at once, if it knows; get
        ready for it without waiting (start a helper process) while the batch is stored.
        Raises ``ConfigurationError`` saying what is wrong; nothing has run then."""
        ...

    async def run(
        self,
        request: LaunchRequest,
        on_output: OutputSink,
        on_started: StartedSink,
        cancel: asyncio.Event,
    ) -> AttemptOutcome:
        """Run the attempt to its end. When ``cancel`` is set, stop it (status ``cancelled``).

        Never raises for anything the script does; a failure to launch is an outcome too.
        """
        ...

    async def aclose(self) -> None:
        """Release helpers (fork servers, clients) when the engine stops."""
        ...
