"""The Backup menu's dialogs: creating a backup (a note, then a busy indicator), restoring one
(the list, a confirmation naming what is replaced) and managing them (verify, delete, folder).

All of them work through a ``BackupViewModel``; nothing here touches the service.
"""

from __future__ import annotations

import os

from PyQt5.QtCore import QCoreApplication, QObject, Qt, QUrl
from PyQt5.QtGui import QColor, QDesktopServices
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from AppCode.core.domain.models import BackupRecord
from AppCode.ui.viewmodels.backup_viewmodel import BackupViewModel
from AppCode.ui.widgets import formatting as fmt

__all__ = [
    "BackupTable",
    "BusyProgress",
    "ManageBackupsDialog",
    "RestoreDialog",
    "ask_and_create_backup",
]

VALID_COLOUR = "#2e7d32"
INVALID_COLOUR = "#c62828"
_NOTE_STYLE = "color: gray;"
COLUMN_PADDING = 18


class BusyProgress(QObject):
    """A busy indicator (a non-modal ``QProgressDialog`` with range 0..0 and no cancel button)
    for an operation its view started; it closes itself when the ViewModel is idle again."""

    def __init__(self, vm: BackupViewModel, parent: QWidget) -> None:
        super().__init__(parent)
        self._vm = vm
        self._parent = parent
        self.dialog: QProgressDialog | None = None
        vm.busy_changed.connect(self._on_busy)

    def follow(self) -> None:
        """Show the indicator for the operation just started, if it still runs."""
        if not self._vm.is_busy:
            return
        if self.dialog is None:
            # Made on demand: a QProgressDialog shows itself a few seconds after it is made.
            dialog = QProgressDialog(self._parent)
            dialog.setWindowTitle(self.tr("Backup"))
            dialog.setCancelButton(None)
            dialog.setRange(0, 0)
            dialog.setMinimumDuration(0)
            dialog.setAutoClose(False)
            dialog.setAutoReset(False)
            dialog.setWindowModality(Qt.NonModal)
            dialog.setMinimumWidth(460)
            self.dialog = dialog
        self.dialog.setLabelText(self._vm.busy_text)
        self.dialog.show()

    def _on_busy(self, busy: bool, text: str) -> None:
        if self.dialog is None:
            return
        if busy:
            self.dialog.setLabelText(text)
        else:
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None


def ask_and_create_backup(vm: BackupViewModel, parent: QWidget, progress: BusyProgress) -> bool:
    """Backup > Create backup: ask for an optional note, then write the backup in the
    background behind a busy indicator. False when the user cancelled."""
    translate = QCoreApplication.translate  # literal calls, so that pylupdate5 finds them
    note, ok = QInputDialog.getText(
        parent,
        translate("CreateBackup", "Create backup"),
        translate(
            "CreateBackup",
            "A backup holds the database (scripts, runs, history) and your settings.\n\n"
            "Note (optional):",
        ),
    )
    if not ok:
        return False
    vm.create(note)
    progress.follow()
    return True


