"""The real main window, offscreen, on a temporary data directory with the examples."""

from __future__ import annotations

from pathlib import Path

import pytest
from PyQt5.QtCore import QMimeData, QPoint, QSettings, Qt, QUrl
from PyQt5.QtGui import QDropEvent
from PyQt5.QtWidgets import QMessageBox

from AppCode.container import install_examples
from AppCode.core.domain.models import ExecutionStatus
from AppCode.ui.app import _build_window
from tests.conftest import write_script

S = ExecutionStatus


@pytest.fixture
def window(qtbot, container, tmp_path: Path):  # type: ignore[no-untyped-def]
    install_examples(container)
    settings = QSettings(str(tmp_path / "gui.ini"), QSettings.IniFormat)
    win = _build_window(container, settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: len(win._library.all_scripts) >= 8, timeout=10_000)
    yield win
    if win._batch.is_running:
        win._batch.stop()
        qtbot.waitUntil(lambda: not win._batch.is_running, timeout=30_000)
    win.shutdown_viewmodels()


def tick(window, *names: str) -> None:  # type: ignore[no-untyped-def]
    library = window._library
    library.set_checked([s.path for s in library.all_scripts], False)
    library.set_checked([s.path for s in library.all_scripts if s.name in names], True)


def test_running_two_ticked_examples_fills_the_table(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    tick(window, "greet_with_args", "always_fails")
    assert len(window._library.checked_paths()) == 2
    with qtbot.waitSignal(window._batch.batch_finished, timeout=30_000):
        window.run_action.trigger()
    model = window.batch_panel.model
    assert model.rowCount() == 2
    statuses = {Path(e.script_path).stem: e.status for e in window._batch.rows}
    assert statuses == {"greet_with_args": S.SUCCEEDED, "always_fails": S.FAILED}
    status_column = model.COLUMNS.index("status")
    texts = {model.index(r, status_column).data() for r in range(2)}
    assert texts == {"succeeded", "failed"}
    qtbot.waitUntil(lambda: window.batch_panel.progress.value() == 2, timeout=5_000)
    assert "Succeeded 1" in window.counts_label.text()
    assert window.rerun_action.isEnabled() and window.run_action.isEnabled()
    assert not window.stop_action.isEnabled()


def test_selecting_a_row_shows_its_output(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    tick(window, "always_fails")
    with qtbot.waitSignal(window._batch.batch_finished, timeout=30_000):
        window.run_selected()
    window.batch_panel.table.selectRow(0)
    qtbot.waitUntil(lambda: "ValueError" in window.output.text.toPlainText(), timeout=10_000)
    assert "always_fails" in window.output.title.text()


def test_stop_cancels_a_running_batch(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    tick(window, "slow_progress")
    window.run_selected()
    qtbot.waitUntil(lambda: any(e.status is S.RUNNING for e in window._batch.rows), timeout=20_000)
    assert window.stop_action.isEnabled() and not window.run_action.isEnabled()
    with qtbot.waitSignal(window._batch.batch_finished, timeout=30_000) as finished:
        window.stop_action.trigger()
    assert finished.args[1] == "cancelled"
    assert window._batch.rows[0].status is S.CANCELLED


def test_closing_while_running_asks_and_can_be_refused(qtbot, window, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    tick(window, "slow_progress")
    window.run_selected()
    qtbot.waitUntil(lambda: window._batch.is_running, timeout=10_000)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a) or QMessageBox.No)
    window.close()
    assert asked and window.isVisible() and window._batch.is_running
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Yes)
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=30_000)
    assert window._batch.rows[0].status is S.CANCELLED


