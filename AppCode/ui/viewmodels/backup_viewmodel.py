"""Backups as the Backup menu shows them: the list, creating, verifying, restoring, deleting."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from PyQt5.QtCore import QObject, pyqtSignal

from AppCode.core.domain.errors import BackupError, NotFoundError
from AppCode.core.domain.models import BackupRecord
from AppCode.services.backup_service import BackupService
from AppCode.ui.viewmodels.background import Background, user_message


class _Job:
    """One queued service call; ``description`` is empty for quiet ones (reloading the list)."""

    def __init__(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
        description: str,
    ) -> None:
        self.fn = fn
        self.on_done = on_done
        self.on_error = on_error
        self.description = description


class BackupViewModel(QObject):
    """Runs every backup call off the GUI thread, one at a time and in order (a restore swaps
    the database, so nothing else of this ViewModel may read it meanwhile)."""

    backups_changed = pyqtSignal(list)  # list[BackupRecord], newest first
    busy_changed = pyqtSignal(bool, str)  # busy, what is running (for a progress dialog)
    created = pyqtSignal(object)  # BackupRecord
    verified = pyqtSignal(str, bool, str)  # backup id, valid, message
    restored = pyqtSignal(str, str)  # backup id, path of the pre-restore backup
    error_occurred = pyqtSignal(str)

    def __init__(self, service: BackupService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self._background = Background(self)
        self._backups: list[BackupRecord] = []
        self._queue: deque[_Job] = deque()
        self._current: _Job | None = None
        self._busy_text = ""

    # -- state -------------------------------------------------------------------------------

    @property
    def backups(self) -> list[BackupRecord]:
        """The backups as last loaded, newest first."""
        return list(self._backups)

    @property
    def open_folder_path(self) -> str:
        """The backup directory (it may not exist before the first backup)."""
        return str(self._service.directory)

    @property
    def is_busy(self) -> bool:
        """Whether a create, verify, restore or delete is queued or running."""
        return bool(self._busy_text)

    @property
    def busy_text(self) -> str:
        return self._busy_text

    def find(self, backup_id: str) -> BackupRecord | None:
        return next((r for r in self._backups if r.id == backup_id), None)

    # -- intents -----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the list in the background; ``backups_changed`` follows."""
        self._enqueue(self._service.backups, self._on_loaded, self._on_failed, "")

    def create(self, note: str | None = None) -> None:
        """Write a manual backup with an optional note; ``created`` follows."""
        note = (note or "").strip() or None
        self._enqueue(
            lambda: self._service.create(kind="manual", note=note),
            self._on_created,
            self._on_failed,
            self.tr("Writing a backup of the database and settings…"),
        )

    def verify(self, backup_id: str) -> None:
        """Check an archive completely; ``verified`` says whether it is valid."""

        def failed(error: BaseException) -> None:
            if isinstance(error, (BackupError, NotFoundError)):
                self.verified.emit(backup_id, False, user_message(error))
                self.refresh()
            else:
                self._on_failed(error)

        self._enqueue(
            lambda: self._service.verify(backup_id),
            lambda _record: self._on_verified(backup_id),
            failed,
            self.tr("Verifying the backup of {date}…").format(date=self._date(backup_id)),
        )

    def restore(self, backup_id: str) -> None:
        """Replace the current data with the backup's; ``restored`` follows, or
        ``error_occurred`` (a running batch, a damaged archive) with nothing changed."""
        self._enqueue(
            lambda: self._service.restore(backup_id),
            lambda safety: self._on_restored(backup_id, safety),
            self._on_failed,
            self.tr("Restoring the backup of {date}… (the current state is saved first)").format(
                date=self._date(backup_id)
            ),
        )

    def delete(self, backup_id: str) -> None:
        """Delete the archive and its record; ``backups_changed`` follows."""
        self._enqueue(
            lambda: self._service.delete(backup_id),
            lambda _none: self.refresh(),
            self._on_failed,
            self.tr("Deleting the backup of {date}…").format(date=self._date(backup_id)),
        )

    # -- the queue ---------------------------------------------------------------------------

    def _enqueue(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
        description: str,
    ) -> None:
        self._queue.append(_Job(fn, on_done, on_error, description))
        self._update_busy()
        if self._current is None:
            self._next()

    def _next(self) -> None:
        if not self._queue:
            return
        job = self._current = self._queue.popleft()

        def done(result: object) -> None:
            self._current = None
            job.on_done(result)
            self._after_job()

        def failed(error: BaseException) -> None:
            self._current = None
            job.on_error(error)
            self._after_job()

        self._background.submit(job.fn, done, failed)

    def _after_job(self) -> None:
        self._update_busy()
        if self._current is None:
            self._next()

    def _update_busy(self) -> None:
        jobs = ([self._current] if self._current else []) + list(self._queue)
        text = next((j.description for j in jobs if j.description), "")
        if text != self._busy_text:
            self._busy_text = text
            self.busy_changed.emit(bool(text), text)

    # -- results -----------------------------------------------------------------------------

    def _on_loaded(self, records: list[BackupRecord]) -> None:
        self._backups = list(records)
        self.backups_changed.emit(self.backups)

    def _on_created(self, record: BackupRecord) -> None:
        self.created.emit(record)
        self.refresh()

    def _on_verified(self, backup_id: str) -> None:
        self.verified.emit(backup_id, True, self.tr("The backup is complete and intact."))
        self.refresh()

    def _on_restored(self, backup_id: str, safety: BackupRecord) -> None:
        self.restored.emit(backup_id, safety.path)
        self.refresh()

    def _on_failed(self, error: BaseException) -> None:
        self.error_occurred.emit(user_message(error))

    def _date(self, backup_id: str) -> str:
        record = self.find(backup_id)
        if record is None:
            return backup_id
        return record.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
