"""The Dask runner: each attempt is a task on a Dask cluster, run there by ``LocalRunner``.

It lives on the engine's asyncio loop like the local runner: the Dask client is asynchronous on
that loop. Per attempt it reads the script, ships its bytes (with their SHA-256) as a task,
writes the output that the worker streams back (worker events on one topic per runner) into the
execution's log file here, and returns the worker's outcome with the worker's address.

- Cancel: a task still queued is cancelled on the scheduler; a running one is stopped on its
  worker (``cancel_attempt``: the worker's runner kills the process group, as here).
- A worker that dies (or leaves) while it runs a script: the attempt is ``interrupted`` and its
  task cancelled, so that Dask does not silently run it again; the engine's retry policy decides
  what happens next.
- Resources: when every worker declares a ``MEMORY`` resource, a task asks for its sandbox's
  memory limit of it, so a worker is not given more scripts than its memory holds.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from distributed import Client, LocalCluster

from AppCode import __version__
from AppCode.core.domain.errors import ConfigurationError
from AppCode.core.domain.models import ExecutionStatus, RunOptions
from AppCode.core.engines.runner import AttemptOutcome, LaunchRequest, OutputSink, StartedSink
from AppCode.infrastructure.execution.dask_worker import (
    ShippedAttempt,
    cancel_attempt,
    run_attempt,
    scriptbatch_version,
)
from AppCode.infrastructure.execution.log_file import LogWriter

__all__ = ["DaskRunner"]

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5.0
WATCH_INTERVAL_S = 0.5  # how often the workers are counted while scripts run
OUTPUT_WAIT_S = 10.0  # the last output events may arrive just after the result
MEMORY_RESOURCE = "MEMORY"
_MB = 1024 * 1024


@dataclass
class _Attempt:
    writer: LogWriter
    on_output: OutputSink
    on_started: StartedSink
    worker: str | None = None
    started_at: float = 0.0  # monotonic, when the worker said it started
    restarted: bool = False  # the scheduler started it again elsewhere after a worker died
    received: int = 0


class DaskRunner:
    """Runs attempts on the cluster at ``scheduler`` ("" = a ``LocalCluster`` of this machine,
    started on first use and stopped with the runner)."""

    def __init__(self, scheduler: str) -> None:
        self._address = scheduler
        self._client: Client | None = None
        self._cluster: LocalCluster | None = None
        self._connecting = asyncio.Lock()
        self._topic = ""  # the client's id once connected (see _connect)
        self._attempts: dict[str, _Attempt] = {}
        self._workers: dict[str, dict[str, Any]] = {}
        self._workers_asked_at = 0.0  # monotonic, when the list above was asked for
        self._watcher: asyncio.Task[None] | None = None

    @property
    def where(self) -> str:
        return (
            f"the Dask scheduler at {self._address}" if self._address else "the local Dask cluster"
        )

    # -- the runner port -----------------------------------------------------------------------

    async def prepare(self, options: RunOptions) -> int | None:
        client = await self._connect()
        await self._refresh_workers()
        if not self._workers:
            raise ConfigurationError(
                f"{self.where} has no workers",
                hint=f"Start workers with `dask worker {self._address or 'ADDRESS'}` "
                "(see docs/distributed.md).",
            )
        try:
            versions = await client.run(scriptbatch_version)
        except Exception as exc:
            raise ConfigurationError(
                f"the workers of {self.where} cannot run ScriptBatch: {type(exc).__name__}: {exc}",
                hint=f"Install scriptbatch {__version__} in the workers' Python environment.",
            ) from None
        wrong = {address: v for address, v in versions.items() if v != __version__}
        if wrong:
            listed = ", ".join(f"{a} has {v}" for a, v in sorted(wrong.items()))
            raise ConfigurationError(
                f"the workers of {self.where} run another ScriptBatch version than this one "
                f"({__version__}): {listed}",
                hint=f"Install scriptbatch=={__version__} on the workers (or this version here).",
            )
        return sum(int(w.get("nthreads", 1)) for w in self._workers.values())

    async def run(
        self,
        request: LaunchRequest,
        on_output: OutputSink,
        on_started: StartedSink,
        cancel: asyncio.Event,
    ) -> AttemptOutcome:
        began = time.monotonic()
        writer = LogWriter(request.log_path, request.max_log_bytes)
        key = f"scriptbatch-{request.execution_id}-{request.attempt}-{uuid.uuid4().hex[:8]}"
        try:
            if request.attempt > 1:
                writer.note(f"attempt {request.attempt}")
            try:
                source = Path(request.script_path).read_bytes()
            except OSError as exc:
                message = f"script not readable: {request.script_path} ({exc.strerror or exc})"
                writer.note(message)
                return AttemptOutcome.not_started(
                    "FileNotFoundError", message, time.monotonic() - began
                )
            try:
                client = await self._connect()
            except ConfigurationError as exc:
                writer.note(exc.message)
                return AttemptOutcome.not_started(
                    "RunnerError", exc.message, time.monotonic() - began
                )
            state = _Attempt(writer, on_output, on_started)
            self._attempts[key] = state
            shipped = ShippedAttempt(
                key=key,
                topic=self._topic,
                request=replace(request, log_path="", python=""),
                source=source,
                sha256=hashlib.sha256(source).hexdigest(),
            )
            future = client.submit(
                run_attempt, shipped, key=key, pure=False, resources=self._resources(request)
            )
            outcome = await self._follow(client, future, state, cancel, request)
            outcome.duration_s = outcome.duration_s or time.monotonic() - began
            return outcome
        finally:
            self._attempts.pop(key, None)
            writer.close()

    async def aclose(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            self._watcher = None
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._cluster is not None:
            await self._cluster.close()
            self._cluster = None

    # -- one attempt -----------------------------------------------------------------------------

    async def _follow(
        self,
        client: Client,
        future: Any,
        state: _Attempt,
        cancel: asyncio.Event,
        request: LaunchRequest,
    ) -> AttemptOutcome:
        result = asyncio.ensure_future(_result_of(future))
        cancelled = asyncio.ensure_future(cancel.wait())
        try:
            return await self._watch(client, future, state, cancel, result, cancelled)
        finally:
            cancelled.cancel()

    async def _watch(
        self,
        client: Client,
        future: Any,
        state: _Attempt,
        cancel: asyncio.Event,
        result: asyncio.Future[Any],
        cancelled: asyncio.Future[Any],
    ) -> AttemptOutcome:
        stopped = False
        while not result.done():
            # Woken at once by a cancel: every attempt of the batch reacts in the same moment,
            # so queued tasks are dropped before a stopped script frees its worker.
            await asyncio.wait(
                {result, cancelled}, timeout=WATCH_INTERVAL_S, return_when=asyncio.FIRST_COMPLETED
            )
            if result.done():
                break
            if cancel.is_set() and not stopped:
                stopped = True
                if state.worker is None:
                    # Queued: the scheduler drops it. If a worker was starting it right now,
                    # the word to every worker stops it there (or before it starts).
                    await client.cancel(future)
                    await self._stop_on_workers(client, future.key, None)
                else:
                    # Running: its worker's runner stops it (process group, grace, kill) and
                    # the task ends with that outcome; the scheduler is not told to forget it,
                    # which would hand the still-busy worker the next queued task.
                    await self._stop_on_workers(client, future.key, [state.worker])
            if state.restarted or self._lost(state):
                await client.cancel(future)
                await self._stop_on_workers(client, future.key, None)
                result.cancel()
                message = (
                    f"the Dask worker {state.worker} "
                    f"{'was replaced' if state.restarted else 'left the cluster'} while the "
                    "script ran"
                )
                state.writer.note(message)
                return AttemptOutcome(
                    ExecutionStatus.INTERRUPTED,
                    error_type="WorkerLost",
                    error_message=message,
                    worker=state.worker,
                )
        try:
            outcome, sent = result.result()
        except asyncio.CancelledError:
            return AttemptOutcome(ExecutionStatus.CANCELLED, worker=state.worker)
        except Exception as exc:
            if cancel.is_set():
                return AttemptOutcome(ExecutionStatus.CANCELLED, worker=state.worker)
            interrupted = type(exc).__name__ == "KilledWorker"
            message = f"{type(exc).__name__}: {exc}"
            state.writer.note(message)
            return AttemptOutcome(
                ExecutionStatus.INTERRUPTED if interrupted else ExecutionStatus.FAILED,
                error_type="WorkerLost" if interrupted else "RunnerError",
                error_message=message,
                worker=state.worker,
            )
        deadline = time.monotonic() + OUTPUT_WAIT_S
        while state.received < sent and time.monotonic() < deadline:
            await asyncio.sleep(0.01)  # the events travel beside the result, a moment behind
        if state.received < sent:
            state.writer.note("some output did not arrive from the worker")
        return outcome

    def _lost(self, state: _Attempt) -> bool:
        """Its worker is missing from a list of workers asked for after it started (one that
        joined since the last list is not lost, only new)."""
        return (
            state.worker is not None
            and state.worker not in self._workers
            and self._workers_asked_at > state.started_at
        )

    async def _stop_on_workers(self, client: Client, key: str, workers: list[str] | None) -> None:
        try:
            await client.run(cancel_attempt, key, workers=workers)
        except Exception:
            log.warning("could not reach the worker to stop %s", key, exc_info=True)

    def _resources(self, request: LaunchRequest) -> dict[str, float] | None:
        policy = request.sandbox
        if policy is None or not policy.enabled or not policy.memory_limit_mb or not self._workers:
            return None
        offered = [w.get("resources", {}).get(MEMORY_RESOURCE) for w in self._workers.values()]
        if any(o is None for o in offered):
            return None
        # Never more than the biggest worker offers, or the task would wait for ever.
        return {MEMORY_RESOURCE: min(policy.memory_limit_mb * _MB, max(offered))}

    # -- the connection ------------------------------------------------------------------------

    async def _connect(self) -> Client:
        async with self._connecting:
            if self._client is not None and self._client.status == "running":
                return self._client
            try:
                if self._address:
                    client = await Client(
                        self._address,
                        asynchronous=True,
                        timeout=CONNECT_TIMEOUT_S,
                        set_as_default=False,
                    )
                else:
                    self._cluster = await _local_cluster()
                    client = await Client(self._cluster, asynchronous=True, set_as_default=False)
            except (OSError, TimeoutError, ValueError) as exc:
                raise ConfigurationError(
                    f"cannot reach {self.where}: {exc}",
                    hint="Check the address (tcp://HOST:8786) and that `dask scheduler` runs "
                    "there, or run on this computer with --backend local.",
                ) from None
            # The output events travel on the topic named after this client: the scheduler
            # drops what it kept of them once the client has gone.
            self._topic = str(client.id)
            client.subscribe_topic(self._topic, self._on_event)
            self._client = client
            if self._watcher is None or self._watcher.done():
                self._watcher = asyncio.ensure_future(self._watch_workers())
            log.info("connected to %s", self.where)
            return client

    async def _refresh_workers(self) -> None:
        if self._client is not None:
            asked_at = time.monotonic()
            identity = await self._client.scheduler.identity()
            self._workers = dict(identity.get("workers", {}))
            self._workers_asked_at = asked_at

    async def _watch_workers(self) -> None:
        """While attempts run, keep the list of live workers fresh (a vanished worker turns its
        attempts into ``interrupted``)."""
        while True:
            await asyncio.sleep(WATCH_INTERVAL_S)
            if not self._attempts:
                continue
            try:
                await self._refresh_workers()
            except Exception:
                log.warning("could not ask %s for its workers", self.where, exc_info=True)

    def _on_event(self, event: tuple[float, dict[str, Any]]) -> None:
        """A worker's event, on the engine's loop: a script started, or some of its output."""
        _, message = event
        state = self._attempts.get(message.get("key", ""))
        if state is None:
            return
        state.received += 1
        if message.get("kind") == "started":
            worker = str(message.get("worker"))
            if state.worker is not None and state.worker != worker:
                state.restarted = True
                return
            state.worker = worker
            state.started_at = time.monotonic()
            # The pid is the worker machine's: nothing here may signal or sample it.
            state.on_started(None, None)
        elif message.get("kind") == "note":
            state.writer.note(str(message.get("text", "")))
        elif message.get("kind") == "output":
            for stream, data in message.get("chunks", []):
                state.writer.write(stream, data)
                state.on_output(stream, data)


async def _result_of(future: Any) -> Any:
    return await future


async def _local_cluster() -> LocalCluster:
    """A cluster of this machine: one single-threaded worker process per core, each offering
    its share of the memory as the MEMORY resource."""
    import psutil

    workers = os.cpu_count() or 1
    return await LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        asynchronous=True,
        dashboard_address=None,
        resources={MEMORY_RESOURCE: psutil.virtual_memory().total // workers},
    )
