"""Tools > Users and audit log (administrators): the users with their roles, and the audit
log of who did what. Works through a ``UsersViewModel``; nothing here touches the service."""

from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from AppCode.core.domain.models import AuditEntry, User
from AppCode.core.security.permissions import Role
from AppCode.ui.viewmodels.users_viewmodel import UsersViewModel
from AppCode.ui.widgets import formatting as fmt

ROLES = [r.value for r in Role]
DENIED_COLOUR = "#c62828"


def _table(parent: QWidget, headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers), parent)
    table.setHorizontalHeaderLabels(headers)
    table.setSelectionBehavior(QAbstractItemView.SelectRows)
    table.setSelectionMode(QAbstractItemView.SingleSelection)
    table.setEditTriggers(QAbstractItemView.NoEditTriggers)
    table.verticalHeader().hide()
    table.horizontalHeader().setStretchLastSection(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
    return table


class AddUserDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Add user"))
        self.name = QLineEdit(self)
        self.role = QComboBox(self)
        self.role.addItems(ROLES)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.Password)
        self.password.setPlaceholderText(self.tr("empty: API tokens only"))
        self.repeat = QLineEdit(self)
        self.repeat.setEchoMode(QLineEdit.Password)
        self.error = QLabel(self)
        self.error.setStyleSheet(f"color: {DENIED_COLOUR};")
        self.error.hide()
        form = QFormLayout()
        form.addRow(self.tr("User name:"), self.name)
        form.addRow(self.tr("Role:"), self.role)
        form.addRow(self.tr("Password:"), self.password)
        form.addRow(self.tr("Repeat password:"), self.repeat)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel, self)
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def _check(self) -> None:
        if not self.name.text().strip():
            self.error.setText(self.tr("Enter a user name."))
        elif self.password.text() != self.repeat.text():
            self.error.setText(self.tr("The two passwords differ."))
        else:
            self.accept()
            return
        self.error.show()


