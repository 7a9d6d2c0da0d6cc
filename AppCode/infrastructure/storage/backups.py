"""Backup archives: one zip per backup, checked member by member.

Layout of an archive::

    manifest.json                 what is inside, with a SHA-256 and size for every member
    database/scriptbatch.db       SQLite: a consistent snapshot (the online backup API)
    database/<table>.jsonl        any other database: a logical dump, one JSON row per line
    config/config.toml            the user's config file, when there is one
    logs/runs/<batch>/<id>.log    run logs (and their .idx), when [backup].include_logs

With incremental logs, an archive stores only the logs that are new or changed since its base
(the previous backup) and lists every log it covers in the manifest's ``logs`` inventory;
restoring follows the chain of bases. Archives are written beside their final name and moved
into place, so a crash never leaves half an archive behind a real name.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import os
import shutil
import sqlite3
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Engine, delete, insert, select

from AppCode import __version__
from AppCode.core.domain.errors import BackupError
from AppCode.core.domain.ids import new_id
from AppCode.core.domain.models import BackupRecord
from AppCode.infrastructure.data.database import sqlite_damage
from AppCode.infrastructure.data.orm import Base, UTCDateTime

log = logging.getLogger(__name__)

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/scriptbatch.db"
CONFIG_MEMBER = "config/config.toml"
LOGS_PREFIX = "logs/"
_CHUNK = 1024 * 1024


class ZipBackupArchiver:
    """The ``BackupArchiver`` port on zip files, for the database behind ``engine``."""

    def __init__(
        self,
        engine: Engine,
        data_root: Path,
        config_file: Path,
        schema_revision: Callable[[], str | None],
    ) -> None:
        self._engine = engine
        self._root = data_root
        self._config = config_file
        self._revision = schema_revision

    # -- writing -----------------------------------------------------------------------------

    def write(
        self,
        path: str,
        *,
        kind: str,
        note: str | None,
        include_logs: bool,
        base: BackupRecord | None,
    ) -> BackupRecord:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        backup_id = new_id()
        created = datetime.now(UTC)
        base_logs = self.log_members(base.path) if base is not None else {}
        members: dict[str, dict[str, Any]] = {}
        logs: dict[str, str] = {}
        database: dict[str, Any]
        try:
            with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
                database = self._write_database(zf, members)
                if self._config.is_file():
                    _add_file(zf, members, CONFIG_MEMBER, self._config)
                if include_logs:
                    for relative, source in self._log_files():
                        digest = _sha256_file(source)
                        logs[relative] = digest
                        if base_logs.get(relative) != digest:
                            _add_file(zf, members, LOGS_PREFIX + relative, source, digest)
                manifest = {
                    "format": FORMAT,
                    "id": backup_id,
                    "app_version": __version__,
                    "schema_revision": self._revision(),
                    "created_at": created.isoformat(),
                    "kind": kind,
                    "note": note,
                    "database": database,
                    "base_id": base.id if (base is not None and include_logs) else None,
                    "logs": logs,
                    "members": members,
                }
                manifest["digest"] = _manifest_digest(manifest)
                zf.writestr(MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
            _fsync(partial)
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return BackupRecord(
            id=backup_id,
            path=str(target),
            kind=kind,
            created_at=created,
            size_bytes=target.stat().st_size,
            sha256=_sha256_file(target),
            app_version=__version__,
            schema_revision=manifest["schema_revision"],
            base_id=manifest["base_id"],
            includes_logs=include_logs,
            note=note,
        )

    def _write_database(
        self, zf: zipfile.ZipFile, members: dict[str, dict[str, Any]]
    ) -> dict[str, Any]:
        url = self._engine.url
        if url.get_backend_name() == "sqlite" and url.database:
            with tempfile.TemporaryDirectory(prefix="scriptbatch-backup-") as tmp:
                snapshot = Path(tmp) / "scriptbatch.db"
                try:
                    source = sqlite3.connect(url.database, timeout=30)
                    try:
                        dest = sqlite3.connect(snapshot)
                        try:
                            # One step: a consistent snapshot even while the app writes.
                            source.backup(dest)
                        finally:
                            dest.close()
                    finally:
                        source.close()
                except sqlite3.DatabaseError as exc:
                    raise BackupError(
                        f"the database file {url.database} cannot be read to back it up ({exc})",
                        hint="If it is damaged, restore a backup with 'scriptbatch backup "
                        "restore ID': the damaged file is kept beside the restored one.",
                    ) from None
                _add_file(zf, members, SQLITE_MEMBER, snapshot)
            return {"kind": "sqlite"}
        counts: dict[str, int] = {}
        with self._engine.connect() as conn, conn.begin():
            for table in Base.metadata.sorted_tables:
                buffer = io.BytesIO()
                count = 0
                for row in conn.execute(select(table)).mappings():
                    buffer.write(json.dumps({k: _encode(v) for k, v in row.items()}).encode())
                    buffer.write(b"\n")
                    count += 1
                data = buffer.getvalue()
                name = f"database/{table.name}.jsonl"
                zf.writestr(name, data)
                members[name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
                counts[table.name] = count
        return {"kind": "dump", "tables": counts}

    def _log_files(self) -> Iterator[tuple[str, Path]]:
        runs = self._root / "runs"
        if not runs.is_dir():
            return
        for path in sorted(runs.rglob("*")):
            if path.is_file() and path.suffix in (".log", ".idx"):
                yield path.relative_to(self._root).as_posix(), path

    # -- reading and checking ----------------------------------------------------------------

    def read(self, path: str) -> BackupRecord:
        manifest = self._manifest(path)
        return BackupRecord(
            id=manifest["id"],
            path=str(path),
            kind=manifest.get("kind") or "manual",
            created_at=_aware(datetime.fromisoformat(manifest["created_at"])),
            size_bytes=os.path.getsize(path),
            sha256=_sha256_file(Path(path)),
            app_version=manifest.get("app_version") or "?",
            schema_revision=manifest.get("schema_revision"),
            base_id=manifest.get("base_id"),
            includes_logs=bool(manifest.get("logs")),
            note=manifest.get("note"),
        )

    def log_members(self, path: str) -> dict[str, str]:
        return dict(self._manifest(path).get("logs") or {})

    def verify(self, path: str) -> None:
        manifest = self._manifest(path)
        if manifest.get("digest") != _manifest_digest(manifest):
            raise BackupError(
                f"backup {path} is damaged: its manifest was changed after it was written",
                hint="Use another backup.",
            )
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
                for name, expected in manifest["members"].items():
                    if name not in names:
                        raise BackupError(
                            f"backup {path} is damaged: {name} is missing",
                            hint="Use another backup.",
                        )
                    digest, size = _sha256_member(zf, name)
                    if digest != expected["sha256"] or size != expected["size"]:
                        raise BackupError(
                            f"backup {path} is damaged: {name} does not match its checksum",
                            hint="Use another backup.",
                        )
                self._verify_database(zf, manifest, path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error) as exc:
            raise BackupError(
                f"backup {path} cannot be read: {exc}",
                hint="The file is damaged or truncated; use another backup.",
            ) from None

    def _verify_database(self, zf: zipfile.ZipFile, manifest: dict[str, Any], path: str) -> None:
        database = manifest.get("database") or {}
        if database.get("kind") == "sqlite":
            with tempfile.TemporaryDirectory(prefix="scriptbatch-verify-") as tmp:
                snapshot = Path(zf.extract(SQLITE_MEMBER, tmp))
                try:
                    conn = sqlite3.connect(snapshot)
                    try:
                        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
                    finally:
                        conn.close()
                except sqlite3.DatabaseError as exc:
                    result = str(exc)
                if result != "ok":
                    raise BackupError(
                        f"backup {path} is damaged: its database fails the integrity check "
                        f"({result})",
                        hint="Use another backup.",
                    )
            return
        for table, count in (database.get("tables") or {}).items():
            lines = zf.read(f"database/{table}.jsonl").count(b"\n")
            if lines != count:
                raise BackupError(
                    f"backup {path} is damaged: table {table} has {lines} rows, "
                    f"the manifest says {count}",
                    hint="Use another backup.",
                )

    def _manifest(self, path: str) -> dict[str, Any]:
        """The archive's manifest, checked to hold every field this version relies on."""
        if os.path.isdir(path):
            raise BackupError(f"{path} is a folder, not a backup file")
        try:
            with zipfile.ZipFile(path) as zf:
                manifest = json.loads(zf.read(MANIFEST))
        except FileNotFoundError:
            raise BackupError(f"backup {path} does not exist") from None
        except KeyError:
            raise BackupError(
                f"backup {path} has no manifest: it is not a ScriptBatch backup or it is damaged"
            ) from None
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, RecursionError) as exc:
            raise BackupError(
                f"backup {path} cannot be read: {exc}",
                hint="The file is damaged or truncated; use another backup.",
            ) from None
        version = manifest.get("format") if isinstance(manifest, dict) else None
        if isinstance(version, int) and version > FORMAT:
            raise BackupError(
                f"backup {path} was written by a newer version of ScriptBatch (archive "
                f"format {version}; this version reads format {FORMAT})",
                hint="Upgrade ScriptBatch to use this backup.",
            )
        problem = _manifest_problem(manifest)
        if problem is not None:
            raise BackupError(
                f"{path} is not a valid ScriptBatch backup: its manifest {problem}",
                hint="Use another backup; ScriptBatch backups are made by "
                "'scriptbatch backup create'.",
            )
        return manifest  # type: ignore[no-any-return]

    # -- the live database -------------------------------------------------------------------

    def damage(self) -> str | None:
        """What is wrong with the live SQLite file, or None (also for other databases)."""
        return sqlite_damage(self._engine)

    def set_aside_damaged(self) -> tuple[str, Callable[[], None]]:
        """Rename the live SQLite file (with its -wal and -shm) to ``<name>.damaged-<time>``,
        so that a restore can put a backup's database in its place without losing it. Returns
        the new path and a function that puts the file back."""
        url = self._engine.url
        if url.get_backend_name() != "sqlite" or not url.database:
            raise BackupError(
                f"only a SQLite database file can be set aside, not the database "
                f"{url.render_as_string(hide_password=True)}"
            )
        live = Path(url.database)
        self._engine.dispose()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        aside = live.with_name(f"{live.name}.damaged-{stamp}")
        moved = []
        for suffix in ("", "-wal", "-shm"):
            source = live.with_name(live.name + suffix)
            if source.exists():
                os.replace(source, aside.with_name(aside.name + suffix))
                moved.append(suffix)
        _fsync_dir(live.parent)

        def put_back() -> None:
            if not aside.exists():
                return  # already back: never remove a live file with nothing to put back
            self._engine.dispose()
            for suffix in ("", "-wal", "-shm"):
                live.with_name(live.name + suffix).unlink(missing_ok=True)
            for suffix in moved:
                os.replace(aside.with_name(aside.name + suffix), live.with_name(live.name + suffix))
            _fsync_dir(live.parent)

        return str(aside), put_back

    # -- restoring ---------------------------------------------------------------------------

    def install(self, path: str, chain: Sequence[str]) -> Callable[[], None]:
        """Database first (a file swap for SQLite, a transaction elsewhere), then the config,
        then the logs. Each step records how to undo it; the returned function undoes them."""
        undo: list[Callable[[], None]] = []
        try:
            manifest = self._manifest(path)
            with zipfile.ZipFile(path) as zf:
                undo.append(self._install_database(zf, manifest))
                undo.append(self._install_config(zf))
            undo.append(self._install_logs(manifest, [path, *chain]))
        except BaseException:
            for step in reversed(undo):
                step()
            raise

        def undo_all() -> None:
            for step in reversed(undo):
                step()

        return undo_all

    def _install_database(
        self, zf: zipfile.ZipFile, manifest: dict[str, Any]
    ) -> Callable[[], None]:
        url = self._engine.url
        kind = (manifest.get("database") or {}).get("kind")
        if url.get_backend_name() == "sqlite" and url.database and kind == "sqlite":
            return self._swap_sqlite_file(zf, Path(url.database))
        return self._load_rows(zf, manifest)

    def _swap_sqlite_file(self, zf: zipfile.ZipFile, live: Path) -> Callable[[], None]:
        """Write the snapshot beside the live file, fsync, and ``os.replace`` it in; the old
        file stays beside it until the restore is confirmed. With no live file (a damaged one
        was set aside), undoing removes the restored file."""
        had_live = live.exists()
        self._engine.dispose()
        if had_live:
            with self._engine.connect() as conn:  # an empty WAL: nothing may be replayed later
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            self._engine.dispose()
        incoming = live.with_name(live.name + ".restore")
        previous = live.with_name(live.name + ".before-restore")
        with zf.open(SQLITE_MEMBER) as src, open(incoming, "wb") as dst:
            shutil.copyfileobj(src, dst, _CHUNK)
            dst.flush()
            os.fsync(dst.fileno())
        if had_live:
            shutil.copy2(live, previous)
            _fsync(previous)
        crash_point("before-replace")
        for suffix in ("-wal", "-shm"):
            live.with_name(live.name + suffix).unlink(missing_ok=True)
        os.replace(incoming, live)
        _fsync_dir(live.parent)
        crash_point("after-replace")

        def undo() -> None:
            self._engine.dispose()
            for suffix in ("-wal", "-shm"):
                live.with_name(live.name + suffix).unlink(missing_ok=True)
            if had_live:
                os.replace(previous, live)
            else:
                live.unlink(missing_ok=True)
            _fsync_dir(live.parent)

        return undo

    def _load_rows(self, zf: zipfile.ZipFile, manifest: dict[str, Any]) -> Callable[[], None]:
        """Any backend: replace every table's rows in one transaction (from a dump, or from a
        SQLite snapshot read row by row). The transaction is the undo: it commits only if all
        of it worked."""
        with tempfile.TemporaryDirectory(prefix="scriptbatch-restore-") as tmp:
            rows = self._rows_from_archive(zf, manifest, Path(tmp))
            with self._engine.begin() as conn:
                for table in reversed(Base.metadata.sorted_tables):
                    conn.execute(delete(table))
                for table in Base.metadata.sorted_tables:
                    known = {c.name for c in table.columns}
                    batch = [
                        {k: v for k, v in row.items() if k in known}
                        for row in rows.get(table.name, [])
                    ]
                    if batch:
                        conn.execute(insert(table), [_decode_row(table, r) for r in batch])
        return lambda: None  # a failed load rolled back; a committed one is the restore

    def _rows_from_archive(
        self, zf: zipfile.ZipFile, manifest: dict[str, Any], tmp: Path
    ) -> dict[str, list[dict[str, Any]]]:
        kind = (manifest.get("database") or {}).get("kind")
        if kind == "sqlite":
            snapshot = Path(zf.extract(SQLITE_MEMBER, tmp))
            conn = sqlite3.connect(snapshot)
            conn.row_factory = sqlite3.Row
            try:
                tables = {
                    r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
                }
                return {
                    t.name: [dict(r) for r in conn.execute(f'SELECT * FROM "{t.name}"')]
                    for t in Base.metadata.sorted_tables
                    if t.name in tables
                }
            finally:
                conn.close()
        rows: dict[str, list[dict[str, Any]]] = {}
        for table in (manifest.get("database") or {}).get("tables") or {}:
            data = zf.read(f"database/{table}.jsonl").decode()
            rows[table] = [json.loads(line) for line in data.splitlines() if line]
        return rows

    def _install_config(self, zf: zipfile.ZipFile) -> Callable[[], None]:
        if CONFIG_MEMBER not in zf.namelist():
            return lambda: None
        saved = self._config.read_bytes() if self._config.is_file() else None
        self._config.parent.mkdir(parents=True, exist_ok=True)
        incoming = self._config.with_name(self._config.name + ".restore")
        incoming.write_bytes(zf.read(CONFIG_MEMBER))
        os.replace(incoming, self._config)

        def undo() -> None:
            if saved is None:
                self._config.unlink(missing_ok=True)
            else:
                self._config.write_bytes(saved)

        return undo

    def _install_logs(self, manifest: dict[str, Any], chain: list[str]) -> Callable[[], None]:
        """Each log of the inventory comes from the newest archive in the chain holding it.
        Logs are only added or rewritten, never deleted: undo is not needed for them."""
        inventory: dict[str, str] = manifest.get("logs") or {}
        wanted = dict(inventory)
        for archive in chain:
            if not wanted:
                break
            with zipfile.ZipFile(archive) as zf:
                names = set(zf.namelist())
                for relative in list(wanted):
                    member = LOGS_PREFIX + relative
                    if member in names:
                        target = self._root / relative
                        target.parent.mkdir(parents=True, exist_ok=True)
                        with zf.open(member) as src, open(target, "wb") as dst:
                            shutil.copyfileobj(src, dst, _CHUNK)
                        del wanted[relative]
        if wanted:
            log.warning("%d run logs were not found in the backup chain", len(wanted))
        return lambda: None

    def forget_previous(self) -> None:
        """The restore is confirmed: drop the saved database file."""
        url = self._engine.url
        if url.get_backend_name() == "sqlite" and url.database:
            live = Path(url.database)
            live.with_name(live.name + ".before-restore").unlink(missing_ok=True)


