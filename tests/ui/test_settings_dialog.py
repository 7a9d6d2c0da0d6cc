"""The Settings dialog and its ViewModel on the real app (pytest-qt, offscreen)."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QCheckBox, QComboBox, QLineEdit, QSpinBox

from AppCode.core.domain.errors import ConfigurationError
from AppCode.services.settings import default_config_file, load_settings, save_user_settings
from AppCode.ui.dialogs.settings_dialog import SettingsDialog
from AppCode.ui.viewmodels.settings_viewmodel import SettingsViewModel, read_help_texts

TIMEOUT_MS = 10_000


def make_vm(container: Any, **kwargs: Any) -> SettingsViewModel:
    config_file: Path = container.config_file()
    return SettingsViewModel(
        container.settings(), lambda s: save_user_settings(config_file, s), **kwargs
    )


def read_config(container: Any) -> dict[str, Any]:
    with container.config_file().open("rb") as fh:
        return tomllib.load(fh)


def default_comment(section: str, key: str) -> str:
    """The comment of ``key`` in default.toml, read here independently of the ViewModel."""
    current = ""
    for line in default_config_file().read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            current = line.strip("[] ")
        elif current == section and line.split("=")[0].strip() == key:
            return line.rsplit("#", 1)[1].strip()
    raise AssertionError(f"{section}.{key} not in default.toml")


@pytest.fixture
def dialog(qtbot: Any, container: Any) -> SettingsDialog:
    window = SettingsDialog(make_vm(container))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


# -- ViewModel ---------------------------------------------------------------------------------


def test_viewmodel_rejects_negative_jobs_naming_the_range_and_accepts_a_valid_one(
    qtbot: Any, container: Any
) -> None:
    vm = make_vm(container)
    with qtbot.waitSignal(vm.field_error) as blocker:
        vm.set_value("execution", "jobs", -1)
    section, key, message = blocker.args
    assert (section, key) == ("execution", "jobs")
    assert "0" in message and "1024" in message
    assert not vm.is_valid
    assert vm.error("execution", "jobs") == message

    with qtbot.waitSignal(vm.validity_changed) as validity:
        vm.set_value("execution", "jobs", "4")  # as typed
    assert validity.args == [True]
    assert vm.is_valid and vm.error("execution", "jobs") == ""
    assert vm.value("execution", "jobs") == 4
    assert container.settings().execution.jobs == 0  # nothing applied before save()


@pytest.mark.parametrize(
    ("section", "key", "raw", "expected"),
    [
        ("ui", "language", "fr", ["auto", "en", "zh_CN"]),
        ("ui", "theme", "neon", ["system", "light", "dark"]),
        ("execution", "retry_on", "failed, sometimes", ["sometimes", "interrupted"]),
        ("execution", "timeout_s", "soon", ["number"]),
        ("execution", "max_log_mb", "0", ["between 1 and 16777216"]),
    ],
)
def test_viewmodel_messages_name_what_is_allowed(
    qtbot: Any, container: Any, section: str, key: str, raw: str, expected: list[str]
) -> None:
    vm = make_vm(container)
    with qtbot.waitSignal(vm.field_error) as blocker:
        vm.set_value(section, key, raw)
    message = blocker.args[2]
    for word in expected:
        assert word in message
    assert not vm.is_valid


def test_fields_are_described_from_the_models_and_default_toml(container: Any) -> None:
    vm = make_vm(container)
    specs = {f.key: f for f in vm.fields("execution")}
    jobs = specs["jobs"]
    assert (jobs.kind, jobs.minimum, jobs.maximum, jobs.value) == ("int", 0, 1024, 0)
    assert specs["timeout_s"].kind == "float" and specs["timeout_s"].maximum == 365 * 24 * 3600
    assert specs["fail_fast"].kind == "bool"
    assert specs["python"].kind == "string"
    assert specs["backend"].kind == "choice" and specs["backend"].choices == ("local", "dask")
    assert specs["retry_on"].kind == "list"
    assert specs["retry_on"].choices == ("failed", "timed_out", "interrupted")
    for section in vm.sections:
        for spec in vm.fields(section):
            assert spec.help == default_comment(section, spec.key)
    assert vm.restart_needed("ui", "language") and vm.restart_needed("ui", "theme")
    assert not vm.restart_needed("execution", "jobs")


def test_help_comments_ignore_hashes_inside_strings() -> None:
    texts = read_help_texts('[a]\nx = "tcp://h#1"  # the address\ny = 1\n[b.c]\nz = [] # list\n')
    assert texts == {"a": {"x": "the address"}, "b.c": {"z": "list"}}


def test_other_sections_are_added_by_naming_them(qtbot: Any, container: Any) -> None:
    sections = ("sandbox", "monitoring", "backup", "plugins", "api")
    vm = make_vm(container, sections=sections)
    window = SettingsDialog(vm)
    qtbot.addWidget(window)
    assert window.tabs.count() == len(sections)
    port = window.editor("api", "port")
    assert isinstance(port, QSpinBox) and (port.minimum(), port.maximum()) == (1, 65535)
    assert window.display_name("monitoring", "interval_s") == "Sample interval (s)"
    with qtbot.waitSignal(vm.field_error) as blocker:
        vm.set_value("plugins", "hook_timeout_s", 0)
    assert "more than 0" in blocker.args[2]


def test_save_writes_only_changed_keys_and_updates_the_live_settings(
    qtbot: Any, container: Any
) -> None:
    settings = container.settings()
    execution = settings.execution  # services hold this object: it must change in place
    vm = make_vm(container)
    vm.set_value("execution", "jobs", 4)
    vm.set_value("execution", "retry_on", "failed, interrupted")
    vm.set_value("ui", "theme", "dark")
    vm.set_value("cache", "ttl_s", 300)  # the default: not written
    with (
        qtbot.waitSignal(vm.applied) as applied,
        qtbot.waitSignal(vm.saved, timeout=TIMEOUT_MS),
    ):
        vm.save()
    assert sorted(applied.args[0]) == ["execution.jobs", "execution.retry_on", "ui.theme"]
    assert read_config(container) == {
        "execution": {"jobs": 4, "retry_on": ["failed", "interrupted"]},
        "ui": {"theme": "dark"},
    }
    assert settings.execution is execution
    assert execution.jobs == 4 and execution.retry_on == ["failed", "interrupted"]
    assert settings.ui.theme == "dark"
    assert not vm.is_modified


def test_a_failed_write_is_reported_as_an_error(qtbot: Any, container: Any) -> None:
    def refuse(_settings: object) -> None:
        raise PermissionError(13, "Permission denied", "/nowhere/config.toml")

    vm = SettingsViewModel(container.settings(), refuse)
    vm.set_value("execution", "retries", 2)
    with qtbot.waitSignal(vm.error_occurred, timeout=TIMEOUT_MS) as blocker:
        vm.save()
    assert "/nowhere/config.toml" in blocker.args[0]
    assert "Permission denied" in blocker.args[0]
    assert not vm.busy


def test_reset_to_defaults_restores_default_toml_values(qtbot: Any, container: Any) -> None:
    vm = make_vm(container)
    vm.set_value("execution", "jobs", 8)
    vm.set_value("execution", "retries", -5)
    assert not vm.is_valid
    with qtbot.waitSignal(vm.value_changed) as blocker:
        vm.reset_to_defaults("execution")
    assert blocker.args == ["execution", "jobs", 0]
    assert vm.is_valid
    assert vm.value("execution", "jobs") == 0 and vm.value("execution", "retries") == 0


# -- dialog ------------------------------------------------------------------------------------


def test_dialog_shows_an_inline_error_for_typed_input_and_blocks_ok(
    qtbot: Any, dialog: SettingsDialog
) -> None:
    editor = dialog.editor("execution", "retry_on")
    error = dialog.error_label("execution", "retry_on")
    assert isinstance(editor, QLineEdit)
    assert dialog.ok_button.isEnabled() and not error.isVisible()
    dialog.tabs.setCurrentIndex(0)

    editor.selectAll()
    qtbot.keyClicks(editor, "failed, sometimes")
    qtbot.waitUntil(error.isVisible, timeout=TIMEOUT_MS)
    assert "sometimes" in error.text() and "interrupted" in error.text()
    assert "c62828" in error.styleSheet()
    assert not dialog.ok_button.isEnabled()

    editor.selectAll()
    qtbot.keyClicks(editor, "failed,interrupted")
    qtbot.waitUntil(lambda: not error.isVisible(), timeout=TIMEOUT_MS)
    assert dialog.ok_button.isEnabled()
    editor.editingFinished.emit()
    assert editor.text() == "failed, interrupted"  # shown as understood


def test_dialog_shows_a_viewmodel_error_under_the_spin_box_until_fixed(
    qtbot: Any, dialog: SettingsDialog
) -> None:
    vm = dialog._vm
    spin = dialog.editor("execution", "jobs")
    error = dialog.error_label("execution", "jobs")
    assert isinstance(spin, QSpinBox) and (spin.minimum(), spin.maximum()) == (0, 1024)
    vm.set_value("execution", "jobs", 5000)
    qtbot.waitUntil(error.isVisible, timeout=TIMEOUT_MS)
    assert "1024" in error.text()
    assert not dialog.ok_button.isEnabled()

    spin.setValue(8)
    qtbot.waitUntil(lambda: not error.isVisible(), timeout=TIMEOUT_MS)
    assert dialog.ok_button.isEnabled()
    assert vm.value("execution", "jobs") == 8


def test_ok_saves_and_closes(qtbot: Any, container: Any, dialog: SettingsDialog) -> None:
    jobs = dialog.editor("execution", "jobs")
    assert isinstance(jobs, QSpinBox)
    jobs.setValue(6)
    theme = dialog.editor("ui", "theme")
    assert isinstance(theme, QComboBox)
    theme.setCurrentIndex(theme.findData("light"))
    with qtbot.waitSignal(dialog.accepted, timeout=TIMEOUT_MS):
        qtbot.mouseClick(dialog.ok_button, Qt.LeftButton)
    assert read_config(container) == {"execution": {"jobs": 6}, "ui": {"theme": "light"}}
    assert container.settings().execution.jobs == 6


def test_cancel_leaves_settings_and_file_untouched(
    qtbot: Any, container: Any, dialog: SettingsDialog
) -> None:
    config_file: Path = container.config_file()
    config_file.write_text("[execution]\nretries = 1\n", encoding="utf-8")
    before = container.settings().model_dump()
    jobs, fail_fast = dialog.editor("execution", "jobs"), dialog.editor("execution", "fail_fast")
    assert isinstance(jobs, QSpinBox) and isinstance(fail_fast, QCheckBox)
    jobs.setValue(12)
    fail_fast.setChecked(True)
    with qtbot.waitSignal(dialog.rejected, timeout=TIMEOUT_MS):
        qtbot.mouseClick(dialog.cancel_button, Qt.LeftButton)
    assert container.settings().model_dump() == before
    assert config_file.read_text(encoding="utf-8") == "[execution]\nretries = 1\n"


def test_dialog_rows_show_help_names_and_restart_notes(dialog: SettingsDialog) -> None:
    help_text = default_comment("execution", "jobs")
    assert dialog.help_label("execution", "jobs").text() == help_text
    assert dialog.editor("execution", "jobs").toolTip() == help_text
    assert dialog.name_label("execution", "jobs").text() == "Parallel jobs"
    assert dialog.name_label("execution", "timeout_s").text() == "Timeout (s)"
    assert dialog.display_name("x", "retry_backoff_s") == "Retry backoff (s)"
    assert dialog.display_name("x", "api_url") == "API URL"
    for key in ("language", "theme"):
        note = dialog.restart_note("ui", key)
        assert note is not None and "restart" in note.text()
    assert dialog.restart_note("execution", "jobs") is None


def test_restore_defaults_resets_the_current_page(qtbot: Any, dialog: SettingsDialog) -> None:
    spin = dialog.editor("execution", "jobs")
    assert isinstance(spin, QSpinBox)
    spin.setValue(9)
    dialog._vm.set_value("execution", "retries", -1)
    assert not dialog.ok_button.isEnabled()
    dialog.tabs.setCurrentIndex(dialog._vm.sections.index("execution"))
    qtbot.mouseClick(dialog.restore_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: spin.value() == 0, timeout=TIMEOUT_MS)
    assert dialog.ok_button.isEnabled()
    assert not dialog.error_label("execution", "retries").isVisible()


# -- saving: the live settings change only once the file is written ---------------------------


def test_the_live_settings_change_only_after_the_file_is_written(
    qtbot: Any, container: Any
) -> None:
    settings = container.settings()
    config_file: Path = container.config_file()
    seen_while_writing: list[int] = []

    def write(edited: Any) -> None:
        seen_while_writing.append(settings.execution.jobs)
        save_user_settings(config_file, edited)

    vm = SettingsViewModel(settings, write)
    vm.set_value("execution", "jobs", 4)
    with qtbot.waitSignals([vm.applied, vm.saved], order="strict", timeout=TIMEOUT_MS) as both:
        vm.save()
    assert seen_while_writing == [0]  # the file is written from a copy
    assert list(both.all_signals_and_args[0].args) == [["execution.jobs"]]
    assert settings.execution.jobs == 4
    assert read_config(container) == {"execution": {"jobs": 4}}


def test_a_failed_save_changes_nothing_and_cancel_keeps_it_so(qtbot: Any, container: Any) -> None:
    settings = container.settings()
    before = settings.model_dump()

    def refuse(_settings: object) -> None:
        raise PermissionError(13, "Permission denied", "/nowhere/config.toml")

    vm = SettingsViewModel(settings, refuse)
    applied: list[list[str]] = []
    vm.applied.connect(applied.append)
    dialog = SettingsDialog(vm)
    qtbot.addWidget(dialog)
    dialog.show()
    jobs = dialog.editor("execution", "jobs")
    assert isinstance(jobs, QSpinBox)
    jobs.setValue(7)
    with qtbot.waitSignal(vm.error_occurred, timeout=TIMEOUT_MS):
        qtbot.mouseClick(dialog.ok_button, Qt.LeftButton)
    qtbot.waitUntil(dialog.status.isVisible, timeout=TIMEOUT_MS)
    assert "Permission denied" in dialog.status.text()
    assert dialog.isVisible() and dialog.ok_button.isEnabled()
    assert settings.model_dump() == before and applied == []

    with qtbot.waitSignal(dialog.rejected, timeout=TIMEOUT_MS):
        qtbot.mouseClick(dialog.cancel_button, Qt.LeftButton)
    assert settings.model_dump() == before and applied == []


# -- values checked the way they will be used -------------------------------------------------


def type_into(qtbot: Any, dialog: SettingsDialog, section: str, key: str, text: str) -> None:
    editor = dialog.editor(section, key)
    assert isinstance(editor, QLineEdit)
    dialog.tabs.setCurrentIndex(dialog._vm.sections.index(section))
    editor.selectAll()
    if text:
        qtbot.keyClicks(editor, text)
    else:
        qtbot.keyClick(editor, Qt.Key_Delete)
    editor.editingFinished.emit()


@pytest.fixture
def sandbox_dialog(qtbot: Any, container: Any) -> SettingsDialog:
    vm = make_vm(container, sections=("execution", "sandbox"))
    window = SettingsDialog(vm)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def settled(dialog: SettingsDialog) -> bool:
    return not dialog._vm.is_checking


def test_a_python_interpreter_that_is_not_there_is_an_inline_error(
    qtbot: Any, sandbox_dialog: SettingsDialog, tmp_path: Path
) -> None:
    dialog = sandbox_dialog
    error = dialog.error_label("execution", "python")
    type_into(qtbot, dialog, "execution", "python", "/nonexistent/python3")
    qtbot.waitUntil(error.isVisible, timeout=TIMEOUT_MS)
    assert "“/nonexistent/python3” was not found" in error.text()
    assert not dialog.ok_button.isEnabled()

    not_a_program = tmp_path / "python3"
    not_a_program.write_text("just text\n", encoding="utf-8")
    not_a_program.chmod(0o644)
    type_into(qtbot, dialog, "execution", "python", str(not_a_program))
    qtbot.waitUntil(lambda: "is not a program" in error.text(), timeout=TIMEOUT_MS)
    assert not dialog.ok_button.isEnabled()

    type_into(qtbot, dialog, "execution", "python", str(tmp_path))
    qtbot.waitUntil(lambda: "is a folder" in error.text(), timeout=TIMEOUT_MS)

    type_into(qtbot, dialog, "execution", "python", sys.executable)
    qtbot.waitUntil(lambda: not error.isVisible() and settled(dialog), timeout=TIMEOUT_MS)
    assert dialog.ok_button.isEnabled()
    type_into(qtbot, dialog, "execution", "python", "")  # this interpreter: always fine
    qtbot.waitUntil(lambda: not error.isVisible() and settled(dialog), timeout=TIMEOUT_MS)
    assert dialog.ok_button.isEnabled()


def test_check_python_is_asked_about_an_interpreter_that_is_there(
    qtbot: Any, container: Any
) -> None:
    asked: list[str] = []

    def check_python(python: str) -> str:
        asked.append(python)
        raise ConfigurationError(f"{python} is not a working Python interpreter (boom)")

    vm = make_vm(container, check_python=check_python)
    with qtbot.waitSignal(
        vm.field_error, check_params_cb=lambda *args: bool(args[2]), timeout=TIMEOUT_MS
    ) as blocker:
        vm.set_value("execution", "python", sys.executable)
    assert asked == [sys.executable]
    assert blocker.args[2] == f"{sys.executable} is not a working Python interpreter (boom)"
    assert not vm.is_valid


def test_an_unknown_sandbox_policy_is_an_inline_error_naming_the_choices(
    qtbot: Any, sandbox_dialog: SettingsDialog, tmp_path: Path
) -> None:
    dialog = sandbox_dialog
    error = dialog.error_label("sandbox", "policy")
    type_into(qtbot, dialog, "sandbox", "policy", "nonexistent_policy")
    qtbot.waitUntil(error.isVisible, timeout=TIMEOUT_MS)
    assert "no sandbox policy “nonexistent_policy”" in error.text()
    assert "off, standard, strict" in error.text()
    assert not dialog.ok_button.isEnabled()

    type_into(qtbot, dialog, "sandbox", "policy", str(tmp_path / "missing.toml"))
    qtbot.waitUntil(lambda: "no policy file" in error.text(), timeout=TIMEOUT_MS)

    policy_file = tmp_path / "nightly.toml"
    policy_file.write_text('base = "strict"\n', encoding="utf-8")
    type_into(qtbot, dialog, "sandbox", "policy", str(policy_file))
    qtbot.waitUntil(lambda: not error.isVisible() and settled(dialog), timeout=TIMEOUT_MS)
    assert dialog.ok_button.isEnabled()
    type_into(qtbot, dialog, "sandbox", "policy", "strict")
    qtbot.waitUntil(lambda: not error.isVisible() and settled(dialog), timeout=TIMEOUT_MS)
    assert dialog.ok_button.isEnabled()


def test_custom_policies_are_known_by_name(qtbot: Any, container: Any) -> None:
    vm = make_vm(
        container,
        sections=("sandbox",),
        policies=lambda: ["off", "standard", "strict", "nightly"],
    )
    vm.set_value("sandbox", "policy", "nightly")
    qtbot.waitUntil(lambda: not vm.is_checking, timeout=TIMEOUT_MS)
    assert vm.is_valid and vm.value("sandbox", "policy") == "nightly"


@pytest.mark.parametrize(
    ("address", "valid"),
    [
        ("", True),
        ("tcp://10.0.0.5:8786", True),
        ("scheduler.example.org:8786", True),
        ("tls://[::1]:8786", True),
        ("not a url at all", False),
        ("tcp://scheduler.example.org", False),  # the client needs the port
        ("http://scheduler.example.org:8786", False),
        ("tcp://host:99999", False),
    ],
)
def test_the_dask_scheduler_must_be_an_address(
    qtbot: Any, sandbox_dialog: SettingsDialog, address: str, valid: bool
) -> None:
    dialog = sandbox_dialog
    error = dialog.error_label("execution", "dask_scheduler")
    type_into(qtbot, dialog, "execution", "dask_scheduler", address)
    if valid:
        assert not error.isVisible() and dialog.ok_button.isEnabled()
    else:
        qtbot.waitUntil(error.isVisible, timeout=TIMEOUT_MS)
        assert "tcp://HOST:8786" in error.text()
        assert not dialog.ok_button.isEnabled()


# -- the user's file keeps their comments ------------------------------------------------------

COMMENTED = """# my notes: jobs tuned for the nightly box, ask Bob before changing
[execution]
jobs = 3  # three!
retries = 1

[api]
port = 9999  # the firewall allows this one

[plugins.email_notify]
smtp_host = "mail.example.com"
recipients = ["ops@example.com"]
"""


def test_saving_keeps_the_users_comments_and_other_values(
    qtbot: Any, container: Any, tmp_path: Path
) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text(COMMENTED, encoding="utf-8")
    settings = load_settings(config_file)
    vm = SettingsViewModel(settings, lambda s: save_user_settings(config_file, s))
    vm.set_value("execution", "jobs", 5)
    with qtbot.waitSignal(vm.saved, timeout=TIMEOUT_MS):
        vm.save()

    text = config_file.read_text(encoding="utf-8")
    assert text == COMMENTED.replace("jobs = 3  # three!", "jobs = 5  # three!")
    assert tomllib.loads(text)["execution"] == {"jobs": 5, "retries": 1}
    reloaded = load_settings(config_file)
    assert reloaded.execution.jobs == 5 and reloaded.execution.retries == 1
    assert reloaded.api.port == 9999
    assert reloaded.plugins.model_extra["email_notify"]["smtp_host"] == "mail.example.com"
