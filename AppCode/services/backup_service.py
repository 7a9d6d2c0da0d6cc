"""Backups: create (manual, scheduled, pre-restore, pre-migration), verify, restore, prune.

The archives themselves are the infrastructure's (``BackupArchiver``); this service decides
what goes in them, keeps ``backup_records`` in step with the files in the backup folder, and
runs a restore as one all-or-nothing step: verify, take a pre-restore backup, put the backup's
database in place, migrate it forward, reload the settings, and on any failure put the
previous state back.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from AppCode.core.domain.errors import BackupError, ConflictError, NotFoundError
from AppCode.core.domain.models import BackupRecord
from AppCode.core.domain.ports import BackupArchiver, UnitOfWorkFactory
from AppCode.core.managers.cache import CacheManager
from AppCode.core.security.permissions import ALLOW_ALL, AccessControl, Level, requires
from AppCode.services.settings import BackupSettings

__all__ = ["BackupScheduler", "BackupService"]

log = logging.getLogger(__name__)

KINDS = ("manual", "scheduled", "pre-restore", "pre-migration")


class BackupService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        archiver: BackupArchiver,
        settings: BackupSettings,
        default_directory: Path,
        batch_running: Callable[[], bool],
        after_restore: Callable[[], None],
        cache: CacheManager,
        access: AccessControl = ALLOW_ALL,
    ) -> None:
        self._uow = uow
        self._archiver = archiver
        self._settings = settings
        self._default_directory = default_directory
        self._access = access
        self._batch_running = batch_running
        self._after_restore = after_restore
        self._cache = cache
        # One backup, restore or record sync at a time in this process (a sync must not record
        # an archive that is being written and recorded right now).
        self._lock = threading.RLock()

    @property
    def directory(self) -> Path:
        configured = self._settings.directory.strip()
        return Path(configured).expanduser() if configured else self._default_directory

    # -- creating ----------------------------------------------------------------------------

    @requires(Level.MANAGE, "create backup", audit=True)
    def create(self, *, kind: str = "manual", note: str | None = None) -> BackupRecord:
        """Write a new backup archive and record it; applies the retention afterwards."""
        if kind not in KINDS:
            raise BackupError(f"unknown backup kind {kind!r}")
        with self._lock:
            record = self._write(kind, note)
        self._apply_retention()
        return record

    def _write(self, kind: str, note: str | None) -> BackupRecord:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.directory / f"scriptbatch-{stamp}-{kind}.zip"
        base = self._incremental_base()
        try:
            record = self._archiver.write(
                str(path),
                kind=kind,
                note=note,
                include_logs=self._settings.include_logs,
                base=base,
            )
        except OSError as exc:
            raise BackupError(
                f"the backup could not be written to {path}: {exc.strerror or exc}",
                hint="Check that the backup folder ([backup] directory) is writable and has "
                "free space.",
            ) from None
        with self._uow() as uow:
            uow.backups.add(record)
            uow.commit()
        log.info("%s backup %s written (%d bytes)", kind, record.path, record.size_bytes)
        return record

    def _incremental_base(self) -> BackupRecord | None:
        if not (self._settings.include_logs and self._settings.incremental_logs):
            return None
        for record in self.backups():
            if record.includes_logs and Path(record.path).is_file():
                return record
        return None

    # -- looking -----------------------------------------------------------------------------

    @requires(Level.VIEW, "list backups")
    def backups(self) -> list[BackupRecord]:
        """Every backup, newest first: the records, plus archives found in the backup folder
        that the database does not know (after a restore, or copied in by hand)."""
        with self._lock, self._uow() as uow:
            records = {r.id: r for r in uow.backups.all()}
            known_paths = {os.path.realpath(r.path) for r in records.values()}
            added = []
            if self.directory.is_dir():
                for archive in sorted(self.directory.glob("scriptbatch-*.zip")):
                    if os.path.realpath(archive) in known_paths:
                        continue
                    try:
                        record = self._archiver.read(str(archive))
                    except BackupError:
                        continue
                    if record.id not in records:
                        records[record.id] = record
                        added.append(record)
            for record in added:
                uow.backups.add(record)
            if added:
                uow.commit()
        return sorted(records.values(), key=lambda r: r.created_at, reverse=True)

    @requires(Level.VIEW, "list backups")
    def find(self, ref: str) -> BackupRecord:
        """A backup by id (or unique prefix), or an archive's path."""
        ref = ref.strip()
        if ref.endswith(".zip") or os.sep in ref:
            path = Path(ref).expanduser()
            if not path.is_file():
                raise NotFoundError(f"backup file {path} does not exist")
            return self._archiver.read(str(path))
        matches = [r for r in self.backups() if r.id.startswith(ref)] if ref else []
        exact = [r for r in matches if r.id == ref]
        if exact or len(matches) == 1:
            return (exact or matches)[0]
        if matches:
            raise BackupError(
                f"backup id {ref!r} is ambiguous", hint="Give more characters of the id."
            )
        raise NotFoundError(
            f"no backup with id {ref!r}", hint="See the backups with 'scriptbatch backup list'."
        )

    # -- verifying ---------------------------------------------------------------------------

    @requires(Level.MANAGE, "verify backup", audit=True)
    def verify(self, ref: str) -> BackupRecord:
        """Check an archive completely (and the bases its logs come from); raises
        ``BackupError`` saying what is wrong. The result is recorded."""
        record = self.find(ref)
        ok = False
        try:
            if self._recorded_elsewhere(record):
                raise BackupError(
                    f"backup {record.path} was changed after it was written (its checksum "
                    "differs from the recorded one)",
                    hint="Use another backup.",
                )
            self._archiver.verify(record.path)
            for base in self._chain(record):
                self._archiver.verify(base.path)
            ok = True
        finally:
            self._mark(record, ok)
        return replace(record, verified_ok=True, verified_at=datetime.now(UTC))

    def _recorded_elsewhere(self, record: BackupRecord) -> bool:
        with self._uow() as uow:
            stored = next((r for r in uow.backups.all() if r.id == record.id), None)
        return stored is not None and stored.sha256 != self._archiver.read(record.path).sha256

    def _chain(self, record: BackupRecord) -> list[BackupRecord]:
        """The bases an incremental backup's logs depend on, newest first."""
        by_id = {r.id: r for r in self.backups()}
        chain, seen, current = [], {record.id}, record
        while current.base_id:
            base = by_id.get(current.base_id)
            if base is None or base.id in seen:
                raise BackupError(
                    f"backup {record.path} needs backup {current.base_id} for its run logs, "
                    "which is gone",
                    hint="Restore a backup with complete logs, or one made without logs.",
                )
            chain.append(base)
            seen.add(base.id)
            current = base
        return chain

    def _mark(self, record: BackupRecord, ok: bool) -> None:
        try:
            with self._uow() as uow:
                uow.backups.update(replace(record, verified_ok=ok, verified_at=datetime.now(UTC)))
                uow.commit()
        except Exception:
            log.warning("could not record the verification of %s", record.path, exc_info=True)

    # -- restoring ---------------------------------------------------------------------------

    @requires(Level.ADMIN, "restore backup", audit=True)
    def restore(self, ref: str) -> BackupRecord:
        """Replace the current data with a backup's. Returns the pre-restore backup, which
        undoes this restore if needed. All or nothing: on failure, the previous state is back
        and ``BackupError`` says why."""
        if self._batch_running():
            raise ConflictError(
                "a batch is running: restoring now would replace its history under it",
                hint="Wait for the batch to finish or stop it, then restore.",
            )
        with self._lock:
            record = self.find(ref)
            self._archiver.verify(record.path)
            chain = self._chain(record)
            for base in chain:
                self._archiver.verify(base.path)
            safety = self._write("pre-restore", f"before restoring {record.id}")
            try:
                undo = self._archiver.install(record.path, [b.path for b in chain])
            except Exception as exc:
                log.exception("restore of %s failed while installing", record.path)
                raise BackupError(
                    f"the restore failed and nothing was changed: {exc}",
                    hint=f"The current data is intact; a copy is in {safety.path}.",
                ) from None
            try:
                self._after_restore()  # migrate forward, reload settings, reset caches
            except Exception as exc:
                log.exception("restore of %s failed after installing; undoing", record.path)
                undo()
                try:
                    self._after_restore()
                except Exception:
                    log.exception("reloading after the undo failed")
                raise BackupError(
                    f"the restore failed and the previous state is back in place: {exc}",
                    hint=f"A copy of the previous state is also in {safety.path}.",
                ) from None
            self._archiver.forget_previous()
        self._cache.invalidate("scripts")
        self._cache.invalidate("history")
        self.backups()  # records of archives newer than the restored database come back
        log.info("restored backup %s (pre-restore copy %s)", record.path, safety.path)
        return safety

    # -- retention ---------------------------------------------------------------------------

    @requires(Level.MANAGE, "prune backups", audit=True)
    def prune(self) -> list[BackupRecord]:
        """Keep the newest ``keep_last`` backups, plus the newest verified one and every base a
        kept incremental needs; delete the rest (archive and record). Returns what went."""
        return self._apply_retention()

    def _apply_retention(self) -> list[BackupRecord]:
        # After every backup too; each deletion is audited on its own.
        records = self.backups()
        keep = {r.id for r in records[: self._settings.keep_last]}
        verified = next((r for r in records if r.verified_ok), None)
        if verified is not None:
            keep.add(verified.id)
        by_id = {r.id: r for r in records}
        for record_id in list(keep):
            current = by_id.get(record_id)
            while current is not None and current.base_id:
                keep.add(current.base_id)
                current = by_id.get(current.base_id)
        removed = [r for r in records if r.id not in keep]
        for record in removed:
            self.delete(record.id)
        return removed

    @requires(Level.MANAGE, "delete backup", audit=True)
    def delete(self, ref: str) -> None:
        record = self.find(ref)
        Path(record.path).unlink(missing_ok=True)
        with self._uow() as uow:
            uow.backups.delete(record.id)
            uow.commit()

    # -- schedule ----------------------------------------------------------------------------

    def due(self, now: datetime | None = None) -> bool:
        """Whether a scheduled backup is due (``auto_interval_h`` since the last one)."""
        hours = self._settings.auto_interval_h
        if not hours:
            return False
        now = now or datetime.now(UTC)
        recent = [r for r in self.backups() if r.kind in ("manual", "scheduled")]
        return not recent or now - recent[0].created_at >= timedelta(hours=hours)

    def back_up_if_due(self) -> BackupRecord | None:
        """The scheduled backup, if one is due. The application makes it, not the logged-in
        user (a viewer's session still gets its backups)."""
        with self._access.system():
            return self.create(kind="scheduled") if self.due() else None


class BackupScheduler:
    """Runs scheduled backups in the background while the app runs; the first check happens
    at once, so a backup missed while the app was closed is caught up at start-up."""

    def __init__(self, service: BackupService, check_every_s: float = 60.0) -> None:
        self._service = service
        self._every = check_every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="scriptbatch-backups", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._service.back_up_if_due()
            except Exception:
                log.exception("scheduled backup failed")
            self._stop.wait(self._every)
