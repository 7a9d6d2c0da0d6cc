"""``scriptbatch run``, ``history``, ``show`` and ``rerun`` as a user runs them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.conftest import CliRunner, wait_until, write_script

CONTRACT_KEYS = {
    "id",
    "script",
    "args",
    "status",
    "exit_code",
    "attempts",
    "duration_s",
    "cpu_s",
    "memory_peak_bytes",
    "error_type",
    "error_message",
    "output_bytes",
    "log_path",
    "worker",
    "sandbox",
}


def test_run_json_follows_the_contract(cli: CliRunner, tmp_path: Path) -> None:
    write_script(tmp_path / "jobs" / "ok.py", "print('hello')\n")
    write_script(tmp_path / "jobs" / "fails.py", "import sys; sys.exit('broken input')\n")
    write_script(tmp_path / "other" / "ok.py", "print('other')\n")
    result = cli(
        "run", str(tmp_path / "jobs"), str(tmp_path / "other" / "ok.py"), "--jobs", "2", "--json"
    )
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "failed" and report["jobs"] == 2 and report["backend"] == "local"
    assert report["batch_id"] and report["started_at"] and report["finished_at"]
    assert report["summary"] == {
        "total": 3,
        "succeeded": 2,
        "failed": 1,
        "timed_out": 0,
        "blocked": 0,
        "cancelled": 0,
        "interrupted": 0,
    }
    by_script = {e["script"]: e for e in report["executions"]}
    assert set(by_script) == {
        str(tmp_path / "jobs" / "ok.py"),
        str(tmp_path / "jobs" / "fails.py"),
        str(tmp_path / "other" / "ok.py"),
    }
    for execution in report["executions"]:
        assert set(execution) >= CONTRACT_KEYS
        assert Path(execution["log_path"]).is_file()
    failed = by_script[str(tmp_path / "jobs" / "fails.py")]
    assert failed["status"] == "failed" and failed["exit_code"] == 1
    assert failed["error_type"] == "SystemExit" and failed["error_message"] == "broken input"
    ok = by_script[str(tmp_path / "jobs" / "ok.py")]
    assert ok["output_bytes"] == len("hello\n") and ok["attempts"] == 1
    assert set(ok["sandbox"]) == {"policy", "layers", "degraded"}

    history = json.loads(cli("history", "--json").stdout)
    assert {e["id"] for e in history} == {e["id"] for e in report["executions"]}
    assert all(set(e) >= CONTRACT_KEYS for e in history)


def test_run_prints_progress_and_a_summary_and_exits_0_when_all_succeed(
    cli: CliRunner, tmp_path: Path
) -> None:
    for name in ("a", "b", "c"):
        write_script(tmp_path / f"{name}.py", f"print('{name}')\n")
    result = cli("run", str(tmp_path), "--jobs", "2", "--timeout", "30", "--retries", "1")
    assert result.returncode == 0, result.stderr
    assert "progress: 3/3 done" in result.stderr
    assert result.stdout.count("succeeded") >= 3
    assert "3 executions, 3 succeeded" in result.stdout
    quiet = cli("run", str(tmp_path), "--quiet")
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""


def test_show_log_keeps_streams_apart_and_bytes_intact(cli: CliRunner, tmp_path: Path) -> None:
    write_script(
        tmp_path / "mixed.py",
        "import sys\nprint('to out')\nsys.stdout.flush()\n"
        "print('to err', file=sys.stderr)\nsys.stdout.buffer.write(b'raw \\xff\\n')\n",
    )
    report = json.loads(cli("run", str(tmp_path / "mixed.py"), "--json").stdout)
    execution_id = report["executions"][0]["id"]
    shown = subprocess.run(
        [sys.executable, "-m", "AppCode", "show", execution_id[:10], "--log"],
        capture_output=True,
        env=dict(os.environ),
        check=True,
    )
    assert shown.stdout == b"to out\nraw \xff\n"
    assert shown.stderr == b"to err\n"
    details = cli("show", execution_id)
    assert "succeeded" in details.stdout and str(tmp_path / "mixed.py") in details.stdout
    assert json.loads(cli("show", execution_id, "--json").stdout)["id"] == execution_id
    missing = cli("show", "nosuchid")
    assert missing.returncode == 2 and "no execution with id" in missing.stderr


def test_a_reader_that_goes_away_ends_the_command_quietly(cli: CliRunner, tmp_path: Path) -> None:
    write_script(tmp_path / "big.py", "print('x' * 999_999)\n")
    report = json.loads(cli("run", str(tmp_path / "big.py"), "--json").stdout)
    # ``scriptbatch show ID --log | head -c 10``: the pipe closes long before the megabyte.
    reader = subprocess.Popen(
        [sys.executable, "-m", "AppCode", "show", report["executions"][0]["id"], "--log"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},  # as users run it
    )
    assert reader.stdout is not None and reader.stderr is not None
    assert reader.stdout.read(10) == b"x" * 10
    reader.stdout.close()
    assert reader.wait(60) == 141  # as a shell reports a command ended by SIGPIPE
    assert reader.stderr.read() == b""  # no "unexpected error", no traceback


def test_a_command_ends_without_teardown_but_with_everything_an_exit_does(tmp_path: Path) -> None:
    """``exit_now``: non-daemon threads finish, atexit handlers run, output is flushed."""
    code = (
        "import atexit, sys, threading, time\n"
        "from AppCode.__main__ import exit_now\n"
        "atexit.register(lambda: print('atexit ran'))\n"
        "def late():\n"
        "    time.sleep(0.2)\n"
        "    sys.stdout.write('thread done\\n')\n"
        "threading.Thread(target=late).start()\n"
        "sys.stdout.write('buffered, not flushed')\n"
        "exit_now(259)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3  # 259 & 0xFF, as the OS would report it
    assert done.stdout == "buffered, not flushedthread done\natexit ran\n"
    assert done.stderr == ""


def test_each_args_file_and_history_filters(cli: CliRunner, tmp_path: Path) -> None:
    script = write_script(
        tmp_path / "echo.py", "import sys\nif sys.argv[1:] == ['bad']: raise SystemExit(4)\n"
    )
    args_file = tmp_path / "args.txt"
    args_file.write_text(
        "# one run per line\none  # the first\n'two words' x#y\n\nbad\n", encoding="utf-8"
    )
    report = json.loads(cli("run", str(script), "--each-args", str(args_file), "--json").stdout)
    assert [e["args"] for e in report["executions"]] == [["one"], ["two words", "x#y"], ["bad"]]
    failed = json.loads(cli("history", "--status", "failed", "--json").stdout)
    assert [e["args"] for e in failed] == [["bad"]]
    by_script = json.loads(cli("history", "--script", str(script), "--limit", "2", "--json").stdout)
    assert len(by_script) == 2
    by_batch = json.loads(
        cli("history", "--batch", report["batch_id"][:14], "--since", "1h", "--json").stdout
    )
    assert len(by_batch) == 3
    assert cli("history", "--status", "weird").returncode == 2
    assert cli("history", "--since", "yesterday-ish").returncode == 2
    bad_file = cli("run", str(script), "--each-args", str(tmp_path / "none.txt"))
    assert bad_file.returncode == 2 and "cannot read the --each-args file" in bad_file.stderr


def test_rerun_failed_from_the_cli(cli: CliRunner, tmp_path: Path) -> None:
    write_script(tmp_path / "ok.py")
    write_script(tmp_path / "bad.py", "raise RuntimeError('x')\n")
    first = json.loads(cli("run", str(tmp_path), "--json").stdout)
    again = cli("rerun", first["batch_id"], "--failed", "--json")
    assert again.returncode == 1
    rerun = json.loads(again.stdout)
    assert [Path(e["script"]).name for e in rerun["executions"]] == ["bad.py"]


@pytest.mark.parametrize(
    ("python", "words"),
    [
        ("/bin/false", "not a working Python interpreter (no answer)"),
        ("/bin/echo", "not a working Python interpreter"),  # it prints something
        ("./fake-python.sh", "not a working Python interpreter (it said: Python 3.11.0)"),
        ("./not-executable.py", "is not executable"),
        ("not-executable.py", "was not found"),  # a bare name is looked for on PATH
        ("no/such/python", "was not found"),
    ],
)
def test_bad_interpreter_is_a_usage_error_and_nothing_runs(
    cli: CliRunner, tmp_path: Path, python: str, words: str
) -> None:
    write_script(tmp_path / "s" / "ok.py")
    fake = tmp_path / "fake-python.sh"
    fake.write_text("#!/bin/sh\necho Python 3.11.0\n")
    fake.chmod(0o755)
    (tmp_path / "not-executable.py").write_text("")
    result = cli("run", str(tmp_path / "s"), "--python", python, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert words in result.stderr and "Traceback" not in result.stderr
    assert "import sys" not in result.stderr  # the probe's own code is not shown
    assert json.loads(cli("history", "--json").stdout) == []


def test_rerun_checks_the_interpreter_is_still_there(cli: CliRunner, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    write_script(tmp_path / "s" / "ok.py")
    first = cli("run", str(tmp_path / "s"), "--python", str(venv / "bin" / "python"), "--json")
    assert first.returncode == 0, first.stderr
    shutil.rmtree(venv)
    again = cli("rerun", json.loads(first.stdout)["batch_id"])
    assert again.returncode == 2 and "was not found" in again.stderr, again.stderr
    assert len(json.loads(cli("history", "--json").stdout)) == 1  # nothing more ran


def test_prune_from_the_cli(cli: CliRunner, tmp_path: Path, data_home: Path) -> None:
    write_script(tmp_path / "ok.py")
    cli("run", str(tmp_path))
    db = sqlite3.connect(data_home / "scriptbatch.db")
    db.execute("UPDATE executions SET created_at = '2020-01-01 00:00:00'")
    db.commit()
    db.close()
    result = cli("history", "prune", "--older-than", "30d")
    assert result.returncode == 0 and "deleted 1 executions and 1 log files" in result.stdout
    assert json.loads(cli("history", "--json").stdout) == []
    assert cli("history", "prune", "--older-than", "soon").returncode == 2
    far = cli("history", "prune", "--older-than", "1000000d")  # before the calendar: none
    assert far.returncode == 0 and "deleted 0 executions" in far.stdout, far.stderr


def test_a_copied_data_dir_reads_and_prunes_only_its_own_logs(
    cli: CliRunner, tmp_path: Path, data_home: Path
) -> None:
    """Logs are found under the data directory in use, whatever path was stored: a copy (or a
    restore elsewhere) must not show nor delete the original's files."""
    write_script(tmp_path / "s" / "ok.py", "print('original')\n")
    ran = json.loads(cli("run", str(tmp_path / "s"), "--json").stdout)["executions"][0]
    copy = tmp_path / "copy"
    shutil.copytree(data_home, copy)
    (copy / "runs" / ran["batch_id"] / f"{ran['id']}.log").write_text("the copy\n")
    in_copy = {"SCRIPTBATCH_HOME": str(copy)}

    shown = cli("show", ran["id"], "--log", env=in_copy)
    assert shown.stdout == "the copy\n"
    listed = json.loads(cli("history", "--json", env=in_copy).stdout)
    assert listed[0]["log_path"] == str(copy / "runs" / ran["batch_id"] / f"{ran['id']}.log")
    pruned = cli("history", "prune", "--older-than", "0d", env=in_copy)
    assert "deleted 1 executions and 1 log files" in pruned.stdout, pruned.stderr
    assert Path(ran["log_path"]).read_text() == "original\n"  # the original's log is intact
    assert cli("show", ran["id"], "--log").stdout == "original\n"


