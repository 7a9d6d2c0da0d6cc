"""What runs on a Dask worker: one attempt of a script, shipped by content and run by the same
``LocalRunner`` as on the desktop (sandbox, timeout, process-tree kill included). A worker is
just another host for the runner.

Workers need ScriptBatch installed (the same version as the app: ``scriptbatch_version`` is
checked when a batch starts). Output goes back to the app as worker events on the runner's topic
while the script runs; the outcome is the task's result. docs/distributed.md has the details.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from distributed import get_worker

from AppCode import __version__
from AppCode.core.domain.models import ExecutionStatus
from AppCode.core.engines.runner import AttemptOutcome, LaunchRequest
from AppCode.infrastructure.execution.local_runner import LocalRunner
from AppCode.infrastructure.execution.log_file import LogWriter

__all__ = ["ShippedAttempt", "cancel_attempt", "run_attempt", "scriptbatch_version"]

FLUSH_INTERVAL_S = 0.1  # output reaches the app within about this, plus the network
# The scheduler keeps the last events of a topic (until an hour after the app disconnects):
# small messages keep that memory small.
FLUSH_BYTES = 64 * 1024
KEEP_CANCELLED = 10_000  # cancels remembered for tasks that had not started here


@dataclass(frozen=True)
class ShippedAttempt:
    """One attempt as it travels to a worker: the script's bytes, not its path."""

    key: str  # the task's key; also names the attempt in events and cancels
    topic: str  # the event topic the app listens on
    request: LaunchRequest  # as the engine made it; paths are the app machine's
    source: bytes
    sha256: str


def scriptbatch_version() -> str:
    return __version__


def run_attempt(shipped: ShippedAttempt) -> tuple[AttemptOutcome, int]:
    """Run the attempt on this worker; returns its outcome and how many output events were
    sent (the app waits for all of them before it closes the log)."""
    worker = get_worker()
    began = time.monotonic()
    if hashlib.sha256(shipped.source).hexdigest() != shipped.sha256:
        outcome = AttemptOutcome(
            ExecutionStatus.FAILED,
            error_type="TransferError",
            error_message="the script arrived damaged on the worker (checksum mismatch)",
            duration_s=time.monotonic() - began,
            worker=worker.address,
        )
        return outcome, 0
    # <workdir>/script/ is the script's folder (its cwd, writable under the sandbox); the
    # runner's own log file stays outside it, out of the script's reach.
    workdir = Path(tempfile.mkdtemp(prefix=f"scriptbatch-{shipped.request.execution_id}-"))
    events = _OutputEvents(worker, shipped.topic, shipped.key)
    log_path = str(workdir / "output.log")
    _NOTES[log_path] = events
    try:
        folder = workdir / "script"
        folder.mkdir()
        script = folder / Path(shipped.request.script_path).name
        script.write_bytes(shipped.source)
        request = replace(
            shipped.request,
            script_path=str(script),
            cwd=str(folder),
            log_path=log_path,
            python="",  # the worker's own interpreter: the app's path means nothing here
            start_method=shipped.request.start_method if sys.platform == "linux" else "spawn",
            backend="local",
        )

        def on_started(pid: int | None, _started_at: float | None) -> None:
            events.send({"kind": "started", "pid": pid, "worker": worker.address})

        outcome = _host().run(shipped.key, request, events.add, on_started)
        events.flush()
        outcome.worker = worker.address
        return outcome, events.sent
    finally:
        _NOTES.pop(log_path, None)
        events.close()
        shutil.rmtree(workdir, ignore_errors=True)


def cancel_attempt(key: str) -> bool:
    """Stop the attempt ``key`` if it runs in this worker process (``Client.run`` calls this on
    the worker that started it). True if it was running here."""
    return _host().cancel(key)


class _Host:
    """One per worker process, like the app's engine thread: an asyncio loop on its own thread
    with one ``LocalRunner``, which every task of the process uses."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.loop.call_soon(ready.set)
        threading.Thread(
            target=self.loop.run_forever, name="scriptbatch-runner", daemon=True
        ).start()
        ready.wait()
        self.runner = _WorkerRunner()
        self._cancels: dict[str, asyncio.Event] = {}
        # Stopped before they reached the runner (insertion-ordered: the oldest are forgotten).
        self._cancelled_early: dict[str, None] = {}
        self._lock = threading.Lock()

    def run(self, key: str, request: LaunchRequest, on_output, on_started) -> AttemptOutcome:  # type: ignore[no-untyped-def]
        async def attempt() -> AttemptOutcome:
            cancel = asyncio.Event()
            with self._lock:
                if key in self._cancelled_early:
                    del self._cancelled_early[key]
                    return AttemptOutcome(ExecutionStatus.CANCELLED)
                self._cancels[key] = cancel
            try:
                return await self.runner.run(request, on_output, on_started, cancel)
            finally:
                self._cancels.pop(key, None)

        return asyncio.run_coroutine_threadsafe(attempt(), self.loop).result()

    def cancel(self, key: str) -> bool:
        with self._lock:
            event = self._cancels.get(key)
            if event is None:
                self._cancelled_early[key] = None  # if it starts here later, it will not run
                while len(self._cancelled_early) > KEEP_CANCELLED:
                    del self._cancelled_early[next(iter(self._cancelled_early))]
                return False
        self.loop.call_soon_threadsafe(event.set)
        return True


class _NoteForwardingLog(LogWriter):
    """The worker runner's log: its own lines ("exceeded its time limit", "killed") also go to
    the app, whose log file is the one that lasts."""

    def note(self, text: str) -> None:
        super().note(text)
        events = _NOTES.get(self.path)
        if events is not None:
            events.send({"kind": "note", "text": text})


class _WorkerRunner(LocalRunner):
    log_writer = _NoteForwardingLog


_NOTES: dict[str, _OutputEvents] = {}  # log path -> the attempt's event channel
_HOST: _Host | None = None
_HOST_LOCK = threading.Lock()


def _host() -> _Host:
    global _HOST
    with _HOST_LOCK:
        if _HOST is None:
            _HOST = _Host()
        return _HOST


class _OutputEvents:
    """Coalesces a script's output into worker events: at most one every FLUSH_INTERVAL_S, or
    sooner when FLUSH_BYTES have piled up. Called on the host's loop thread."""

    def __init__(self, worker: object, topic: str, key: str) -> None:
        self._worker = worker
        self._topic = topic
        self._key = key
        self._chunks: list[list[object]] = []
        self._size = 0
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self.sent = 0

    def add(self, stream: str, data: bytes) -> None:
        with self._lock:
            self._chunks.append([stream, bytes(data)])
            self._size += len(data)
            if self._size >= FLUSH_BYTES:
                self._flush_locked()
            elif self._timer is None:
                self._timer = threading.Timer(FLUSH_INTERVAL_S, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def send(self, message: dict[str, object]) -> None:
        with self._lock:
            self._flush_locked()
            self._send_locked(message)

    def close(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _flush_locked(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._chunks:
            chunks, self._chunks, self._size = self._chunks, [], 0
            self._send_locked({"kind": "output", "chunks": chunks})

    def _send_locked(self, message: dict[str, object]) -> None:
        self.sent += 1
        self._worker.log_event(self._topic, {"key": self._key, "seq": self.sent, **message})  # type: ignore[attr-defined]
