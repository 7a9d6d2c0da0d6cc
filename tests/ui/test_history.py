"""The history view, its ViewModel and the execution dialog, on a real database and real runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PyQt5.QtCore import QModelIndex, Qt, QUrl
from PyQt5.QtGui import QFont
from PyQt5.QtWidgets import QWidget
from sqlalchemy import text

from AppCode.core.domain.ids import new_id
from AppCode.core.domain.models import Batch, BatchStatus, Execution, ExecutionStatus, RunOptions
from AppCode.core.domain.ports import ExecutionFilter
from AppCode.ui.dialogs.execution_dialog import ExecutionDialog
from AppCode.ui.viewmodels.history_viewmodel import (
    PAGE,
    ExecutionDetailsViewModel,
    HistoryViewModel,
)
from AppCode.ui.views.history_view import COL_ARGS, COL_SCRIPT, HistoryView
from AppCode.ui.widgets.formatting import STDERR_COLOUR
from tests.conftest import write_script

S = ExecutionStatus
SEEDED = 650
TIMEOUT = 20_000

BAD_SCRIPT = (
    "import sys\n"
    "print('to stdout', flush=True)\n"
    "print('to stderr', file=sys.stderr, flush=True)\n"
    "raise ValueError('no good')\n"
)


def run_batch(container, tmp_path: Path) -> tuple[Batch, list[Execution]]:  # type: ignore[no-untyped-def]
    """Three real scripts, one failing (and retried once), stored by the real engine."""
    ok = write_script(tmp_path / "scripts" / "ok.py", "import sys; print('ok', sys.argv[1:])\n")
    other = write_script(tmp_path / "scripts" / "other.py", "print('other')\n")
    bad = write_script(tmp_path / "scripts" / "bad.py", BAD_SCRIPT)
    container.settings().execution.retry_backoff_s = 0.0
    service = container.batch_service()
    handle = service.start(
        {"paths": [str(ok), str(bad), str(other)], "args": ["--n", "1"], "jobs": 3, "retries": 1}
    )
    assert service.wait(handle, 60)
    return container.history_service().batch(handle.batch_id)


def seed(container, n: int = SEEDED) -> Batch:  # type: ignore[no-untyped-def]
    """``n`` stored executions in one batch, straight through the unit of work; every fifth
    one failed."""
    batch = Batch(new_id(), RunOptions(jobs=4), status=BatchStatus.FAILED)
    executions = [
        Execution(
            new_id(),
            batch.id,
            i,
            f"/seed/job_{i:03d}.py",
            status=S.FAILED if i % 5 == 0 else S.SUCCEEDED,
            exit_code=1 if i % 5 == 0 else 0,
            attempts=1,
            duration_s=0.5,
        )
        for i in range(n)
    ]
    with container.uow() as uow:
        uow.batches.add(batch, executions)
        uow.commit()
    return batch


def everything(container) -> list[Execution]:  # type: ignore[no-untyped-def]
    """Every stored execution in the order the history shows them (the oracle)."""
    return container.history_service().executions(ExecutionFilter(), limit=100_000)


def load_all(qtbot, vm: HistoryViewModel) -> list[Execution]:  # type: ignore[no-untyped-def]
    """Reload, then page with ``fetch_more`` until a page comes back short."""
    with qtbot.waitSignal(vm.reset, timeout=TIMEOUT):
        vm.reload()
    while vm.can_fetch_more:
        with qtbot.waitSignal(vm.appended, timeout=TIMEOUT):
            vm.fetch_more()
    return vm.executions


def filtered(qtbot, vm: HistoryViewModel, **where: object) -> list[Execution]:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(vm.reset, timeout=TIMEOUT):
        vm.set_filter(**where)  # type: ignore[arg-type]
    while vm.can_fetch_more:
        with qtbot.waitSignal(vm.appended, timeout=TIMEOUT):
            vm.fetch_more()
    return vm.executions


# -- the ViewModel alone --------------------------------------------------------------------


def test_the_viewmodel_pages_through_everything_newest_first(qtbot, container, tmp_path) -> None:  # type: ignore[no-untyped-def]
    run_batch(container, tmp_path)
    seed(container)
    expected = everything(container)
    assert len(expected) == SEEDED + 3
    vm = HistoryViewModel(container.history_service())
    loading: list[bool] = []
    vm.loading_changed.connect(loading.append)

    with qtbot.waitSignals([vm.reset, vm.count_changed], timeout=TIMEOUT) as blockers:
        vm.reload()
    first_page = blockers.all_signals_and_args[0].args[0]
    assert [e.id for e in first_page] == [e.id for e in expected[:PAGE]]
    assert vm.count == SEEDED + 3 and vm.can_fetch_more

    pages = [first_page]
    while vm.can_fetch_more:
        with qtbot.waitSignal(vm.appended, timeout=TIMEOUT) as blocker:
            vm.fetch_more()
            vm.fetch_more()  # ignored: one fetch at a time
        pages.append(blocker.args[0])
    assert [len(p) for p in pages] == [200, 200, 200, 53]
    ids = [e.id for e in vm.executions]
    assert ids == [e.id for e in expected]
    assert len(set(ids)) == len(ids)
    created = [e.created_at for e in vm.executions]
    assert created == sorted(created, reverse=True)  # newest first
    assert loading[0] is True and loading[-1] is False and not vm.is_loading
    vm.fetch_more()  # nothing more: no query, no signal
    assert not vm.is_loading


def test_the_viewmodel_filters_by_status_script_batch_and_dates(qtbot, container, tmp_path) -> None:  # type: ignore[no-untyped-def]
    batch, runs = run_batch(container, tmp_path)
    old = seed(container, 40)
    with container.database().begin() as conn:
        conn.execute(
            text("UPDATE executions SET created_at = :t WHERE batch_id = :b"),
            {"t": datetime.now(UTC).replace(tzinfo=None) - timedelta(days=10), "b": old.id},
        )
    container.history_service().forget_cached()
    vm = HistoryViewModel(container.history_service())

    failed = filtered(qtbot, vm, statuses={S.FAILED})
    assert len(failed) == 1 + 8 and all(e.status is S.FAILED for e in failed)
    assert vm.count == 9

    bad = filtered(qtbot, vm, script="BAD.py")  # any case
    assert [Path(e.script_path).name for e in bad] == ["bad.py"]
    assert bad[0].error_type == "ValueError"

    both = filtered(qtbot, vm, script="job_01", statuses={S.FAILED, S.SUCCEEDED})
    names = sorted(Path(e.script_path).name for e in both)
    assert names == [f"job_{i:03d}.py" for i in range(10, 20)]

    of_batch = filtered(qtbot, vm, batch=batch.id[:12])
    assert {e.id for e in of_batch} == {e.id for e in runs}

    recent = filtered(qtbot, vm, since=datetime.now(UTC) - timedelta(days=1))
    assert {e.id for e in recent} == {e.id for e in runs}
    older = filtered(qtbot, vm, until=datetime.now() - timedelta(days=5))  # naive: local time
    assert len(older) == 40 and {e.batch_id for e in older} == {old.id}
    window = filtered(
        qtbot, vm, since=datetime.now(UTC) - timedelta(days=11), until=datetime.now(UTC)
    )
    assert len(window) == 43

    errors: list[str] = []
    vm.error_occurred.connect(errors.append)
    with qtbot.waitSignal(vm.error_occurred, timeout=TIMEOUT):
        vm.set_batch_ref("zzzz")
    assert vm.executions == [] and not vm.can_fetch_more and vm.count == 0
    assert errors[0].startswith("No batch has the id “zzzz” or an id starting with it.")
    assert "scriptbatch" not in errors[0] and "Traceback" not in errors[0]

    with qtbot.waitSignal(vm.reset, timeout=TIMEOUT):
        vm.set_filter()
    assert vm.count == 43


def test_a_filter_change_during_a_fetch_never_mixes_pages(qtbot, container) -> None:  # type: ignore[no-untyped-def]
    seed(container)
    vm = HistoryViewModel(container.history_service())
    emitted: list[tuple[str, list[Execution]]] = []
    vm.reset.connect(lambda rows: emitted.append(("reset", rows)))
    vm.appended.connect(lambda rows: emitted.append(("appended", rows)))

    # A first page in flight, then a new filter: the old first page is dropped.
    vm.reload()
    assert vm.is_loading
    vm.set_statuses({S.SUCCEEDED})
    qtbot.waitUntil(lambda: bool(emitted) and not vm.is_loading, timeout=TIMEOUT)
    assert [kind for kind, _ in emitted] == ["reset"]
    assert len(emitted[0][1]) == PAGE and all(e.status is S.SUCCEEDED for e in emitted[0][1])
    assert vm.can_fetch_more

    # A next page in flight, then a new filter: that page never arrives.
    vm.fetch_more()
    assert vm.is_loading
    vm.set_script_text("job_1")
    qtbot.waitUntil(lambda: len(emitted) == 2 and not vm.is_loading, timeout=TIMEOUT)
    assert emitted[1][0] == "reset"
    rows = emitted[1][1]
    assert len(rows) == 80 and not vm.can_fetch_more
    assert all(e.status is S.SUCCEEDED and "/job_1" in e.script_path for e in rows)
    assert vm.executions == rows

    # Many changes while one fetch runs: only the last filter's results show.
    emitted.clear()
    vm.set_script_text("job_2")
    vm.set_script_text("job_3")
    vm.set_statuses(set())
    qtbot.waitUntil(lambda: bool(emitted) and not vm.is_loading, timeout=TIMEOUT)
    assert len(emitted) == 1
    assert len(vm.executions) == 100 and all("/job_3" in e.script_path for e in vm.executions)


# -- the view -------------------------------------------------------------------------------


@pytest.fixture
def history_view(qtbot, container, tmp_path):  # type: ignore[no-untyped-def]
    """A shown history view over 3 real runs and SEEDED stored ones, and the ids it opened."""
    _, runs = run_batch(container, tmp_path)
    seed(container)
    opened: list[str] = []
    vm = HistoryViewModel(container.history_service())
    view = HistoryView(vm, opened.append)
    qtbot.addWidget(view)
    view.resize(1200, 500)
    view.show()  # the first page loads when the view is first shown
    qtbot.waitUntil(lambda: view.model.rowCount() == PAGE, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: "653" in view.count_label.text(), timeout=TIMEOUT)
    return view, vm, opened, runs


def test_the_table_loads_pages_as_the_view_asks(qtbot, container, history_view) -> None:  # type: ignore[no-untyped-def]
    view, vm, _, _ = history_view
    model, table = view.model, view.table
    expected = everything(container)
    assert model.rowCount() < len(expected)  # never everything at once
    assert model.canFetchMore(QModelIndex())

    model.fetchMore(QModelIndex())
    qtbot.waitUntil(lambda: model.rowCount() == 2 * PAGE, timeout=TIMEOUT)

    def scrolled_to_the_end() -> bool:
        table.scrollToBottom()
        return model.rowCount() == len(expected) and not vm.is_loading

    qtbot.waitUntil(scrolled_to_the_end, timeout=TIMEOUT)
    assert not model.canFetchMore(QModelIndex())
    ids = [model.index(r, 0).data(Qt.UserRole) for r in range(model.rowCount())]
    assert ids == [e.id for e in expected]
    assert model.columnCount() == 10
    assert model.headerData(9, Qt.Horizontal) == "Error"


def test_the_table_shows_status_error_and_batch_tooltip(qtbot, container, history_view) -> None:  # type: ignore[no-untyped-def]
    view, vm, _, runs = history_view
    bad = next(e for e in runs if e.script_path.endswith("bad.py"))
    qtbot.keyClicks(view.script_edit, "bad.py")  # debounced, then reloaded
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=TIMEOUT)
    model = view.model
    assert model.index(0, 1).data() == "failed"
    assert model.index(0, 1).data(Qt.DecorationRole) is not None
    assert model.index(0, 2).data() == bad.script_path
    assert model.index(0, 3).data() == "--n 1"
    assert model.index(0, 5).data() == "1"
    assert model.index(0, 6).data() == "2"  # retried once
    assert model.index(0, 9).data() == "ValueError: no good"
    assert bad.batch_id in model.index(0, 4).data(Qt.ToolTipRole)
    qtbot.waitUntil(lambda: view.count_label.text().startswith("1 "), timeout=TIMEOUT)

    view.status_combo.setCurrentIndex(view.status_combo.findData(S.SUCCEEDED.value))
    qtbot.waitUntil(lambda: view.model.rowCount() == 0 and not vm.is_loading, timeout=TIMEOUT)
    assert vm.statuses == {S.SUCCEEDED} and vm.script_text == "bad.py"

    view.batch_edit.setText("zzzz")
    qtbot.waitUntil(view.error_label.isVisible, timeout=TIMEOUT)
    assert "zzzz" in view.error_label.text()
    assert "scriptbatch" not in view.error_label.text()  # no command-line advice in the GUI


@pytest.mark.parametrize("scale", [1.0, 1.6])
def test_headers_and_cells_are_not_cut(qtbot, container, tmp_path, scale: float) -> None:  # type: ignore[no-untyped-def]
    """At the default font and a larger one, every column fits its header, and the columns
    whose texts have a known form (dates, statuses, numbers) fit every loaded row."""
    run_batch(container, tmp_path)
    parent = QWidget()
    qtbot.addWidget(parent)
    font = QFont(parent.font())
    font.setPointSizeF(font.pointSizeF() * scale)
    parent.setFont(font)
    vm = HistoryViewModel(container.history_service())
    view = HistoryView(vm, lambda _id: None, parent)
    parent.resize(1200, 500)
    parent.show()
    qtbot.waitUntil(lambda: view.model.rowCount() == 3, timeout=TIMEOUT)
    header, table = view.table.horizontalHeader(), view.table
    for column in range(view.model.columnCount() - 1):  # the last one stretches
        title = view.model.headerData(column, Qt.Horizontal)
        assert header.sectionSize(column) >= header.sectionSizeHint(column), title
        if column not in (COL_SCRIPT, COL_ARGS):  # long paths are elided by design
            assert header.sectionSize(column) >= table.sizeHintForColumn(column), title


def test_double_click_or_enter_opens_the_execution(qtbot, history_view) -> None:  # type: ignore[no-untyped-def]
    view, _, opened, _ = history_view
    table, model = view.table, view.model
    rect = table.visualRect(model.index(2, 2))
    qtbot.mouseClick(table.viewport(), Qt.LeftButton, pos=rect.center())
    qtbot.mouseDClick(table.viewport(), Qt.LeftButton, pos=rect.center())
    assert opened == [model.execution_at(2).id]

    table.setCurrentIndex(model.index(5, 0))
    qtbot.keyClick(table, Qt.Key_Return)
    assert opened[-1] == model.execution_at(5).id and len(opened) == 2


# -- the execution dialog -------------------------------------------------------------------


def test_the_execution_dialog_shows_the_failure_and_its_output(qtbot, container, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, runs = run_batch(container, tmp_path)
    bad = next(e for e in runs if e.script_path.endswith("bad.py"))
    dialog = ExecutionDialog(bad.id, ExecutionDetailsViewModel(container.history_service()))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: "no good" in dialog.output.toPlainText(), timeout=TIMEOUT)

    assert not dialog.error_label.isVisible()
    fields = dialog.fields
    assert fields["error"].text() == "ValueError: no good"
    assert fields["status"].text() == "failed"
    assert fields["script"].text() == bad.script_path
    assert fields["exit_code"].text() == "1"
    assert fields["log_path"].text() == bad.log_path
    assert dialog.attempts_box.isVisible() and dialog.attempts_table.rowCount() == 2
    assert dialog.open_log_button.isEnabled() and dialog.copy_button.isEnabled()

    document = dialog.output.document()
    stderr = document.find("to stderr")
    stdout = document.find("to stdout")
    assert not stderr.isNull() and not stdout.isNull()
    assert stderr.charFormat().foreground().color().name() == STDERR_COLOUR
    assert stdout.charFormat().foreground().color().name() != STDERR_COLOUR
    assert "Traceback" in dialog.output.toPlainText()  # the script's own, from its stderr

    dialog.copy_output()
    from PyQt5.QtWidgets import QApplication

    assert "to stderr" in QApplication.clipboard().text()


def test_an_execution_whose_log_is_gone_has_nothing_to_open(qtbot, container, tmp_path) -> None:  # type: ignore[no-untyped-def]
    quiet = write_script(tmp_path / "quiet.py", "x = 1\n")
    service = container.batch_service()
    handle = service.start({"paths": [str(quiet)]})
    assert service.wait(handle, 60)
    _, (execution,) = container.history_service().batch(handle.batch_id)
    Path(execution.log_path).unlink()  # as a backup restored without its logs leaves it
    dialog = ExecutionDialog(execution.id, ExecutionDetailsViewModel(container.history_service()))
    qtbot.addWidget(dialog)
    dialog.show()
    # Nothing to open, empty output (it printed nothing), and no error.
    qtbot.waitUntil(
        lambda: dialog.output.placeholderText() == "This execution printed nothing.",
        timeout=TIMEOUT,
    )
    assert dialog.fields["status"].text() == "succeeded"
    assert not dialog.open_log_button.isEnabled()
    assert not dialog.error_label.isVisible()


def test_the_execution_dialog_reports_errors_inline(qtbot, container) -> None:  # type: ignore[no-untyped-def]
    dialog = ExecutionDialog("nosuchid", ExecutionDetailsViewModel(container.history_service()))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(dialog.error_label.isVisible, timeout=TIMEOUT)
    assert "There is no execution with the id “nosuchid”" in dialog.error_label.text()
    assert "scriptbatch" not in dialog.error_label.text()
    assert "Traceback" not in dialog.error_label.text()
    assert dialog.output.toPlainText() == ""


def test_a_deleted_log_is_explained_without_command_line_advice(qtbot, container, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, runs = run_batch(container, tmp_path)
    ok = next(e for e in runs if e.script_path.endswith("ok.py"))
    Path(ok.log_path).unlink()  # it printed something: its output is gone
    vm = ExecutionDetailsViewModel(container.history_service())
    with qtbot.waitSignal(vm.error_occurred, timeout=TIMEOUT) as error:
        vm.load(ok.id)
    assert error.args[0].startswith(f"The output of execution {ok.id} is gone")
    assert "pruned from the history" in error.args[0]
    assert "'history prune'" not in error.args[0] and "scriptbatch" not in error.args[0]


def test_opening_a_log_that_is_not_there_says_so(qtbot, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PyQt5.QtWidgets import QToolTip

    from AppCode.ui.widgets import output_view

    opened: list[object] = []
    monkeypatch.setattr(output_view.QDesktopServices, "openUrl", opened.append)
    view = output_view.OutputView()
    qtbot.addWidget(view)
    view.show()
    log = tmp_path / "run" / "e1.log"
    view.show_execution("quiet.py", str(log))
    view.open_log()
    assert opened == []
    assert "The log file is not there" in QToolTip.text()
    write_script(log, "hello\n")
    view.open_log()
    assert opened == [QUrl.fromLocalFile(str(log))]
