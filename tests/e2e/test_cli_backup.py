"""``scriptbatch backup create|list|verify|restore|prune`` as a user runs them."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

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
