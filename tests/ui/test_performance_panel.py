"""The performance panel and the analysis tab: ViewModels on a monitoring service with a fake
sampler (samples taken by the test), and the analysis of a real recorded batch."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PyQt5.QtCore import Qt

from AppCode.core.domain.events import BatchStarted, ExecutionStarted
from AppCode.core.domain.models import (
    Batch,
    Execution,
    MetricSample,
    ProcessFigures,
    RunOptions,
    SystemReading,
)
from AppCode.services.monitoring_service import MonitoringService
from AppCode.services.settings import MonitoringSettings
from AppCode.ui.viewmodels.performance_viewmodel import AnalysisViewModel, PerformanceViewModel
from AppCode.ui.views.analysis_view import AnalysisView, figures_text
from AppCode.ui.widgets.performance_panel import PerformancePanel
from tests.conftest import write_script

MB = 1024 * 1024
BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class FakeSampler:
    """CPU 10, 20, 30 …; memory 40%; every running script: 25% CPU, 10 MB, 2 processes."""

    def __init__(self) -> None:
        self.cpu = 0.0

    def sample(self, scripts):  # type: ignore[no-untyped-def]
        self.cpu += 10
        return SystemReading(
            system=MetricSample(
                at=BASE,
                cpu_percent=self.cpu,
                memory_percent=40.0,
                disk_read_bytes_per_s=1000.0,
                disk_write_bytes_per_s=None,
                script_processes=2 * len(scripts),
            ),
            app=ProcessFigures(1.0, 100, 1, 3),
            scripts={eid: ProcessFigures(25.0, 10 * MB, 2, None) for eid in scripts},
        )


@pytest.fixture
def make_service(container) -> Callable[..., MonitoringService]:  # type: ignore[no-untyped-def]
    """A monitoring service whose clock moves one second per sample; nothing samples on its
    own (``start`` is a no-op), the test calls ``sample_once``."""

    def make(enabled: bool = True) -> MonitoringService:
        ticks = iter(range(100_000))
        service = MonitoringService(
            FakeSampler,
            container.uow,
            container.cache(),
            MonitoringSettings(enabled=enabled, interval_s=1.0, retention_days=30),
            queue_depth=lambda: 3,
            flush_results=lambda timeout: True,
            clock=lambda: BASE + timedelta(seconds=next(ticks)),
        )
        service.start = lambda: None  # type: ignore[method-assign]
        return service

    return make


@pytest.fixture
def vms() -> Iterator[list[PerformanceViewModel]]:
    """ViewModels to shut down after the test."""
    made: list[PerformanceViewModel] = []
    yield made
    for vm in made:
        vm.shutdown()


def running(service: MonitoringService, *paths: str) -> None:
    """Tell the service, as the engine would, that scripts ``paths`` run (this process)."""
    batch = Batch("b1", RunOptions(jobs=2))
    executions = tuple(Execution(f"e{i}", "b1", i, path) for i, path in enumerate(paths))
    service.on_event(BatchStarted(batch, executions))
    for execution in executions:
        service.on_event(ExecutionStarted(execution.id, "b1", 1, os.getpid(), None, BASE, None))


def test_many_snapshots_become_one_gui_update(qtbot, make_service, vms) -> None:  # type: ignore[no-untyped-def]
    service = make_service()
    vm = PerformanceViewModel(service)
    vms.append(vm)
    emitted: list[int] = []
    vm.series_changed.connect(lambda: emitted.append(len(vm.series)))
    for _ in range(50):
        service.sample_once()  # what the sampling thread does
    assert len(vm.series) == 0 and emitted == []  # only recorded, not applied yet
    with qtbot.waitSignal(vm.series_changed, timeout=2_000):
        pass
    assert emitted == [50] and vm.updates == 1
    series = vm.series
    assert series.cpu_percent == [10.0 * n for n in range(1, 51)]
    assert series.memory_percent == [40.0] * 50
    assert series.disk_read == [1000.0] * 50
    assert all(math.isnan(v) for v in series.disk_write)  # not readable: NaN, never zero
    assert series.at[-1] - series.at[0] == 49.0
    assert vm.figures["queue_depth"] == 3
    assert {c["region"] for c in vm.figures["caches"]} >= {"scripts", "history"}  # type: ignore[attr-defined]


def test_the_ring_buffer_is_drawn_at_once(make_service, vms) -> None:  # type: ignore[no-untyped-def]
    service = make_service()
    for _ in range(5):
        service.sample_once()
    vm = PerformanceViewModel(service)
    vms.append(vm)
    assert vm.series.cpu_percent == [10.0, 20.0, 30.0, 40.0, 50.0]
    assert vm.figures["queue_depth"] == 3


def test_the_window_keeps_only_the_last_minutes(qtbot, make_service, vms) -> None:  # type: ignore[no-untyped-def]
    service = make_service()
    for _ in range(150):  # 150 s
        service.sample_once()
    vm = PerformanceViewModel(service, window_minutes=1)
    vms.append(vm)
    assert len(vm.series) == 61 and vm.series.at[-1] - vm.series.at[0] == 60
    with qtbot.waitSignal(vm.series_changed):
        vm.window_minutes = 2
    assert len(vm.series) == 121


def test_running_scripts_are_listed_with_their_names(qtbot, make_service, vms) -> None:  # type: ignore[no-untyped-def]
    service = make_service()
    vm = PerformanceViewModel(service)
    vms.append(vm)
    running(service, "/jobs/report.py", "/jobs/clean.py")
    service.sample_once()
    with qtbot.waitSignal(vm.scripts_changed, timeout=2_000) as shown:
        pass
    rows = shown.args[0]
    assert [r.name for r in rows] == ["clean.py", "report.py"]
    assert [r.script_path for r in rows] == ["/jobs/clean.py", "/jobs/report.py"]
    assert rows[0].cpu_percent == 25.0 and rows[0].rss_bytes == 10 * MB
    assert rows[0].processes == 2
    assert vm.series.script_processes == [4.0]
    assert vm.figures["running"] == 2


def test_switched_off_monitoring_is_reported(qtbot, make_service, vms) -> None:  # type: ignore[no-untyped-def]
    service = make_service(enabled=False)
    started: list[bool] = []
    service.start = lambda: started.append(True)  # type: ignore[method-assign]
    vm = PerformanceViewModel(service)
    vms.append(vm)
    assert vm.disabled
    vm.start()
    panel = PerformancePanel(vm)
    qtbot.addWidget(panel)
    panel.show()
    assert panel.disabled_label.isVisible()
    assert "switched off" in panel.disabled_label.text()
    assert not panel.cpu.widget.isVisible() and not panel.scripts_stack.isVisible()
    assert started == []


def test_start_asks_the_service_to_sample(qtbot, make_service, vms) -> None:  # type: ignore[no-untyped-def]
    service = make_service()
    started: list[bool] = []
    service.start = lambda: started.append(True)  # type: ignore[method-assign]
    vm = PerformanceViewModel(service)
    vms.append(vm)
    assert not vm.disabled
    vm.start()
    qtbot.waitUntil(lambda: started == [True], timeout=5_000)


def test_shutdown_unsubscribes(qtbot, make_service) -> None:  # type: ignore[no-untyped-def]
    service = make_service()
    vm = PerformanceViewModel(service)
    vm.shutdown()
    service.sample_once()
    assert not vm._pending  # nothing recorded after shutdown


def test_the_panel_curves_hold_the_series(qtbot, make_service, vms) -> None:  # type: ignore[no-untyped-def]
    service = make_service()
    vm = PerformanceViewModel(service)
    vms.append(vm)
    panel = PerformancePanel(vm)
    qtbot.addWidget(panel)
    panel.show()
    running(service, "/jobs/report.py")
    for _ in range(10):
        service.sample_once()
    with qtbot.waitSignal(vm.series_changed, timeout=2_000):
        pass
    x, y = panel.cpu_curve.getData()
    assert list(x) == vm.series.at and list(y) == vm.series.cpu_percent
    assert list(panel.memory_curve.getData()[1]) == [40.0] * 10
    assert list(panel.read_curve.getData()[1]) == [1000.0] * 10
    assert list(panel.processes_curve.getData()[1]) == [2.0] * 10
    assert panel.cpu.caption.text().endswith(">100%</span>")
    model = panel.scripts_model
    assert model.rowCount() == 1
    assert [model.index(0, c).data() for c in range(4)] == ["report.py", "25%", "10.0 MB", "2"]
    assert "Queue 3" in panel.figures_label.text()
    curve = panel.cpu_curve
    assert curve is panel.cpu.plot.listDataItems()[0]  # the same curve, new data


def test_a_hidden_panel_catches_up_when_shown(qtbot, make_service, vms) -> None:  # type: ignore[no-untyped-def]
    service = make_service()
    vm = PerformanceViewModel(service)
    vms.append(vm)
    panel = PerformancePanel(vm)
    qtbot.addWidget(panel)
    for _ in range(3):
        service.sample_once()
    with qtbot.waitSignal(vm.series_changed, timeout=2_000):
        pass
    drawn = panel.cpu_curve.getData()[0]
    assert drawn is None or len(drawn) == 0  # hidden: not redrawn
    panel.show()
    assert list(panel.cpu_curve.getData()[1]) == [10.0, 20.0, 30.0]


def test_figures_read_as_key_value_text() -> None:
    text = figures_text(
        {"peak_bytes": 3 * MB, "median_s": 0.5, "failure_rate": 0.25, "last_error_type": None}
    )
    assert text == "peak_bytes: 3.0 MB · median_s: 0.50 s · failure_rate: 25%"


# -- the analysis tab on a real recorded batch --------------------------------------------------


def run_batch(container, tmp_path: Path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    paths = {
        "ok": str(write_script(tmp_path / "scripts" / "ok.py", "print('ok')\n")),
        "bad": str(write_script(tmp_path / "scripts" / "bad.py", "raise ValueError('broken')\n")),
    }
    service = container.batch_service()
    handle = service.start({"paths": list(paths.values()), "jobs": 2})
    assert service.wait(handle, 60)
    return paths


def test_analysis_lists_findings_and_opens_a_scripts_history(qtbot, container, tmp_path) -> None:  # type: ignore[no-untyped-def]
    paths = run_batch(container, tmp_path)
    vm = AnalysisViewModel(container.monitoring_service())
    opened: list[str] = []
    view = AnalysisView(vm, opened.append)
    qtbot.addWidget(view)
    with qtbot.waitSignal(vm.findings_changed, timeout=20_000):
        view.show()  # the first show loads
    model = view.model
    kinds = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert "Failing" in kinds and "Slowest" in kinds
    row = kinds.index("Failing")
    assert model.index(row, 1).data() == "bad.py"
    assert "failed 1 of 1 run" in model.index(row, 2).data()
    assert "failures: 1" in model.index(row, 3).data()
    assert view.stack.currentWidget() is view.table
    index = model.index(row, 2)
    rect = view.table.visualRect(index)
    qtbot.mouseClick(view.table.viewport(), Qt.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.table.viewport(), Qt.LeftButton, pos=rect.center())
    assert opened == [paths["bad"]]
    assert view.history_button.isEnabled()
    view.history_button.click()
    assert opened == [paths["bad"], paths["bad"]]


def test_analysis_of_an_empty_history_says_nothing_stands_out(qtbot, container) -> None:  # type: ignore[no-untyped-def]
    vm = AnalysisViewModel(container.monitoring_service())
    view = AnalysisView(vm, lambda _path: None)
    qtbot.addWidget(view)
    with qtbot.waitSignal(vm.findings_changed, timeout=20_000) as found:
        view.show()
    assert found.args[0] == []
    assert view.stack.currentWidget() is view.placeholder
    assert view.placeholder.text() == "Nothing stands out."


def test_analysis_reports_an_unknown_batch(qtbot, container) -> None:  # type: ignore[no-untyped-def]
    vm = AnalysisViewModel(container.monitoring_service())
    view = AnalysisView(vm, lambda _path: None)
    qtbot.addWidget(view)
    with qtbot.waitSignal(vm.findings_changed, timeout=20_000):
        view.show()
    view.batch_edit.setText("nosuchbatch")
    with qtbot.waitSignal(vm.error_occurred, timeout=20_000):
        view.refresh_button.click()
    assert view.error_label.isVisible() and view.error_label.text()
    assert not vm.is_loading
