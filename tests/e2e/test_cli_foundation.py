"""The ``scriptbatch`` command as a user runs it: a real subprocess on a temp data directory."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from AppCode import __version__
from AppCode.infrastructure.data.migrations import SCHEMA_HEAD
from tests.conftest import CliRunner


def write(path: Path, text: str = "print('hi')\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_help_and_version(cli: CliRunner) -> None:
    help_ = cli("--help")
    assert help_.returncode == 0
    for command in ("scripts", "db"):
        assert command in help_.stdout
    version = cli("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"scriptbatch {__version__}"


def test_scripts_add_list_tag_remove_round_trip(cli: CliRunner, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    write(lib / "report.py", '"""Build the monthly report."""\n')
    write(lib / "nested" / "clean.py")
    add = cli("scripts", "add", str(lib), "--tag", "demo")
    assert add.returncode == 0, add.stderr
    assert "2 added" in add.stdout

    listed = json.loads(cli("scripts", "list", "--json").stdout)
    assert [s["name"] for s in listed] == ["clean", "report"]
    report = listed[1]
    assert report["description"] == "Build the monthly report."
    assert report["path"] == str(lib / "report.py")
    assert report["tags"] == ["demo"]
    assert len(report["sha256"]) == 64 and report["size"] > 0 and report["missing"] is False
    for key in ("id", "mtime", "created_at", "updated_at"):
        assert report[key]

    assert cli("scripts", "tag", str(report["id"]), "monthly").returncode == 0
    only = json.loads(cli("scripts", "list", "--tag", "monthly", "--json").stdout)
    assert [s["name"] for s in only] == ["report"]
    found = json.loads(cli("scripts", "list", "--search", "weekly", "--json").stdout)
    assert found == []
    found = json.loads(cli("scripts", "list", "--search", "monthly", "--json").stdout)
    assert [s["name"] for s in found] == ["report"]

    table = cli("scripts", "list").stdout
    assert "Build the monthly report." in table and "ID" in table

    removed = cli("scripts", "remove", str(lib / "nested" / "clean.py"))
    assert removed.returncode == 0
    assert [s["name"] for s in json.loads(cli("scripts", "list", "--json").stdout)] == ["report"]


def test_data_dir_option_works_before_and_after_the_command(cli: CliRunner, tmp_path: Path) -> None:
    script = write(tmp_path / "a.py")
    other = tmp_path / "other-home"
    assert cli("--data-dir", str(other), "scripts", "add", str(script)).returncode == 0
    after = cli("scripts", "list", "--json", "--data-dir", str(other))
    assert [s["name"] for s in json.loads(after.stdout)] == ["a"]
    # The default data directory ($SCRIPTBATCH_HOME) was not touched.
    assert json.loads(cli("scripts", "list", "--json").stdout) == []


def test_chinese_folders_and_spaces(cli: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "我的 脚本" / "报表"
    write(folder / "月度 汇总.py", '"""汇总每月的销售数据。"""\n')
    assert cli("scripts", "add", str(tmp_path / "我的 脚本")).returncode == 0
    listed = json.loads(cli("scripts", "list", "--json").stdout)
    assert listed[0]["name"] == "月度 汇总" and listed[0]["description"] == "汇总每月的销售数据。"
    assert "月度 汇总" in cli("scripts", "list").stdout


def test_bad_paths_get_clear_messages_and_a_nonzero_exit(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "binary.py").write_bytes(b"\x7fELF\x00\x00\x01")
    good = write(tmp_path / "good.py")
    result = cli(
        "scripts",
        "add",
        str(tmp_path / "missing"),
        str(tmp_path / "empty"),
        str(tmp_path / "binary.py"),
        str(good),
    )
    assert result.returncode == 1
    assert f"{tmp_path / 'missing'}: no such file or folder" in result.stderr
    assert "no Python scripts (*.py) in this folder" in result.stderr
    assert "binary file" in result.stderr
    assert "Traceback" not in result.stderr
    assert [s["name"] for s in json.loads(cli("scripts", "list", "--json").stdout)] == ["good"]


def test_unknown_script_reference_is_a_usage_error(cli: CliRunner) -> None:
    result = cli("scripts", "remove", "999")
    assert result.returncode == 2
    assert "no script with id or path '999'" in result.stderr
    assert "scripts list" in result.stderr


def test_bad_config_value_exits_2_naming_file_and_key(cli: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[execution]\njobs = -3\n", encoding="utf-8")
    result = cli("--config", str(config), "scripts", "list")
    assert result.returncode == 2
    assert str(config) in result.stderr and "[execution] jobs" in result.stderr
    assert "greater than or equal to 0" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_config_file_exits_2(cli: CliRunner, tmp_path: Path) -> None:
    result = cli("scripts", "list", "--config", str(tmp_path / "none.toml"))
    assert result.returncode == 2 and "does not exist" in result.stderr


def test_data_dir_that_cannot_be_created_exits_2(cli: CliRunner, tmp_path: Path) -> None:
    blocker = write(tmp_path / "a-file", "x")
    result = cli("--data-dir", str(blocker / "home"), "scripts", "list")
    assert result.returncode == 2
    assert "cannot be used" in result.stderr and "--data-dir" in result.stderr


def test_corrupt_database_is_reported_and_never_overwritten(
    cli: CliRunner, data_home: Path
) -> None:
    data_home.mkdir(parents=True)
    db = data_home / "scriptbatch.db"
    db.write_bytes(b"garbage, not sqlite " * 200)
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    result = cli("scripts", "list")
    assert result.returncode == 1
    assert str(db) in result.stderr and "backup" in result.stderr
    assert "Traceback" not in result.stderr
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest
    log = (data_home / "logs" / "scriptbatch.log").read_text(encoding="utf-8")
    assert "Traceback" in log


def test_rescan_marks_missing_scripts_without_losing_them(cli: CliRunner, tmp_path: Path) -> None:
    gone = write(tmp_path / "gone.py")
    cli("scripts", "add", str(tmp_path))
    gone.unlink()
    result = cli("scripts", "rescan", "--json")
    assert result.returncode == 0
    assert [s["name"] for s in json.loads(result.stdout)["missing"]] == ["gone"]
    listed = json.loads(cli("scripts", "list", "--json").stdout)
    assert listed[0]["missing"] is True
    assert "(missing)" in cli("scripts", "list").stdout


def test_db_commands_wrap_alembic(cli: CliRunner) -> None:
    current = cli("db", "current")
    assert current.returncode == 0 and "empty database" in current.stdout
    upgrade = cli("db", "upgrade")
    assert upgrade.returncode == 0 and SCHEMA_HEAD in upgrade.stdout
    assert "(head)" in cli("db", "current").stdout
    history = cli("db", "history")
    assert history.returncode == 0 and "v1_0_0_initial" in history.stdout
    assert SCHEMA_HEAD in history.stdout
    assert "already at" in cli("db", "upgrade").stdout


def test_usage_errors_exit_2(cli: CliRunner) -> None:
    assert cli("scripts").returncode == 2
    assert cli("no-such-command").returncode == 2


@pytest.mark.parametrize(
    "command",
    [
        ["backup", "list"],
        ["plugins", "list"],
        ["users", "list"],
        ["scripts", "list"],
        ["history", "prune"],
        ["db", "current"],
    ],
    ids=lambda command: command[0],
)
def test_data_dir_and_config_work_right_after_a_command_group(
    cli: CliRunner, tmp_path: Path, data_home: Path, command: list[str]
) -> None:
    other = tmp_path / "other-home"
    config = tmp_path / "other.toml"
    config.write_text("[history]\nretention_days = 0\n", encoding="utf-8")
    group, action = command
    result = cli(group, "--data-dir", str(other), "--config", str(config), action)
    assert result.returncode == 0, result.stderr
    assert (other / "scriptbatch.db").is_file()
    assert not data_home.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data-dir", "", "history"], "--data-dir is empty"),
        (["history", "--data-dir", ""], "--data-dir is empty"),
        (["--config", "", "history"], "--config is empty"),
        (["scripts", "add", ""], "a path to add is empty"),
        (["scripts", "list", "--tag", ""], "--tag is empty"),
        (["analyze", "--batch", ""], "--batch is empty"),
        (["history", "--since", ""], "--since is empty"),
        (["history", "--batch", ""], "--batch is empty"),
        (["history", "prune", "--older-than", ""], "--older-than is empty"),
    ],
)
def test_an_empty_value_is_a_usage_error_not_a_missing_option(
    cli: CliRunner, tmp_path: Path, args: list[str], message: str
) -> None:
    home = tmp_path / "user-home"
    result = cli(*args, env={"HOME": str(home), "XDG_DATA_HOME": str(home / "data")})
    assert result.returncode == 2 and f"error: {message}" in result.stderr
    assert not home.exists()  # the per-user data directory was not used


def test_an_empty_scriptbatch_home_counts_as_unset(cli: CliRunner, tmp_path: Path) -> None:
    home = tmp_path / "user-home"
    result = cli(
        "history",
        env={"SCRIPTBATCH_HOME": "", "HOME": str(home), "XDG_DATA_HOME": str(home / "data")},
    )
    assert result.returncode == 0, result.stderr
    assert (home / "data" / "ScriptBatch" / "scriptbatch.db").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["history", "--limit", "9223372036854775808"], "--limit must be between 1 and"),
        (["history", "--limit", "0"], "--limit must be between 1 and"),
        (["scripts", "remove", "99999999999999999999999"], "no script with id or path"),
        (["scripts", "tag", "99999999999999999999", "x"], "no script with id or path"),
        (["audit", "--limit", "99999999999999999999"], "--limit must be between 1 and"),
        (["audit", "--since", ""], "--since is empty"),
    ],
)
def test_huge_numbers_are_usage_errors(cli: CliRunner, args: list[str], message: str) -> None:
    result = cli(*args)
    assert result.returncode == 2 and message in result.stderr
    assert "unexpected" not in result.stderr


def test_scripts_remove_removes_none_when_one_is_unknown(cli: CliRunner, tmp_path: Path) -> None:
    write(tmp_path / "lib" / "a.py")
    write(tmp_path / "lib" / "b.py")
    assert cli("scripts", "add", str(tmp_path / "lib")).returncode == 0
    result = cli("scripts", "remove", "2", "999", "nope")
    assert result.returncode == 2
    assert "'999', 'nope'" in result.stderr and "nothing was removed" in result.stderr
    assert len(json.loads(cli("scripts", "list", "--json").stdout)) == 2
    assert cli("scripts", "remove", "1", "2").returncode == 0
    assert json.loads(cli("scripts", "list", "--json").stdout) == []


def run_main_with(patch: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """``scriptbatch ARGV`` with ``patch`` applied first (a failure planted where no test can
    reach it from outside)."""
    code = f"{patch}\nfrom AppCode.__main__ import main\nraise SystemExit(main({list(argv)!r}))"
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONIOENCODING="utf-8"),
        timeout=60,
    )


def test_an_unexpected_error_before_the_log_is_open_is_one_line_and_a_file(
    tmp_path: Path,
) -> None:
    patch = (
        "import AppCode.container as c\n"
        "def build(*a, **k): raise RuntimeError('planted')\n"
        "c.build = build"
    )
    result = run_main_with(patch, "history")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    where = line.rsplit(" ", 1)[-1]
    assert "unexpected error" in line
    assert "RuntimeError: planted" in Path(where).read_text(encoding="utf-8")
    Path(where).unlink()


def test_ctrl_c_while_the_cli_starts_is_interrupted_without_a_traceback() -> None:
    patch = (
        "import AppCode.cli.main as m\n"
        "def build_parser(): raise KeyboardInterrupt\n"
        "m.build_parser = build_parser"
    )
    result = run_main_with(patch, "history")
    assert result.returncode == 130
    assert result.stderr == "interrupted\n"


def test_ids_and_paths_that_are_not_utf8_get_an_answer_not_a_traceback(
    cli: CliRunner, tmp_path: Path
) -> None:
    """Bytes that are not UTF-8 reach the CLI as lone surrogates: nothing stored can match them
    (the database cannot even be asked), and the app log writes them escaped."""
    odd = os.fsdecode(b"a\xff")
    ran = cli("run", str(write(tmp_path / "s" / "ok.py")), "--json", "--quiet")
    batch = json.loads(ran.stdout)["batch_id"]
    for args in (
        ("show", odd),
        ("history", "--batch", odd),
        ("analyze", "--batch", odd),
        ("report", odd, "--format", "html", "--output", str(tmp_path / "r.html")),
        ("scripts", "remove", odd),
        ("scripts", "tag", odd, "nightly"),
    ):
        result = cli(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert "a\\udcff" in result.stderr and "Traceback" not in result.stderr, args
    for args in (("history", "--script", odd), ("scripts", "list", "--search", odd)):
        result = cli(*args)
        assert result.returncode == 0 and "match" in result.stdout, (args, result.stderr)
    # A report written to a file whose name is not UTF-8 is logged, escaped.
    output = tmp_path / os.fsdecode(b"r\xfe.html")
    result = cli("report", batch, "--format", "html", "--output", str(output))
    assert result.returncode == 0 and result.stderr == "" and output.is_file()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("buffered", [True, False])
def test_output_that_cannot_be_written_fails_the_command(
    data_home: Path, tmp_path: Path, buffered: bool
) -> None:
    """A full disk under ``> FILE`` (here /dev/full): exit 1 saying so, whether the failing
    write comes during the command (unbuffered output) or from the last flush at exit."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if not buffered:
        env["PYTHONUNBUFFERED"] = "1"
    command = [sys.executable, "-m", "AppCode", "--data-dir", str(data_home), "history", "--json"]
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            command, stdout=full, stderr=subprocess.PIPE, text=True, env=env, timeout=60
        )
    assert result.returncode == 1
    assert "No space left on device" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("closed", ["stdout", "stderr"])
def test_a_closed_stdout_or_stderr_is_no_error(data_home: Path, closed: str) -> None:
    """Started with descriptor 1 or 2 closed (``cmd >&-``), Python has no sys.stdout/stderr:
    the command runs, writes what it can, and exits 0."""
    fd = 1 if closed == "stdout" else 2
    command = [sys.executable, "-m", "AppCode", "--data-dir", str(data_home), "history", "--json"]
    result = subprocess.run(
        ["sh", "-c", f'exec "$@" {fd}>&-', "sh", *command],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