def start_cli_run(data_home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "AppCode", "run", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, SCRIPTBATCH_HOME=str(data_home)),
    )


PID_WRITER = (
    "import os, subprocess, sys, time\n"
    "from pathlib import Path\n"
    "pids = Path({pids!r})\n"
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
    "(pids / f'{{os.getpid()}}.{{child.pid}}').write_text('')\n"
    "time.sleep(120)\n"
)


def recorded_pids(folder: Path) -> list[int]:
    return [int(p) for f in folder.iterdir() for p in f.name.split(".")]


def alive(pids: list[int]) -> list[int]:
    living = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                living.append(pid)
        except psutil.Error:
            pass
    return living


@pytest.mark.parametrize(
    ("stop", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"]
)
def test_ctrl_c_cancels_kills_children_and_exits_130(
    cli: CliRunner, tmp_path: Path, data_home: Path, stop: signal.Signals, code: int
) -> None:
    """Ctrl-C, and likewise ``kill`` (SIGTERM, exit 143): children killed, statuses recorded."""
    pids = tmp_path / "pids"
    pids.mkdir()
    for i in range(4):
        write_script(tmp_path / "jobs" / f"s{i}.py", PID_WRITER.format(pids=str(pids)))
    process = start_cli_run(
        data_home, str(tmp_path / "jobs"), "--jobs", "2", "--json", "--allow-write", str(pids)
    )
    wait_until(lambda: len(list(pids.iterdir())) == 2, what="two scripts running")
    process.send_signal(stop)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    report = json.loads(stdout)
    assert report["status"] == "cancelled"
    assert report["summary"]["cancelled"] == 4
    wait_until(lambda: not alive(recorded_pids(pids)), what="scripts and children to be gone")
    stored = json.loads(cli("history", "--json").stdout)
    assert {e["status"] for e in stored} == {"cancelled"}


def test_a_second_ctrl_c_stops_waiting_for_scripts_that_ignore_sigterm(
    cli: CliRunner, tmp_path: Path, data_home: Path
) -> None:
    """The second Ctrl-C says it does not wait, and does not: not for the 60 s grace of a
    script that ignores SIGTERM. The script dies with the app; the next start-up records it
    as interrupted."""
    config = tmp_path / "config.toml"
    config.write_text("[execution]\nkill_grace_s = 60\n", encoding="utf-8")
    pids, marks = tmp_path / "pids", tmp_path / "marks"
    pids.mkdir()
    marks.mkdir()
    term = marks / "term"
    write_script(
        tmp_path / "jobs" / "stubborn.py",
        "import os, signal, time\n"
        f"signal.signal(signal.SIGTERM, lambda *_: open({str(term)!r}, 'w').close())\n"
        f"open(os.path.join({str(pids)!r}, str(os.getpid())), 'w').close()\n"
        "time.sleep(120)\n",
    )
    process = start_cli_run(
        data_home,
        "--config",
        str(config),
        str(tmp_path / "jobs"),
        "--allow-write",
        str(pids),
        "--allow-write",
        str(marks),
    )
    wait_until(lambda: any(pids.iterdir()), what="the script to run")
    process.send_signal(signal.SIGINT)
    # Two signals in a row may reach Python as one: the second is sent once the first was
    # handled (the script got its SIGTERM, and ignored it).
    wait_until(term.exists, what="the first Ctrl-C to stop the script (SIGTERM)")
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)  # well before the 60 s grace
    assert process.returncode == 130 and "not waiting" in stderr, stderr
    wait_until(lambda: not alive(recorded_pids(pids)), what="the script to die with the app")
    stored = json.loads(cli("history", "--json").stdout)
    assert [e["status"] for e in stored] == ["interrupted"]


