"""Backups: create (manual, scheduled, pre-restore, pre-migration), verify, restore, prune.

The archives themselves are the infrastructure's (``BackupArchiver``); this service decides
what goes in them, keeps ``backup_records`` in step with the files in the backup folder, and
runs a restore as one all-or-nothing step: verify, take a pre-restore backup, put the backup's
database in place, migrate it forward, reload the settings, and on any failure put the
previous state back.

Only the archives in the backup folder are ScriptBatch's own: retention and deletion never
touch a file anywhere else, and checking a copy elsewhere (``verify PATH``) only reports on it.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from AppCode.core.domain.errors import (
    BackupError,
    ConfigurationError,
    ConflictError,
    DatabaseError,
    NotFoundError,
    ScriptBatchError,
)
from AppCode.core.domain.models import BackupRecord
from AppCode.core.domain.ports import BackupArchiver, UnitOfWorkFactory
from AppCode.core.managers.cache import CacheManager
from AppCode.core.security.permissions import ALLOW_ALL, AccessControl, Level, requires
from AppCode.services.settings import BackupSettings

__all__ = ["BackupScheduler", "BackupService"]

log = logging.getLogger(__name__)

KINDS = ("manual", "scheduled", "pre-restore", "pre-migration")
# The user's own backups; the others are safety copies the app takes by itself. Retention keeps
# ``keep_last`` of each group, so that safety copies never push the user's backups out.
USER_KINDS = ("manual", "scheduled")


class BackupService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        archiver: BackupArchiver,
        settings: BackupSettings,
        data_root: Path,
        default_directory: Path,
        batch_running: Callable[[], bool],
        after_restore: Callable[[], None],
        cache: CacheManager,
        close_unfinished_batches: Callable[[], object],
        access: AccessControl = ALLOW_ALL,
    ) -> None:
        self._uow = uow
        self._archiver = archiver
        self._settings = settings
        self._data_root = data_root
        self._default_directory = default_directory
        self._access = access
        self._batch_running = batch_running
        self._after_restore = after_restore
        self._close_unfinished_batches = close_unfinished_batches
        self._cache = cache
        # One backup, restore or record sync at a time in this process (a sync must not record
        # an archive that is being written and recorded right now).
        self._lock = threading.RLock()

    @property
    def directory(self) -> Path:
        """``[backup] directory``, where a relative path is inside the data directory (so it
        means the same folder whatever the current directory); else ``<data-dir>/backups``."""
        configured = self._settings.directory.strip()
        if not configured:
            return self._default_directory
        return Path(os.path.abspath(self._data_root / Path(configured).expanduser()))

    def _in_directory(self, path: str | Path) -> bool:
        """Whether ``path`` is an archive in the backup folder (links resolved)."""
        return Path(os.path.realpath(path)).parent == Path(os.path.realpath(self.directory))

    # -- creating ----------------------------------------------------------------------------

    @requires(Level.MANAGE, "create backup", audit=True)
    def create(self, *, kind: str = "manual", note: str | None = None) -> BackupRecord:
        """Write a new backup archive and record it; applies the retention afterwards."""
        if kind not in KINDS:
            raise BackupError(f"unknown backup kind {kind!r}")
        with self._lock:
            record = self._write(kind, note)
        try:
            self._apply_retention()
        except (ScriptBatchError, OSError):
            # The backup is written and recorded: that is what was asked for.
            log.warning(
                "backup %s written, but old backups were not pruned", record.path, exc_info=True
            )
        return record

    def _write(self, kind: str, note: str | None) -> BackupRecord:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        self._make_directory()
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
            where = f" ({exc.filename})" if exc.filename and exc.filename != str(path) else ""
            raise BackupError(
                f"the backup could not be written to {path}: {exc.strerror or exc}{where}",
                hint="Check that the backup folder ([backup] directory) is writable and has "
                "free space.",
            ) from None
        with self._uow() as uow:
            uow.backups.add(record)
            uow.commit()
        log.info("%s backup %s written (%d bytes)", kind, record.path, record.size_bytes)
        return record

    def _make_directory(self) -> None:
        """Create the backup folder, or say which path is in the way."""
        folder = self.directory
        blocker = next((p for p in (folder, *folder.parents) if p.exists()), None)
        if blocker is not None and not blocker.is_dir():
            raise BackupError(
                f"the backup folder {folder} cannot be created: {blocker} is a file, not a folder",
                hint=f"Move {blocker} away, or set [backup] directory to another folder.",
            )
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BackupError(
                f"the backup folder {folder} cannot be created: {exc.strerror or exc}",
                hint="Make it writable, or set [backup] directory to another folder.",
            ) from None

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
        that the database does not know (after a restore, or copied in by hand), which are
        recorded. A file there that is not a valid backup is skipped (and logged). When the
        database cannot be read (it is damaged), the folder's archives alone."""
        with self._lock:
            try:
                with self._uow() as uow:
                    records = {r.id: r for r in uow.backups.all()}
                    added, moved = self._sync_folder(records)
                    for record in added:
                        uow.backups.add(record)
                    for record in moved:
                        uow.backups.update(record)
                    if added or moved:
                        uow.commit()
            except DatabaseError as exc:
                log.warning("backup records not readable (%s): listing the folder", exc.message)
                records = {}
                self._sync_folder(records)
        return sorted(records.values(), key=lambda r: r.created_at, reverse=True)

    def _sync_folder(
        self, records: dict[str, BackupRecord]
    ) -> tuple[list[BackupRecord], list[BackupRecord]]:
        """Add the folder's archives to ``records``; returns the new ones, and the records that
        pointed at a file outside the folder or at no file (an older version's ``verify`` of a
        copy moved them) while their archive is here, now pointing at it again."""
        if not self.directory.is_dir():
            return [], []
        known_paths = {os.path.realpath(r.path) for r in records.values()}
        added, moved = [], []
        for archive in sorted(self.directory.glob("scriptbatch-*.zip")):
            if os.path.realpath(archive) in known_paths:
                continue
            try:
                record = self._archiver.read(str(archive))
            except BackupError as exc:
                log.warning("skipped %s: %s", archive, exc.message)
                continue
            existing = records.get(record.id)
            if existing is None:
                added.append(record)
            elif self._in_directory(existing.path) and Path(existing.path).is_file():
                continue  # a second copy of a recorded archive: the record stays as it is
            else:
                moved.append(record)
            records[record.id] = record
        return added, moved

    @requires(Level.VIEW, "list backups")
    def find(self, ref: str) -> BackupRecord:
        """A backup by id (or unique prefix), or an archive's path. A path is the recorded
        backup only when it is that backup's archive; any other file (a copy elsewhere) is read
        as it is and never stands for a record."""
        ref = ref.strip()
        if ref.endswith(".zip") or os.sep in ref or (ref and Path(ref).exists()):
            path = Path(os.path.abspath(Path(ref).expanduser()))
            if path.is_dir():
                raise ConfigurationError(
                    f"{path} is a folder, not a backup file",
                    hint="Give a backup's id (see 'scriptbatch backup list') or the path of "
                    "a backup archive (.zip).",
                )
            if not path.is_file():
                raise NotFoundError(
                    f"backup file {path} does not exist",
                    hint="See the backups with 'scriptbatch backup list'.",
                )
            return self._recorded_at(path) or self._archiver.read(str(path))
        matches = [r for r in self.backups() if r.id.startswith(ref)] if ref else []
        exact = [r for r in matches if r.id == ref]
        if exact or len(matches) == 1:
            return (exact or matches)[0]
        if matches:  # a usage error, as for batches and executions: not a bad backup
            raise ConfigurationError(
                f"backup id {ref!r} is ambiguous: {', '.join(r.id for r in matches)}",
                hint="Give more characters of the id.",
            )
        raise NotFoundError(
            f"no backup with id {ref!r}", hint="See the backups with 'scriptbatch backup list'."
        )

    def _recorded_at(self, path: Path) -> BackupRecord | None:
        """The record whose archive ``path`` is, if any."""
        resolved = os.path.realpath(path)
        return next((r for r in self.backups() if os.path.realpath(r.path) == resolved), None)

    # -- verifying ---------------------------------------------------------------------------

    @requires(Level.MANAGE, "verify backup", audit=True)
    def verify(self, ref: str) -> BackupRecord:
        """Check an archive completely (and the bases its logs come from); raises
        ``BackupError`` saying what is wrong. The result is recorded when the archive is a
        recorded backup's; a file elsewhere is only reported on."""
        record = self.find(ref)
        ok = False
        try:
            if self._changed_since_recorded(record):
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

    def _stored(self, record: BackupRecord) -> BackupRecord | None:
        """The stored record of ``record`` if it is the one for that same archive file."""
        try:
            with self._uow() as uow:
                stored = next((r for r in uow.backups.all() if r.id == record.id), None)
        except DatabaseError:
            return None  # nothing recorded can be read; the archive speaks for itself
        if stored is None or os.path.realpath(stored.path) != os.path.realpath(record.path):
            return None
        return stored

    def _changed_since_recorded(self, record: BackupRecord) -> bool:
        stored = self._stored(record)
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
        """Record a verification on the stored record of that archive; only its verification
        fields change (never its path or checksum)."""
        try:
            stored = self._stored(record)
            if stored is None:
                return
            with self._uow() as uow:
                uow.backups.update(replace(stored, verified_ok=ok, verified_at=datetime.now(UTC)))
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
            self._put_in_place(
                record,
                chain,
                f"The current data is intact; a copy is in {safety.path}.",
                # No batch runs now (checked above), so a batch that is unfinished in the
                # backup is one that was running when it was taken: it is closed as start-up
                # recovery closes an interrupted one, or it would look running for ever.
                then=self._close_unfinished_batches,
            )
        self._after_put_in_place()
        log.info("restored backup %s (pre-restore copy %s)", record.path, safety.path)
        return safety

    @requires(Level.ADMIN, "restore backup", audit=True)
    def restore_over_damaged(self, ref: str) -> str:
        """Restore a backup when the current database file is damaged, so that it can neither
        be backed up first nor asked whether a batch runs: the damaged file is renamed and kept
        beside the restored one instead. Returns its new path. All or nothing: on failure the
        damaged file is back in place."""
        with self._lock:
            problem = self._archiver.damage()
            if problem is None:
                raise BackupError(
                    "the current database is not damaged, so it is not set aside",
                    hint="Restore the usual way: a pre-restore backup of it is taken first.",
                )
            record = self.find(ref)
            self._archiver.verify(record.path)
            chain = self._chain(record)
            for base in chain:
                self._archiver.verify(base.path)
            aside, put_back = self._archiver.set_aside_damaged()
            log.warning("damaged database (%s) moved to %s for a restore", problem, aside)
            self._put_in_place(
                record, chain, "The damaged database file is back in place.", put_back
            )
        self._after_put_in_place()
        log.info("restored backup %s over a damaged database (kept as %s)", record.path, aside)
        return aside

    def _put_in_place(
        self,
        record: BackupRecord,
        chain: list[BackupRecord],
        hint: str,
        put_back: Callable[[], None] | None = None,
        then: Callable[[], object] | None = None,
    ) -> None:
        """Install the archive, migrate/reload, and call ``then`` on the restored data. On
        failure: undo the install, call ``put_back`` (what was set aside goes back), reload,
        and raise ``BackupError``."""
        try:
            undo = self._archiver.install(record.path, [b.path for b in chain])
        except Exception as exc:
            log.exception("restore of %s failed while installing", record.path)
            if put_back is not None:
                put_back()
            raise BackupError(
                f"the restore failed and nothing was changed: {exc}", hint=hint
            ) from None
        try:
            self._after_restore()  # migrate forward, reload settings, reset caches
            if then is not None:
                then()
        except Exception as exc:
            log.exception("restore of %s failed after installing; undoing", record.path)
            undo()
            if put_back is not None:
                put_back()
            try:
                self._after_restore()
            except Exception:
                log.exception("reloading after the undo failed")
            raise BackupError(
                f"the restore failed and the previous state is back in place: {exc}", hint=hint
            ) from None
        self._archiver.forget_previous()

    def _after_put_in_place(self) -> None:
        self._cache.invalidate("scripts")
        self._cache.invalidate("history")
        self.backups()  # records of archives newer than the restored database come back

    # -- retention ---------------------------------------------------------------------------

    @requires(Level.MANAGE, "prune backups", audit=True)
    def prune(self) -> list[BackupRecord]:
        """Keep the newest ``keep_last`` of the user's backups (manual, scheduled) and the newest
        ``keep_last`` safety copies (pre-restore, pre-migration), plus the newest verified one
        and every base a kept incremental needs; delete the rest (archive and record). Only
        archives in the backup folder count: nothing elsewhere is deleted. Returns what went."""
        return self._apply_retention()

    def _apply_retention(self) -> list[BackupRecord]:
        # After every backup too; each deletion is audited on its own.
        records = [r for r in self.backups() if self._in_directory(r.path)]
        users = [r for r in records if r.kind in USER_KINDS]
        safety = [r for r in records if r.kind not in USER_KINDS]
        keep_last = self._settings.keep_last
        keep = {r.id for r in users[:keep_last]} | {r.id for r in safety[:keep_last]}
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
        """Delete a backup: its record, and its archive if that is in the backup folder (a
        file anywhere else is the user's and stays)."""
        record = self.find(ref)
        if self._stored(record) is None:
            raise BackupError(
                f"{record.path} is not a recorded backup in the backup folder {self.directory}; "
                "ScriptBatch deletes only its own backups",
                hint="Delete the file yourself if you no longer need it.",
            )
        if self._in_directory(record.path):
            Path(record.path).unlink(missing_ok=True)
        else:
            log.info("backup %s is outside the backup folder: its file is kept", record.path)
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