class BackupTable(QTableWidget):
    """The backups, newest first: date (local time), kind, size, verified state, note."""

    COLUMNS = ("date", "kind", "size", "verified", "note")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(self.COLUMNS), parent)
        self.setHorizontalHeaderLabels(
            [
                self.tr("Date"),
                self.tr("Kind"),
                self.tr("Size"),
                self.tr("Verified"),
                self.tr("Note"),
            ]
        )
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.Interactive)
        header.setStretchLastSection(True)
        self._fit_columns()

    def kind_label(self, kind: str) -> str:
        labels = {
            "manual": self.tr("manual"),
            "scheduled": self.tr("scheduled"),
            "pre-restore": self.tr("before a restore"),
            "pre-migration": self.tr("before an upgrade"),
        }
        return labels.get(kind, kind)

    def verified_label(self, record: BackupRecord) -> str:
        if record.verified_ok is None:
            return self.tr("not verified")
        when = (
            record.verified_at.astimezone().strftime("%Y-%m-%d %H:%M") if record.verified_at else ""
        )
        if record.verified_ok:
            label = self.tr("valid ({when})").format(when=when) if when else self.tr("valid")
            return f"✓ {label}"
        label = self.tr("INVALID ({when})").format(when=when) if when else self.tr("INVALID")
        return f"✗ {label}"

    def set_backups(self, records: list[BackupRecord]) -> None:
        """Show ``records``; the selected backup stays selected if it is still there."""
        selected = self.selected_id()
        self.setRowCount(len(records))
        for row, record in enumerate(records):
            tip = self.tr("{path}\nScriptBatch {version} · run logs: {logs}").format(
                path=record.path,
                version=record.app_version,
                logs=self.tr("included") if record.includes_logs else self.tr("not included"),
            )
            values = (
                fmt.local_time(record.created_at),
                self.kind_label(record.kind),
                fmt.size(record.size_bytes),
                self.verified_label(record),
                record.note or "",
            )
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.UserRole, record.id)
                item.setToolTip(tip)
                if self.COLUMNS[column] == "size":
                    item.setTextAlignment(int(Qt.AlignRight | Qt.AlignVCenter))
                self.setItem(row, column, item)
            verified = self.item(row, self.COLUMNS.index("verified"))
            if record.verified_ok is not None:
                colour = VALID_COLOUR if record.verified_ok else INVALID_COLOUR
                verified.setForeground(QColor(colour))
            if record.id == selected:
                self.selectRow(row)
        if self.selected_id() is None and records:
            self.selectRow(0)
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Every column but the note as wide as its widest text, plus some air."""
        header = self.horizontalHeader()
        for column in range(len(self.COLUMNS) - 1):
            width = max(self.sizeHintForColumn(column), header.sectionSizeHint(column))
            self.setColumnWidth(column, width + COLUMN_PADDING)

    def selected_id(self) -> str | None:
        rows = self.selectionModel().selectedRows() if self.selectionModel() else []
        if not rows:
            return None
        item = self.item(rows[0].row(), 0)
        return str(item.data(Qt.UserRole)) if item is not None else None


class _BackupListDialog(QDialog):
    """The list of backups with the folder they are in; buttons go in ``self.actions_row``.
    The dialog cannot be closed while the ViewModel works (a restore must not be left
    behind a closed window)."""

    def __init__(self, vm: BackupViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vm = vm
        self.resize(860, 420)
        self.intro = QLabel(self)
        self.intro.setWordWrap(True)
        self.table = BackupTable(self)
        self.summary = QLabel(self)
        self.summary.setStyleSheet(_NOTE_STYLE)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.progress = BusyProgress(vm, self)
        self.actions_row = QHBoxLayout()
        self.buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        bottom = QHBoxLayout()
        bottom.addLayout(self.actions_row)
        bottom.addStretch(1)
        bottom.addWidget(self.buttons)
        layout.addLayout(bottom)

        vm.backups_changed.connect(self._on_backups)
        # Bound methods, not lambdas: PyQt drops them with the dialog (WA_DeleteOnClose).
        vm.busy_changed.connect(self._on_busy)
        vm.error_occurred.connect(self._show_error)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self._on_backups(vm.backups)
        vm.refresh()

    def _on_backups(self, records: list[BackupRecord]) -> None:
        self.table.set_backups(records)
        total = sum(r.size_bytes for r in records)
        self.summary.setText(
            # Not self.tr(): PyQt looks the text up under the subclass's name.
            QCoreApplication.translate(
                "BackupListDialog", "{count} backup(s), {size}, in {folder}"
            ).format(count=len(records), size=fmt.size(total), folder=self._vm.open_folder_path)
        )
        self._update_buttons()

    def _on_busy(self, _busy: bool, _text: str) -> None:
        self._update_buttons()

    def _update_buttons(self) -> None:
        """Enable the buttons that fit the selection and the ViewModel's state."""

    def _selected(self) -> BackupRecord | None:
        backup_id = self.table.selected_id()
        return self._vm.find(backup_id) if backup_id else None

    def _show_error(self, message: str) -> None:
        if self.isVisible():
            QMessageBox.warning(self, self.windowTitle(), message)

    def reject(self) -> None:
        if not self._vm.is_busy:
            super().reject()