def stored_status(data_home: Path, name: str) -> str | None:
    db = sqlite3.connect(data_home / "scriptbatch.db")
    try:
        row = db.execute(
            "SELECT status FROM executions WHERE script_path LIKE ?", (f"%{name}",)
        ).fetchone()
    finally:
        db.close()
    return row[0] if row else None


@pytest.mark.parametrize("start_method", ["forkserver", "spawn"])
def test_kill_9_of_the_app_loses_no_result_and_leaves_no_orphan(
    cli: CliRunner, tmp_path: Path, data_home: Path, start_method: str
) -> None:
    """The scripts' process groups die with the app: the fork server (which forks, or forks and
    execs, every script on Linux) gets SIGTERM from the kernel and ends them."""
    pids = tmp_path / "pids"
    pids.mkdir()
    write_script(tmp_path / "jobs" / "a_quick.py", "print('done')\n")
    write_script(tmp_path / "jobs" / "b_slow.py", PID_WRITER.format(pids=str(pids)))
    write_script(tmp_path / "jobs" / "c_later.py", "print('never')\n")
    process = start_cli_run(
        data_home,
        str(tmp_path / "jobs"),
        "--jobs",
        "1",
        "--allow-write",
        str(pids),
        "--start-method",
        start_method,
    )
    wait_until(lambda: len(list(pids.iterdir())) == 1, what="the slow script to run")
    wait_until(
        lambda: stored_status(data_home, "a_quick.py") == "succeeded",
        what="the quick result to be stored",
    )
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)
    wait_until(lambda: not alive(recorded_pids(pids)), what="the orphans to die with the app")
    stored = {Path(e["script"]).name: e for e in json.loads(cli("history", "--json").stdout)}
    assert stored["a_quick.py"]["status"] == "succeeded"
    assert stored["b_slow.py"]["status"] == "interrupted"
    assert stored["c_later.py"]["status"] == "interrupted"


