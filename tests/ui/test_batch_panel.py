"""The Batch tab of the real window (offscreen): run options, arguments, stopping one script,
the output pane, the details dialog, the status bar, restore, and the window's size."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PyQt5.QtCore import QSettings, Qt
from PyQt5.QtTest import QTest
from PyQt5.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLineEdit,
    QMessageBox,
    QSpinBox,
    QWidget,
)

from AppCode.core.domain.models import ExecutionStatus
from AppCode.ui.app import _build_window
from AppCode.ui.dialogs.execution_dialog import ExecutionDialog
from AppCode.ui.dialogs.settings_dialog import SettingsDialog
from tests.conftest import WAIT_FOR_FILE, write_script

S = ExecutionStatus
TIMEOUT = 30_000

SLOW = "import time\nfor i in range(600):\n    print('tick', i, flush=True)\n    time.sleep(0.1)\n"


@pytest.fixture(autouse=True)
def boxes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Message boxes shown (title, text), none of them waiting for a click."""
    shown: list[tuple[str, str]] = []

    def record(_parent: Any, title: str, text: str, *args: Any, **kwargs: Any) -> Any:
        shown.append((title, text))
        return QMessageBox.Ok

    for name in ("information", "warning", "critical"):
        monkeypatch.setattr(QMessageBox, name, record)
    # Closing the window at the end of a test with a batch running: yes, stop it.
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kwargs: QMessageBox.Yes)
    return shown


