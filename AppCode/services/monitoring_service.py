"""Live resource monitoring (the seed design's ``IMonitoringService``) and the analyzer's findings.

A sampling thread reads the system, the app and every running script's process tree each
``[monitoring].interval_s``; subscribers get every ``Snapshot``, the last minutes stay in a ring
buffer (a panel opened later draws them at once), and a second thread stores the samples in
batches: full resolution for the last hour, one-minute aggregates (mean, min, max) after that,
nothing older than ``retention_days``. It starts with the first batch a process runs (GUI, CLI
or API alike), or when a view asks for it.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from statistics import fmean
from typing import Protocol

from AppCode.core.analyzers.performance import Finding, analyze
from AppCode.core.domain.events import (
    BatchStarted,
    Event,
    ExecutionFinished,
    ExecutionStarted,
)
from AppCode.core.domain.models import MetricSample, ProcessFigures, SystemReading
from AppCode.core.domain.ports import ExecutionFilter, UnitOfWorkFactory
from AppCode.core.managers.cache import CacheManager, CacheStats
from AppCode.core.security.permissions import ALLOW_ALL, AccessControl, Level, requires
from AppCode.services.history_service import find_batch
from AppCode.services.settings import MonitoringSettings, SandboxSettings

__all__ = ["MonitoringService", "ResourceSampler", "Snapshot"]

log = logging.getLogger(__name__)

RING_MINUTES = 10
FULL_RESOLUTION = timedelta(hours=1)
BUCKET_S = 60
PERSIST_EVERY_S = 5.0
MAINTAIN_EVERY = timedelta(minutes=10)
_ANALYSIS_HISTORY = 5000


class ResourceSampler(Protocol):
    """Reads resource figures; the psutil implementation lives in the infrastructure."""

    def sample(self, scripts: Mapping[str, int]) -> SystemReading: ...


@dataclass(frozen=True)
class Snapshot:
    """What a subscriber gets every interval."""

    at: datetime
    system: MetricSample
    app: ProcessFigures
    scripts: dict[str, ProcessFigures]
    queue_depth: int
    running: int
    caches: list[CacheStats] = field(default_factory=list)
    script_paths: dict[str, str] = field(default_factory=dict)  # execution id -> script


class MonitoringService:
    def __init__(
        self,
        sampler_factory: Callable[[], ResourceSampler],
        uow: UnitOfWorkFactory,
        cache: CacheManager,
        settings: MonitoringSettings,
        queue_depth: Callable[[], int],
        flush_results: Callable[[float], bool],
        *,
        clock: Callable[[], datetime] | None = None,
        cpu_count: int | None = None,
        sandbox: SandboxSettings | None = None,
        access: AccessControl = ALLOW_ALL,
    ) -> None:
        """``sandbox``: the ``[sandbox]`` settings, whose memory limit the analyzer applies to
        executions whose batch does not record the limit they ran under (None: no limit)."""
        self._access = access
        self._sampler_factory = sampler_factory
        self._sampler: ResourceSampler | None = None
        self._uow = uow
        self._cache = cache
        self._settings = settings
        self._queue_depth = queue_depth
        self._flush_results = flush_results
        self._clock = clock or (lambda: datetime.now(UTC))
        self._cpu_count = cpu_count or os.cpu_count() or 1
        self._sandbox = sandbox
        self._lock = threading.Lock()
        self._subscribers: tuple[Callable[[Snapshot], None], ...] = ()
        self._ring: deque[Snapshot] = deque(maxlen=self._ring_size())
        self._running: dict[str, int] = {}  # execution id -> pid
        self._paths: dict[str, str] = {}  # execution id -> script path, for queued and running
        self._peaks: dict[str, int] = {}  # execution id -> highest sampled RSS
        self._stop = threading.Event()
        self._sampling: threading.Thread | None = None
        self._persisting: threading.Thread | None = None
        self._pending: queue.SimpleQueue[list[MetricSample] | tuple[str, int]] = queue.SimpleQueue()
        self._last_maintenance: datetime | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return self._settings.enabled

    @property
    def is_running(self) -> bool:
        return self._sampling is not None

    def start(self) -> None:
        """Start sampling (no-op when switched off or already running)."""
        with self._lock:
            if self._sampling is not None or not self._settings.enabled:
                return
            self._stop.clear()
            self._sampling = threading.Thread(
                target=self._sample_loop, name="scriptbatch-monitor", daemon=True
            )
            self._persisting = threading.Thread(
                target=self._persist_loop, name="scriptbatch-metrics-writer", daemon=True
            )
            self._sampling.start()
            self._persisting.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop sampling and store what is pending."""
        with self._lock:
            sampling, persisting = self._sampling, self._persisting
            self._sampling = self._persisting = None
        if sampling is None:
            return
        self._stop.set()
        sampling.join(timeout)
        if persisting is not None:
            persisting.join(timeout)

    def subscribe(self, subscriber: Callable[[Snapshot], None]) -> Callable[[], None]:
        """Get every snapshot (on the sampling thread: return quickly)."""
        with self._lock:
            self._subscribers = (*self._subscribers, subscriber)

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = tuple(s for s in self._subscribers if s is not subscriber)

        return unsubscribe

    def recent(self) -> list[Snapshot]:
        """The ring buffer: the last ~10 minutes of snapshots, oldest first."""
        with self._lock:
            return list(self._ring)

    def on_event(self, event: Event) -> None:
        """Bus subscriber: follows which scripts run, and starts sampling with a batch."""
        if isinstance(event, BatchStarted):
            with self._lock:
                self._paths.update((e.id, e.script_path) for e in event.executions)
            self.start()
        elif isinstance(event, ExecutionStarted) and event.pid is not None:
            with self._lock:
                self._running[event.execution_id] = event.pid
        elif isinstance(event, ExecutionFinished):
            execution = event.execution
            with self._lock:
                self._running.pop(execution.id, None)
                self._paths.pop(execution.id, None)
                peak = self._peaks.pop(execution.id, None)
            if execution.memory_peak_bytes is None and peak:
                # The runner could not measure it (the script was killed): use the sampled peak.
                self._pending.put((execution.id, peak))

    def peak_rss(self, execution_id: str) -> int | None:
        with self._lock:
            return self._peaks.get(execution_id)

    # -- sampling ----------------------------------------------------------------------------

    def sample_once(self) -> Snapshot:
        """Take one sample now, deliver it and queue it for storage."""
        if self._sampler is None:
            self._sampler = self._sampler_factory()
        with self._lock:
            running = dict(self._running)
        reading = self._sampler.sample(running)
        now = self._clock()
        system = replace(reading.system, at=now)
        rows = [system]
        with self._lock:
            for execution_id, figures in reading.scripts.items():
                if figures.rss_bytes:
                    self._peaks[execution_id] = max(
                        self._peaks.get(execution_id, 0), figures.rss_bytes
                    )
        for execution_id, figures in reading.scripts.items():
            rows.append(
                MetricSample(
                    at=now,
                    execution_id=execution_id,
                    cpu_percent=figures.cpu_percent,
                    rss_bytes=figures.rss_bytes,
                    script_processes=figures.processes,
                )
            )
        snapshot = Snapshot(
            at=now,
            system=system,
            app=reading.app,
            scripts=reading.scripts,
            queue_depth=self._queue_depth(),
            running=len(running),
            caches=self._cache.stats(),
            script_paths={eid: self._paths.get(eid, "") for eid in reading.scripts},
        )
        with self._lock:
            self._ring.append(snapshot)
            subscribers = self._subscribers
        self._pending.put(rows)
        for subscriber in subscribers:
            try:
                subscriber(snapshot)
            except Exception:
                log.exception("monitoring subscriber failed")
        return snapshot

    def _sample_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.sample_once()
            except Exception:
                log.exception("monitoring sample failed")
            self._stop.wait(self._settings.interval_s)

    def _ring_size(self) -> int:
        return max(10, int(RING_MINUTES * 60 / max(self._settings.interval_s, 0.05)))

    # -- storage -----------------------------------------------------------------------------

    def _persist_loop(self) -> None:
        while not self._stop.wait(PERSIST_EVERY_S):
            self._persist()
        self._persist()

    def _persist(self) -> None:
        rows: list[MetricSample] = []
        peaks: list[tuple[str, int]] = []
        while True:
            try:
                item = self._pending.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, tuple):
                peaks.append(item)
            else:
                rows.extend(item)
        try:
            if peaks:
                self._flush_results(10.0)  # the execution rows must be stored before we fill in
            with self._uow() as uow:
                uow.metrics.add(rows)
                for execution_id, peak in peaks:
                    uow.metrics.fill_memory_peak(execution_id, peak)
                uow.commit()
            now = self._clock()
            if self._last_maintenance is None or now - self._last_maintenance >= MAINTAIN_EVERY:
                self.maintain(now)
        except Exception:
            log.exception("storing %d performance samples failed", len(rows))

    def maintain(self, now: datetime | None = None) -> tuple[int, int]:
        """Downsample samples older than an hour to one-minute aggregates and delete those
        older than the retention; returns (raw samples aggregated, samples deleted)."""
        now = now or self._clock()
        self._last_maintenance = now
        aggregated = 0
        while True:
            with self._uow() as uow:
                raw = uow.metrics.raw_before(now - FULL_RESOLUTION, 20_000)
                if not raw:
                    break
                uow.metrics.add(_aggregate([m for _, m in raw]))
                uow.metrics.delete([row_id for row_id, _ in raw])
                uow.commit()
            aggregated += len(raw)
            if len(raw) < 20_000:
                break
        deleted = 0
        if self._settings.retention_days:
            with self._uow() as uow:
                deleted = uow.metrics.delete_before(
                    now - timedelta(days=self._settings.retention_days)
                )
                uow.commit()
        return aggregated, deleted

    # -- queries -----------------------------------------------------------------------------

    @requires(Level.VIEW, "view metrics")
    def metrics(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[MetricSample]:
        """Stored system samples and aggregates, oldest first (pending ones stored first)."""
        if self.is_running:
            self._persist()
        with self._uow() as uow:
            return uow.metrics.query(since=since, until=until)

    @requires(Level.VIEW, "view findings")
    def findings(self, batch_ref: str | None = None, *, top: int = 5) -> list[Finding]:
        """The analyzer's findings over the stored history, plus the bottlenecks of one batch
        when ``batch_ref`` names it."""
        self._flush_results(10.0)  # a batch that just finished is part of the history
        if self.is_running:
            self._persist()
        with self._uow() as uow:
            history = uow.executions.query(ExecutionFilter(), limit=_ANALYSIS_HISTORY)
            batch = find_batch(uow, batch_ref) if batch_ref else None
            batch_executions = uow.executions.of_batch(batch.id) if batch else []
            samples: Sequence[MetricSample] = []
            if batch and batch.started_at:
                until = (batch.finished_at or self._clock()) + timedelta(seconds=1)
                samples = uow.metrics.query(since=batch.started_at, until=until)
        return analyze(
            history,
            batch=batch,
            batch_executions=batch_executions,
            samples=samples,
            cpu_count=self._cpu_count,
            memory_limit_bytes=self._default_memory_limit(),
            top=top,
        )

    def _default_memory_limit(self) -> int | None:
        """The ``[sandbox]`` memory limit in bytes, read now (settings can change while the app
        runs); None when the sandbox is off or sets no limit."""
        sandbox = self._sandbox
        if sandbox is None or not sandbox.enabled or sandbox.memory_limit_mb <= 0:
            return None
        return sandbox.memory_limit_mb * 1024 * 1024


def _aggregate(samples: list[MetricSample]) -> list[MetricSample]:
    """One row per (execution or system, minute): means, with CPU min and max."""
    buckets: dict[tuple[str | None, int], list[MetricSample]] = {}
    for sample in samples:
        minute = int(sample.at.timestamp()) // BUCKET_S * BUCKET_S
        buckets.setdefault((sample.execution_id, minute), []).append(sample)
    rows = []
    for (execution_id, minute), group in sorted(buckets.items(), key=lambda kv: kv[0][1]):
        cpu = [s.cpu_percent for s in group if s.cpu_percent is not None]
        rows.append(
            MetricSample(
                at=datetime.fromtimestamp(minute, UTC),
                resolution_s=BUCKET_S,
                execution_id=execution_id,
                cpu_percent=fmean(cpu) if cpu else None,
                cpu_percent_min=min(cpu) if cpu else None,
                cpu_percent_max=max(cpu) if cpu else None,
                memory_used_bytes=_mean_int(s.memory_used_bytes for s in group),
                memory_percent=_mean(s.memory_percent for s in group),
                swap_used_bytes=_max_int(s.swap_used_bytes for s in group),
                disk_read_bytes_per_s=_mean(s.disk_read_bytes_per_s for s in group),
                disk_write_bytes_per_s=_mean(s.disk_write_bytes_per_s for s in group),
                script_processes=_max_int(s.script_processes for s in group),
                rss_bytes=_max_int(s.rss_bytes for s in group),
                details={"samples": len(group)},
            )
        )
    return rows


def _mean(values: Iterable[float | int | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return fmean(present) if present else None


def _mean_int(values: Iterable[float | int | None]) -> int | None:
    mean = _mean(values)
    return None if mean is None else int(mean)


def _max_int(values: Iterable[int | None]) -> int | None:
    present = [int(v) for v in values if v is not None]
    return max(present) if present else None
