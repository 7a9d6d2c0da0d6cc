"""Who is using the app: the login at start (multi-user mode) and what their role allows,
which the window uses to hide and disable what they may not do. The services check again."""

from __future__ import annotations

from PyQt5.QtCore import QObject

from AppCode.core.domain.errors import ScriptBatchError
from AppCode.core.security.permissions import Level
from AppCode.services.access import SessionAccess
from AppCode.services.user_service import UserService
from AppCode.ui.viewmodels.background import user_message


class SessionViewModel(QObject):
    def __init__(
        self, access: SessionAccess, users: UserService, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._access = access
        self._users = users

    @property
    def multi_user(self) -> bool:
        return self._access.multi_user

    @property
    def logged_in(self) -> bool:
        return self._access.user() is not None

    @property
    def user_name(self) -> str:
        user = self._access.user()
        return user.name if user else ""

    @property
    def role(self) -> str:
        user = self._access.user()
        return user.role if user else ""

    def may(self, level: Level) -> bool:
        return self._access.may(level)

    def needs_first_admin(self) -> bool:
        """Multi-user mode with nobody able to log in as an administrator yet."""
        return self.multi_user and not self._users.has_admin()

    def log_in(self, name: str, password: str) -> str:
        """Log in; returns "" on success, else what went wrong in the user's terms. (A password
        check takes some 50 ms: fine on the GUI thread, before the window exists.)"""
        if not name.strip():
            return self.tr("Enter your user name.")
        try:
            self._users.log_in(name.strip(), password)
        except ScriptBatchError as exc:
            return user_message(exc)
        return ""

    def create_first_admin(self, name: str, password: str, repeat: str) -> str:
        """Make the first administrator and log in as them; "" on success, else the error."""
        if password != repeat:
            return self.tr("The two passwords differ.")
        try:
            self._users.add_first_admin(name.strip(), password)
        except ScriptBatchError as exc:
            return user_message(exc)
        return self.log_in(name, password)