class UsersDialog(QDialog):
    def __init__(self, vm: UsersViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vm = vm
        self._users: list[User] = []
        self.setWindowTitle(self.tr("Users and audit log"))
        self.resize(860, 560)

        # Users tab
        self.users_table = _table(
            self, [self.tr("Name"), self.tr("Role"), self.tr("Status"), self.tr("Last login")]
        )
        self.add_button = QPushButton(self.tr("Add…"), self)
        self.role_button = QPushButton(self.tr("Change role…"), self)
        self.disable_button = QPushButton(self.tr("Disable"), self)
        self.password_button = QPushButton(self.tr("Set password…"), self)
        self.token_button = QPushButton(self.tr("New API token…"), self)
        user_buttons = QHBoxLayout()
        for button in (
            self.add_button,
            self.role_button,
            self.disable_button,
            self.password_button,
            self.token_button,
        ):
            user_buttons.addWidget(button)
        user_buttons.addStretch(1)
        users_page = QWidget(self)
        users_layout = QVBoxLayout(users_page)
        users_layout.addWidget(self.users_table)
        users_layout.addLayout(user_buttons)

        # Audit tab
        self.audit_user = QLineEdit(self)
        self.audit_user.setPlaceholderText(self.tr("user"))
        self.audit_action = QLineEdit(self)
        self.audit_action.setPlaceholderText(self.tr("action, e.g. run batch"))
        self.audit_refresh = QPushButton(self.tr("Refresh"), self)
        filters = QHBoxLayout()
        filters.addWidget(self.audit_user)
        filters.addWidget(self.audit_action, 2)
        filters.addWidget(self.audit_refresh)
        self.audit_table = _table(
            self,
            [
                self.tr("When"),
                self.tr("User"),
                self.tr("Action"),
                self.tr("Outcome"),
                self.tr("Target"),
            ],
        )
        audit_page = QWidget(self)
        audit_layout = QVBoxLayout(audit_page)
        audit_layout.addLayout(filters)
        audit_layout.addWidget(self.audit_table)

        self.tabs = QTabWidget(self)
        self.tabs.addTab(users_page, self.tr("Users"))
        self.tabs.addTab(audit_page, self.tr("Audit log"))
        self.status = QLabel(self)
        close = QDialogButtonBox(QDialogButtonBox.Close, self)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(close)
        layout.addLayout(bottom)

        self.add_button.clicked.connect(self._add)
        self.role_button.clicked.connect(self._change_role)
        self.disable_button.clicked.connect(self._toggle_disabled)
        self.password_button.clicked.connect(self._set_password)
        self.token_button.clicked.connect(self._new_token)
        self.users_table.itemSelectionChanged.connect(self._update_buttons)
        self.audit_refresh.clicked.connect(self._load_audit)
        self.audit_user.returnPressed.connect(self._load_audit)
        self.audit_action.returnPressed.connect(self._load_audit)
        vm.users_changed.connect(self._on_users)
        vm.audit_changed.connect(self._on_audit)
        vm.message.connect(self.status.setText)
        vm.error_occurred.connect(self._on_error)
        vm.token_created.connect(self._show_token)
        self._update_buttons()
        vm.refresh()
        self._load_audit()

    # -- users -------------------------------------------------------------------------------

    def selected_user(self) -> User | None:
        rows = self.users_table.selectionModel().selectedRows()
        return self._users[rows[0].row()] if rows else None

    def _on_users(self, users: list[User]) -> None:
        selected = self.selected_user()
        self._users = users
        self.users_table.setRowCount(len(users))
        for row, user in enumerate(users):
            values = [
                user.name,
                user.role,
                self.tr("disabled") if user.disabled else self.tr("active"),
                fmt.local_time(user.last_login_at) if user.last_login_at else "-",
            ]
            for column, value in enumerate(values):
                self.users_table.setItem(row, column, QTableWidgetItem(value))
            if selected is not None and user.name == selected.name:
                self.users_table.selectRow(row)
        self._update_buttons()
        self._load_audit()

    def _update_buttons(self) -> None:
        user = self.selected_user()
        for button in (
            self.role_button,
            self.disable_button,
            self.password_button,
            self.token_button,
        ):
            button.setEnabled(user is not None)
        self.disable_button.setText(
            self.tr("Enable") if user is not None and user.disabled else self.tr("Disable")
        )

    def _add(self) -> None:
        dialog = AddUserDialog(self)
        if dialog.exec_() == QDialog.Accepted:
            self._vm.add(dialog.name.text(), dialog.role.currentText(), dialog.password.text())

    def _change_role(self) -> None:
        user = self.selected_user()
        if user is None:
            return
        role, ok = QInputDialog.getItem(
            self,
            self.tr("Change role"),
            self.tr("Role of {0}:").format(user.name),
            ROLES,
            ROLES.index(user.role),
            False,
        )
        if ok and role != user.role:
            self._vm.set_role(user.name, role)

    def _toggle_disabled(self) -> None:
        user = self.selected_user()
        if user is not None:
            self._vm.set_disabled(user.name, not user.disabled)

    def _set_password(self) -> None:
        user = self.selected_user()
        if user is None:
            return
        password, ok = QInputDialog.getText(
            self,
            self.tr("Set password"),
            self.tr("New password for {0}:").format(user.name),
            QLineEdit.Password,
        )
        if ok:
            self._vm.set_password(user.name, password)

    def _new_token(self) -> None:
        user = self.selected_user()
        if user is None:
            return
        label, ok = QInputDialog.getText(
            self, self.tr("New API token"), self.tr("What is the token for (optional)?")
        )
        if ok:
            self._vm.create_token(user.name, label)

    def _show_token(self, name: str, secret: str) -> None:
        show_token(self, name, secret)
        self._load_audit()

    # -- audit -------------------------------------------------------------------------------

    def _load_audit(self) -> None:
        self._vm.load_audit(self.audit_user.text(), self.audit_action.text())

    def _on_audit(self, entries: list[AuditEntry]) -> None:
        self.audit_table.setRowCount(len(entries))
        for row, entry in enumerate(entries):
            values = [
                fmt.local_time(entry.at),
                entry.user,
                entry.action,
                entry.outcome,
                entry.target or "",
            ]
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                if entry.outcome != "succeeded":
                    item.setForeground(Qt.red if entry.outcome == "denied" else Qt.darkYellow)
                self.audit_table.setItem(row, column, item)

    def _on_error(self, message: str) -> None:
        QMessageBox.warning(self, self.tr("Users"), message)


def show_token(parent: QWidget, name: str, secret: str) -> None:
    """Show a new API token once, with a button that copies it."""
    box = QMessageBox(parent)
    box.setWindowTitle(QApplication.translate("UsersDialog", "New API token"))
    box.setText(
        " ".join(
            [
                QApplication.translate("UsersDialog", "API token for {0}.").format(name),
                QApplication.translate("UsersDialog", "It is shown only now: copy it."),
                QApplication.translate("UsersDialog", "Send it as 'Authorization: Bearer …'."),
            ]
        )
    )
    box.setInformativeText(secret)
    box.setTextInteractionFlags(Qt.TextSelectableByMouse)
    copy = box.addButton(QApplication.translate("UsersDialog", "Copy"), QMessageBox.ActionRole)
    box.addButton(QMessageBox.Close)
    copy.clicked.disconnect()
    copy.clicked.connect(lambda: QApplication.clipboard().setText(secret))
    box.exec_()
