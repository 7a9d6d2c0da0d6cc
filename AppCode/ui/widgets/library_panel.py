"""The script library: a tree by folder with check boxes, search, tag filter and buttons."""

from __future__ import annotations

import os
from collections import defaultdict

from PyQt5.QtCore import QSignalBlocker, Qt
from PyQt5.QtGui import QStandardItem, QStandardItemModel
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QStyle,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from AppCode.core.domain.models import Script
from AppCode.ui.viewmodels.library_viewmodel import LibraryViewModel

PATH_ROLE = Qt.UserRole + 1


class LibraryPanel(QWidget):
    def __init__(self, vm: LibraryViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vm = vm
        self.search = QLineEdit(self)
        self.search.setPlaceholderText(self.tr("Search scripts"))
        self.search.setClearButtonEnabled(True)
        self.tag = QComboBox(self)
        self.tag.setToolTip(self.tr("Show only scripts with this tag"))
        self.tree = QTreeView(self)
        self.tree.setHeaderHidden(True)
        self.tree.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.tree.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.tree.setUniformRowHeights(True)
        self.model = QStandardItemModel(self)
        self.tree.setModel(self.model)
        self.tree.setContextMenuPolicy(Qt.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self._policies: list[str] = []
        self._may_manage = True
        self.summary = QLabel(self)

        style = self.style()
        self.add_files_button = self._button(
            style.standardIcon(QStyle.SP_FileIcon), self.tr("Add scripts…"), self.add_files
        )
        self.add_folder_button = self._button(
            style.standardIcon(QStyle.SP_DirIcon), self.tr("Add folder…"), self.add_folder
        )
        self.remove_button = self._button(
            style.standardIcon(QStyle.SP_TrashIcon),
            self.tr("Remove selected from the library"),
            self.remove_selected,
        )
        self.rescan_button = self._button(
            style.standardIcon(QStyle.SP_BrowserReload),
            self.tr("Rescan: pick up changed and vanished files"),
            vm.rescan,
        )

        filters = QHBoxLayout()
        filters.addWidget(self.search, 3)
        filters.addWidget(self.tag, 2)
        buttons = QHBoxLayout()
        for button in (
            self.add_files_button,
            self.add_folder_button,
            self.remove_button,
            self.rescan_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.summary)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel(self.tr("<b>Script library</b>"), self))
        layout.addLayout(filters)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)

        self.search.textChanged.connect(vm.set_search)
        self.tag.currentIndexChanged.connect(self._on_tag_chosen)
        self.model.itemChanged.connect(self._on_item_changed)
        vm.scripts_changed.connect(self._on_scripts_changed)
        vm.tags_changed.connect(self._on_tags_changed)
        vm.checked_changed.connect(self._on_checked_changed)
        self._on_tags_changed([])

    def _button(self, icon, tip: str, slot) -> QToolButton:  # type: ignore[no-untyped-def]
        button = QToolButton(self)
        button.setIcon(icon)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.clicked.connect(slot)
        return button

    # -- intents ---------------------------------------------------------------------------------

    def add_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, self.tr("Add scripts"), "", self.tr("Python scripts (*.py)")
        )
        self._vm.add_paths(paths)

    def add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Add a folder of scripts"))
        if folder:
            self._vm.add_paths([folder])

    def remove_selected(self) -> None:
        paths: list[str] = []
        for index in self.tree.selectionModel().selectedIndexes():
            item = self.model.itemFromIndex(index)
            paths.extend(self._script_paths(item))
        self._vm.remove(sorted(set(paths)))

    # -- view updates ----------------------------------------------------------------------------

    def _on_scripts_changed(self, scripts: list[Script]) -> None:
        by_folder: dict[str, list[Script]] = defaultdict(list)
        for script in scripts:
            by_folder[os.path.dirname(script.path)].append(script)
        expanded = {
            self.model.item(r).data(PATH_ROLE)
            for r in range(self.model.rowCount())
            if self.tree.isExpanded(self.model.index(r, 0))
        }
        first_fill = self.model.rowCount() == 0
        blocker = QSignalBlocker(self.model)
        self.model.clear()
        for folder in sorted(by_folder):
            folder_item = QStandardItem(self.style().standardIcon(QStyle.SP_DirIcon), folder)
            folder_item.setData(folder, PATH_ROLE)
            folder_item.setCheckable(True)
            folder_item.setAutoTristate(True)
            folder_item.setToolTip(folder)
            for script in sorted(by_folder[folder], key=lambda s: s.name.casefold()):
                folder_item.appendRow(self._script_item(script))
            self._update_folder_check(folder_item)
            self.model.appendRow(folder_item)
        del blocker
        self.model.layoutChanged.emit()
        for row in range(self.model.rowCount()):
            folder = self.model.item(row).data(PATH_ROLE)
            if first_fill or folder in expanded:
                self.tree.expand(self.model.index(row, 0))
        self._show_summary()

    def set_policies(self, policies: list[str]) -> None:
        """The sandbox policies offered in the context menu."""
        self._policies = list(policies)

    def set_permissions(self, *, may_execute: bool, may_manage: bool) -> None:
        """Hide what the user's role does not allow: changing the library needs manage,
        rescanning needs execute."""
        self._may_manage = may_manage
        for button in (self.add_files_button, self.add_folder_button, self.remove_button):
            button.setVisible(may_manage)
        self.rescan_button.setVisible(may_execute)

    def _context_menu(self, position) -> None:  # type: ignore[no-untyped-def]
        if not self._may_manage:
            return  # every entry of the menu changes the library
        paths: list[str] = []
        for index in self.tree.selectionModel().selectedIndexes():
            paths.extend(self._script_paths(self.model.itemFromIndex(index)))
        if not paths:
            paths = self._script_paths(self.model.itemFromIndex(self.tree.indexAt(position)))
        if not paths:
            return
        menu = QMenu(self)
        pin = menu.addMenu(self.tr("Sandbox policy"))
        follow = pin.addAction(self.tr("As the batch"))
        follow.triggered.connect(lambda: self._vm.set_policy(paths, None))
        pin.addSeparator()
        for name in self._policies:
            action = pin.addAction(name)
            action.triggered.connect(lambda _=False, n=name: self._vm.set_policy(paths, n))
        menu.addSeparator()
        menu.addAction(self.tr("Remove from the library"), lambda: self._vm.remove(paths))
        menu.exec_(self.tree.viewport().mapToGlobal(position))

    def _script_item(self, script: Script) -> QStandardItem:
        label = script.name + (self.tr(" (missing)") if script.missing else "")
        if script.sandbox_policy:
            label += f"  [{script.sandbox_policy}]"
        item = QStandardItem(label)
        item.setData(script.path, PATH_ROLE)
        item.setCheckable(True)
        item.setCheckState(Qt.Checked if self._vm.is_checked(script.path) else Qt.Unchecked)
        tip = [script.path]
        if script.description:
            tip.append(script.description)
        if script.tags:
            tip.append(self.tr("Tags: {tags}").format(tags=", ".join(script.tags)))
        if script.sandbox_policy:
            tip.append(
                self.tr("Always runs under sandbox policy {policy}").format(
                    policy=script.sandbox_policy
                )
            )
        item.setToolTip("\n".join(tip))
        if script.missing:
            item.setEnabled(False)
        return item

    def _on_item_changed(self, item: QStandardItem) -> None:
        path = item.data(PATH_ROLE)
        if item.hasChildren():
            if item.checkState() == Qt.PartiallyChecked:
                return
            checked = item.checkState() == Qt.Checked
            self._vm.set_checked(self._script_paths(item), checked)
            blocker = QSignalBlocker(self.model)
            for row in range(item.rowCount()):
                item.child(row).setCheckState(Qt.Checked if checked else Qt.Unchecked)
            del blocker
            self.tree.viewport().update()
        else:
            self._vm.set_checked([path], item.checkState() == Qt.Checked)
            parent = item.parent()
            if parent is not None:
                blocker = QSignalBlocker(self.model)
                self._update_folder_check(parent)
                del blocker
                self.tree.viewport().update()

    @staticmethod
    def _update_folder_check(folder: QStandardItem) -> None:
        states = {folder.child(r).checkState() for r in range(folder.rowCount())}
        if states == {Qt.Checked}:
            folder.setCheckState(Qt.Checked)
        elif states <= {Qt.Unchecked}:
            folder.setCheckState(Qt.Unchecked)
        else:
            folder.setCheckState(Qt.PartiallyChecked)

    @staticmethod
    def _script_paths(item: QStandardItem | None) -> list[str]:
        if item is None:
            return []
        if item.hasChildren():
            return [item.child(r).data(PATH_ROLE) for r in range(item.rowCount())]
        return [item.data(PATH_ROLE)]

    def _on_tags_changed(self, tags: list[str]) -> None:
        current = self.tag.currentData()
        blocker = QSignalBlocker(self.tag)
        self.tag.clear()
        self.tag.addItem(self.tr("All tags"), "")
        for tag in tags:
            self.tag.addItem(tag, tag)
        index = self.tag.findData(current)
        self.tag.setCurrentIndex(max(index, 0))
        del blocker
        if index < 0 and current:
            self._vm.set_tag("")

    def _on_tag_chosen(self, _index: int) -> None:
        self._vm.set_tag(self.tag.currentData() or "")

    def _on_checked_changed(self, _count: int) -> None:
        """Ticks changed (here or through the ViewModel): show them without re-emitting."""
        blocker = QSignalBlocker(self.model)
        for row in range(self.model.rowCount()):
            folder = self.model.item(row)
            for child_row in range(folder.rowCount()):
                child = folder.child(child_row)
                wanted = Qt.Checked if self._vm.is_checked(child.data(PATH_ROLE)) else Qt.Unchecked
                if child.checkState() != wanted:
                    child.setCheckState(wanted)
            self._update_folder_check(folder)
        del blocker
        self.tree.viewport().update()
        self._show_summary()

    def _show_summary(self) -> None:
        self.summary.setText(
            self.tr("{checked} of {total} ticked").format(
                checked=len(self._vm.checked_paths()), total=len(self._vm.all_scripts)
            )
        )
