"""Users and the audit log as the admin's Users dialog shows them. Every call runs off the GUI
thread; results and errors come back as signals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from PyQt5.QtCore import QObject, pyqtSignal

from AppCode.services.user_service import UserService
from AppCode.ui.viewmodels.background import Background, user_message

AUDIT_PAGE = 500


class UsersViewModel(QObject):
    users_changed = pyqtSignal(list)  # list[User]
    audit_changed = pyqtSignal(list)  # list[AuditEntry], newest first
    token_created = pyqtSignal(str, str)  # user name, the token's secret (shown once)
    message = pyqtSignal(str)
    error_occurred = pyqtSignal(str)

    def __init__(self, service: UserService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self._background = Background(self)
        self._audit_query = 0

    def refresh(self) -> None:
        self._call(self._service.users, self.users_changed.emit)

    def load_audit(self, user: str = "", action: str = "", since: datetime | None = None) -> None:
        # Only the newest query's answer is shown (an older one may come back later).
        self._audit_query += 1
        query = self._audit_query

        def show(entries: list[Any]) -> None:
            if query == self._audit_query:
                self.audit_changed.emit(entries)

        self._call(
            lambda: self._service.audit(
                user=user.strip() or None,
                action=action.strip() or None,
                since=since,
                limit=AUDIT_PAGE,
            ),
            show,
        )

    def add(self, name: str, role: str, password: str) -> None:
        self._change(
            lambda: self._service.add(name.strip(), role, password or None),
            self.tr("Added {0}.").format(name.strip()),
        )

    def set_role(self, name: str, role: str) -> None:
        self._change(
            lambda: self._service.set_role(name, role),
            self.tr("{0} is now {1}.").format(name, role),
        )

    def set_disabled(self, name: str, disabled: bool) -> None:
        change = self._service.disable if disabled else self._service.enable
        text = self.tr("Disabled {0}.") if disabled else self.tr("Enabled {0}.")
        self._change(lambda: change(name), text.format(name))

    def set_password(self, name: str, password: str) -> None:
        self._change(
            lambda: self._service.set_password(name, password),
            self.tr("Changed the password of {0}.").format(name),
        )

    def create_token(self, name: str, label: str = "") -> None:
        """A new API token for ``name``; ``token_created`` carries the secret, shown once."""
        self._call(
            lambda: self._service.create_token(name, label=label)[1],
            lambda secret: self.token_created.emit(name, secret),
        )

    # -- helpers -----------------------------------------------------------------------------

    def _change(self, fn: Callable[[], Any], done_text: str) -> None:
        def done(_result: object) -> None:
            self.message.emit(done_text)
            self.refresh()

        self._call(fn, done)

    def _call(self, fn: Callable[[], Any], on_done: Callable[[Any], None]) -> None:
        self._background.submit(
            fn, on_done, lambda exc: self.error_occurred.emit(user_message(exc))
        )