def nothing_ran(cli: CliRunner) -> bool:
    return json.loads(cli("history", "--json").stdout) == []


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--jobs", "-1", "--jobs must be between 0 and 1024"),
        ("--jobs", "100000000", "--jobs must be between 0 and 1024"),
        ("--timeout", "-5", "--timeout must be between 0 and 31536000"),
        ("--timeout", "nan", "--timeout must be between 0 and 31536000"),
        ("--retries", "1000", "--retries must be between 0 and 100"),
        ("--memory-limit", "-1", "--memory-limit must be between 0 and 16777216"),
        ("--memory-limit", "99999999999999", "--memory-limit must be between 0 and 16777216"),
        ("--memory-limit", "5", "--memory-limit must be 0 (no limit) or at least 32 MB"),
        ("--cpu-limit", "nan", "--cpu-limit must be between 0 and 31536000"),
        ("--cpu-limit", "1e20", "--cpu-limit must be between 0 and 31536000"),
        ("--cpu-limit", "inf", "--cpu-limit must be between 0 and 31536000"),
    ],
)
def test_out_of_range_run_options_are_usage_errors_before_anything_runs(
    cli: CliRunner, tmp_path: Path, option: str, value: str, message: str
) -> None:
    write_script(tmp_path / "ok.py")
    result = cli("run", str(tmp_path / "ok.py"), f"{option}={value}")
    assert result.returncode == 2
    assert f"error: {message}" in result.stderr and "Traceback" not in result.stderr
    assert nothing_ran(cli)


