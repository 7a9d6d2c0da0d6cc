"""Tools > Plugins: the plugins found with their state, the details of the selected one,
switching it on and off, and its settings in a form generated from its settings schema. Works
through a ``PluginsViewModel``; nothing here touches the service."""

from __future__ import annotations

import os
import types
import typing
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from PyQt5.QtCore import Qt
from PyQt5.QtGui import QColor, QIcon
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from AppCode.services.plugin_service import PluginView
from AppCode.ui.viewmodels.plugins_viewmodel import PluginsViewModel
from AppCode.ui.widgets import formatting as fmt

STATE_COLOURS = {"enabled": "#2e7d32", "disabled": "#757575", "errored": "#c62828"}
ERROR_COLOUR = "#c62828"
PROBLEM_COLOUR = "#ef6c00"
INT_LIMIT = 2**31 - 1  # what a QSpinBox holds
FLOAT_LIMIT = 1e9
FLOAT_DECIMALS = 2
SOURCE_COLUMN_MAX = 240
FORM_MIN_HEIGHT = 120  # the settings form scrolls rather than push the message away

(COL_NAME, COL_VERSION, COL_STATE, COL_SOURCE, COL_DESCRIPTION) = range(5)


def state_icon(state: str) -> QIcon:
    """A filled circle in the state's colour (a ring while disabled)."""
    colour = STATE_COLOURS.get(state, STATE_COLOURS["disabled"])
    return fmt.dot_icon(colour, hollow=state == "disabled")


# -- the settings form --------------------------------------------------------------------------


def field_kind(annotation: Any) -> str:
    """Which editor a field's type gets: bool, int, float, choice (Literal), list (list[str])
    or text (str and anything else, typed as text for the schema to parse)."""
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        inner = [a for a in args if a is not type(None)]
        if len(inner) == 1:
            return field_kind(inner[0])  # X | None: the editor of X
    if annotation is bool:
        return "bool"
    if annotation is int:
        return "int"
    if annotation is float:
        return "float"
    if origin is Literal:
        return "choice"
    if origin is list and args in ((), (str,)):
        return "list"
    return "text"


def _bounds(field: FieldInfo) -> dict[str, float]:
    """The field's ge/gt/le/lt constraints (from ``Field(ge=...)`` or ``Annotated``)."""
    found: dict[str, float] = {}
    for item in field.metadata:
        for bound in ("ge", "gt", "le", "lt"):
            value = getattr(item, bound, None)
            if isinstance(value, int | float):
                found[bound] = value
    return found


def _choices(annotation: Any) -> tuple[Any, ...]:
    if typing.get_origin(annotation) is Literal:
        return typing.get_args(annotation)
    return next((_choices(a) for a in typing.get_args(annotation) if _choices(a)), ())