class RestoreDialog(_BackupListDialog):
    """Backup > Restore…: pick a backup, confirm what it replaces, restore it."""

    def __init__(self, vm: BackupViewModel, parent: QWidget | None = None) -> None:
        super().__init__(vm, parent)
        self.setWindowTitle(self.tr("Restore a backup"))
        self.intro.setText(
            self.tr(
                "Choose the state to go back to. The current state is saved first as a "
                "pre-restore backup, so a restore can be undone."
            )
        )
        self.restore_button = QPushButton(self.tr("&Restore…"), self)
        self.restore_button.setToolTip(self.tr("Replace the current data with this backup"))
        self.actions_row.addWidget(self.restore_button)
        self.restore_button.clicked.connect(self.restore_selected)
        self.table.doubleClicked.connect(lambda _index: self.restore_selected())
        vm.restored.connect(self._on_restored)
        self._update_buttons()

    def _update_buttons(self) -> None:
        if hasattr(self, "restore_button"):
            self.restore_button.setEnabled(
                not self._vm.is_busy and self.table.selected_id() is not None
            )

    def confirmation_text(self, record: BackupRecord) -> str:
        replaced = [
            self.tr("the database, with all scripts, runs and history"),
            self.tr("your settings file"),
        ]
        if record.includes_logs:
            replaced.append(self.tr("the run logs"))
        return self.tr(
            "Restore the backup of {date}?\n\nThese will be replaced by their state of {date}:"
            "\n{items}\n\nThe current state is saved first as a pre-restore backup."
        ).format(
            date=fmt.local_time(record.created_at),
            items="\n".join(f"  • {item}" for item in replaced),
        )

    def restore_selected(self) -> None:
        """Ask for confirmation, then restore the selected backup behind a busy indicator."""
        record = self._selected()
        if record is None or self._vm.is_busy:
            return
        answer = QMessageBox.question(
            self,
            self.tr("Restore a backup"),
            self.confirmation_text(record),
            QMessageBox.Yes | QMessageBox.No,
            QMessageBox.No,
        )
        if answer != QMessageBox.Yes:
            return
        self._vm.restore(record.id)
        self.progress.follow()

    def _on_restored(self, backup_id: str, pre_restore_path: str) -> None:
        if not self.isVisible():
            return
        record = self._vm.find(backup_id)
        QMessageBox.information(
            self,
            self.tr("Restore a backup"),
            self.tr(
                "The backup of {date} is restored.\n\nThe state before the restore is saved "
                "in:\n{path}\n\nRestore that backup to undo this restore."
            ).format(
                date=fmt.local_time(record.created_at) if record else backup_id,
                path=pre_restore_path,
            ),
        )


class ManageBackupsDialog(_BackupListDialog):
    """Backup > Manage backups…: verify, delete, open the backup folder."""

    def __init__(self, vm: BackupViewModel, parent: QWidget | None = None) -> None:
        super().__init__(vm, parent)
        self.setWindowTitle(self.tr("Manage backups"))
        self.intro.setText(
            self.tr(
                "Backups are made on request and automatically on a schedule ([backup] "
                "auto_interval_h in the settings file). The newest backups and the newest "
                "verified one are kept; older ones are deleted."
            )
        )
        self.verify_button = QPushButton(self.tr("&Verify"), self)
        self.verify_button.setToolTip(self.tr("Read the whole archive and check every checksum"))
        self.delete_button = QPushButton(self.tr("&Delete…"), self)
        self.folder_button = QPushButton(self.tr("Open &folder"), self)
        for button in (self.verify_button, self.delete_button, self.folder_button):
            self.actions_row.addWidget(button)
        self.verify_button.clicked.connect(self.verify_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.folder_button.clicked.connect(self.open_folder)
        vm.verified.connect(self._on_verified)
        self._update_buttons()

    def _update_buttons(self) -> None:
        if hasattr(self, "verify_button"):
            usable = not self._vm.is_busy and self.table.selected_id() is not None
            self.verify_button.setEnabled(usable)
            self.delete_button.setEnabled(usable)

    def verify_selected(self) -> None:
        record = self._selected()
        if record is not None and not self._vm.is_busy:
            self._vm.verify(record.id)
            self.progress.follow()

    def delete_selected(self) -> None:
        record = self._selected()
        if record is None or self._vm.is_busy:
            return
        answer = QMessageBox.question(
            self,
            self.tr("Delete a backup"),
            self.tr(
                "Delete the backup of {date}?\n\n{path}\n\nThe archive file is deleted."
            ).format(date=fmt.local_time(record.created_at), path=record.path),
            QMessageBox.Yes | QMessageBox.No,
            QMessageBox.No,
        )
        if answer == QMessageBox.Yes:
            self._vm.delete(record.id)
            self.progress.follow()

    def open_folder(self) -> None:
        folder = self._vm.open_folder_path
        if not os.path.isdir(folder):
            QMessageBox.information(
                self,
                self.tr("Manage backups"),
                self.tr(
                    "The backup folder {folder} does not exist yet; the first backup makes it."
                ).format(folder=folder),
            )
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(folder))

    def _on_verified(self, backup_id: str, ok: bool, message: str) -> None:
        if not self.isVisible():
            return
        record = self._vm.find(backup_id)
        date = fmt.local_time(record.created_at) if record else backup_id
        if ok:
            QMessageBox.information(
                self,
                self.tr("Verify a backup"),
                self.tr("The backup of {date} is valid.\n\n{message}").format(
                    date=date, message=message
                ),
            )
        else:
            QMessageBox.warning(
                self,
                self.tr("Verify a backup"),
                self.tr("The backup of {date} is NOT valid.\n\n{message}").format(
                    date=date, message=message
                ),
            )