def test_run_help_shows_the_limits(cli: CliRunner) -> None:
    text = " ".join(cli("run", "--help").stdout.split())
    for shown in ("0-1024", "0-100", "0-16777216", "at least 32", "0-31536000"):
        assert shown in text


def test_a_policy_file_asking_for_too_much_memory_is_refused(
    cli: CliRunner, tmp_path: Path
) -> None:
    write_script(tmp_path / "ok.py")
    policy = tmp_path / "huge.toml"
    policy.write_text("memory_limit_mb = 99999999999999\n", encoding="utf-8")
    result = cli("run", str(tmp_path / "ok.py"), "--policy", str(policy))
    assert result.returncode == 2 and "memory_limit_mb" in result.stderr
    assert nothing_ran(cli)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", ""], "PATH is empty"),
        (["run", "ok.py", "--allow-write", ""], "--allow-write is empty"),
        (["run", "ok.py", "--allow-read", ""], "--allow-read is empty"),
        (["run", "ok.py", "--block-module", ""], "--block-module is empty"),
        (["run", "ok.py", "--policy", ""], "--policy is empty"),
        (["run", "ok.py", "--each-args", ""], "--each-args is empty"),
    ],
)
def test_empty_run_values_are_usage_errors(
    cli: CliRunner, tmp_path: Path, args: list[str], message: str
) -> None:
    write_script(tmp_path / "ok.py")
    result = cli(*args, cwd=tmp_path)
    assert result.returncode == 2 and f"error: {message}" in result.stderr
    assert nothing_ran(cli)


