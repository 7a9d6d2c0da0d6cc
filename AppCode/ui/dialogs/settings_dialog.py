"""The Settings dialog: one tab per config section, one row per key, validated as you type."""

from __future__ import annotations

from typing import Any

from PyQt5.QtCore import QSignalBlocker, Qt
from PyQt5.QtGui import QIcon
from PyQt5.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QStyle,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from AppCode.ui.viewmodels.settings_viewmodel import FieldSpec, SettingsViewModel

INT_LIMIT = 2**31 - 1  # QSpinBox holds a C int
FLOAT_LIMIT = 1e12
_UNITS = {"s": "s", "ms": "ms", "h": "h", "mb": "MB", "gb": "GB", "kb": "KB"}
_ACRONYMS = {"api": "API", "url": "URL", "cpu": "CPU", "ttl": "TTL", "ui": "UI", "id": "ID"}
_ERROR_STYLE = "color: #c62828;"
_NOTE_STYLE = "color: gray;"


class SettingsDialog(QDialog):
    """Shows the ViewModel's fields; OK saves (and closes once written), Cancel discards."""

    def __init__(self, vm: SettingsViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vm = vm
        self._editors: dict[tuple[str, str], QWidget] = {}
        self._labels: dict[tuple[str, str], QLabel] = {}
        self._helps: dict[tuple[str, str], QLabel] = {}
        self._errors: dict[tuple[str, str], QLabel] = {}
        self._notes: dict[tuple[str, str], QLabel] = {}
        self._specs: dict[tuple[str, str], FieldSpec] = {}
        self._names = self._display_names()
        self.setWindowTitle(self.tr("Settings"))
        self.resize(620, 560)

        self.tabs = QTabWidget(self)
        for section in vm.sections:
            self.tabs.addTab(self._section_page(section), self._section_title(section))
        self.status = QLabel(self)
        self.status.setStyleSheet(_ERROR_STYLE)
        self.status.setWordWrap(True)
        self.status.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.Ok | QDialogButtonBox.Cancel | QDialogButtonBox.RestoreDefaults,
            self,
        )
        self.ok_button = self._button(QDialogButtonBox.Ok)
        self.cancel_button = self._button(QDialogButtonBox.Cancel)
        self.restore_button = self._button(QDialogButtonBox.RestoreDefaults)
        self.restore_button.setText(self.tr("Restore defaults"))
        self.restore_button.setToolTip(self.tr("Put every value on this page back to its default"))

        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

        self.buttons.accepted.connect(self._on_ok)
        self.buttons.rejected.connect(self.reject)
        self.buttons.clicked.connect(self._on_button)
        vm.field_error.connect(self._on_field_error)
        vm.value_changed.connect(self._on_value_changed)
        vm.validity_changed.connect(lambda _valid: self._update_ok())
        vm.busy_changed.connect(lambda _busy: self._update_ok())
        vm.saved.connect(self.accept)
        vm.error_occurred.connect(self._on_error)
        self._update_ok()

    # -- lookup (also for tests) -------------------------------------------------------------

    def editor(self, section: str, key: str) -> QWidget:
        return self._editors[(section, key)]

    def name_label(self, section: str, key: str) -> QLabel:
        return self._labels[(section, key)]

    def help_label(self, section: str, key: str) -> QLabel:
        return self._helps[(section, key)]

    def error_label(self, section: str, key: str) -> QLabel:
        return self._errors[(section, key)]

    def restart_note(self, section: str, key: str) -> QLabel | None:
        return self._notes.get((section, key))

    def display_name(self, section: str, key: str) -> str:
        """A key in words: a known name, else e.g. "retry_backoff_s" -> "Retry backoff (s)"."""
        return self._names.get((section, key)) or self._names.get(("", key)) or _words(key)

    # -- building ----------------------------------------------------------------------------

    def _button(self, which: QDialogButtonBox.StandardButton) -> QPushButton:
        button = self.buttons.button(which)
        assert button is not None
        return button

    def _section_page(self, section: str) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignLeft | Qt.AlignTop)
        for spec in self._vm.fields(section):
            where = (spec.section, spec.key)
            self._specs[where] = spec
            editor = self._make_editor(spec)
            editor.setObjectName(f"{spec.section}.{spec.key}")
            self._editors[where] = editor

            top = QHBoxLayout()
            top.setContentsMargins(0, 0, 0, 0)
            top.addWidget(editor, 1)
            if spec.restart_needed:
                note = QLabel(self.tr("applies after restart"))
                note.setStyleSheet(_NOTE_STYLE + " font-style: italic;")
                self._notes[where] = note
                top.addWidget(note)
            help_label = QLabel(spec.help)
            help_label.setWordWrap(True)
            help_label.setStyleSheet(_NOTE_STYLE + " font-size: small;")
            help_label.setVisible(bool(spec.help))
            error = QLabel()
            error.setWordWrap(True)
            error.setStyleSheet(_ERROR_STYLE)
            error.hide()
            self._helps[where] = help_label
            self._errors[where] = error

            cell = QWidget()
            column = QVBoxLayout(cell)
            column.setContentsMargins(0, 0, 0, 4)
            column.setSpacing(2)
            column.addLayout(top)
            column.addWidget(help_label)
            column.addWidget(error)

            label = QLabel(self.display_name(spec.section, spec.key))
            label.setBuddy(editor)
            for widget in (label, editor):
                widget.setToolTip(spec.help)
            self._labels[where] = label
            form.addRow(label, cell)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.NoFrame)
        scroll.setWidget(page)
        return scroll

    def _make_editor(self, spec: FieldSpec) -> QWidget:
        s, k = spec.section, spec.key
        if spec.kind == "bool":
            box = QCheckBox()
            box.toggled.connect(lambda on: self._vm.set_value(s, k, on))
            widget: QWidget = box
        elif spec.kind == "int":
            spin = QSpinBox()
            low = -INT_LIMIT if spec.minimum is None else max(int(spec.minimum), -INT_LIMIT)
            high = INT_LIMIT if spec.maximum is None else min(int(spec.maximum), INT_LIMIT)
            spin.setRange(low, high)
            spin.valueChanged.connect(lambda v: self._vm.set_value(s, k, v))
            widget = spin
        elif spec.kind == "float":
            dspin = QDoubleSpinBox()
            dspin.setDecimals(2)
            low_f = -FLOAT_LIMIT if spec.minimum is None else float(spec.minimum)
            high_f = FLOAT_LIMIT if spec.maximum is None else float(spec.maximum)
            dspin.setRange(low_f, high_f)
            dspin.valueChanged.connect(lambda v: self._vm.set_value(s, k, v))
            widget = dspin
        elif spec.kind == "choice":
            combo = QComboBox()
            for choice in spec.choices:
                combo.addItem(self._choice_name(k, choice), choice)
            combo.currentIndexChanged.connect(lambda i: self._vm.set_value(s, k, combo.itemData(i)))
            widget = combo
        else:  # "list" (comma-separated) and "string"
            line = QLineEdit()
            if spec.kind == "list":
                line.setPlaceholderText(
                    self.tr("e.g. {examples}").format(examples=", ".join(spec.choices[:2]))
                    if spec.choices
                    else self.tr("values separated by commas")
                )
            line.textEdited.connect(lambda text: self._vm.set_value(s, k, text))
            line.editingFinished.connect(lambda: self._on_editing_finished(s, k))
            widget = line
        self._show_value(widget, spec, spec.value)
        return widget

    def _show_value(self, widget: QWidget, spec: FieldSpec, value: Any) -> None:
        """Put ``value`` into the editor without reporting it back to the ViewModel."""
        blocker = QSignalBlocker(widget)
        if isinstance(widget, QCheckBox):
            widget.setChecked(bool(value))
        elif isinstance(widget, QSpinBox | QDoubleSpinBox):
            widget.setValue(value)
        elif isinstance(widget, QComboBox):
            widget.setCurrentIndex(max(widget.findData(value), 0))
        elif isinstance(widget, QLineEdit):
            text = ", ".join(str(v) for v in value) if spec.kind == "list" else str(value)
            if widget.text() != text:
                widget.setText(text)
        blocker.unblock()

    # -- reactions ---------------------------------------------------------------------------

    def _on_editing_finished(self, section: str, key: str) -> None:
        editor = self._editors[(section, key)]
        assert isinstance(editor, QLineEdit)
        self._vm.set_value(section, key, editor.text())
        if not self._vm.error(section, key):  # show the value as it was understood
            self._show_value(editor, self._specs[(section, key)], self._vm.value(section, key))

    def _on_field_error(self, section: str, key: str, message: str) -> None:
        label = self._errors.get((section, key))
        if label is None:
            return
        label.setText(message)
        label.setVisible(bool(message))
        index = self._vm.sections.index(section)
        bad = any(self._vm.error(section, k) for k in self._vm.keys(section))
        icon = self.style().standardIcon(QStyle.SP_MessageBoxWarning) if bad else QIcon()
        self.tabs.setTabIcon(index, icon)
        self.status.hide()

    def _on_value_changed(self, section: str, key: str, value: object) -> None:
        where = (section, key)
        if where in self._editors:
            self._show_value(self._editors[where], self._specs[where], value)

    def _on_button(self, button: QAbstractButton) -> None:
        if button is self.restore_button:
            self._vm.reset_to_defaults(self._vm.sections[self.tabs.currentIndex()])

    def _on_ok(self) -> None:
        if not self._vm.is_modified:
            self.accept()
            return
        self.status.hide()
        self._vm.save()  # closes on ``saved``

    def _on_error(self, message: str) -> None:
        self.status.setText(message)
        self.status.show()

    def _update_ok(self) -> None:
        self.ok_button.setEnabled(self._vm.is_valid and not self._vm.busy)

    # -- names -------------------------------------------------------------------------------

    def _section_title(self, section: str) -> str:
        titles = {
            "execution": self.tr("Execution"),
            "cache": self.tr("Cache"),
            "ui": self.tr("Appearance"),
            "sandbox": self.tr("Sandbox"),
            "monitoring": self.tr("Monitoring"),
            "backup": self.tr("Backup"),
            "plugins": self.tr("Plugins"),
            "api": self.tr("REST API"),
            "history": self.tr("History"),
            "logging": self.tr("Logging"),
        }
        return titles.get(section) or _words(section)

    def _choice_name(self, key: str, choice: str) -> str:
        names = {
            ("language", "auto"): self.tr("System language"),
            ("language", "en"): "English",  # language names are shown in their own language
            ("language", "zh_CN"): "简体中文",
            ("theme", "system"): self.tr("System"),
            ("theme", "light"): self.tr("Light"),
            ("theme", "dark"): self.tr("Dark"),
            ("backend", "local"): self.tr("This computer"),
            ("backend", "dask"): self.tr("Dask cluster"),
            ("start_method", "auto"): self.tr("Automatic"),
            ("start_method", "spawn"): self.tr("Fresh interpreter (spawn)"),
            ("start_method", "forkserver"): self.tr("Warm helper (forkserver, Linux)"),
        }
        return names.get((key, choice), choice)

    def _display_names(self) -> dict[tuple[str, str], str]:
        """Known keys in words; ("", key) applies to every section."""
        return {
            ("execution", "backend"): self.tr("Run scripts on"),
            ("execution", "jobs"): self.tr("Parallel jobs"),
            ("execution", "timeout_s"): self.tr("Timeout (s)"),
            ("execution", "retries"): self.tr("Retries"),
            ("execution", "retry_backoff_s"): self.tr("Retry delay (s)"),
            ("execution", "retry_on"): self.tr("Retry when"),
            ("execution", "kill_grace_s"): self.tr("Grace period before kill (s)"),
            ("execution", "fail_fast"): self.tr("Stop after the first failure"),
            ("execution", "python"): self.tr("Python interpreter"),
            ("execution", "start_method"): self.tr("Start method"),
            ("execution", "max_log_mb"): self.tr("Output kept per script (MB)"),
            ("execution", "dask_scheduler"): self.tr("Dask scheduler"),
            ("cache", "scripts_size"): self.tr("Library entries cached"),
            ("cache", "history_size"): self.tr("History queries cached"),
            ("cache", "ttl_s"): self.tr("Cache lifetime (s)"),
            ("ui", "language"): self.tr("Language"),
            ("ui", "theme"): self.tr("Theme"),
            ("sandbox", "enabled"): self.tr("Use the sandbox"),
            ("sandbox", "memory_limit_mb"): self.tr("Memory limit (MB)"),
            ("sandbox", "cpu_time_limit_s"): self.tr("CPU time limit (s)"),
            ("sandbox", "max_file_size_mb"): self.tr("Largest file written (MB)"),
            ("sandbox", "network"): self.tr("Allow network access"),
            ("sandbox", "allow_subprocess"): self.tr("Allow starting programs"),
            ("monitoring", "enabled"): self.tr("Monitor the system"),
            ("monitoring", "interval_s"): self.tr("Sample interval (s)"),
            ("backup", "auto_interval_h"): self.tr("Automatic backup every (h)"),
            ("plugins", "enabled"): self.tr("Enabled plugins"),
            ("plugins", "hook_timeout_s"): self.tr("Plugin hook timeout (s)"),
            ("", "retention_days"): self.tr("Keep for (days)"),
            ("", "enabled"): self.tr("Enabled"),
        }


def _words(key: str) -> str:
    """A generic name for an unknown key: words, acronyms, a unit suffix in brackets."""
    parts = [p for p in key.split("_") if p]
    unit = ""
    if len(parts) > 1 and parts[-1].lower() in _UNITS:
        unit = f" ({_UNITS[parts.pop().lower()]})"
    words = [_ACRONYMS.get(p.lower(), p.lower()) for p in parts]
    if words and words[0] not in _ACRONYMS.values():
        words[0] = words[0].capitalize()
    return " ".join(words) + unit
