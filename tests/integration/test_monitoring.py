"""Monitoring with real psutil on real processes; storage, downsampling and retention."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest

from AppCode.core.domain.models import MetricSample, ProcessFigures, SystemReading
from AppCode.infrastructure.monitoring import sampler as sampler_module
from AppCode.infrastructure.monitoring.sampler import PsutilSampler
from AppCode.services.monitoring_service import MonitoringService
from AppCode.services.settings import MonitoringSettings
from tests.conftest import wait_until, write_script

MB = 1024 * 1024


@pytest.fixture
def child(tmp_path: Path):  # type: ignore[no-untyped-def]
    processes: list[subprocess.Popen[bytes]] = []

    def start(code: str) -> subprocess.Popen[bytes]:
        script = write_script(tmp_path / f"child{len(processes)}.py", code)
        process = subprocess.Popen([sys.executable, str(script)])
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.kill()
        process.wait(10)


def test_a_script_holding_200_mb_is_seen_with_its_rss(child) -> None:  # type: ignore[no-untyped-def]
    process = child(
        "import time\nb = bytearray(210 * 1024 * 1024)\n"
        "for i in range(0, len(b), 4096): b[i] = 1\ntime.sleep(60)\n"
    )
    sampler = PsutilSampler()
    readings: list[SystemReading] = []

    def rss() -> int:
        readings.append(sampler.sample({"e1": process.pid}))
        return readings[-1].scripts["e1"].rss_bytes or 0

    wait_until(lambda: rss() >= 200 * MB, what="RSS of 200 MB")
    reading = readings[-1]
    assert reading.scripts["e1"].processes == 1
    assert reading.system.memory_used_bytes and reading.system.memory_percent
    assert reading.app.rss_bytes and reading.app.threads


def test_a_busy_loop_is_seen_near_full_cpu_and_its_children_count(child) -> None:  # type: ignore[no-untyped-def]
    process = child(
        "import subprocess, sys\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "while True: pass\n"
    )
    sampler = PsutilSampler()
    sampler.sample({"busy": process.pid})
    seen: list[ProcessFigures] = []

    def busy() -> bool:
        seen.append(sampler.sample({"busy": process.pid}).scripts["busy"])
        return seen[-1].processes == 2 and (seen[-1].cpu_percent or 0) >= 60

    wait_until(busy, what="a busy process tree near 100% CPU")


def test_no_cpu_figure_is_measured_over_a_few_milliseconds(child, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """psutil's percentages are averages since the previous read: the first sample, taken
    right after the sampler was made, and a process seen for the first time have none yet."""
    # A second instead of 50 ms, so that a busy machine cannot delay the first sample past it.
    monkeypatch.setattr(sampler_module, "MIN_CPU_INTERVAL_S", 1.0)
    process = child("while True: pass\n")
    sampler = PsutilSampler()
    first = sampler.sample({"busy": process.pid})
    assert first.system.cpu_percent is None and "per_cpu" not in first.system.details
    assert first.app.cpu_percent is None
    assert first.scripts["busy"].cpu_percent is None
    assert first.scripts["busy"].rss_bytes  # what needs no interval is there

    def measured() -> bool:
        reading = sampler.sample({"busy": process.pid})
        return (
            reading.system.cpu_percent is not None
            and (reading.scripts["busy"].cpu_percent or 0) >= 30  # a shared machine: not 100
        )

    wait_until(measured, timeout=60, what="the busy script's CPU once measured long enough")


def test_unreadable_figures_are_none_with_one_note(monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(psutil, "disk_io_counters", lambda *a, **k: None)

    def no_swap() -> None:
        raise RuntimeError("no swap here")

    monkeypatch.setattr(psutil, "swap_memory", no_swap)
    sampler = PsutilSampler()
    with caplog.at_level(logging.INFO):
        first = sampler.sample({})
        second = sampler.sample({})
        for reading in (first, second):
            assert reading.system.disk_read_bytes_per_s is None
            assert reading.system.swap_used_bytes is None
        wait_until(lambda: sampler.sample({}).system.cpu_percent is not None, what="CPU figure")
    notes = [r.message for r in caplog.records if "not available" in r.message]
    assert len(notes) == 2  # disk and swap, once each


class FakeSampler:
    def __init__(self) -> None:
        self.cpu = 0.0

    def sample(self, scripts):  # type: ignore[no-untyped-def]
        self.cpu += 10
        return SystemReading(
            system=MetricSample(
                at=datetime.now(UTC),
                cpu_percent=self.cpu,
                memory_used_bytes=1000,
                memory_percent=50.0,
            ),
            app=ProcessFigures(1.0, 100, 1, 3),
            scripts={eid: ProcessFigures(50.0, 10 * MB, 1, None) for eid in scripts},
        )


def service_with_clock(container, clock, **settings):  # type: ignore[no-untyped-def]
    config = MonitoringSettings(enabled=True, interval_s=1.0, retention_days=30)
    for key, value in settings.items():
        setattr(config, key, value)
    return MonitoringService(
        FakeSampler,
        container.uow,
        container.cache(),
        config,
        queue_depth=lambda: 0,
        flush_results=lambda timeout: True,
        clock=clock,
    )


def test_downsampling_keeps_an_hour_and_aggregates_older_minutes(container) -> None:  # type: ignore[no-untyped-def]
    base = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    now = [base]
    service = service_with_clock(container, lambda: now[0])
    for second in range(0, 180):  # three minutes of 1 s samples, CPU 10, 20, ... 1800
        now[0] = base + timedelta(seconds=second)
        service.sample_once()
    service._persist()
    now[0] = base + timedelta(minutes=30)
    assert service.maintain() == (0, 0)  # still within the hour: untouched
    assert len(service.metrics()) == 180
    now[0] = base + timedelta(hours=2)
    aggregated, deleted = service.maintain()
    assert (aggregated, deleted) == (180, 0)
    rows = service.metrics()
    assert [r.resolution_s for r in rows] == [60, 60, 60]
    first = rows[0]
    assert first.at == base
    assert (first.cpu_percent_min, first.cpu_percent_max) == (10.0, 600.0)
    assert first.cpu_percent == pytest.approx(sum(range(10, 610, 10)) / 60)
    assert first.memory_used_bytes == 1000


def test_retention_deletes_old_samples(container) -> None:  # type: ignore[no-untyped-def]
    base = datetime(2026, 1, 1, tzinfo=UTC)
    now = [base]
    service = service_with_clock(container, lambda: now[0], retention_days=7)
    service.sample_once()
    now[0] = base + timedelta(days=5)
    service.sample_once()
    service._persist()
    now[0] = base + timedelta(days=8)
    _, deleted = service.maintain()
    assert deleted == 1
    assert [r.at for r in service.metrics()] == [base + timedelta(days=5)]


def test_subscribers_and_the_ring_buffer_get_every_snapshot(container) -> None:  # type: ignore[no-untyped-def]
    service = service_with_clock(container, lambda: datetime.now(UTC))
    got = []
    unsubscribe = service.subscribe(got.append)
    for _ in range(3):
        service.sample_once()
    unsubscribe()
    service.sample_once()
    assert len(got) == 3 and len(service.recent()) == 4
    assert got[0].caches and {c.region for c in got[0].caches} >= {"scripts", "history"}


def test_switched_off_monitoring_never_samples(container) -> None:  # type: ignore[no-untyped-def]
    service = service_with_clock(container, lambda: datetime.now(UTC), enabled=False)
    service.start()
    assert not service.is_running


def test_a_batch_starts_monitoring_and_its_samples_are_stored(container, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    container.settings().monitoring.interval_s = 0.1
    release = tmp_path / "release"
    script = write_script(
        tmp_path / "work.py",
        f"import os, time\nwhile not os.path.exists({str(release)!r}): time.sleep(0.05)\n",
    )
    service = container.batch_service()
    handle = service.start({"paths": [str(script)], "each_args": [["1"], ["2"]]})
    monitoring = container.monitoring_service()
    wait_until(
        lambda: any(len(s.scripts) == 2 for s in monitoring.recent()),
        what="both running scripts in a sample",
    )
    release.write_text("go")
    assert service.wait(handle, 60)
    assert monitoring.is_running
    samples = monitoring.metrics()
    assert samples and all(s.execution_id is None for s in samples)
    assert max(s.script_processes or 0 for s in samples) >= 1
    with container.uow() as uow:
        per_script = uow.metrics.query(execution_id=handle.executions[0].id)
    assert per_script and all(s.rss_bytes for s in per_script)


def test_a_killed_scripts_peak_memory_comes_from_sampling(container, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    container.settings().monitoring.interval_s = 0.1
    script = write_script(
        tmp_path / "hog.py",
        "import time\nb = bytearray(100 * 1024 * 1024)\n"
        "for i in range(0, len(b), 4096): b[i] = 1\ntime.sleep(60)\n",
    )
    service = container.batch_service()
    handle = service.start({"paths": [str(script)], "timeout_s": 2.5})
    assert service.wait(handle, 60)
    monitoring = container.monitoring_service()
    monitoring.stop()  # stores what is pending, the peak included
    execution = container.history_service().execution(handle.executions[0].id)
    assert execution.status.value == "timed_out"
    assert execution.memory_peak_bytes is not None and execution.memory_peak_bytes >= 90 * MB