@pytest.mark.parametrize(
    "options",
    [
        ["--no-sandbox", "--policy", "strict"],
        ["--no-sandbox", "--memory-limit", "256"],
        ["--no-sandbox", "--block-module", "json"],
        ["--policy", "off", "--allow-write", "/tmp"],
        ["--policy", "off", "--cpu-limit", "5"],
    ],
)
def test_sandbox_options_with_the_sandbox_off_are_usage_errors(
    cli: CliRunner, tmp_path: Path, options: list[str]
) -> None:
    write_script(tmp_path / "ok.py")
    result = cli("run", str(tmp_path / "ok.py"), *options)
    assert result.returncode == 2 and "cannot apply" in result.stderr
    assert nothing_ran(cli)


def test_arg_is_appended_to_each_line_of_each_args(cli: CliRunner, tmp_path: Path) -> None:
    write_script(tmp_path / "echo.py", "import sys\nprint(sys.argv[1:])\n")
    lines = tmp_path / "lines.txt"
    lines.write_text("one\ntwo 2\n", encoding="utf-8")
    result = cli(
        "run", str(tmp_path / "echo.py"), "--each-args", str(lines), "--arg", "X", "--json"
    )
    assert result.returncode == 0, result.stderr
    assert [e["args"] for e in json.loads(result.stdout)["executions"]] == [
        ["one", "X"],
        ["two", "2", "X"],
    ]


def test_a_file_name_that_is_not_utf8_is_skipped_with_a_warning(
    cli: CliRunner, tmp_path: Path
) -> None:
    folder = tmp_path / "nb"
    write_script(folder / "good.py")
    bad = bytes(folder) + b"/bad\xffname.py"
    Path(os.fsdecode(bad)).write_text("print(1)\n", encoding="utf-8")

    result = cli("run", str(folder), "--json")
    assert result.returncode == 0, result.stderr
    assert "warning: skipped" in result.stderr and "bad\\xffname.py" in result.stderr
    assert "Traceback" not in result.stderr and "Logging error" not in result.stderr
    scripts = [e["script"] for e in json.loads(result.stdout)["executions"]]
    assert scripts == [str(folder / "good.py")]

    alone = subprocess.run(
        [sys.executable, "-m", "AppCode", "run", os.fsdecode(bad)],
        capture_output=True,
        env=dict(os.environ, PYTHONIOENCODING="utf-8"),
    )
    assert alone.returncode == 2 and b"bad\\xffname.py is not valid UTF-8" in alone.stderr

    added = cli("scripts", "add", str(folder))
    assert added.returncode == 1 and "1 added" in added.stdout
    assert "skipped" in added.stderr and "bad\\xffname.py" in added.stderr


def test_rerun_keeps_the_original_sandbox_overrides(cli: CliRunner, tmp_path: Path) -> None:
    write_script(tmp_path / "uses_json.py", "import json\nprint('ran')\n")
    first = json.loads(
        cli("run", str(tmp_path / "uses_json.py"), "--block-module", "json", "--json").stdout
    )
    assert first["executions"][0]["status"] == "blocked"
    again = cli("rerun", first["batch_id"], "--json")
    assert again.returncode == 1, again.stderr
    assert json.loads(again.stdout)["executions"][0]["status"] == "blocked"


