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
    win._batch.shutdown()
    win._load.stop()


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
    assert window.batch_panel.progress.value() == 2
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
        win._batch.shutdown()
        win._load.stop()
