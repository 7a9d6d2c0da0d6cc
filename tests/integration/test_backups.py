"""Backups end to end: real SQLite files, real zip archives, real processes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import threading
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from AppCode.container import build
from AppCode.core.domain.errors import BackupError
from AppCode.core.domain.ids import new_id
from AppCode.core.domain.models import Batch, BatchStatus, Execution, ExecutionStatus, RunOptions
from AppCode.infrastructure.data.orm import Base
from AppCode.infrastructure.storage.backups import MANIFEST, SQLITE_MEMBER
from AppCode.services.access import local_user_name
from AppCode.services.backup_service import BackupScheduler
from tests.conftest import CliRunner, wait_until, write_script

OLD_REVISION = "v1_0_0_initial"
# A script that runs until its gate file exists (the script polls, not the test).
GATED = (
    "import pathlib, time\n"
    "gate = pathlib.Path({gate!r})\n"
    "while not gate.exists():\n"
    "    time.sleep(0.02)\n"
)


# -- helpers --------------------------------------------------------------------------------


def run_batch(container: Any, paths: list[Path], **options: Any) -> str:
    service = container.batch_service()
    handle = service.start({"paths": [str(p) for p in paths], **options})
    assert service.wait(handle, 60)
    return str(handle.batch_id)


def table_rows(engine: Engine, *, skip: tuple[str, ...] = ("backup_records",)) -> dict[str, Any]:
    """Every row of every table (but ``skip``), in primary-key order."""
    rows = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in skip:
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            rows[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
    return rows


def sqlite_state(database: Path) -> tuple[set[str], set[str]]:
    """What tells two states apart: the library's script paths and the execution ids."""
    conn = sqlite3.connect(database)
    try:
        scripts = {r[0] for r in conn.execute("SELECT path FROM scripts")}
        executions = {r[0] for r in conn.execute("SELECT id FROM executions")}
    finally:
        conn.close()
    return scripts, executions


def integrity(database: Path) -> str:
    conn = sqlite3.connect(database)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def log_members(archive: str) -> list[str]:
    with zipfile.ZipFile(archive) as zf:
        return [n for n in zf.namelist() if n.startswith("logs/")]