class SettingsForm(QWidget):
    """One editor per field of a pydantic model, in the fields' order, labelled with each
    field's title and explained by its description (the tooltip)."""

    def __init__(self, schema: type[BaseModel], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._schema = schema
        self._kinds: dict[str, str] = {}
        self._editors: dict[str, QWidget] = {}
        self._labels: dict[str, QLabel] = {}
        self.edited = False  # changed by the user since the values were last set
        layout = QFormLayout(self)
        layout.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        for name, field in schema.model_fields.items():
            kind = field_kind(field.annotation)
            editor = self._editor(kind, field)
            title = field.title or name.replace("_", " ").capitalize()
            label = QLabel(self.tr("{0}:").format(title), self)
            label.setBuddy(editor)
            tooltip = self.tr("Setting {0}").format(name)
            if field.description:
                tooltip = f"{field.description}\n\n{tooltip}"
            label.setToolTip(tooltip)
            editor.setToolTip(tooltip)
            layout.addRow(label, editor)
            self._kinds[name] = kind
            self._editors[name] = editor
            self._labels[name] = label
        self.set_values({})

    @property
    def schema(self) -> type[BaseModel]:
        return self._schema

    @property
    def names(self) -> list[str]:
        return list(self._editors)

    def editor(self, name: str) -> QWidget:
        return self._editors[name]

    def label(self, name: str) -> QLabel:
        return self._labels[name]

    def values(self) -> dict[str, Any]:
        """What the editors hold, as the schema expects it."""
        return {name: self._value(name) for name in self._editors}

    def set_values(self, values: dict[str, Any]) -> None:
        """Show ``values``; a field without a (usable) value shows its default."""
        for name, field in self._schema.model_fields.items():
            default = field.get_default(call_default_factory=True)
            if default is PydanticUndefined:  # a required field
                default = None
            value = values.get(name, default)
            try:
                self._show(name, value)
            except (TypeError, ValueError):  # a wrong type in the config file
                self._show(name, default)
        self.mark_invalid(())
        self.edited = False

    def set_read_only(self, read_only: bool) -> None:
        """Show the values without letting them be changed (and without input hints)."""
        self.setEnabled(not read_only)
        if read_only:
            for editor in self._editors.values():
                if isinstance(editor, QLineEdit):
                    editor.setPlaceholderText("")

    def mark_invalid(self, names: Iterable[str]) -> None:
        """Show the labels of ``names`` in red (and every other one as usual)."""
        wrong = set(names)
        marked = f"color: {ERROR_COLOUR}; font-weight: bold;"
        for name, label in self._labels.items():
            label.setStyleSheet(marked if name in wrong else "")

    def invalid(self) -> list[str]:
        return [name for name, label in self._labels.items() if label.styleSheet()]

    # -- editors ---------------------------------------------------------------------------

    def _editor(self, kind: str, field: FieldInfo) -> QWidget:
        bounds = _bounds(field)
        if kind == "bool":
            check = QCheckBox(self)
            check.toggled.connect(self._on_edited)
            return check
        if kind == "int":
            spin = QSpinBox(self)
            low = bounds.get("ge", bounds["gt"] + 1 if "gt" in bounds else -INT_LIMIT)
            high = bounds.get("le", bounds["lt"] - 1 if "lt" in bounds else INT_LIMIT)
            spin.setRange(int(max(low, -INT_LIMIT)), int(min(high, INT_LIMIT)))
            spin.valueChanged.connect(self._on_edited)
            return spin
        if kind == "float":
            double = QDoubleSpinBox(self)
            double.setDecimals(FLOAT_DECIMALS)
            step = 10.0**-FLOAT_DECIMALS
            low = bounds.get("ge", bounds["gt"] + step if "gt" in bounds else -FLOAT_LIMIT)
            high = bounds.get("le", bounds["lt"] - step if "lt" in bounds else FLOAT_LIMIT)
            double.setRange(max(low, -FLOAT_LIMIT), min(high, FLOAT_LIMIT))
            double.valueChanged.connect(self._on_edited)
            return double
        if kind == "choice":
            combo = QComboBox(self)
            for choice in _choices(field.annotation):
                combo.addItem(str(choice), choice)
            combo.currentIndexChanged.connect(self._on_edited)
            return combo
        edit = QLineEdit(self)
        if kind == "list":
            edit.setPlaceholderText(self.tr("several, separated by commas"))
        edit.textChanged.connect(self._on_edited)
        return edit

    def _on_edited(self, *_args: object) -> None:
        self.edited = True

    def _show(self, name: str, value: Any) -> None:
        editor = self._editors[name]
        kind = self._kinds[name]
        if isinstance(editor, QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, QSpinBox):
            editor.setValue(int(value if value is not None else editor.minimum()))
        elif isinstance(editor, QDoubleSpinBox):
            editor.setValue(float(value if value is not None else editor.minimum()))
        elif isinstance(editor, QComboBox):
            editor.setCurrentIndex(max(0, editor.findData(value)))
        elif isinstance(editor, QLineEdit):
            if kind == "list":
                if value is None:
                    value = []
                if isinstance(value, str) or not isinstance(value, Iterable):
                    raise TypeError("not a list")
                editor.setText(", ".join(str(item) for item in value))
            else:
                editor.setText("" if value is None else str(value))
            editor.setCursorPosition(0)  # show the start of a long value

    def _value(self, name: str) -> Any:
        editor = self._editors[name]
        if isinstance(editor, QCheckBox):
            return editor.isChecked()
        if isinstance(editor, QSpinBox | QDoubleSpinBox):
            return editor.value()
        if isinstance(editor, QComboBox):
            return editor.currentData()
        assert isinstance(editor, QLineEdit)
        if self._kinds[name] == "list":
            return [item.strip() for item in editor.text().split(",") if item.strip()]
        return editor.text().strip()


# -- the dialog ---------------------------------------------------------------------------------


class PluginsDialog(QDialog):
    def __init__(
        self, vm: PluginsViewModel, may_manage: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._vm = vm
        self._may_manage = may_manage
        self._plugins: list[PluginView] = []
        self._form_plugin: str | None = None  # whose settings the form shows
        self.form: SettingsForm | None = None
        self.setWindowTitle(self.tr("Plugins"))
        self.resize(980, 720)

        # The list
        self.table = QTableWidget(0, 5, self)
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("Name"),
                self.tr("Version"),
                self.tr("State"),
                self.tr("Source"),
                self.tr("Description"),
            ]
        )
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setTextElideMode(Qt.ElideRight)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setSectionResizeMode(COL_SOURCE, QHeaderView.Interactive)
        header.setStretchLastSection(True)

        # Details of the selected plugin
        self.title = QLabel(self)
        self.title.setStyleSheet("font-weight: bold;")
        self.description = QLabel(self)
        self.source = QLabel(self)
        self.author = QLabel(self)
        self.formats = QLabel(self)
        self.hooks = QLabel(self)
        self.hooks.setWordWrap(True)
        self.error = QLabel(self)
        self.error.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.problem = QLabel(self)
        self.problem.setStyleSheet(f"color: {PROBLEM_COLOUR};")
        for label in (
            self.description,
            self.source,
            self.author,
            self.formats,
            self.hooks,
            self.error,
            self.problem,
        ):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.toggle_button = QPushButton(self.tr("Disable"), self)
        details_form = QFormLayout()
        details_form.addRow(self.tr("Source:"), self.source)
        details_form.addRow(self.tr("Author:"), self.author)
        details_form.addRow(self.tr("Formats:"), self.formats)
        details_form.addRow(self.tr("Hooks:"), self.hooks)
        self.error_caption = QLabel(self.tr("Error:"), self)
        details_form.addRow(self.error_caption, self.error)
        self.problem_caption = QLabel(self.tr("Last problem:"), self)
        details_form.addRow(self.problem_caption, self.problem)
        toggle_row = QHBoxLayout()
        toggle_row.addWidget(self.toggle_button)
        toggle_row.addStretch(1)
        details = QGroupBox(self.tr("Details"), self)
        details_layout = QVBoxLayout(details)
        details_layout.addWidget(self.title)
        details_layout.addWidget(self.description)
        details_layout.addLayout(details_form)
        details_layout.addStretch(1)
        details_layout.addLayout(toggle_row)

        # Settings of the selected plugin
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.NoFrame)
        self.form_error = QLabel(self)
        self.form_error.setStyleSheet(f"color: {ERROR_COLOUR};")
        self.form_error.setWordWrap(True)
        self.form_error.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.form_error.hide()
        self.save_button = QPushButton(self.tr("Save settings"), self)
        self.read_only_note = QLabel(
            self.tr("View only: changing plugins needs the manager role."), self
        )
        self.read_only_note.setWordWrap(True)
        self.read_only_note.setStyleSheet("color: gray;")
        save_row = QHBoxLayout()
        save_row.addWidget(self.read_only_note)
        save_row.addStretch(1)
        save_row.addWidget(self.save_button)
        settings = QGroupBox(self.tr("Settings"), self)
        settings_layout = QVBoxLayout(settings)
        settings_layout.addWidget(self.scroll, 1)
        settings_layout.addWidget(self.form_error)
        settings_layout.addLayout(save_row)

        # The list on top; the selected plugin's details and settings side by side below.
        self.bottom_split = QSplitter(Qt.Horizontal, self)
        self.bottom_split.addWidget(details)
        self.bottom_split.addWidget(settings)
        self.bottom_split.setChildrenCollapsible(False)
        self.bottom_split.setSizes([420, 540])
        self.split = QSplitter(Qt.Vertical, self)
        self.split.addWidget(self.table)
        self.split.addWidget(self.bottom_split)
        self.split.setStretchFactor(0, 1)
        self.split.setStretchFactor(1, 3)
        self.split.setChildrenCollapsible(False)
        self.split.setSizes([150, 510])

        self.status = QLabel(self)
        close = QDialogButtonBox(QDialogButtonBox.Close, self)
        close.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.split, 1)
        layout.addLayout(bottom)

        for widget in (self.toggle_button, self.save_button):
            widget.setVisible(may_manage)
        self.read_only_note.setVisible(not may_manage)

        self.table.itemSelectionChanged.connect(self._show_selected)
        self.toggle_button.clicked.connect(self._toggle)
        self.save_button.clicked.connect(self._save)
        vm.plugins_changed.connect(self._on_plugins)
        vm.busy_changed.connect(self._on_busy)
        vm.message.connect(self.status.setText)
        vm.error_occurred.connect(self._on_error)
        vm.configured.connect(self._on_configured)
        vm.configure_failed.connect(self._on_configure_failed)
        vm.refresh()
        self._on_plugins(vm.plugins)  # what the ViewModel knows already, until the refresh

    # -- the list --------------------------------------------------------------------------

    def selected_plugin(self) -> PluginView | None:
        rows = self.table.selectionModel().selectedRows()
        return self._plugins[rows[0].row()] if rows else None

    def select(self, name: str) -> None:
        """Select the plugin called ``name`` (if listed)."""
        for row, plugin in enumerate(self._plugins):
            if plugin.name == name:
                self.table.selectRow(row)

    def _on_plugins(self, plugins: list[PluginView]) -> None:
        selected = self.selected_plugin()
        name = selected.name if selected else None
        self._plugins = list(plugins)
        self.table.blockSignals(True)
        self.table.clearSelection()
        self.table.setRowCount(len(plugins))
        for row, plugin in enumerate(plugins):
            info = plugin.info
            values = [
                plugin.name,
                info.version if info else "",
                self._state_text(plugin.state),
                _short_source(plugin.source),
                info.description if info else "",
            ]
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(plugin.error or (plugin.source if column == COL_SOURCE else value))
                if column == COL_STATE:
                    item.setIcon(state_icon(plugin.state))
                    item.setForeground(QColor(STATE_COLOURS.get(plugin.state, "#757575")))
                self.table.setItem(row, column, item)
        self.table.resizeColumnToContents(COL_SOURCE)
        if self.table.columnWidth(COL_SOURCE) > SOURCE_COLUMN_MAX:
            self.table.setColumnWidth(COL_SOURCE, SOURCE_COLUMN_MAX)
        names = [p.name for p in plugins]
        if plugins:
            self.table.selectRow(names.index(name) if name in names else 0)
        self.table.blockSignals(False)
        self._show_selected()

    def _state_text(self, state: str) -> str:
        texts = {
            "enabled": self.tr("enabled"),
            "disabled": self.tr("disabled"),
            "errored": self.tr("errored"),
        }
        return texts.get(state, state)

    # -- details ---------------------------------------------------------------------------

    def _show_selected(self) -> None:
        plugin = self.selected_plugin()
        info = plugin.info if plugin else None
        if plugin is None:
            loading = self._vm.is_busy
            self.title.setText(self.tr("Loading…") if loading else self.tr("No plugins found."))
        elif info is not None:
            self.title.setText(f"{plugin.name} {info.version}")
        else:
            self.title.setText(plugin.name)
        self.description.setText(info.description if info else "")
        self.description.setVisible(bool(info and info.description))
        self.source.setText(plugin.source if plugin else "-")
        self.author.setText((info.author if info else "") or "-")
        self.formats.setText(", ".join(info.formats) if info and info.formats else "-")
        self.hooks.setText(", ".join(plugin.hooks) if plugin and plugin.hooks else "-")
        error = plugin.error if plugin else None
        problem = plugin.last_problem if plugin else None
        self.error.setText(error or "")
        self.problem.setText(problem or "")
        for widget in (self.error, self.error_caption):
            widget.setVisible(bool(error))
        for widget in (self.problem, self.problem_caption):
            widget.setVisible(bool(problem))
        if plugin is not None and error:
            self.toggle_button.setToolTip(self.tr("Clear the error and load the plugin again"))
        else:
            self.toggle_button.setToolTip("")
        form = self.form
        schema = plugin.settings_schema if plugin else None
        if plugin is None or plugin.name != self._form_plugin or form is None:
            self._show_form(plugin)
        elif form.schema is not schema:
            self._show_form(plugin)  # loaded again (enabled after an error)
        elif not form.edited:
            form.set_values(plugin.settings)  # changed elsewhere, say saved by the CLI
        self._update_buttons()

    def _show_form(self, plugin: PluginView | None) -> None:
        """The selected plugin's settings form (or why there is none); built when another
        plugin is selected, so that a list refresh keeps what the user typed."""
        self._form_plugin = plugin.name if plugin else None
        self.form_error.hide()
        schema = plugin.settings_schema if plugin else None
        if plugin is None or schema is None:
            self.form = None
            note = QLabel(self.tr("This plugin has no settings."), self)
            note.setAlignment(Qt.AlignTop | Qt.AlignLeft)
            note.setStyleSheet("color: gray;")
            self.scroll.setWidget(note)
            self.scroll.setMinimumHeight(0)
            return
        self.form = SettingsForm(schema, self)
        self.form.set_values(plugin.settings)
        self.form.set_read_only(not self._may_manage)
        self.scroll.setWidget(self.form)
        # Not the whole form's height: what does not fit scrolls, and the message below it
        # keeps its own space.
        self.scroll.setMinimumHeight(min(self.form.sizeHint().height(), FORM_MIN_HEIGHT))

    def _update_buttons(self) -> None:
        plugin = self.selected_plugin()
        busy = self._vm.is_busy
        self.toggle_button.setEnabled(plugin is not None and not busy)
        enabled = plugin is not None and plugin.state == "enabled"
        self.toggle_button.setText(self.tr("Disable") if enabled else self.tr("Enable"))
        self.save_button.setEnabled(self.form is not None and not busy)

    # -- intents ---------------------------------------------------------------------------

    def _toggle(self) -> None:
        plugin = self.selected_plugin()
        if plugin is not None:
            self._vm.set_enabled(plugin.name, plugin.state != "enabled")

    def _save(self) -> None:
        if self.form is None or self._form_plugin is None:
            return
        self.form_error.hide()
        self.form.mark_invalid(())
        self._vm.configure(self._form_plugin, self.form.values())

    # -- results ---------------------------------------------------------------------------

    def _on_busy(self, _busy: bool) -> None:
        if not self._plugins:
            self._show_selected()  # "Loading…" or "No plugins found."
        self._update_buttons()

    def _on_configured(self, view: PluginView) -> None:
        if self.form is not None and view.name == self._form_plugin:
            self.form.set_values(view.settings)
            self.form_error.hide()

    def _on_configure_failed(self, name: str, message: str, fields: list[str]) -> None:
        if self.form is None or name != self._form_plugin:
            return
        self.form.mark_invalid(fields)
        self.form_error.setText(message)
        self.form_error.show()

    def _on_error(self, message: str) -> None:
        QMessageBox.warning(self, self.tr("Plugins"), message)


def _short_source(source: str) -> str:
    """ "built-in", an entry point, or a file's folder and name (the whole path is in the
    tooltip and the details)."""
    if os.sep not in source:
        return source
    return os.path.join(os.path.basename(os.path.dirname(source)), os.path.basename(source))
