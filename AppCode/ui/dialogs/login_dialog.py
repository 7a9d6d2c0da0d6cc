"""The login dialog of multi-user mode; with no administrator yet, it makes the first one."""

from __future__ import annotations

from PyQt5.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from AppCode.ui.viewmodels.session_viewmodel import SessionViewModel

ERROR_STYLE = "color: #c62828;"


class LoginDialog(QDialog):
    def __init__(self, vm: SessionViewModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vm = vm
        self._first_admin = vm.needs_first_admin()
        self.setWindowTitle(self.tr("Log in to ScriptBatch"))
        self.setMinimumWidth(380)

        self.intro = QLabel(self)
        self.intro.setWordWrap(True)
        self.name = QLineEdit(self)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.Password)
        self.repeat = QLineEdit(self)
        self.repeat.setEchoMode(QLineEdit.Password)
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.hide()

        form = QFormLayout()
        form.addRow(self.tr("User name:"), self.name)
        form.addRow(self.tr("Password:"), self.password)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel, self)
        ok = self.buttons.button(QDialogButtonBox.Ok)
        if self._first_admin:
            self.intro.setText(
                self.tr(
                    "ScriptBatch is set up for several users, and there is no administrator "
                    "yet. Create the first one: this account manages the others."
                )
            )
            form.addRow(self.tr("Repeat password:"), self.repeat)
            ok.setText(self.tr("Create and log in"))
        else:
            self.intro.setText(self.tr("Log in with your ScriptBatch user name and password."))
            self.repeat.hide()
            ok.setText(self.tr("Log in"))
        self.buttons.accepted.connect(self.try_accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.name.setFocus()

    def try_accept(self) -> None:
        if self._first_admin:
            problem = self._vm.create_first_admin(
                self.name.text(), self.password.text(), self.repeat.text()
            )
        else:
            problem = self._vm.log_in(self.name.text(), self.password.text())
        if problem:
            self.error.setText(problem)
            self.error.show()
            self.password.clear()
            self.repeat.clear()
            self.password.setFocus()
            return
        self.accept()
