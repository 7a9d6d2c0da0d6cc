"""Tools > Plugins and "Export report…" in the GUI, on the real container: the plugin list,
switching plugins on and off, the settings form generated from a plugin's schema, what a viewer
may do, writing a batch's report, and plugin problems in the status bar."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from PyQt5.QtCore import QSettings
from PyQt5.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QLineEdit,
    QMessageBox,
    QSpinBox,
)

from AppCode.container import install_examples
from AppCode.core.domain.models import User
from AppCode.services.settings import load_settings
from AppCode.ui.app import _build_window
from AppCode.ui.dialogs.plugins_dialog import PluginsDialog, field_kind
from AppCode.ui.viewmodels.plugins_viewmodel import PluginsViewModel
from AppCode.ui.viewmodels.report_viewmodel import ReportViewModel
from tests.conftest import write_script

BUILT_INS = {"email_notify", "excel_export", "html_report"}
TIMEOUT_MS = 20_000


@pytest.fixture
def warnings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """No modal message box may block a test: warnings are recorded instead."""
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text: shown.append(text))
    monkeypatch.setattr(QMessageBox, "information", lambda *args: shown.append(args[2]))
    monkeypatch.setattr(QMessageBox, "critical", lambda *args: shown.append(args[2]))
    return shown


@pytest.fixture
def plugins_vm(qtbot, container: Any) -> Any:  # type: ignore[no-untyped-def]
    vm = PluginsViewModel(container.plugin_service())
    yield vm
    qtbot.waitUntil(lambda: not vm.is_busy, timeout=TIMEOUT_MS)
    vm.shutdown()


@pytest.fixture
def dialog(qtbot, plugins_vm: PluginsViewModel, warnings: list[str]) -> PluginsDialog:  # type: ignore[no-untyped-def]
    shown = PluginsDialog(plugins_vm, may_manage=True)
    qtbot.addWidget(shown)
    shown.show()
    qtbot.waitUntil(
        lambda: shown.table.rowCount() == 3 and not plugins_vm.is_busy, timeout=TIMEOUT_MS
    )
    return shown


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


def _states(container: Any) -> dict[str, str]:
    return {p.name: p.state for p in container.plugin_service().list()}


def _run_batch(container: Any, tmp_path: Path) -> str:
    """A tiny real batch, one script succeeding and one failing; returns its id."""
    ok = write_script(tmp_path / "scripts" / "ok.py", "print('fine')\n")
    bad = write_script(tmp_path / "scripts" / "bad.py", "raise SystemExit('no good')\n")
    service = container.batch_service()
    handle = service.start({"paths": [str(ok), str(bad)], "jobs": 2})
    assert service.wait(handle, 60)
    return str(handle.batch_id)


# -- the dialog --------------------------------------------------------------------------------


def test_the_dialog_lists_the_three_built_ins(dialog: PluginsDialog) -> None:
    table = dialog.table
    rows = {table.item(r, 0).text(): r for r in range(table.rowCount())}
    assert set(rows) == BUILT_INS
    for row in rows.values():
        assert table.item(row, 2).text() == "enabled"
        assert table.item(row, 3).text() == "built-in"
        assert table.item(row, 1).text()  # a version
    assert "HTML" in table.item(rows["html_report"], 4).text()

    dialog.select("html_report")
    assert dialog.formats.text() == "html"
    assert "generate_report" in dialog.hooks.text()
    assert dialog.form is None  # no settings schema: no form
    assert dialog.error.isHidden() and dialog.toggle_button.text() == "Disable"


def test_disabling_a_plugin_in_the_dialog_changes_its_state(  # type: ignore[no-untyped-def]
    qtbot, dialog: PluginsDialog, plugins_vm: PluginsViewModel, container: Any
) -> None:
    dialog.select("html_report")
    dialog.toggle_button.click()
    assert not dialog.toggle_button.isEnabled()  # while the call runs
    qtbot.waitUntil(lambda: _states(container)["html_report"] == "disabled", timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: dialog.toggle_button.isEnabled(), timeout=TIMEOUT_MS)
    assert dialog.toggle_button.text() == "Enable"
    row = [p.name for p in plugins_vm.plugins].index("html_report")
    assert dialog.table.item(row, 2).text() == "disabled"
    assert "html" not in container.plugin_service().formats()
    assert dialog.status.text() == "Disabled html_report."

    dialog.toggle_button.click()
    qtbot.waitUntil(lambda: _states(container)["html_report"] == "enabled", timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: dialog.toggle_button.text() == "Disable", timeout=TIMEOUT_MS)


def test_the_email_form_is_generated_from_its_schema(dialog: PluginsDialog) -> None:
    dialog.select("email_notify")
    form = dialog.form
    assert form is not None
    from plugins.email_notify import EmailSettings

    assert form.names == list(EmailSettings.model_fields)
    assert isinstance(form.editor("enabled"), QCheckBox)
    port = form.editor("smtp_port")
    assert isinstance(port, QSpinBox) and (port.minimum(), port.maximum()) == (1, 65535)
    assert port.value() == 25
    security = form.editor("security")
    assert isinstance(security, QComboBox)
    assert [security.itemText(i) for i in range(security.count())] == [
        "none",
        "starttls",
        "ssl",
    ]
    assert isinstance(form.editor("recipients"), QLineEdit)
    assert isinstance(form.editor("smtp_host"), QLineEdit)
    assert form.editor("smtp_host").text() == "localhost"  # type: ignore[attr-defined]
    timeout = form.editor("timeout_s")
    assert isinstance(timeout, QDoubleSpinBox) and timeout.minimum() > 0
    assert form.label("smtp_host").text() == "SMTP server:"  # the field's title
    assert "mail server" in form.editor("smtp_host").toolTip()  # its description
    assert dialog.save_button.isVisible() and dialog.save_button.isEnabled()


def test_field_kinds() -> None:
    from typing import Literal

    assert field_kind(bool) == "bool"
    assert field_kind(int) == "int"
    assert field_kind(float) == "float"
    assert field_kind(Literal["a", "b"]) == "choice"
    assert field_kind(list[str]) == "list"
    assert field_kind(str) == "text"
    assert field_kind(int | None) == "int"
    assert field_kind(dict[str, int]) == "text"


def test_an_invalid_setting_is_shown_and_not_saved_a_valid_one_is(  # type: ignore[no-untyped-def]
    qtbot, dialog: PluginsDialog, plugins_vm: PluginsViewModel, container: Any
) -> None:
    config_file = Path(container.config_file())
    before = config_file.read_text(encoding="utf-8") if config_file.exists() else ""
    dialog.select("email_notify")
    form = dialog.form
    assert form is not None
    recipients = form.editor("recipients")
    assert isinstance(recipients, QLineEdit)
    recipients.setText("ops@example.org, bad address@example.org")

    with qtbot.waitSignal(plugins_vm.configure_failed, timeout=TIMEOUT_MS) as refused:
        dialog.save_button.click()
    assert refused.args[2] == ["recipients"]
    assert dialog.form_error.isVisible()
    assert "bad address@example.org" in dialog.form_error.text()
    assert form.invalid() == ["recipients"]  # its label is marked
    assert recipients.text() == "ops@example.org, bad address@example.org"  # kept
    assert (config_file.read_text(encoding="utf-8") if config_file.exists() else "") == before
    assert container.settings().plugins.model_extra.get("email_notify") is None

    # A port out of range (the spin box cannot hold one: asked of the ViewModel directly).
    with qtbot.waitSignal(plugins_vm.configure_failed, timeout=TIMEOUT_MS) as refused:
        plugins_vm.configure("email_notify", {**form.values(), "smtp_port": 0})
    assert "smtp_port" in refused.args[2]

    form.editor("smtp_host").setText("smtp.example.org")  # type: ignore[attr-defined]
    form.editor("smtp_port").setValue(2525)  # type: ignore[attr-defined]
    form.editor("security").setCurrentIndex(1)  # type: ignore[attr-defined]
    recipients.setText("ops@example.org, li.wei@example.org")
    with qtbot.waitSignal(plugins_vm.configured, timeout=TIMEOUT_MS):
        dialog.save_button.click()
    assert dialog.form_error.isHidden() and form.invalid() == []
    saved = container.settings().plugins.model_extra["email_notify"]
    assert saved["smtp_host"] == "smtp.example.org" and saved["smtp_port"] == 2525
    assert saved["security"] == "starttls"
    assert saved["recipients"] == ["ops@example.org", "li.wei@example.org"]
    text = config_file.read_text(encoding="utf-8")
    assert "smtp.example.org" in text and "2525" in text
    assert dialog.status.text() == "Saved the settings of email_notify."

    # The list refreshes later: the form keeps showing the saved values.
    with qtbot.waitSignal(plugins_vm.plugins_changed, timeout=TIMEOUT_MS):
        plugins_vm.refresh()
    assert form.editor("smtp_host").text() == "smtp.example.org"  # type: ignore[attr-defined]


def test_a_refused_setting_is_explained_by_the_fields_titles_below_the_form(  # type: ignore[no-untyped-def]
    qtbot, dialog: PluginsDialog, plugins_vm: PluginsViewModel
) -> None:
    dialog.select("email_notify")
    form = dialog.form
    assert form is not None
    form.editor("enabled").setChecked(True)  # type: ignore[attr-defined]
    form.editor("smtp_host").setText("")  # type: ignore[attr-defined]
    form.editor("sender").setText("not-an-email")  # type: ignore[attr-defined]
    with qtbot.waitSignal(plugins_vm.configure_failed, timeout=TIMEOUT_MS) as refused:
        dialog.save_button.click()
    assert refused.args[2] == ["smtp_host", "sender"]
    qtbot.waitUntil(dialog.form_error.isVisible, timeout=TIMEOUT_MS)
    lines = dialog.form_error.text().splitlines()
    assert lines[0] == "SMTP server: must not be empty."
    assert lines[1].startswith("From: 'not-an-email' is not a single email address")
    assert len(lines) == 2
    for internal in ("smtp_host", "sender", "recipients", "Value error", "String should"):
        assert internal not in dialog.form_error.text()

    # The message has its own space: below the form, above the button, all of it shown.
    def place(widget):  # type: ignore[no-untyped-def]
        return widget.rect().translated(widget.mapTo(dialog, widget.rect().topLeft()))

    error, scroll = place(dialog.form_error), place(dialog.scroll)
    button = place(dialog.save_button)
    assert not error.intersects(scroll) and not error.intersects(button)
    assert scroll.bottom() < error.top() and error.bottom() < button.top()
    width = dialog.form_error.width()
    assert dialog.form_error.height() >= dialog.form_error.heightForWidth(width)

    # A check of the settings together names no field: said as a sentence.
    form.editor("smtp_host").setText("smtp.example.org")  # type: ignore[attr-defined]
    form.editor("sender").setText("scriptbatch@example.org")  # type: ignore[attr-defined]
    with qtbot.waitSignal(plugins_vm.configure_failed, timeout=TIMEOUT_MS) as refused:
        dialog.save_button.click()
    assert refused.args[1:] == ["Sending is enabled but no recipient (To address) is set.", []]


USER_CONFIG = """# nightly box: ask Bob before changing anything
[execution]
jobs = 3  # three!

