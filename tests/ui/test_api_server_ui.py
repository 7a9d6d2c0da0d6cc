"""Tools > API server: the GUI starts the real ``scriptbatch serve``, shows its address."""

from __future__ import annotations

from typing import Any

import httpx
from PyQt5.QtWidgets import QMessageBox

from AppCode.ui.dialogs.api_server_dialog import ApiServerDialog
from AppCode.ui.viewmodels.api_server_viewmodel import ApiServerViewModel
from AppCode.ui.viewmodels.users_viewmodel import UsersViewModel


def test_start_show_address_and_stop(qtbot, container: Any, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text: warnings.append(text))
    vm = ApiServerViewModel(
        str(container.data_dir().root), str(container.config_file()), "127.0.0.1", 0
    )
    dialog = ApiServerDialog(vm, UsersViewModel(container.user_service()), "me")
    qtbot.addWidget(dialog)
    assert dialog.start_button.text() == "Start" and dialog.state.text() == "Stopped"
    try:
        with qtbot.waitSignal(vm.address_changed, timeout=60_000) as listening:
            dialog._start_or_stop()
        address = listening.args[0]
        assert address.startswith("http://127.0.0.1:") and address.endswith("/api/v1")
        assert address in dialog.state.text() and dialog.start_button.text() == "Stop"
        assert not dialog.port.isEnabled()
        health = httpx.get(f"{address}/health", timeout=10)
        assert health.status_code == 200
    finally:
        vm.stop()
    assert not vm.is_running
    qtbot.waitUntil(lambda: dialog.state.text() == "Stopped", timeout=10_000)
    assert warnings == []  # a stop the user asked for is not an error


def test_a_server_that_cannot_start_says_why(qtbot, container: Any) -> None:  # type: ignore[no-untyped-def]
    vm = ApiServerViewModel(
        str(container.data_dir().root), str(container.config_file()), "no-such-host.invalid", 1
    )
    with qtbot.waitSignal(vm.error_occurred, timeout=60_000) as failed:
        vm.start("no-such-host.invalid", 1)
    assert "stopped (exit code 2)" in failed.args[0]
    assert not vm.is_running