@pytest.mark.parametrize("where", ["folder", "proc"])
def test_an_unwritable_report_target_stops_the_run_before_it_starts(
    cli: CliRunner, tmp_path: Path, where: str
) -> None:
    write_script(tmp_path / "ok.py")
    target = str(tmp_path) if where == "folder" else "/proc/r.html"
    result = cli("run", str(tmp_path / "ok.py"), "--report", f"html:{target}")
    assert result.returncode == 2, result.stderr
    assert nothing_ran(cli)


def test_quiet_run_with_a_report_prints_nothing(cli: CliRunner, tmp_path: Path) -> None:
    write_script(tmp_path / "ok.py")
    report = tmp_path / "r.html"
    result = cli("run", str(tmp_path / "ok.py"), "--quiet", "--report", f"html:{report}")
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""
    assert report.is_file()


def test_report_to_an_empty_path_says_so(cli: CliRunner, tmp_path: Path) -> None:
    write_script(tmp_path / "ok.py")
    batch_id = json.loads(cli("run", str(tmp_path / "ok.py"), "--json").stdout)["batch_id"]
    result = cli("report", batch_id, "--format", "html", "--output", "")
    assert result.returncode == 2 and "the output path is empty" in result.stderr


def test_show_log_of_a_deleted_log_is_a_failure_not_a_usage_error(
    cli: CliRunner, tmp_path: Path
) -> None:
    write_script(tmp_path / "talks.py", "print('something')\n")
    execution = json.loads(cli("run", str(tmp_path / "talks.py"), "--json").stdout)["executions"][0]
    Path(execution["log_path"]).unlink()
    result = cli("show", execution["id"], "--log")
    assert result.returncode == 1 and "is gone" in result.stderr
    Path(execution["log_path"]).mkdir()  # there, but unreadable (even as root)
    result = cli("show", execution["id"], "--log")
    assert result.returncode == 1 and "cannot be read from" in result.stderr, result.stderr
    assert "Is a directory" in result.stderr and "unexpected" not in result.stderr


def test_executions_that_never_ran_show_the_policy_they_were_to_run_under(
    cli: CliRunner, tmp_path: Path
) -> None:
    """Cancelled by fail-fast before they started: ``run --json`` and ``history --json`` agree
    on each one's policy (the batch's, or the script's pin), with no layers, never "off"."""
    first = write_script(tmp_path / "a_fails.py", "raise SystemExit(1)\n")
    plain = write_script(tmp_path / "b_plain.py", "x = 1\n")
    pinned = write_script(tmp_path / "c_pinned.py", "x = 1\n")
    assert cli("scripts", "add", str(pinned)).returncode == 0
    assert cli("scripts", "policy", str(pinned), "strict").returncode == 0

    ran = cli("run", str(first), str(plain), str(pinned), "--jobs", "1", "--fail-fast", "--json")
    assert ran.returncode == 1, ran.stderr
    executions = {Path(e["script"]).name: e for e in json.loads(ran.stdout)["executions"]}
    stored = json.loads(cli("history", "--status", "cancelled", "--json").stdout)
    assert sorted(Path(e["script"]).name for e in stored) == ["b_plain.py", "c_pinned.py"]
    for e in stored:
        assert e["sandbox"] == executions[Path(e["script"]).name]["sandbox"]
    shown = {Path(e["script"]).name: e["sandbox"] for e in stored}
    assert shown["b_plain.py"] == {"policy": "standard", "layers": [], "degraded": False}
    assert shown["c_pinned.py"] == {"policy": "strict", "layers": [], "degraded": False}
    assert {e["error_message"] for e in stored} == {
        "cancelled by fail-fast after a_fails.py failed"
    }
    assert executions["a_fails.py"]["sandbox"]["layers"]  # the one that ran: what held