[plugins.email_notify]
smtp_host = "mail.example.com"  # the relay
recipients = ["ops@example.com"]
"""


@pytest.fixture
def commented_config(data_home: Path) -> Path:
    """A hand-written config.toml, there before the app starts."""
    data_home.mkdir(parents=True, exist_ok=True)
    config = data_home / "config.toml"
    config.write_text(USER_CONFIG, encoding="utf-8")
    return config


def test_saving_plugin_settings_keeps_the_users_comments(  # type: ignore[no-untyped-def]
    qtbot, commented_config: Path, dialog: PluginsDialog, plugins_vm: PluginsViewModel
) -> None:
    dialog.select("email_notify")
    form = dialog.form
    assert form is not None
    assert form.editor("smtp_host").text() == "mail.example.com"  # type: ignore[attr-defined]
    form.editor("smtp_port").setValue(2525)  # type: ignore[attr-defined]
    with qtbot.waitSignal(plugins_vm.configured, timeout=TIMEOUT_MS):
        dialog.save_button.click()
    text = commented_config.read_text(encoding="utf-8")
    assert text.startswith(USER_CONFIG.split("recipients")[0])  # comments, order, values
    assert 'recipients = ["ops@example.com"]' in text and "smtp_port = 2525" in text
    assert "ScriptBatch user settings" not in text  # no header of its own
    reloaded = load_settings(commented_config)
    assert reloaded.execution.jobs == 3
    assert reloaded.plugins.model_extra["email_notify"]["smtp_port"] == 2525


def test_a_viewer_sees_plugins_but_cannot_switch_them(  # type: ignore[no-untyped-def]
    qtbot, multi: Any, tmp_path: Path, warnings: list[str]
) -> None:
    multi.access().log_in(User(name="vera", role="viewer"))
    win = _window(qtbot, multi, tmp_path)
    try:
        assert win.plugins_action.isVisible() and win.plugins_action.isEnabled()
        win.plugins_action.trigger()
        dialog = win.findChild(PluginsDialog)
        assert dialog is not None
        qtbot.waitUntil(lambda: dialog.table.rowCount() == 3, timeout=TIMEOUT_MS)
        assert dialog.toggle_button.isHidden() and dialog.save_button.isHidden()
        assert dialog.read_only_note.isVisible()
        dialog.select("email_notify")
        assert dialog.form is not None and not dialog.form.isEnabled()

        # The service refuses it anyway; the dialog says so in words.
        vm = win._plugins
        with qtbot.waitSignal(vm.error_occurred, timeout=TIMEOUT_MS) as refused:
            vm.set_enabled("html_report", False)
        assert "needs the 'manage' level" in refused.args[0]
        assert "Traceback" not in refused.args[0]
        qtbot.waitUntil(lambda: not vm.is_busy, timeout=TIMEOUT_MS)
        assert warnings == [refused.args[0]]
        assert _states(multi)["html_report"] == "enabled"
        dialog.close()
    finally:
        win.shutdown_viewmodels()


# -- reports ------------------------------------------------------------------------------------


def test_the_report_viewmodel_writes_a_finished_batchs_html_report(  # type: ignore[no-untyped-def]
    qtbot, container: Any, tmp_path: Path
) -> None:
    batch_id = _run_batch(container, tmp_path)
    vm = ReportViewModel(container.report_service(), container.plugin_service())
    with qtbot.waitSignal(vm.formats_changed, timeout=TIMEOUT_MS):
        vm.load_formats()
    assert vm.formats == ["html", "xlsx"]
    assert vm.file_filters() == ["HTML report (*.html)", "Excel workbook (*.xlsx)"]
    assert vm.default_file_name(batch_id, "html") == f"batch-{batch_id[:8]}.html"
    assert vm.choose_format("/r/out", "Excel workbook (*.xlsx)") == ("/r/out.xlsx", "xlsx")
    assert vm.choose_format("/r/out.html", "Excel workbook (*.xlsx)") == ("/r/out.html", "html")

    target = tmp_path / "report.html"
    with qtbot.waitSignal(vm.done, timeout=60_000) as written:
        vm.write_report(batch_id, "html", str(target))
    assert written.args == [str(target)]
    html = target.read_text(encoding="utf-8")
    assert "<html" in html.lower() and "bad.py" in html and "ok.py" in html
    assert not vm.is_busy

    with qtbot.waitSignal(vm.failed, timeout=TIMEOUT_MS) as failed:
        vm.write_report(batch_id, "pdf", str(tmp_path / "report.pdf"))
    assert "no enabled plugin makes 'pdf' files" in failed.args[0]
    assert not (tmp_path / "report.pdf").exists()


@pytest.fixture
def window(qtbot, container: Any, tmp_path: Path, warnings: list[str]):  # type: ignore[no-untyped-def]
    install_examples(container)
    win = _window(qtbot, container, tmp_path)
    qtbot.waitUntil(lambda: len(win._library.all_scripts) >= 8, timeout=10_000)
    yield win
    if win._batch.is_running:
        win._batch.stop()
        qtbot.waitUntil(lambda: not win._batch.is_running, timeout=30_000)
    qtbot.waitUntil(lambda: not win._reports.is_busy and not win._plugins.is_busy)
    win.shutdown_viewmodels()


def test_plugins_sits_before_api_server_in_the_tools_menu(window) -> None:  # type: ignore[no-untyped-def]
    actions = window.tools_menu.actions()
    assert actions.index(window.plugins_action) < actions.index(window.api_server_action)


def test_export_report_from_the_batch_panel_and_the_history(  # type: ignore[no-untyped-def]
    qtbot, window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warnings: list[str]
) -> None:
    export = window.batch_panel.export_action
    assert not export.isEnabled()  # no batch yet
    library = window._library
    library.set_checked([s.path for s in library.all_scripts], False)
    library.set_checked([s.path for s in library.all_scripts if s.name == "greet_with_args"], True)
    with qtbot.waitSignal(window._batch.batch_finished, timeout=30_000):
        window.run_action.trigger()
    assert export.isEnabled()
    batch_id = window._batch.batch.id
    qtbot.waitUntil(lambda: bool(window._reports.formats), timeout=TIMEOUT_MS)

    asked: list[tuple[str, str]] = []

    def save_as(_parent, _title, default, filters):  # type: ignore[no-untyped-def]
        asked.append((default, filters))
        return str(tmp_path / "my report"), "HTML report (*.html)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)
    with qtbot.waitSignal(window._reports.done, timeout=60_000):
        export.trigger()
    default, filters = asked[0]
    assert Path(default).name == f"batch-{batch_id[:8]}.html"
    assert filters == "HTML report (*.html);;Excel workbook (*.xlsx)"
    written = tmp_path / "my report.html"
    assert written.is_file() and "greet_with_args" in written.read_text(encoding="utf-8")
    assert "Report written" in window.statusBar().currentMessage()
    assert warnings == []

    # The history: the selected execution's batch, from the button.
    window.tabs.setCurrentWidget(window.history_view)
    view = window.history_view
    qtbot.waitUntil(lambda: view.model.rowCount() >= 1, timeout=TIMEOUT_MS)
    assert not view.export_button.isEnabled()
    view.table.selectRow(0)
    assert view.export_button.isEnabled()
    with qtbot.waitSignal(view.export_report_requested, timeout=1_000) as requested:
        view.export_button.click()
    assert requested.args == [batch_id]

    # A failure is said in a message box, in words.
    monkeypatch.setattr(
        QFileDialog,
        "getSaveFileName",
        lambda *_args: (str(tmp_path / "no-such-folder" / "r.xlsx"), "HTML report (*.html)"),
    )
    with qtbot.waitSignal(window._reports.failed, timeout=TIMEOUT_MS):
        window.export_report(batch_id)
    assert len(warnings) == 1 and "does not exist" in warnings[0]


def test_a_plugin_problem_reaches_the_status_bar(  # type: ignore[no-untyped-def]
    qtbot, window, container: Any, tmp_path: Path
) -> None:
    # A mail server that is not there: the email plugin cannot deliver.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    container.plugin_service().configure(
        "email_notify",
        {
            "enabled": True,
            "smtp_host": "127.0.0.1",
            "smtp_port": closed_port,
            "sender": "scriptbatch@example.org",
            "recipients": ["ops@example.org"],
            "when": "always",
            "timeout_s": 5,
        },
    )
    with qtbot.waitSignal(window._plugins.problem, timeout=60_000) as problem:
        _run_batch(container, tmp_path)
    assert problem.args[0].startswith("Plugin email_notify: could not send the batch email")
    qtbot.waitUntil(
        lambda: "could not send the batch email" in window.statusBar().currentMessage(),
        timeout=TIMEOUT_MS,
    )
