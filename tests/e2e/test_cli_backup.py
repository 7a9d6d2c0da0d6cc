"""``scriptbatch backup create|list|verify|restore|prune`` as a user runs them."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from AppCode.infrastructure.data.database import create_database_engine, sqlite_url
from AppCode.infrastructure.data.migrations import Migrator
from tests.conftest import CliRunner, write_script

CREATE_KEYS = {"id", "path", "kind", "created_at", "size_bytes", "sha256"}


def create(cli: CliRunner, *extra: str) -> dict[str, object]:
    result = cli("backup", "create", "--json", *extra)
    assert result.returncode == 0, result.stderr
    record: dict[str, object] = json.loads(result.stdout)
    return record


def script_paths(cli: CliRunner) -> set[str]:
    result = cli("scripts", "list", "--json")
    assert result.returncode == 0, result.stderr
    return {s["path"] for s in json.loads(result.stdout)}


def test_create_prints_the_record_and_list_shows_it(cli: CliRunner) -> None:
    record = create(cli, "--note", "before the upgrade")
    assert set(record) >= CREATE_KEYS
    assert record["kind"] == "manual" and record["note"] == "before the upgrade"
    path = Path(str(record["path"]))
    assert path.is_file() and path.suffix == ".zip"
    assert record["size_bytes"] == path.stat().st_size
    assert record["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert str(record["created_at"]).startswith("20")

    second = create(cli)
    listed = cli("backup", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    records = json.loads(listed.stdout)
    assert [r["id"] for r in records] == [second["id"], record["id"]]  # newest first
    assert records[1]["path"] == record["path"] and records[1]["sha256"] == record["sha256"]

    table = cli("backup", "list")
    assert table.returncode == 0 and str(record["id"]) in table.stdout


def test_verify_exits_0_for_a_good_backup_and_1_for_a_damaged_one(cli: CliRunner) -> None:
    record = create(cli)
    ok = cli("backup", "verify", str(record["id"]))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("valid:")
    assert json.loads(cli("backup", "list", "--json").stdout)[0]["verified_ok"] is True

    path = Path(str(record["path"]))
    path.write_bytes(path.read_bytes()[:-100])
    bad = cli("backup", "verify", str(path))
    assert bad.returncode == 1
    assert bad.stderr.startswith("invalid:") and str(path) in bad.stderr


def test_restore_asks_for_confirmation_and_with_yes_restores(
    cli: CliRunner, data_home: Path, tmp_path: Path
) -> None:
    first = write_script(tmp_path / "first.py")
    assert cli("scripts", "add", str(first)).returncode == 0
    record = create(cli)
    second = write_script(tmp_path / "second.py")
    assert cli("scripts", "add", str(second)).returncode == 0

    # No terminal to ask on, no --yes: refused with a hint, nothing changed.
    asked = subprocess.run(
        [sys.executable, "-m", "AppCode", "backup", "restore", str(record["id"])],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=dict(os.environ, PYTHONIOENCODING="utf-8"),
        cwd=data_home.parent,
        timeout=60,
    )
    assert asked.returncode == 2, asked.stderr
    assert "--yes" in asked.stderr and "hint:" in asked.stderr
    assert script_paths(cli) == {str(first), str(second)}

    restored = cli("backup", "restore", str(record["id"]), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert f"restored backup {record['id']}" in restored.stdout
    assert script_paths(cli) == {str(first)}
    kinds = [r["kind"] for r in json.loads(cli("backup", "list", "--json").stdout)]
    assert sorted(kinds) == ["manual", "pre-restore"]


def test_prune_deletes_backups_beyond_keep_last(cli: CliRunner, data_home: Path) -> None:
    made = [create(cli)["id"] for _ in range(3)]
    (data_home / "config.toml").write_text("[backup]\nkeep_last = 1\n", encoding="utf-8")
    result = cli("backup", "prune")
    assert result.returncode == 0, result.stderr
    assert "deleted 2 backups" in result.stdout
    left = json.loads(cli("backup", "list", "--json").stdout)
    assert [r["id"] for r in left] == [made[-1]]
    assert len(list((data_home / "backups").glob("*.zip"))) == 1


def test_an_unknown_backup_id_exits_2(cli: CliRunner) -> None:
    create(cli)
    for action in (("verify", "nosuchid"), ("restore", "nosuchid", "--yes")):
        result = cli("backup", *action)
        assert result.returncode == 2, (action, result.stderr)
        assert "no backup with id 'nosuchid'" in result.stderr


# -- a copy elsewhere is only reported on ----------------------------------------------------


def backup_list(cli: CliRunner) -> list[dict[str, Any]]:
    result = cli("backup", "list", "--json")
    assert result.returncode == 0, result.stderr
    records: list[dict[str, Any]] = json.loads(result.stdout)
    return records


def test_verifying_a_copy_elsewhere_leaves_the_record_and_pruning_never_deletes_it(
    cli: CliRunner, data_home: Path, tmp_path: Path
) -> None:
    record = create(cli)
    original = Path(str(record["path"]))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    damaged, intact = elsewhere / "copy.zip", elsewhere / "intact.zip"
    shutil.copy(original, damaged)
    shutil.copy(original, intact)
    data = bytearray(damaged.read_bytes())
    for position in range(200, 261):
        data[position] ^= 0xFF
    damaged.write_bytes(bytes(data))

    bad = cli("backup", "verify", str(damaged))
    assert bad.returncode == 1 and str(damaged) in bad.stderr
    good = cli("backup", "verify", str(intact))
    assert good.returncode == 0, good.stderr

    (listed,) = backup_list(cli)
    assert listed["path"] == str(original) and listed["sha256"] == record["sha256"]
    assert listed["verified_ok"] is None  # copies say nothing about the archive itself
    restored = cli("backup", "restore", str(record["id"]), "--yes")
    assert restored.returncode == 0, restored.stderr

    (data_home / "config.toml").write_text("[backup]\nkeep_last = 1\n", encoding="utf-8")
    for _ in range(2):
        create(cli)
    assert damaged.is_file() and intact.is_file()
    assert not original.exists()  # the backup folder's own archive was pruned as it should be


# -- a database from a newer version ---------------------------------------------------------


def set_schema_revision(database: Path, revision: str) -> None:
    conn = sqlite3.connect(database)
    try:
        conn.execute("UPDATE schema_version SET version_num = ?", (revision,))
        conn.commit()
    finally:
        conn.close()


def test_a_newer_database_is_refused_before_any_backup_is_taken(
    cli: CliRunner, data_home: Path
) -> None:
    made = {create(cli)["path"], create(cli)["path"]}
    set_schema_revision(data_home / "scriptbatch.db", "v9_9_9_future")
    for _ in range(3):
        result = cli("scripts", "list")
        assert result.returncode == 1
        assert "written by a newer version" in result.stderr and "hint:" in result.stderr
    assert {str(p) for p in (data_home / "backups").iterdir()} == made

    current = cli("db", "current")
    assert current.returncode == 1
    assert "v9_9_9_future" in current.stderr and "newer version" in current.stderr
    assert "upgrade available" not in current.stdout + current.stderr


# -- a damaged database ----------------------------------------------------------------------


def _not_sqlite(path: Path) -> None:
    path.write_text("notsqlite\n", encoding="utf-8")


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("damage", [_not_sqlite, _truncated], ids=["not-sqlite", "truncated"])
def test_restore_works_on_a_damaged_database_and_keeps_the_damaged_file(
    cli: CliRunner, data_home: Path, tmp_path: Path, damage: Any
) -> None:
    job = write_script(tmp_path / "job.py")
    assert cli("scripts", "add", str(job)).returncode == 0
    record = create(cli)
    database = data_home / "scriptbatch.db"
    for leftover in data_home.glob("scriptbatch.db-*"):
        leftover.unlink()  # the WAL was checkpointed by the last command
    damage(database)
    damaged_bytes = database.read_bytes()

    refused = cli("scripts", "list")
    assert refused.returncode == 1 and "damaged" in refused.stderr
    assert "scriptbatch backup restore" in refused.stderr

    listed = cli("backup", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [r["id"] for r in json.loads(listed.stdout)] == [record["id"]]
    assert "damaged" in listed.stderr
    verified = cli("backup", "verify", str(record["id"]))
    assert verified.returncode == 0, verified.stderr

    restored = cli("backup", "restore", str(record["path"]), "--yes")
    assert restored.returncode == 0, restored.stderr
    (kept,) = data_home.glob("scriptbatch.db.damaged-*")
    assert str(kept) in restored.stdout
    assert kept.read_bytes() == damaged_bytes
    assert script_paths(cli) == {str(job)}


# -- archives that are not ScriptBatch backups -----------------------------------------------


@pytest.mark.parametrize(
    "manifest",
    [
        "{}",
        "[]",
        '{"format": 1, "id": "x", "created_at": "yesterday", "members": {}, '
        '"database": {"kind": "sqlite"}}',
    ],
    ids=["empty-object", "list", "bad-date"],
)
def test_a_zip_with_an_incomplete_manifest_is_not_a_valid_backup(
    cli: CliRunner, data_home: Path, tmp_path: Path, manifest: str
) -> None:
    record = create(cli)
    odd = tmp_path / "odd.zip"
    with zipfile.ZipFile(odd, "w") as zf:
        zf.writestr("manifest.json", manifest)

    verified = cli("backup", "verify", str(odd))
    assert verified.returncode == 1
    assert f"{odd} is not a valid ScriptBatch backup" in verified.stderr
    restored = cli("backup", "restore", str(odd), "--yes")
    assert restored.returncode == 1
    assert "not a valid ScriptBatch backup" in restored.stderr
    assert "unexpected" not in verified.stderr + restored.stderr

    shutil.copy(odd, data_home / "backups" / "scriptbatch-20990101T000000000000Z-manual.zip")
    assert [r["id"] for r in backup_list(cli)] == [record["id"]]
    pruned = cli("backup", "prune")
    assert pruned.returncode == 0, pruned.stderr
    second = create(cli)
    assert [r["id"] for r in backup_list(cli)] == [second["id"], record["id"]]


# -- where backups go, and errors that name the path -----------------------------------------


def test_a_relative_backup_directory_is_inside_the_data_directory(
    cli: CliRunner, data_home: Path, tmp_path: Path
) -> None:
    env = {"SCRIPTBATCH_BACKUP__DIRECTORY": "relative/bk"}
    first_cwd, second_cwd = tmp_path / "one", tmp_path / "two"
    first_cwd.mkdir()
    second_cwd.mkdir()
    made = cli("backup", "create", "--json", env=env, cwd=first_cwd)
    assert made.returncode == 0, made.stderr
    path = Path(json.loads(made.stdout)["path"])
    assert path.is_absolute() and path.parent == data_home / "relative" / "bk"
    assert path.is_file() and not (first_cwd / "relative").exists()

    verified = cli("backup", "verify", json.loads(made.stdout)["id"], env=env, cwd=second_cwd)
    assert verified.returncode == 0, verified.stderr


def test_backup_errors_name_the_path_that_is_in_the_way(
    cli: CliRunner, data_home: Path, tmp_path: Path
) -> None:
    data_home.mkdir(parents=True)
    (data_home / "backups").write_text("not a folder", encoding="utf-8")
    made = cli("backup", "create")
    assert made.returncode == 1
    assert f"{data_home / 'backups'} is a file, not a folder" in made.stderr
    assert "hint:" in made.stderr

    folder = tmp_path / "a-folder"
    folder.mkdir()
    verified = cli("backup", "verify", str(folder))
    assert verified.returncode == 2
    assert f"{folder} is a folder, not a backup file" in verified.stderr


# -- db upgrade ------------------------------------------------------------------------------


def test_db_upgrade_refuses_an_unknown_or_older_target_with_exit_2(
    cli: CliRunner, data_home: Path
) -> None:
    assert cli("db", "upgrade").returncode == 0
    for target, expected in (
        ("bogus", "schema revision 'bogus' does not exist"),
        ("-1", "schema revision '-1' does not exist"),
        ("v1_0_0_initial", "downgrading a database is not supported"),
    ):
        result = cli("db", "upgrade", target)
        assert result.returncode == 2, (target, result.stderr)
        assert expected in result.stderr, result.stderr
        assert "hint:" in result.stderr and "unexpected" not in result.stderr
    assert "db history" in cli("db", "upgrade", "bogus").stderr
    assert "(head)" in cli("db", "current").stdout


def test_db_upgrade_backs_the_database_up_first_as_start_up_does(
    cli: CliRunner, data_home: Path
) -> None:
    assert cli("db", "upgrade").returncode == 0
    engine = create_database_engine(sqlite_url(data_home / "scriptbatch.db"))
    try:
        Migrator(engine).downgrade("v1_0_0_initial")
    finally:
        engine.dispose()

    upgraded = cli("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "upgraded from v1_0_0_initial" in upgraded.stdout
    (pre,) = backup_list(cli)
    assert pre["kind"] == "pre-migration" and pre["note"] == "before v1_0_0_initial"
    assert cli("backup", "verify", pre["id"]).returncode == 0
    assert cli("db", "upgrade").stdout.startswith("already at")
    assert len(backup_list(cli)) == 1  # nothing to migrate: no backup