def test_dropping_files_adds_them_to_the_library(qtbot, window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dropped = write_script(tmp_path / "dropped" / "new_job.py", '"""Dropped in."""\n')
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(dropped.parent))])
    event = QDropEvent(QPoint(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    window.dropEvent(event)
    qtbot.waitUntil(
        lambda: any(s.name == "new_job" for s in window._library.all_scripts), timeout=10_000
    )
    tree = window.library_panel.model
    folders = [tree.item(r).text() for r in range(tree.rowCount())]
    assert str(dropped.parent) in folders


def test_search_filters_the_library_tree(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    window.library_panel.search.setText("csv")
    tree = window.library_panel.model
    qtbot.waitUntil(lambda: tree.rowCount() == 1, timeout=5_000)
    assert tree.item(0).rowCount() == 1 and tree.item(0).child(0).text() == "csv_summary"


def test_window_state_and_run_options_are_remembered(qtbot, container, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = QSettings(str(tmp_path / "gui.ini"), QSettings.IniFormat)
    first = _build_window(container, settings)
    qtbot.addWidget(first)
    first.batch_panel.jobs.setValue(3)
    first.batch_panel.retries.setValue(2)
    first.close()
    settings.sync()
    second = _build_window(container, QSettings(str(tmp_path / "gui.ini"), QSettings.IniFormat))
    qtbot.addWidget(second)
    assert second.batch_panel.jobs.value() == 3 and second._batch.jobs == 3
    assert second.batch_panel.retries.value() == 2
    for win in (first, second):
        win.shutdown_viewmodels()


def test_view_menu_toggles_the_performance_dock(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus == ["&File", "&Run", "&View", "&Backup", "&Tools", "&Help"]
    action = window.performance_action
    assert action in window.view_menu.actions() and action.text() == "&Performance panel"
    dock = window.performance_dock
    assert dock.isVisible() and action.isChecked()  # shown by default
    assert window.dockWidgetArea(dock) == Qt.RightDockWidgetArea
    action.trigger()
    assert not dock.isVisible() and not action.isChecked()
    action.trigger()
    assert dock.isVisible() and action.isChecked()


def test_the_performance_panel_shows_live_samples(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    # Sampling starts with the window, without a batch.
    qtbot.waitUntil(lambda: len(window._performance.series) >= 2, timeout=10_000)
    assert window._performance.series.memory_percent[-1] > 0
    assert "%" in window.performance_panel.memory.caption.text()


def test_the_dock_stays_hidden_after_a_restart(qtbot, container, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = QSettings(str(tmp_path / "gui.ini"), QSettings.IniFormat)
    first = _build_window(container, settings)
    qtbot.addWidget(first)
    first.show()
    first.performance_action.trigger()
    first.close()
    settings.sync()
    second = _build_window(container, QSettings(str(tmp_path / "gui.ini"), QSettings.IniFormat))
    qtbot.addWidget(second)
    second.show()
    assert not second.performance_dock.isVisible()
    assert not second.performance_action.isChecked()
    second.close()


def test_show_script_history_filters_the_history_tab(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    tick(window, "always_fails", "greet_with_args")
    with qtbot.waitSignal(window._batch.batch_finished, timeout=30_000):
        window.run_selected()
    failing = next(e.script_path for e in window._batch.rows if "always_fails" in e.script_path)
    with qtbot.waitSignal(window._history.reset, timeout=10_000) as shown:
        window.show_script_history(failing)
    assert window.tabs.currentWidget() is window.history_view
    assert window.history_view.script_edit.text() == failing
    assert window._history.script_text == failing
    assert [e.script_path for e in shown.args[0]] == [failing]


def test_the_analysis_tab_opens_a_scripts_history(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    tick(window, "always_fails")
    with qtbot.waitSignal(window._batch.batch_finished, timeout=30_000):
        window.run_selected()
    analysis = window._analysis
    with qtbot.waitSignal(analysis.findings_changed, timeout=20_000):
        window.tabs.setCurrentWidget(window.analysis_view)
    view = window.analysis_view
    row = next(r for r, f in enumerate(analysis.findings) if f.kind == "failing")
    view.table.selectRow(row)
    view.history_button.click()
    assert window.tabs.currentWidget() is window.history_view
    assert window._history.script_text.endswith("always_fails.py")


def test_closing_the_window_shuts_the_viewmodels_down(qtbot, container, tmp_path) -> None:  # type: ignore[no-untyped-def]
    win = _build_window(container, QSettings(str(tmp_path / "gui.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.show()
    monitoring = container.monitoring_service()
    assert len(monitoring._subscribers) == 1
    win.close()
    assert monitoring._subscribers == ()
    assert not win._performance._timer.isActive() and not win._batch._timer.isActive()


def test_the_policy_box_runs_the_batch_under_that_sandbox(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    box = window.batch_panel.policy
    assert [box.itemText(i) for i in range(box.count())][:3] == ["off", "standard", "strict"]
    box.setCurrentIndex(box.findData("strict"))
    tick(window, "greet_with_args")
    with qtbot.waitSignal(window._batch.batch_finished, timeout=30_000):
        window.run_selected()
    (execution,) = window._batch.rows
    assert execution.sandbox["policy"] == "strict"
    assert "landlock" in execution.sandbox["layers"] or execution.sandbox["degraded"]
    model = window.batch_panel.model
    tip = model.index(0, model.COLUMNS.index("status")).data(Qt.ToolTipRole)
    assert "strict" in tip


def test_a_degraded_run_shows_the_reduced_isolation_badge(window) -> None:  # type: ignore[no-untyped-def]
    from AppCode.core.domain.models import Execution

    window._batch._rows = [
        Execution(
            "e1",
            "b1",
            0,
            "/x/a.py",
            status=S.SUCCEEDED,
            sandbox={"policy": "standard", "layers": ["rlimits", "audit"], "degraded": True},
        )
    ]
    model = window.batch_panel.model
    model._on_reset([])
    status = model.index(0, model.COLUMNS.index("status"))
    assert "reduced isolation" in status.data()
    assert "rlimits, audit" in status.data(Qt.ToolTipRole)


def test_a_policy_can_be_pinned_to_scripts_from_the_library(qtbot, window, container) -> None:  # type: ignore[no-untyped-def]
    library = window._library
    path = next(s.path for s in library.all_scripts if s.name == "csv_summary")
    library.set_policy([path], "strict")
    qtbot.waitUntil(
        lambda: any(s.sandbox_policy == "strict" for s in library.all_scripts), timeout=10_000
    )
    assert container.script_service().get(path).sandbox_policy == "strict"
    labels = [
        window.library_panel.model.item(0).child(r).text()
        for r in range(window.library_panel.model.item(0).rowCount())
    ]
    assert "csv_summary  [strict]" in labels
