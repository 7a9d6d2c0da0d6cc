"""Multi-user mode in the GUI: the login dialog, a window that shows each role only what it
may do, and the admin's Users and audit log dialog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PyQt5.QtCore import QSettings
from PyQt5.QtWidgets import QMessageBox

from AppCode.core.domain.models import User
from AppCode.ui.app import _build_window
from AppCode.ui.dialogs.login_dialog import LoginDialog
from AppCode.ui.dialogs.users_dialog import UsersDialog
from AppCode.ui.viewmodels.session_viewmodel import SessionViewModel
from AppCode.ui.viewmodels.users_viewmodel import UsersViewModel

ADMIN = User(name="ada", role="admin")


@pytest.fixture
def multi(data_home: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("SCRIPTBATCH_AUTH__MODE", "multi")
    from AppCode.container import build

    built = build(data_home)
    yield built
    built.shutdown_resources()


def _window(qtbot, container, tmp_path: Path):  # type: ignore[no-untyped-def]
    win = _build_window(container, QSettings(str(tmp_path / "gui.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.show()
    return win


def test_first_start_creates_the_first_admin_then_logs_in(qtbot, multi: Any) -> None:  # type: ignore[no-untyped-def]
    session = SessionViewModel(multi.access(), multi.user_service())
    dialog = LoginDialog(session)
    qtbot.addWidget(dialog)
    assert dialog.repeat.isVisible() or not dialog.repeat.isHidden()
    dialog.name.setText("ada")
    dialog.password.setText("ada-password")
    dialog.repeat.setText("different")
    dialog.try_accept()
    assert "differ" in dialog.error.text() and dialog.result() == 0
    dialog.password.setText("ada-password")
    dialog.repeat.setText("ada-password")
    dialog.try_accept()
    assert dialog.result() == LoginDialog.Accepted
    assert session.user_name == "ada" and session.role == "admin"

    multi.access().log_out()
    again = LoginDialog(session)
    qtbot.addWidget(again)
    assert again.repeat.isHidden()  # an admin exists: a plain login now
    again.name.setText("ada")
    again.password.setText("wrong-password")
    again.try_accept()
    assert "wrong user name or password" in again.error.text()
    assert again.password.text() == ""  # cleared for the next try
    again.password.setText("ada-password")
    again.try_accept()
    assert again.result() == LoginDialog.Accepted


def test_a_viewer_sees_no_buttons_they_may_not_use(qtbot, multi: Any, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    multi.access().log_in(User(name="vera", role="viewer"))
    win = _window(qtbot, multi, tmp_path)
    try:
        hidden = [
            win.run_action,
            win.stop_action,
            win.rerun_action,
            win.add_files_action,
            win.settings_action,
            win.create_backup_action,
            win.restore_backup_action,
            win.users_action,
            win.api_server_action,
        ]
        assert not any(action.isVisible() for action in hidden)
        panel = win.library_panel
        assert panel.add_files_button.isHidden() and panel.remove_button.isHidden()
        assert panel.rescan_button.isHidden()
        assert not win.acceptDrops()
        assert win.user_label.text() == "vera (viewer)"
        assert win.performance_action.isVisible()  # viewing stays
    finally:
        win.shutdown_viewmodels()


def test_an_operator_runs_but_does_not_manage(qtbot, multi: Any, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    multi.access().log_in(User(name="otto", role="operator"))
    win = _window(qtbot, multi, tmp_path)
    try:
        assert win.run_action.isVisible() and win.run_action.isEnabled()
        assert win.library_panel.rescan_button.isVisibleTo(win)
        assert not win.settings_action.isVisible() and not win.users_action.isVisible()
        assert win.library_panel.add_files_button.isHidden()
    finally:
        win.shutdown_viewmodels()


def test_admin_manages_users_and_reads_the_audit_log(  # type: ignore[no-untyped-def]
    qtbot, multi: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: warnings.append(text))
    multi.access().log_in(ADMIN)
    win = _window(qtbot, multi, tmp_path)
    try:
        assert win.users_action.isVisible() and win.restore_backup_action.isVisible()
    finally:
        win.shutdown_viewmodels()

    vm = UsersViewModel(multi.user_service())
    dialog = UsersDialog(vm)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(vm.users_changed, timeout=10_000):
        vm.add("bob", "operator", "bobs-password")
    qtbot.waitUntil(lambda: dialog.users_table.rowCount() == 1, timeout=10_000)
    assert dialog.users_table.item(0, 1).text() == "operator"
    dialog.users_table.selectRow(0)
    assert dialog.role_button.isEnabled() and dialog.disable_button.text() == "Disable"
    with qtbot.waitSignal(vm.users_changed, timeout=10_000):
        dialog._toggle_disabled()
    qtbot.waitUntil(lambda: dialog.users_table.item(0, 2).text() == "disabled", timeout=10_000)
    assert dialog.disable_button.text() == "Enable"

    with qtbot.waitSignal(vm.error_occurred, timeout=10_000) as refused:
        vm.add("bob", "viewer", "another-password")
    assert "already exists" in refused.args[0]
    assert warnings == [refused.args[0]]  # the dialog showed it

    def audit_actions() -> set[str]:
        table = dialog.audit_table
        return {table.item(r, 2).text() for r in range(table.rowCount())}

    dialog._load_audit()
    qtbot.waitUntil(lambda: {"add user", "disable user"} <= audit_actions(), timeout=10_000)
    dialog.audit_user.setText("nobody-at-all")
    with qtbot.waitSignal(vm.audit_changed, timeout=10_000):
        dialog._load_audit()
    assert dialog.audit_table.rowCount() == 0


def test_users_dialog_reports_a_refusal_in_plain_words(qtbot, multi: Any) -> None:  # type: ignore[no-untyped-def]
    multi.access().log_in(User(name="mia", role="manager"))
    vm = UsersViewModel(multi.user_service())
    with qtbot.waitSignal(vm.error_occurred, timeout=10_000) as refused:
        vm.refresh()
    assert "'list users' needs the 'admin' level" in refused.args[0]
    assert "Traceback" not in refused.args[0]