def crash_point(name: str) -> None:
    """Test hook: SIGKILL this process at ``name`` when SCRIPTBATCH_TEST_CRASH_AT names it
    (tests prove a restore killed half-way leaves the old or the new database, never a mix)."""
    if os.environ.get("SCRIPTBATCH_TEST_CRASH_AT") == name:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def recover_interrupted_restore(database: Path) -> str | None:
    """At start-up: a restore killed between the two renames leaves ``.restore`` and/or
    ``.before-restore`` files. The live file is always complete (``os.replace``); leftovers
    are cleaned up. Returns what was found, for the log."""
    incoming = database.with_name(database.name + ".restore")
    previous = database.with_name(database.name + ".before-restore")
    found = None
    if incoming.exists():
        incoming.unlink()
        found = "an unfinished restore (the previous database is in place)"
    if previous.exists():
        previous.unlink()
        found = found or "a finished restore's leftover copy"
    return found


def _add_file(
    zf: zipfile.ZipFile,
    members: dict[str, dict[str, Any]],
    name: str,
    source: Path,
    digest: str | None = None,
) -> None:
    zf.write(source, name)
    members[name] = {"sha256": digest or _sha256_file(source), "size": source.stat().st_size}


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sha256_member(zf: zipfile.ZipFile, name: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with zf.open(name) as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _manifest_problem(manifest: Any) -> str | None:
    """What the manifest lacks (in words that finish "its manifest ..."), or None."""
    if not isinstance(manifest, dict):
        return "is not a JSON object"
    if not isinstance(manifest.get("format"), int):
        return "has no format number"
    if not (isinstance(manifest.get("id"), str) and manifest["id"]):
        return "has no backup id"
    created = manifest.get("created_at")
    try:
        datetime.fromisoformat(created)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return f"has no valid creation time (created_at: {created!r})"
    for key in ("kind", "app_version", "schema_revision", "base_id", "note"):
        if not isinstance(manifest.get(key), str | None):
            return f"has an invalid {key}"
    members = manifest.get("members")
    if not isinstance(members, dict) or not all(
        isinstance(entry, dict)
        and isinstance(entry.get("sha256"), str)
        and isinstance(entry.get("size"), int)
        for entry in members.values()
    ):
        return "has no valid list of members"
    logs = manifest.get("logs")
    if logs is not None and not (
        isinstance(logs, dict)
        and all(_is_run_log_name(n) and isinstance(d, str) for n, d in logs.items())
    ):
        return "has an invalid list of run logs"
    database = manifest.get("database")
    if not isinstance(database, dict):
        return "does not describe a database"
    if database.get("kind") == "sqlite":
        needed = [SQLITE_MEMBER]
    elif database.get("kind") == "dump" and isinstance(database.get("tables"), dict):
        tables = database["tables"]
        if not all(isinstance(count, int) for count in tables.values()):
            return "has invalid table row counts"
        needed = [f"database/{table}.jsonl" for table in tables]
    else:
        return "does not describe a database"
    missing = [name for name in needed if name not in members]
    if missing:
        return f"does not list {missing[0]}"
    return None


def _is_run_log_name(name: object) -> bool:
    """A run log's path relative to the data directory: ``runs/...``, never leaving it."""
    if not isinstance(name, str) or "\\" in name:
        return False
    parts = name.split("/")
    return parts[0] == "runs" and len(parts) > 1 and all(p not in ("", ".", "..") for p in parts)


def _manifest_digest(manifest: dict[str, Any]) -> str:
    content = {k: v for k, v in manifest.items() if k != "digest"}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        _fsync(path)
    except OSError:
        pass  # not possible on every platform


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, bytes):
        return {"$b64": base64.b64encode(value).decode()}
    if isinstance(value, Decimal):
        return float(value)
    return value


def _decode_row(table: Any, row: dict[str, Any]) -> dict[str, Any]:
    """A row from a dump (tagged values) or from a SQLite file (text datetimes, JSON text,
    0/1 booleans) in the Python types the table's columns take."""
    decoded = {}
    for key, value in row.items():
        if isinstance(value, dict) and len(value) == 1:
            ((tag, payload),) = value.items()
            if tag == "$dt":
                value = _aware(datetime.fromisoformat(payload))
            elif tag == "$date":
                value = date.fromisoformat(payload)
            elif tag == "$b64":
                value = base64.b64decode(payload)
        elif value is not None:
            column_type = table.columns[key].type
            if isinstance(column_type, JSON) and isinstance(value, str):
                value = json.loads(value)
            elif isinstance(column_type, Boolean):
                value = bool(value)
            elif isinstance(column_type, UTCDateTime | DateTime) and isinstance(value, str):
                value = _aware(datetime.fromisoformat(value))
        decoded[key] = value
    return decoded


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
