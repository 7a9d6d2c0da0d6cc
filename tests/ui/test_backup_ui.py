"""The Backup menu on the real app (temporary data directory): the ViewModel with real
archives, restore through the window, the refusal while a batch runs, and the dialogs."""

from __future__ import annotations

from pathlib import Path

import pytest
from PyQt5.QtCore import QSettings, Qt
from PyQt5.QtWidgets import QInputDialog, QMessageBox

from AppCode.ui.app import _build_window
from AppCode.ui.dialogs.backup_dialogs import BackupTable, ManageBackupsDialog, RestoreDialog
from AppCode.ui.viewmodels.backup_viewmodel import BackupViewModel
from tests.conftest import write_script

TIMEOUT = 30_000


@pytest.fixture(autouse=True)
def no_unexpected_message_boxes(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A message box nobody expected would wait for a click forever: fail instead."""

    def unexpected(_parent, title, text, *args):  # type: ignore[no-untyped-def]
        raise AssertionError(f"unexpected message box {title!r}: {text}")

    for name in ("information", "warning", "critical", "question"):
        monkeypatch.setattr(QMessageBox, name, unexpected)


@pytest.fixture
def window(qtbot, container, tmp_path: Path):  # type: ignore[no-untyped-def]
    win = _build_window(container, QSettings(str(tmp_path / "gui.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.show()
    yield win
    if win._batch.is_running:
        win._batch.stop()
        qtbot.waitUntil(lambda: not win._batch.is_running, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: win._backups._background.pending() == 0, timeout=TIMEOUT)
    win.shutdown_viewmodels()


@pytest.fixture
def vm(window) -> BackupViewModel:  # type: ignore[no-untyped-def]
    return window._backups


def create(qtbot, vm: BackupViewModel, note: str | None = None):  # type: ignore[no-untyped-def]
    """Create a backup and wait until the list shows it."""
    before = len(vm.backups)
    with qtbot.waitSignal(vm.created, timeout=TIMEOUT) as made:
        vm.create(note)
    qtbot.waitUntil(lambda: len(vm.backups) == before + 1 and not vm.is_busy, timeout=TIMEOUT)
    return made.args[0]


def add_script(qtbot, window, path: Path) -> None:  # type: ignore[no-untyped-def]
    window._library.add_paths([str(path)])
    qtbot.waitUntil(
        lambda: any(s.path == str(path) for s in window._library.all_scripts), timeout=TIMEOUT
    )


def column(name: str) -> int:
    return BackupTable.COLUMNS.index(name)


# -- the ViewModel -----------------------------------------------------------------------------


def test_the_viewmodel_creates_lists_verifies_and_deletes(qtbot, vm) -> None:  # type: ignore[no-untyped-def]
    busy: list[tuple[bool, str]] = []
    vm.busy_changed.connect(lambda b, text: busy.append((b, text)))
    first = create(qtbot, vm, "  before the upgrade  ")
    assert Path(first.path).is_file() and first.size_bytes > 0
    assert first.kind == "manual" and first.note == "before the upgrade"
    assert Path(first.path).parent == Path(vm.open_folder_path)
    assert busy[0][0] and "backup" in busy[0][1] and busy[-1] == (False, "")
    second = create(qtbot, vm)
    assert [r.id for r in vm.backups] == [second.id, first.id]  # newest first

    with qtbot.waitSignal(vm.verified, timeout=TIMEOUT) as checked:
        vm.verify(first.id)
    assert checked.args[:2] == [first.id, True]
    qtbot.waitUntil(lambda: vm.find(first.id).verified_ok is True, timeout=TIMEOUT)

    Path(second.path).write_bytes(b"not a zip file")
    with qtbot.waitSignal(vm.verified, timeout=TIMEOUT) as checked:
        vm.verify(second.id)
    assert checked.args[:2] == [second.id, False] and "cannot be read" in checked.args[2]

    with qtbot.waitSignal(vm.backups_changed, timeout=TIMEOUT):
        vm.delete(second.id)
    qtbot.waitUntil(lambda: [r.id for r in vm.backups] == [first.id], timeout=TIMEOUT)
    assert not Path(second.path).exists()


def test_restore_brings_back_a_removed_script(qtbot, window, vm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    script = write_script(tmp_path / "jobs" / "nightly.py", '"""Nightly job."""\n')
    add_script(qtbot, window, script)
    backup = create(qtbot, vm, "with nightly")
    window._library.remove([str(script)])
    library = window._library
    qtbot.waitUntil(lambda: not any(s.name == "nightly" for s in library.all_scripts))

    with qtbot.waitSignal(vm.restored, timeout=TIMEOUT) as restored:
        vm.restore(backup.id)
    assert restored.args[0] == backup.id
    pre_restore = Path(restored.args[1])
    assert pre_restore.is_file() and "pre-restore" in pre_restore.name
    # The window reloads the library after a restore: the script is back.
    qtbot.waitUntil(
        lambda: any(s.path == str(script) for s in library.all_scripts), timeout=TIMEOUT
    )
    qtbot.waitUntil(lambda: any(r.kind == "pre-restore" for r in vm.backups), timeout=TIMEOUT)
    assert "restored" in window.statusBar().currentMessage()


def test_restore_is_refused_while_a_batch_runs(
    qtbot, window, vm, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text, *a: shown.append(text))
    gate = tmp_path / "go"
    waiting = write_script(
        tmp_path / "wait_for_file.py",
        "import pathlib, time\n"
        f"gate = pathlib.Path({str(gate)!r})\n"
        "while not gate.exists():\n"
        "    time.sleep(0.05)\n",
    )
    add_script(qtbot, window, waiting)
    backup = create(qtbot, vm)
    window._library.remove([str(waiting)])
    qtbot.waitUntil(lambda: window._library.all_scripts == [])
    window._batch.run([str(waiting)])
    # Running for the service too: the script has started and waits for the gate file.
    qtbot.waitUntil(
        lambda: any(e.status.value == "running" for e in window._batch.rows), timeout=TIMEOUT
    )
    assert not window.restore_backup_action.isEnabled()
    restored: list[object] = []
    vm.restored.connect(lambda *args: restored.append(args))
    try:
        with qtbot.waitSignal(vm.error_occurred, timeout=TIMEOUT) as refused:
            vm.restore(backup.id)
        assert "a batch is running" in refused.args[0]
        assert "Wait for the batch to finish" in refused.args[0]  # the hint
        assert shown == [refused.args[0]]  # the window shows it
        qtbot.waitUntil(lambda: not vm.is_busy)
        assert restored == []
        assert [r.id for r in vm.backups] == [backup.id]  # no pre-restore backup either
        assert window._library.all_scripts == []
    finally:
        gate.touch()
    with qtbot.waitSignal(window._batch.batch_finished, timeout=TIMEOUT):
        pass
    assert window.restore_backup_action.isEnabled()


def test_create_backup_from_the_menu_shows_progress_then_the_path(
    qtbot, window, vm, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("from the menu", True))
    assert [a.text() for a in window.backup_menu.actions() if a.text()] == [
        "&Create backup…",
        "&Restore…",
        "&Manage backups…",
    ]
    with qtbot.waitSignal(vm.created, timeout=TIMEOUT) as made:
        window.create_backup_action.trigger()
        progress = window.backup_progress.dialog
        assert progress is not None and progress.isVisible()
        assert progress.maximum() == 0 and not progress.isModal()
        assert not window.create_backup_action.isEnabled()
    qtbot.waitUntil(lambda: window.backup_progress.dialog is None, timeout=TIMEOUT)
    assert made.args[0].note == "from the menu"
    assert made.args[0].path in window.statusBar().currentMessage()
    assert window.create_backup_action.isEnabled()


# -- the dialogs -------------------------------------------------------------------------------


def test_the_restore_dialog_lists_backups_and_asks_first(
    qtbot, window, vm, monkeypatch, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    script = write_script(tmp_path / "jobs" / "report.py")
    add_script(qtbot, window, script)
    older = create(qtbot, vm, "with report")
    window._library.remove([str(script)])
    qtbot.waitUntil(lambda: window._library.all_scripts == [])
    create(qtbot, vm, "empty library")

    dialog = RestoreDialog(vm, window)
    qtbot.addWidget(dialog)
    dialog.show()
    table = dialog.table
    qtbot.waitUntil(lambda: table.rowCount() == 2, timeout=TIMEOUT)
    assert table.item(1, column("kind")).text() == "manual"
    assert table.item(1, column("note")).text() == "with report"
    assert table.item(1, column("size")).text().endswith("KB")
    assert table.item(1, column("verified")).text() == "not verified"
    table.selectRow(1)
    assert dialog.restore_button.isEnabled()

    asked: list[str] = []

    def answer(reply):  # type: ignore[no-untyped-def]
        return lambda _parent, _title, text, *a: asked.append(text) or reply

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.No))
    dialog.restore_button.click()
    assert len(asked) == 1 and not vm.is_busy
    assert "the database, with all scripts, runs and history" in asked[0]
    assert "your settings file" in asked[0] and "pre-restore backup" in asked[0]
    assert len(vm.backups) == 2 and window._library.all_scripts == []  # nothing happened

    told: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.Yes))
    monkeypatch.setattr(QMessageBox, "information", lambda _p, _t, text, *a: told.append(text))
    with qtbot.waitSignal(vm.restored, timeout=TIMEOUT) as restored:
        dialog.restore_button.click()
        assert dialog.progress.dialog is not None and dialog.progress.dialog.isVisible()
        assert not dialog.restore_button.isEnabled()
    assert restored.args[0] == older.id
    assert told and restored.args[1] in told[0]
    qtbot.waitUntil(lambda: table.rowCount() == 3, timeout=TIMEOUT)  # plus the pre-restore one
    qtbot.waitUntil(lambda: [s.path for s in window._library.all_scripts] == [str(script)])
    dialog.close()


def test_verify_in_the_manage_dialog_marks_the_row(qtbot, window, vm, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    first = create(qtbot, vm, "first")
    create(qtbot, vm, "second")
    dialog = ManageBackupsDialog(vm, window)
    qtbot.addWidget(dialog)
    dialog.show()
    table = dialog.table
    qtbot.waitUntil(lambda: table.rowCount() == 2, timeout=TIMEOUT)
    row = next(r for r in range(2) if table.item(r, 0).data(Qt.UserRole) == first.id)
    table.selectRow(row)
    told: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda _p, _t, text, *a: told.append(text))
    with qtbot.waitSignal(vm.verified, timeout=TIMEOUT):
        dialog.verify_button.click()
    qtbot.waitUntil(
        lambda: table.item(row, column("verified")).text().startswith("✓ valid"), timeout=TIMEOUT
    )
    assert told and "is valid" in told[0]
    assert table.selected_id() == first.id  # the selection survives the reload
    assert table.item(1 - row, column("verified")).text() == "not verified"

    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.Yes)
    with qtbot.waitSignal(vm.backups_changed, timeout=TIMEOUT):
        dialog.delete_button.click()
    qtbot.waitUntil(lambda: table.rowCount() == 1, timeout=TIMEOUT)
    assert not Path(first.path).exists()
    assert str(vm.open_folder_path) in dialog.summary.text()
    dialog.close()


def test_a_closed_dialog_no_longer_listens(qtbot, window, vm) -> None:  # type: ignore[no-untyped-def]
    from PyQt5 import sip

    dialog = ManageBackupsDialog(vm, window)
    dialog.setAttribute(Qt.WA_DeleteOnClose)  # as the main window opens it
    dialog.show()
    qtbot.waitUntil(lambda: not vm.is_busy)
    dialog.close()
    qtbot.waitUntil(lambda: sip.isdeleted(dialog))
    create(qtbot, vm)  # its signals reach no deleted widget (an exception would fail the test)