@pytest.fixture
def make_window(qtbot: Any, container: Any, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """``make_window(**execution)``: the main window, built after setting ``[execution]``
    keys in the live settings (as the config file would)."""
    built: list[Any] = []

    def make(**execution: Any) -> Any:
        for key, value in execution.items():
            setattr(container.settings().execution, key, value)
        settings = QSettings(str(tmp_path / "gui.ini"), QSettings.IniFormat)
        win = _build_window(container, settings)
        qtbot.addWidget(win)
        win.show()
        built.append(win)
        return win

    yield make
    for win in built:
        if win._batch.is_running:
            win._batch.stop()
            qtbot.waitUntil(lambda w=win: not w._batch.is_running, timeout=TIMEOUT)
        win.shutdown_viewmodels()


def run(qtbot: Any, window: Any, paths: list[Path]) -> None:
    """Run ``paths`` from the window and wait until the batch has finished."""
    with qtbot.waitSignal(window._batch.batch_finished, timeout=TIMEOUT):
        window._batch.run([str(p) for p in paths])


def cell(window: Any, row: int, column: str) -> Any:
    model = window.batch_panel.model
    return model.index(row, model.COLUMNS.index(column)).data()


def set_editor(editor: QWidget, value: Any) -> None:
    """Enter ``value`` in a Settings dialog editor as a user would."""
    if isinstance(editor, QCheckBox):
        editor.setChecked(bool(value))
    elif isinstance(editor, QSpinBox | QDoubleSpinBox):
        editor.setValue(value)
    elif isinstance(editor, QComboBox):
        index = editor.findData(value)
        editor.setCurrentIndex(index if index >= 0 else editor.findText(value))
    elif isinstance(editor, QLineEdit):
        editor.setText(str(value))
        editor.editingFinished.emit()
    else:
        raise AssertionError(f"no way to enter a value in {editor!r}")


# -- run options -------------------------------------------------------------------------------


def test_a_fractional_timeout_from_the_config_is_shown_and_applied(
    qtbot: Any, make_window: Any, tmp_path: Path
) -> None:
    window = make_window(timeout_s=0.5)
    box = window.batch_panel.timeout
    assert box.text() == "0.5 s" and window._batch.timeout_s == 0.5
    box.setValue(2.5)
    assert box.text() == "2.5 s" and window._batch.timeout_s == 2.5
    box.setValue(0.25)
    sleeper = write_script(tmp_path / "sleeper.py", "import time\ntime.sleep(30)\n")
    run(qtbot, window, [sleeper])
    (execution,) = window._batch.rows
    assert execution.status is S.TIMED_OUT and "0.25" in (execution.error_message or "")
    assert window._batch.batch.options.timeout_s == 0.25


def test_a_remembered_fractional_timeout_comes_back_as_it_was(qtbot: Any, make_window: Any) -> None:
    first = make_window()
    first.batch_panel.timeout.setValue(2.5)
    first.close()
    second = make_window()
    assert second.batch_panel.timeout.text() == "2.5 s" and second._batch.timeout_s == 2.5


def test_saved_settings_become_the_panels_options_and_the_next_runs(
    qtbot: Any, make_window: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    window = make_window()
    panel = window.batch_panel
    panel.retries.setValue(0)
    dialogs: list[SettingsDialog] = []

    def show_instead(dialog: SettingsDialog) -> int:
        dialogs.append(dialog)
        dialog.show()
        return 0

    monkeypatch.setattr(SettingsDialog, "exec_", show_instead)
    window.settings_action.trigger()
    (dialog,) = dialogs
    for key, value in (
        ("jobs", 3),
        ("timeout_s", 1.5),
        ("retries", 2),
        ("fail_fast", True),
        ("start_method", "spawn"),
    ):
        set_editor(dialog.editor("execution", key), value)
    set_editor(dialog.editor("sandbox", "policy"), "strict")
    qtbot.waitUntil(dialog.ok_button.isEnabled, timeout=TIMEOUT)
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: panel.jobs.value() == 3, timeout=TIMEOUT)
    assert panel.timeout.text() == "1.5 s" and panel.retries.value() == 2
    assert panel.fail_fast.isChecked()
    assert panel.start_method.currentData() == "spawn"
    assert panel.policy.currentData() == "strict"

    run(qtbot, window, [write_script(tmp_path / "ok.py")])
    options = window._batch.batch.options
    assert (options.jobs, options.timeout_s, options.retries) == (3, 1.5, 2)
    assert options.fail_fast and options.start_method == "spawn"
    assert options.sandbox_policy == "strict"


def test_fail_fast_box_defaults_from_the_settings_and_says_why_the_rest_was_cancelled(
    qtbot: Any, make_window: Any, tmp_path: Path
) -> None:
    window = make_window(fail_fast=True)
    panel = window.batch_panel
    assert panel.fail_fast.isChecked() and window._batch.fail_fast
    panel.jobs.setValue(1)
    bad = write_script(tmp_path / "bad.py", "raise SystemExit(3)\n")
    others = [write_script(tmp_path / f"ok{i}.py") for i in range(3)]
    run(qtbot, window, [bad, *others])
    assert [e.status for e in window._batch.rows] == [S.FAILED] + [S.CANCELLED] * 3
    assert cell(window, 1, "error") == "Cancelled: cancelled by fail-fast after bad.py failed"
    # The status bar counts every execution, the cancelled ones too.
    assert window.counts_label.text() == "Running 0 · Succeeded 0 · Failed 1 · Cancelled 3"
    assert "3 cancelled by fail-fast after bad.py failed" in window.statusBar().currentMessage()

    panel.fail_fast.setChecked(False)
    assert not window._batch.fail_fast
    run(qtbot, window, [bad, *others])
    assert [e.status for e in window._batch.rows] == [S.FAILED] + [S.SUCCEEDED] * 3


def test_a_batch_the_user_stopped_is_not_called_fail_fast(
    qtbot: Any, make_window: Any, tmp_path: Path
) -> None:
    window = make_window(fail_fast=True)
    slow = write_script(tmp_path / "slow.py", SLOW)
    window._batch.run([str(slow)])
    qtbot.waitUntil(lambda: any(e.status is S.RUNNING for e in window._batch.rows), timeout=TIMEOUT)
    with qtbot.waitSignal(window._batch.batch_finished, timeout=TIMEOUT):
        window.stop_action.trigger()
    assert "fail-fast" not in cell(window, 0, "error")
    assert window.counts_label.text().endswith("Cancelled 1")


# -- arguments ---------------------------------------------------------------------------------


def test_arguments_are_split_like_a_shell_and_given_to_every_script(
    qtbot: Any, make_window: Any, tmp_path: Path
) -> None:
    window = make_window()
    echo = "import json, sys\nprint(json.dumps(sys.argv[1:]))\n"
    scripts = [write_script(tmp_path / f"echo{i}.py", echo) for i in range(2)]
    QTest.keyClicks(window.batch_panel.args, "--name 'Ada Lovelace' -v")
    run(qtbot, window, scripts)
    expected = ["--name", "Ada Lovelace", "-v"]
    assert [list(e.args) for e in window._batch.rows] == [expected, expected]
    assert cell(window, 0, "args") == "--name 'Ada Lovelace' -v"
    window.batch_panel.table.selectRow(1)
    qtbot.waitUntil(lambda: "Ada" in window.output.text.toPlainText(), timeout=TIMEOUT)
    assert json.loads(window.output.text.toPlainText()) == expected


def test_arguments_with_an_open_quote_are_refused_inline_and_nothing_runs(
    qtbot: Any, make_window: Any, tmp_path: Path, boxes: list[tuple[str, str]]
) -> None:
    window = make_window()
    panel = window.batch_panel
    QTest.keyClicks(panel.args, '--title "half done')
    assert not panel.args_error.isHidden()
    assert "a quote is not closed" in panel.args_error.text()
    window._batch.run([str(write_script(tmp_path / "ok.py"))])
    assert not window._batch.is_running and window._batch.batch is None
    assert boxes and "a quote is not closed" in boxes[-1][1]
    QTest.keyClicks(panel.args, '"')
    assert panel.args_error.isHidden() and window._batch.args == ["--title", "half done"]


# -- stopping one script -----------------------------------------------------------------------


def test_stop_this_script_stops_only_that_one(qtbot: Any, make_window: Any, tmp_path: Path) -> None:
    window = make_window()
    panel = window.batch_panel
    panel.jobs.setValue(2)
    slow = write_script(tmp_path / "slow.py", SLOW)
    go = tmp_path / "go"
    waits = write_script(tmp_path / "waits.py", WAIT_FOR_FILE.format(gate=str(go)))
    window._batch.run([str(slow), str(waits)])
    qtbot.waitUntil(
        lambda: [e.status for e in window._batch.rows] == [S.RUNNING, S.RUNNING], timeout=TIMEOUT
    )
    action = panel.stop_execution_action
    assert action in panel.table.actions()
    assert panel.table.contextMenuPolicy() == Qt.ActionsContextMenu
    panel.table.selectRow(0)
    assert action.isEnabled()
    action.trigger()
    qtbot.waitUntil(lambda: window._batch.rows[0].status is S.CANCELLED, timeout=TIMEOUT)
    assert window._batch.rows[1].status is S.RUNNING and window._batch.is_running
    assert not action.isEnabled()  # a finished script cannot be stopped
    with qtbot.waitSignal(window._batch.batch_finished, timeout=TIMEOUT):
        go.touch()
    assert window._batch.rows[1].status is S.SUCCEEDED
    panel.table.selectRow(1)
    assert not action.isEnabled()


# -- the output pane and the details dialog ------------------------------------------------------


def test_a_new_batch_clears_the_previous_output(
    qtbot: Any, make_window: Any, tmp_path: Path
) -> None:
    window = make_window()
    first = write_script(tmp_path / "first.py", "print('from the first batch')\n")
    run(qtbot, window, [first])
    window.batch_panel.table.selectRow(0)
    qtbot.waitUntil(lambda: "first batch" in window.output.text.toPlainText(), timeout=TIMEOUT)
    assert "first.py" in window.output.title.text()
    slow = write_script(tmp_path / "slow.py", SLOW)
    with qtbot.waitSignal(window._batch.rows_reset, timeout=TIMEOUT):
        window._batch.run([str(slow)])
    assert window.output.text.toPlainText() == ""
    assert window.output.title.text() == "Output"
    assert not window.output.open_button.isEnabled()


def test_the_details_dialog_follows_a_running_execution_until_it_ends(
    qtbot: Any, make_window: Any, tmp_path: Path
) -> None:
    window = make_window()
    go = tmp_path / "go"
    waits = write_script(tmp_path / "waits.py", WAIT_FOR_FILE.format(gate=str(go)))
    window._batch.run([str(waits)])
    qtbot.waitUntil(lambda: any(e.status is S.RUNNING for e in window._batch.rows), timeout=TIMEOUT)
    model = window.batch_panel.model
    window.batch_panel.table.doubleClicked.emit(model.index(0, 1))
    (dialog,) = [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, ExecutionDialog) and w.isVisible()
    ]
    qtbot.waitUntil(lambda: "waiting" in dialog.output.toPlainText(), timeout=TIMEOUT)
    assert dialog.fields["status"].text() == "running"
    assert dialog.fields["finished"].text() == ""

    go.touch()
    qtbot.waitUntil(lambda: dialog.fields["status"].text() == "succeeded", timeout=TIMEOUT)
    qtbot.waitUntil(lambda: "released" in dialog.output.toPlainText(), timeout=TIMEOUT)
    assert dialog.output.toPlainText() == "waiting\nreleased\n"
    assert dialog.fields["exit_code"].text() == "0" and dialog.fields["finished"].text()
    dialog.close()
    assert window._batch._followers == {}  # a closed dialog no longer follows


