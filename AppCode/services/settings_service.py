"""Saving the user's settings: a managed operation, checked and written to the audit log."""

from __future__ import annotations

from pathlib import Path

from AppCode.core.security.permissions import ALLOW_ALL, AccessControl, Level, requires
from AppCode.services.settings import Settings, save_user_settings

__all__ = ["SettingsService"]


class SettingsService:
    def __init__(self, config_file: Path, access: AccessControl = ALLOW_ALL) -> None:
        self._config_file = config_file
        self._access = access

    @property
    def config_file(self) -> Path:
        return self._config_file

    @requires(Level.MANAGE, "change settings", audit=True)
    def save(self, settings: Settings) -> None:
        """Write the keys of ``settings`` that differ from the defaults to the user's file."""
        save_user_settings(self._config_file, settings)
