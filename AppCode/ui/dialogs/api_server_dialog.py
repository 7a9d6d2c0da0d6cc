"""Tools > API server: start and stop the REST API, see its address, make a token."""

from __future__ import annotations

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from AppCode.ui.dialogs.users_dialog import show_token
from AppCode.ui.viewmodels.api_server_viewmodel import ApiServerViewModel
from AppCode.ui.viewmodels.users_viewmodel import UsersViewModel


class ApiServerDialog(QDialog):
    def __init__(
        self,
        vm: ApiServerViewModel,
        users: UsersViewModel,
        user_name: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._vm = vm
        self._users = users
        self._user_name = user_name
        self.setWindowTitle(self.tr("API server"))
        self.setMinimumWidth(480)

        self.host = QLineEdit(vm.host, self)
        self.host.setToolTip(
            self.tr("127.0.0.1 answers this computer only; 0.0.0.0 answers the network")
        )
        self.port = QSpinBox(self)
        self.port.setRange(1, 65535)
        self.port.setValue(vm.port)
        self.state = QLabel(self)
        self.state.setTextFormat(Qt.RichText)
        self.state.setOpenExternalLinks(True)
        self.state.setTextInteractionFlags(Qt.TextBrowserInteraction)
        self.start_button = QPushButton(self)
        self.token_button = QPushButton(self.tr("New API token for me…"), self)
        note = QLabel(
            self.tr(
                "Programs call the API with a token: 'Authorization: Bearer <token>'. "
                "The server stops when ScriptBatch closes."
            ),
            self,
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: gray;")

        form = QFormLayout()
        form.addRow(self.tr("Address:"), self.host)
        form.addRow(self.tr("Port:"), self.port)
        form.addRow(self.tr("Status:"), self.state)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.token_button)
        buttons.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.Close, self)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(note)
        layout.addWidget(close)

        self.start_button.clicked.connect(self._start_or_stop)
        self.token_button.clicked.connect(lambda: users.create_token(user_name, "API server"))
        # Bound methods only: Qt drops them when the dialog is deleted, a lambda would outlive it.
        vm.running_changed.connect(self._show_state)
        vm.address_changed.connect(self._show_state)
        vm.error_occurred.connect(self._on_error)
        users.token_created.connect(self._on_token)
        users.error_occurred.connect(self._on_error)
        self._show_state()

    def _start_or_stop(self) -> None:
        if self._vm.is_running:
            self._vm.stop()
        else:
            self._vm.start(self.host.text(), self.port.value())
        self._show_state()

    def _show_state(self, *_changed: object) -> None:
        running = self._vm.is_running
        self.host.setEnabled(not running)
        self.port.setEnabled(not running)
        self.start_button.setText(self.tr("Stop") if running else self.tr("Start"))
        if self._vm.address:
            docs = self._vm.address.rstrip("/") + "/docs"
            self.state.setText(
                self.tr("Listening on {0} (<a href='{1}'>interactive docs</a>)").format(
                    self._vm.address, docs
                )
            )
        elif running:
            self.state.setText(self.tr("Starting…"))
        else:
            self.state.setText(self.tr("Stopped"))

    def _on_token(self, name: str, secret: str) -> None:
        if self.isVisible():
            show_token(self, name, secret)

    def _on_error(self, message: str) -> None:
        QMessageBox.warning(self, self.tr("API server"), message)