# -- restore, history errors, size ---------------------------------------------------------------


def test_restore_clears_the_batch_tab(
    qtbot: Any, make_window: Any, tmp_path: Path, boxes: list[tuple[str, str]]
) -> None:
    window = make_window()
    backups = window._backups
    with qtbot.waitSignal(backups.created, timeout=TIMEOUT) as made:
        backups.create(None)
    qtbot.waitUntil(lambda: not backups.is_busy, timeout=TIMEOUT)
    bad = write_script(tmp_path / "bad.py", "print('oops')\nraise SystemExit(1)\n")
    run(qtbot, window, [bad])
    window.batch_panel.table.selectRow(0)
    qtbot.waitUntil(lambda: "oops" in window.output.text.toPlainText(), timeout=TIMEOUT)
    qtbot.waitUntil(window.batch_panel.export_action.isEnabled, timeout=TIMEOUT)
    assert window.rerun_action.isEnabled()

    with qtbot.waitSignal(backups.restored, timeout=TIMEOUT):
        backups.restore(made.args[0].id)
    panel = window.batch_panel
    assert window._batch.rows == [] and panel.model.rowCount() == 0
    assert not window.rerun_action.isEnabled() and not panel.export_action.isEnabled()
    assert window.output.text.toPlainText() == "" and window.output.title.text() == "Output"
    qtbot.waitUntil(lambda: panel.progress.text().startswith("No batch yet"), timeout=TIMEOUT)
    assert "Failed" in window.counts_label.text() and "1" not in window.counts_label.text()
    assert window.run_action.isEnabled() and boxes == []


def test_a_bad_batch_filter_in_history_shows_inline_only(
    qtbot: Any, make_window: Any, boxes: list[tuple[str, str]]
) -> None:
    window = make_window()
    window.tabs.setCurrentWidget(window.history_view)
    view = window.history_view
    QTest.keyClicks(view.batch_edit, "zzzz")
    qtbot.waitUntil(lambda: not view.error_label.isHidden(), timeout=TIMEOUT)
    assert "zzzz" in view.error_label.text()
    assert boxes == []


def test_the_window_fits_a_1280_by_720_screen_with_the_performance_dock(make_window: Any) -> None:
    window = make_window()
    assert window.performance_dock.isVisible()
    hint = window.minimumSizeHint()
    assert hint.width() <= 1280 and hint.height() <= 720
    window.resize(1280, 720)
    assert window.width() == 1280