def rewrite_zip(path: Path, change: dict[str, bytes | None]) -> None:
    """Rewrite the archive with members replaced (bytes) or dropped (None)."""
    with zipfile.ZipFile(path) as zf:
        members = [(info, zf.read(info.filename)) for info in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in members:
            if info.filename in change:
                replacement = change[info.filename]
                if replacement is None:
                    continue
                data = replacement
            zf.writestr(info.filename, data)


def member_data_span(path: Path, name: str) -> tuple[int, int]:
    """Where a member's compressed bytes are in the file: (start, length)."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(name)
    with open(path, "rb") as fh:
        fh.seek(info.header_offset)
        header = fh.read(30)
    assert header[:4] == b"PK\x03\x04"
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    return info.header_offset + 30 + name_len + extra_len, info.compress_size


def flip_byte(path: Path, position: int) -> None:
    with open(path, "r+b") as fh:
        fh.seek(position)
        byte = fh.read(1)
        fh.seek(position)
        fh.write(bytes([byte[0] ^ 0xFF]))


def populate(container: Any, tmp_path: Path) -> dict[str, Path]:
    """Scripts (one tagged), two batches with attempts and logs, metrics, and a row in each
    table nothing else fills."""
    scripts = {
        "ok": write_script(tmp_path / "jobs" / "ok.py", "print('fine')\n"),
        "bad": write_script(tmp_path / "jobs" / "bad.py", "raise SystemExit('broken')\n"),
        "extra": write_script(tmp_path / "jobs" / "extra.py", "print('extra')\n"),
    }
    library = container.script_service()
    library.add(scripts.values())
    library.tag(str(scripts["ok"]), ["nightly"])
    container.settings().execution.retry_backoff_s = 0.0
    run_batch(container, [scripts["ok"], scripts["bad"]], retries=1, jobs=2)
    run_batch(container, [scripts["extra"]], args=["a b"])
    monitoring = container.monitoring_service()
    monitoring.sample_once()
    monitoring._persist()
    tables = {t.name: t for t in Base.metadata.sorted_tables}
    with container.database().begin() as conn:
        ada = conn.execute(insert(tables["users"]), {"name": "ada", "role": "admin"})
        conn.execute(
            insert(tables["api_tokens"]),
            {"user_id": ada.inserted_primary_key[0], "label": "ci", "token_hash": "0" * 64},
        )
        conn.execute(
            insert(tables["audit_log"]),
            {"user": "ada", "action": "login", "outcome": "ok", "details": {"from": "cli"}},
        )
        conn.execute(insert(tables["plugin_state"]), {"name": "html_report", "enabled": True})
    return scripts


def run_logs(container: Any) -> dict[str, str]:
    """The run logs, by path relative to the data directory (as a manifest names them)."""
    root = container.data_dir().root
    return {
        p.relative_to(root).as_posix(): sha256(p)
        for p in sorted(container.data_dir().runs.rglob("*"))
        if p.is_file()
    }


# -- 1. round trip ----------------------------------------------------------------------------


def test_a_restore_brings_back_every_row_of_every_table(container, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    container.settings().backup.include_logs = True
    scripts = populate(container, tmp_path)
    before = table_rows(container.database())
    assert all(before[name] for name in before), "every table has rows to compare"
    logs_before = run_logs(container)
    assert logs_before

    backups = container.backup_service()
    backup = backups.create(note="round trip")
    assert backup.includes_logs and backup.schema_revision == container.migrator().head()

    # Change and delete: remove scripts, another batch, prune the whole history.
    library = container.script_service()
    library.remove(str(scripts["ok"]))
    library.remove(str(scripts["bad"]))
    run_batch(container, [write_script(tmp_path / "later.py")])
    assert container.batch_service().prune(timedelta(0)).executions > 0
    tables = {t.name: t for t in Base.metadata.sorted_tables}
    with container.database().begin() as conn:
        conn.execute(tables["plugin_state"].delete())
        conn.execute(insert(tables["users"]), {"name": "bob", "role": "viewer"})
    changed = table_rows(container.database())
    assert changed != before
    assert run_logs(container) != logs_before

    safety = backups.restore(backup.id)

    after = table_rows(container.database())
    # The restore itself is audited, in the restored database (so it is not lost with it).
    added = after["audit_log"][len(before["audit_log"]) :]
    assert after["audit_log"][: len(before["audit_log"])] == before["audit_log"]
    assert [(row[2], row[3], row[5]) for row in added] == [
        (local_user_name(), "restore backup", "succeeded")
    ]
    assert {k: v for k, v in after.items() if k != "audit_log"} == {
        k: v for k, v in before.items() if k != "audit_log"
    }
    assert {k: v for k, v in run_logs(container).items() if k in logs_before} == logs_before
    assert container.migrator().current() == container.migrator().head()
    assert {s.path for s in library.list()} == {str(p) for p in scripts.values()}
    # backup_records: the restored snapshot's records, plus the archives in the folder,
    # which include the pre-restore backup of the state that was replaced.
    records = {r.id: r for r in backups.backups()}
    assert set(records) == {backup.id, safety.id}
    assert records[safety.id].kind == "pre-restore"
    assert records[safety.id].note == f"before restoring {backup.id}"
    assert Path(safety.path).is_file()
    backups.verify(safety.id)

    # The pre-restore backup undoes the restore.
    backups.restore(safety.id)
    skip = ("backup_records", "audit_log")  # restores are audited: that table grows
    assert table_rows(container.database(), skip=skip) == {
        k: v for k, v in changed.items() if k != "audit_log"
    }


# -- 2. backup while the app writes -----------------------------------------------------------


def test_a_backup_taken_while_executions_are_inserted_is_consistent(
    container, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    per_batch = 5
    stop = threading.Event()
    errors: list[BaseException] = []
    inserted = [0]

    def insert_batches() -> None:
        try:
            while not stop.is_set():
                batch = Batch(new_id(), RunOptions(jobs=1), status=BatchStatus.SUCCEEDED)
                executions = [
                    Execution(
                        new_id(),
                        batch.id,
                        n,
                        f"/x/{n}.py",
                        status=ExecutionStatus.SUCCEEDED,
                        exit_code=0,
                        attempts=1,
                    )
                    for n in range(per_batch)
                ]
                with container.uow() as uow:
                    uow.batches.add(batch, executions)
                    uow.commit()
                inserted[0] += 1
        except BaseException as exc:
            errors.append(exc)

    writer = threading.Thread(target=insert_batches, daemon=True)
    writer.start()
    backups = container.backup_service()
    taken = []
    try:
        wait_until(lambda: inserted[0] >= 20, what="the writer to get going")
        for _ in range(3):
            low = inserted[0]
            record = backups.create(note="under load")
            taken.append((record, low, inserted[0]))
    finally:
        stop.set()
        writer.join(30)
    assert not errors, errors
    assert not writer.is_alive()
    assert any(high > low for _, low, high in taken), "the writer wrote during the backups"

    for record, low, high in taken:
        backups.verify(record.id)
        with zipfile.ZipFile(record.path) as zf:
            snapshot = Path(zf.extract(SQLITE_MEMBER, tmp_path / record.id))
        assert integrity(snapshot) == "ok"
        conn = sqlite3.connect(snapshot)
        try:
            batches = conn.execute("SELECT count(*) FROM batches").fetchone()[0]
            executions = conn.execute("SELECT count(*) FROM executions").fetchone()[0]
        finally:
            conn.close()
        # Whole transactions only, and as many as were committed around the backup.
        assert executions == per_batch * batches
        assert low <= batches <= high + 1


# -- 3. corruptions ---------------------------------------------------------------------------


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _flip_compressed_db_byte(path: Path) -> None:
    start, length = member_data_span(path, SQLITE_MEMBER)
    flip_byte(path, start + length // 2)


def _change_db_keep_manifest(path: Path) -> None:
    with zipfile.ZipFile(path) as zf:
        db = bytearray(zf.read(SQLITE_MEMBER))
    db[len(db) // 2] ^= 0xFF
    rewrite_zip(path, {SQLITE_MEMBER: bytes(db)})


def _drop_db_member(path: Path) -> None:
    rewrite_zip(path, {SQLITE_MEMBER: None})


def _edit_manifest(path: Path) -> None:
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read(MANIFEST))
    manifest["kind"] = "scheduled"
    rewrite_zip(path, {MANIFEST: json.dumps(manifest).encode()})


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_truncate, "cannot be read"),
        (_flip_compressed_db_byte, SQLITE_MEMBER),
        (_change_db_keep_manifest, f"{SQLITE_MEMBER} does not match its checksum"),
        (_drop_db_member, f"{SQLITE_MEMBER} is missing"),
        (_edit_manifest, "its manifest was changed"),
    ],
    ids=["truncated", "flipped-byte", "changed-db", "dropped-member", "edited-manifest"],
)
def test_a_damaged_archive_fails_verification(  # type: ignore[no-untyped-def]
    container, cli: CliRunner, damage, message: str
) -> None:
    backups = container.backup_service()
    record = backups.create()
    backups.verify(record.id)
    path = Path(record.path)
    damage(path)

    with pytest.raises(BackupError) as raised:
        container.backup_archiver().verify(str(path))
    assert message in raised.value.message and str(path) in raised.value.message
    with pytest.raises(BackupError) as raised:
        backups.verify(record.id)
    assert str(path) in raised.value.message
    assert any(
        what in raised.value.message
        for what in ("damaged", "cannot be read", "changed after it was written")
    ), raised.value.message
    assert next(r for r in backups.backups() if r.id == record.id).verified_ok is not True

    result = cli("backup", "verify", str(path))
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("invalid:") and str(path) in result.stderr
    # And a restore of it is refused with nothing changed.
    skip = ("backup_records", "audit_log")  # the refused restore is audited
    before = table_rows(container.database(), skip=skip)
    with pytest.raises(BackupError):
        backups.restore(str(path))
    assert table_rows(container.database(), skip=skip) == before


def test_any_flipped_byte_in_the_compressed_database_is_a_backup_error(  # type: ignore[no-untyped-def]
    container,
) -> None:
    """Whatever byte is hit, verify() reports a BackupError (never a raw zlib error)."""
    record = container.backup_service().create()
    pristine = Path(record.path).read_bytes()
    start, length = member_data_span(Path(record.path), SQLITE_MEMBER)
    damaged = Path(record.path).with_name("damaged.zip")
    failures = []
    for position in sorted({start, start + 1, start + length // 8, start + length // 2}):
        damaged.write_bytes(pristine)
        flip_byte(damaged, position)
        try:
            container.backup_archiver().verify(str(damaged))
        except BackupError as exc:
            assert str(damaged) in exc.message
        except Exception as exc:
            failures.append(f"offset {position - start}: {type(exc).__name__}: {exc}")
        else:
            failures.append(f"offset {position - start}: not detected")
    assert not failures, failures


# -- 4. older schema --------------------------------------------------------------------------


def test_an_older_database_gets_a_pre_migration_backup_whose_restore_migrates_forward(
    data_home: Path, tmp_path: Path
) -> None:
    first = build(data_home)
    try:
        job = write_script(tmp_path / "old.py", "print('old')\n")
        first.script_service().add([job])
        batch_id = run_batch(first, [job])
        migrator = first.migrator()
        migrator.downgrade(OLD_REVISION)
        assert migrator.current() == OLD_REVISION
        # The archiver writes a backup of the older schema as it is.
        old = first.backup_archiver().write(
            str(tmp_path / "old-schema.zip"),
            kind="manual",
            note="at 1.0",
            include_logs=False,
            base=None,
        )
        assert old.schema_revision == OLD_REVISION
        first.backup_archiver().verify(old.path)
        expected = sqlite_state(first.data_dir().database)
    finally:
        first.shutdown_resources()

    # Opening the older database: a pre-migration backup first, then the upgrade.
    app = build(data_home)
    try:
        migrator = app.migrator()
        assert migrator.current() == migrator.head()
        backups = app.backup_service()
        (pre,) = [r for r in backups.backups() if r.kind == "pre-migration"]
        assert pre.schema_revision == OLD_REVISION and pre.note == f"before {OLD_REVISION}"
        assert backups.verify(pre.id).verified_ok
        with zipfile.ZipFile(pre.path) as zf:
            snapshot = Path(zf.extract(SQLITE_MEMBER, tmp_path / "pre"))
        conn = sqlite3.connect(snapshot)
        try:
            assert conn.execute("SELECT version_num FROM schema_version").fetchall() == [
                (OLD_REVISION,)
            ]
        finally:
            conn.close()

        # Change the data, then restore each older backup: the schema is migrated forward.
        app.script_service().remove(str(job))
        run_batch(app, [write_script(tmp_path / "new.py")])
        assert sqlite_state(app.data_dir().database) != expected
        for ref in (pre.id, old.path):
            backups.restore(ref)
            assert migrator.current() == migrator.head()
            assert sqlite_state(app.data_dir().database) == expected
            (script,) = app.script_service().list()
            assert script.path == str(job) and script.sandbox_policy is None
            assert app.history_service().batch(batch_id)[0].id == batch_id
            run_batch(app, [job])  # the restored database is fully usable
            app.script_service().remove(str(job))
    finally:
        app.shutdown_resources()


# -- 5. restore while a batch runs ------------------------------------------------------------


def test_a_restore_is_refused_while_a_batch_runs_here(container, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    backups = container.backup_service()
    record = backups.create()
    gate = tmp_path / "gate"
    waiting = write_script(tmp_path / "wait.py", GATED.format(gate=str(gate)))
    container.script_service().add([waiting])
    service = container.batch_service()
    handle = service.start({"paths": [str(waiting)]})
    try:
        scripts_before = table_rows(container.database())["scripts"]
        files_before = sorted(backups.directory.iterdir())
        with pytest.raises(BackupError, match="a batch is running"):
            backups.restore(record.id)
        assert table_rows(container.database())["scripts"] == scripts_before
        assert sorted(backups.directory.iterdir()) == files_before
        assert [r.id for r in backups.backups()] == [record.id]
    finally:
        gate.touch()
        assert service.wait(handle, 60)
    backups.restore(record.id)  # once it has finished, the restore goes ahead
    assert container.script_service().list() == []


def test_a_batch_running_when_the_backup_was_taken_is_interrupted_once_restored(  # type: ignore[no-untyped-def]
    container, tmp_path: Path
) -> None:
    """The restored rows name this very process as the batch's owner; without closing them
    the batch would look running until a restart, and block every later restore."""
    backups = container.backup_service()
    gate = tmp_path / "gate"
    waiting = write_script(tmp_path / "wait.py", GATED.format(gate=str(gate)))
    service = container.batch_service()
    handle = service.start({"paths": [str(waiting)] * 2, "jobs": 1})
    try:
        record = backups.create()  # the batch unfinished in it
    finally:
        gate.touch()
    assert service.wait(handle, 60)

    backups.restore(record.id)

    batch, executions = container.history_service().batch(handle.batch_id)
    assert batch.status is BatchStatus.FAILED and batch.finished_at is not None
    assert {e.status for e in executions} == {ExecutionStatus.INTERRUPTED}
    assert not service.running_anywhere()
    assert service.cancel(handle.batch_id) is False
    backups.restore(record.id)  # not refused as "a batch is running"


def test_a_restore_is_refused_while_another_process_runs_a_batch(
    cli: CliRunner, data_home: Path, tmp_path: Path
) -> None:
    created = cli("backup", "create", "--json")
    assert created.returncode == 0, created.stderr
    backup_id = json.loads(created.stdout)["id"]
    gate = tmp_path / "gate"
    waiting = write_script(tmp_path / "wait.py", GATED.format(gate=str(gate)))
    runner = subprocess.Popen(
        [sys.executable, "-m", "AppCode", "run", str(waiting)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        database = data_home / "scriptbatch.db"

        def running() -> bool:
            try:
                conn = sqlite3.connect(database, timeout=5)
                try:
                    return bool(
                        conn.execute(
                            "SELECT count(*) FROM executions WHERE status = 'running'"
                        ).fetchone()[0]
                    )
                finally:
                    conn.close()
            except sqlite3.Error:
                return False

        wait_until(running, timeout=30, what="the other process's batch to run")
        before = sqlite_state(database)
        result = cli("backup", "restore", backup_id, "--yes")
        assert result.returncode != 0
        assert "a batch is running" in result.stderr
        assert sqlite_state(database) == before
        assert runner.poll() is None
    finally:
        gate.touch()
        try:
            assert runner.wait(60) == 0
        finally:
            if runner.poll() is None:
                runner.kill()
                runner.wait()


# -- 6. killed in the middle of a restore ----------------------------------------------------


@pytest.mark.parametrize("crash_at", ["before-replace", "after-replace"])
def test_a_restore_killed_half_way_leaves_the_old_or_the_new_database(
    cli: CliRunner, data_home: Path, tmp_path: Path, crash_at: str
) -> None:
    app = build(data_home)
    try:
        a = write_script(tmp_path / "a.py")
        b = write_script(tmp_path / "b.py")
        app.script_service().add([a, b])
        run_batch(app, [a, b])
        backup = app.backup_service().create()
        database = app.data_dir().database
        in_backup = sqlite_state(database)
        app.script_service().remove(str(a))
        c = write_script(tmp_path / "c.py")
        app.script_service().add([c])
        run_batch(app, [c])
        current = sqlite_state(database)
        assert current != in_backup
    finally:
        app.shutdown_resources()

    killed = subprocess.run(
        [
            *(sys.executable, "-m", "AppCode", "--data-dir", str(data_home)),
            *("backup", "restore", backup.id, "--yes"),
        ],
        env=dict(os.environ, SCRIPTBATCH_TEST_CRASH_AT=crash_at),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    incoming = database.with_name(database.name + ".restore")
    previous = database.with_name(database.name + ".before-restore")
    assert previous.exists()
    assert incoming.exists() == (crash_at == "before-replace")

    history = cli("history", "--json")
    assert history.returncode == 0, history.stderr
    expected = current if crash_at == "before-replace" else in_backup
    assert {e["id"] for e in json.loads(history.stdout)} == expected[1]
    assert not incoming.exists() and not previous.exists()
    assert integrity(database) == "ok"
    assert sqlite_state(database) == expected

    app = build(data_home)
    try:
        assert app.migrator().current() == app.migrator().head()
        assert {s.path for s in app.script_service().list()} == expected[0]
        kinds = {r.kind for r in app.backup_service().backups()}
        assert kinds == {"manual", "pre-restore"}
    finally:
        app.shutdown_resources()


# -- 7. retention and incremental logs --------------------------------------------------------


def test_retention_keeps_the_newest_the_verified_and_every_needed_base(  # type: ignore[no-untyped-def]
    container, tmp_path: Path
) -> None:
    settings = container.settings().backup
    settings.keep_last = 3
    settings.include_logs = False
    backups = container.backup_service()
    job = write_script(tmp_path / "job.py", "import sys; print('run', sys.argv[1:])\n")

    b1 = backups.create(note="1")
    b2 = backups.create(note="2")
    backups.verify(b1.id)
    settings.include_logs = True
    settings.incremental_logs = True
    chain = []
    new_logs = []
    for n in range(4):
        before = set(run_logs(container))
        if n < 3:
            run_batch(container, [job], args=[str(n)])
        new_logs.append(set(run_logs(container)) - before)
        chain.append(backups.create(note=f"logs {n}"))
        remaining = {r.id: r for r in backups.backups()}
        for record in remaining.values():  # never a kept backup without its base
            assert record.base_id is None or record.base_id in remaining
    b3, b4, b5, b6 = chain
    assert b3.base_id is None and b4.base_id == b3.id
    assert b5.base_id == b4.id and b6.base_id == b5.id

    # keep_last 3 (b6, b5, b4) + the newest verified (b1) + the base b4 needs (b3): b2 goes.
    remaining = {r.id for r in backups.backups()}
    assert remaining == {b1.id, b3.id, b4.id, b5.id, b6.id}
    assert not Path(b2.path).exists()
    assert {p.name for p in backups.directory.glob("*.zip")} == {
        Path(r.path).name for r in (b1, b3, b4, b5, b6)
    }

    # Each incremental archive stores only the logs that are new since its base.
    for record, expected in zip(chain, new_logs, strict=True):
        assert {m.removeprefix("logs/") for m in log_members(record.path)} == expected
    assert log_members(b6.path) == []
    inventory = container.backup_archiver().log_members(b6.path)
    assert set(inventory) == set().union(*new_logs)

    # Restoring the newest brings every log of its inventory back from the chain.
    shutil.rmtree(container.data_dir().runs)
    backups.restore(b6.id)
    root = container.data_dir().root
    for relative, digest in inventory.items():
        assert sha256(root / relative) == digest, relative

    # However small keep_last gets, the chain of a kept backup stays whole.
    container.settings().backup.keep_last = 1
    settings.keep_last = 1
    backups.prune()
    remaining_records = {r.id: r for r in backups.backups()}
    for record in remaining_records.values():
        assert record.base_id is None or record.base_id in remaining_records
    assert {b1.id, b3.id, b4.id, b5.id, b6.id} <= set(remaining_records)


# -- 8. scheduling ----------------------------------------------------------------------------


def test_a_scheduled_backup_is_due_after_the_interval(container) -> None:  # type: ignore[no-untyped-def]
    settings = container.settings().backup
    backups = container.backup_service()
    settings.auto_interval_h = 24
    assert backups.due()  # none yet
    record = backups.create()
    assert not backups.due(now=record.created_at + timedelta(hours=1))
    assert backups.due(now=record.created_at + timedelta(hours=24, seconds=1))
    settings.auto_interval_h = 0
    assert not backups.due(now=record.created_at + timedelta(days=365))


def test_the_scheduler_catches_up_at_once_when_there_is_no_backup(container) -> None:  # type: ignore[no-untyped-def]
    container.settings().backup.auto_interval_h = 24
    backups = container.backup_service()
    scheduler = BackupScheduler(backups, check_every_s=0.05)
    scheduler.start()
    try:
        wait_until(
            lambda: any(r.kind == "scheduled" for r in backups.backups()),
            timeout=20,
            what="a scheduled backup",
        )
    finally:
        scheduler.stop()
    (scheduled,) = [r for r in backups.backups() if r.kind == "scheduled"]
    assert Path(scheduled.path).is_file()
    backups.verify(scheduled.id)


# -- after a restore ------------------------------------------------------------------------


def test_a_restore_puts_the_backups_config_in_force(data_home: Path) -> None:
    """The restored config.toml is what the running app uses from then on."""
    config = data_home / "config.toml"
    data_home.mkdir(parents=True, exist_ok=True)
    config.write_text("[backup]\nkeep_last = 7\n", encoding="utf-8")
    app = build(data_home)
    try:
        backup = app.backup_service().create()
    finally:
        app.shutdown_resources()
    config.write_text("[backup]\nkeep_last = 2\n", encoding="utf-8")
    app = build(data_home)
    try:
        backups = app.backup_service()
        backups.restore(backup.id)
        assert "keep_last = 7" in config.read_text(encoding="utf-8")
        assert app.settings().backup.keep_last == 7
        for _ in range(4):
            backups.create()
        # 1 + the pre-restore backup + 4: all within keep_last = 7.
        assert len(list(backups.directory.glob("*.zip"))) == 6
    finally:
        app.shutdown_resources()


def test_a_successful_restore_leaves_no_copy_of_the_old_database(container) -> None:  # type: ignore[no-untyped-def]
    backups = container.backup_service()
    record = backups.create()
    backups.restore(record.id)
    database = container.data_dir().database
    assert sorted(p.name for p in database.parent.glob(database.name + ".*")) == []


# -- what retention and restores may never lose ----------------------------------------------


def test_safety_copies_never_push_out_the_users_backups(container) -> None:  # type: ignore[no-untyped-def]
    container.settings().backup.keep_last = 2
    backups = container.backup_service()
    mine = [backups.create(kind="manual"), backups.create(kind="scheduled")]
    safety = [backups.create(kind="pre-migration") for _ in range(4)]
    safety.append(backups.create(kind="pre-restore"))

    remaining = {r.id for r in backups.backups()}
    assert remaining == {r.id for r in mine} | {r.id for r in safety[-2:]}
    assert all(Path(r.path).is_file() for r in mine)


def test_a_record_moved_onto_a_copy_elsewhere_points_back_at_its_archive(  # type: ignore[no-untyped-def]
    container, tmp_path: Path
) -> None:
    """Data an older version left: its ``verify COPY`` moved the record onto the copy."""
    backups = container.backup_service()
    record = backups.create()
    copy = tmp_path / "copy.zip"
    shutil.copy(record.path, copy)
    flip_byte(copy, 230)
    tables = {t.name: t for t in Base.metadata.sorted_tables}
    with container.database().begin() as conn:
        conn.execute(
            tables["backup_records"]
            .update()
            .where(tables["backup_records"].c.id == record.id)
            .values(path=str(copy), sha256=sha256(copy), verified_ok=False)
        )

    (listed,) = backups.backups()
    assert listed.path == record.path and listed.sha256 == record.sha256
    assert listed.verified_ok is None
    backups.verify(record.id)
    container.settings().backup.keep_last = 1
    backups.create()
    backups.create()
    assert copy.is_file()  # never deleted: it is not in the backup folder


def test_a_manifest_naming_logs_outside_the_data_directory_is_refused(  # type: ignore[no-untyped-def]
    container, tmp_path: Path
) -> None:
    record = container.backup_service().create()
    path = Path(record.path)
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read(MANIFEST))
    escape = "runs/../../escaped.log"
    manifest["logs"] = {escape: hashlib.sha256(b"gotcha").hexdigest()}
    content = {k: v for k, v in manifest.items() if k != "digest"}
    manifest["digest"] = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    rewrite_zip(path, {MANIFEST: json.dumps(manifest).encode()})
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("logs/" + escape, b"gotcha")

    with pytest.raises(BackupError, match="not a valid ScriptBatch backup"):
        container.backup_service().restore(str(path))
    assert not (container.data_dir().root.parent / "escaped.log").exists()


def test_a_failed_restore_over_a_damaged_database_puts_the_damaged_file_back(  # type: ignore[no-untyped-def]
    container, tmp_path: Path
) -> None:
    database = container.data_dir().database
    engine = container.database()
    # A valid archive this version cannot migrate: its schema is from a newer version.
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE schema_version SET version_num = 'v9_9_9_future'")
    newer = container.backup_archiver().write(
        str(container.backup_service().directory / "scriptbatch-newer-manual.zip"),
        kind="manual",
        note=None,
        include_logs=False,
        base=None,
    )
    engine.dispose()
    for leftover in database.parent.glob(database.name + "-*"):
        leftover.unlink()
    database.write_bytes(b"this is not a database" * 100)
    damaged = database.read_bytes()

    backups = container.backup_service()
    with pytest.raises(BackupError, match="previous state is back"):
        backups.restore_over_damaged(newer.path)
    assert database.read_bytes() == damaged
    assert sorted(p.name for p in database.parent.glob(database.name + "*")) == [database.name]
