"""Batches through the real services, engine, runner and SQLite database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest
from sqlalchemy import event, text

from AppCode.core.domain.errors import ConfigurationError, NotFoundError
from AppCode.core.domain.events import ExecutionStarted
from AppCode.core.domain.ids import new_id
from AppCode.core.domain.models import (
    Batch,
    BatchStatus,
    Execution,
    ExecutionStatus,
    RunOptions,
)
from AppCode.core.domain.ports import ExecutionFilter
from tests.conftest import wait_until, write_script

S = ExecutionStatus


def run(container, **request):  # type: ignore[no-untyped-def]
    service = container.batch_service()
    handle = service.start(request)
    assert service.wait(handle, 60)
    return container.history_service().batch(handle.batch_id)


def test_a_batch_is_stored_with_results_attempts_and_logs(container, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ok = write_script(
        tmp_path / "ok.py",
        "import sys\nprint('out', sys.argv[1:])\nprint('err', file=sys.stderr)\n",
    )
    bad = write_script(tmp_path / "bad.py", "raise ValueError('no good')\n")
    batch, executions = run(container, paths=[str(ok), str(bad)], args=["x y"], jobs=2)
    assert batch.status is BatchStatus.FAILED and batch.finished_at is not None
    assert [e.status for e in executions] == [S.SUCCEEDED, S.FAILED]
    good, failed = executions
    assert good.exit_code == 0 and good.args == ("x y",) and good.attempts == 1
    assert good.duration_s and good.cpu_s is not None and good.memory_peak_bytes
    assert good.pid and good.started_at and good.finished_at
    assert failed.error_type == "ValueError" and failed.error_message == "no good"
    history = container.history_service()
    chunks = list(history.output(good))
    assert ("stdout", b"out ['x y']\n") in chunks and ("stderr", b"err\n") in chunks
    assert len(history.attempts(good.id)) == 1
    assert Path(good.log_path).is_relative_to(container.data_dir().runs / batch.id)
    assert history.execution(good.id).id == good.id


def test_a_silent_scripts_output_is_empty_and_a_deleted_log_is_gone(
    container, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    quiet = write_script(tmp_path / "quiet.py", "x = 1\n")
    quiet_fail = write_script(tmp_path / "quiet_fail.py", "raise SystemExit(3)\n")
    loud = write_script(tmp_path / "loud.py", "print('hello')\n")
    batch, (q, qf, loud_run) = run(container, paths=[str(quiet), str(quiet_fail), str(loud)])
    history = container.history_service()
    assert Path(q.log_path).read_bytes() == b"" and Path(qf.log_path).read_bytes() == b""
    assert list(history.output(q)) == [] and list(history.output(qf)) == []
    assert container.report_builder()(batch.id).output_tails[qf.id] == ()
    assert list(history.output(loud_run)) == [("stdout", b"hello\n")]
    # Logs deleted behind the database's back (a backup restored without its logs): the
    # silent ones still read as empty, the one that had output is gone, and says so.
    for execution in (q, loud_run):
        Path(execution.log_path).unlink()
    assert list(history.output(q)) == []
    with pytest.raises(NotFoundError, match="is gone"):
        history.output(loud_run)


@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_a_running_silent_scripts_log_is_there_already(
    container, tmp_path: Path, start_method: str
) -> None:  # type: ignore[no-untyped-def]
    """The log of a started attempt can be opened while it runs, before any output (on Linux
    the fork server's child makes it; elsewhere the first byte or the end does)."""
    if sys.platform != "linux":
        pytest.skip("the fork server starts scripts on Linux")
    gate = tmp_path / "gate"
    script = write_script(
        tmp_path / "quiet.py",
        f"import os, time\nwhile not os.path.exists({str(gate)!r}):\n    time.sleep(0.01)\n",
    )
    service = container.batch_service()
    started: list[ExecutionStarted] = []
    unsubscribe = container.event_bus().subscribe(
        lambda e: started.append(e) if isinstance(e, ExecutionStarted) else None
    )
    try:
        handle = service.start({"paths": [str(script)], "start_method": start_method})
        wait_until(lambda: started, what="the script to start")
        log = Path(container.history_service().batch(handle.batch_id)[1][0].log_path)
        # Made by the child as it starts (a moment after the event, at most): the script is
        # held by the gate, so nothing else can have made it.
        wait_until(log.exists, what="the running script's log file")
        assert log.read_bytes() == b""
    finally:
        gate.touch()
        unsubscribe()
    assert service.wait(handle, 30)
    assert handle.executions[0].status is ExecutionStatus.SUCCEEDED


def test_retries_record_every_attempt(container, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    counter = tmp_path / "count"
    flaky = write_script(
        tmp_path / "flaky.py",
        f"from pathlib import Path\np = Path({str(counter)!r})\n"
        "n = int(p.read_text()) if p.exists() else 0\np.write_text(str(n + 1))\n"
        "raise SystemExit(0 if n >= 2 else 'not yet')\n",
    )
    container.settings().execution.retry_backoff_s = 0.0
    _, (execution,) = run(container, paths=[str(flaky)], retries=3)
    assert execution.status is S.SUCCEEDED and execution.attempts == 3
    attempts = container.history_service().attempts(execution.id)
    assert [(a.number, a.status) for a in attempts] == [
        (1, S.FAILED),
        (2, S.FAILED),
        (3, S.SUCCEEDED),
    ]
    assert attempts[0].error_message == "not yet"
    log = b"".join(d for _, d in container.history_service().output(execution))
    assert b"[scriptbatch: attempt 2]" in log and b"[scriptbatch: attempt 3]" in log


def test_each_args_runs_every_script_once_per_line(container, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a = write_script(tmp_path / "a.py", "import sys; print(sys.argv[1:])\n")
    b = write_script(tmp_path / "b.py", "import sys; print(sys.argv[1:])\n")
    _, executions = run(
        container,
        paths=[str(a), str(b)],
        each_args=[["1"], ["2", "two words"], []],
        env={"GREETING": "hi"},
    )
    assert [(Path(e.script_path).name, e.args) for e in executions] == [
        ("a.py", ("1",)),
        ("a.py", ("2", "two words")),
        ("a.py", ()),
        ("b.py", ("1",)),
        ("b.py", ("2", "two words")),
        ("b.py", ()),
    ]
    assert all(e.env == {"GREETING": "hi"} for e in executions)
    assert all(e.status is S.SUCCEEDED for e in executions)


def test_folders_expand_and_library_scripts_are_linked(container, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    write_script(tmp_path / "lib" / "one.py")
    write_script(tmp_path / "lib" / "sub" / "two.py")
    write_script(tmp_path / "lib" / ".hidden" / "no.py")
    container.script_service().add([tmp_path / "lib" / "one.py"])
    _, executions = run(container, paths=[str(tmp_path / "lib")])
    assert [Path(e.script_path).name for e in executions] == ["one.py", "two.py"]
    assert executions[0].script_id is not None and executions[1].script_id is None


def test_a_missing_script_fails_and_the_rest_runs(container, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ok = write_script(tmp_path / "ok.py")
    _, executions = run(container, paths=[str(tmp_path / "gone.py"), str(ok)])
    assert [e.status for e in executions] == [S.FAILED, S.SUCCEEDED]
    assert executions[0].error_type == "FileNotFoundError"


def test_bad_requests_are_refused_before_anything_is_stored(container, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "empty").mkdir()
    ok = str(write_script(tmp_path / "ok.py"))
    service = container.batch_service()
    with pytest.raises(ConfigurationError, match="no Python scripts"):
        service.start({"paths": [str(tmp_path / "empty")]})
    with pytest.raises(ConfigurationError, match="jobs"):
        service.start({"paths": [ok], "jobs": -1})
    with pytest.raises(ConfigurationError, match="was not found"):
        service.start({"paths": [ok], "python": "/no/such/python"})
    with pytest.raises(ConfigurationError, match="not a working Python"):
        service.start({"paths": [ok], "python": "/bin/false"})
    assert container.history_service().batches() == []


def test_another_interpreter_runs_the_scripts(container, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base = getattr(sys, "_base_executable", sys.executable)
    script = write_script(tmp_path / "which.py", "import sys; print(sys.executable)\n")
    _, (execution,) = run(container, paths=[str(script)], python=base, start_method="spawn")
    assert execution.status is S.SUCCEEDED
    output = b"".join(d for _, d in container.history_service().output(execution)).decode()
    assert os.path.realpath(output.strip()) == os.path.realpath(base)


def test_rerun_failed_runs_only_what_did_not_succeed(container, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ok = write_script(tmp_path / "ok.py")
    bad = write_script(tmp_path / "bad.py", "raise SystemExit(3)\n")
    first, _ = run(container, paths=[str(ok), str(bad)], args=["--flag"])
    service = container.batch_service()
    handle = service.rerun(first.id[:12], failed_only=True)
    assert service.wait(handle, 60)
    batch, executions = container.history_service().batch(handle.batch_id)
    assert [(Path(e.script_path).name, e.args) for e in executions] == [("bad.py", ("--flag",))]
    assert batch.note == f"re-run of {first.id}"
    everything = service.rerun(first.id)
    assert service.wait(everything, 60)
    assert len(everything.executions) == 2
    with pytest.raises(NotFoundError):
        service.rerun("zzzz")


def test_results_are_written_in_batched_transactions(container, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for i in range(100):
        write_script(tmp_path / "many" / f"s{i:03d}.py", "x = 1\n")
    commits = []
    event.listen(container.database(), "commit", lambda conn: commits.append(1))
    _batch, executions = run(container, paths=[str(tmp_path / "many")], jobs=4)
    assert all(e.status is S.SUCCEEDED for e in executions)
    # 100 scripts make 400+ state changes; one commit each would be 400+.
    assert len(commits) < 60, len(commits)


def test_ten_thousand_executions_are_created_at_once_and_can_be_cancelled(
    container, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    script = write_script(tmp_path / "wait.py", "import time; time.sleep(30)\n")
    started: list[ExecutionStarted] = []
    container.event_bus().subscribe(
        lambda e: started.append(e) if isinstance(e, ExecutionStarted) else None
    )
    service = container.batch_service()
    handle = service.start(
        {"paths": [str(script)], "each_args": [[str(i)] for i in range(10_000)], "jobs": 2}
    )
    history = container.history_service()
    assert history.count(ExecutionFilter(batch_id=handle.batch_id)) == 10_000
    wait_until(lambda: len(started) >= 2, what="first scripts to start")
    service.cancel(handle.batch_id)
    assert service.wait(handle, 60)
    batch, executions = history.batch(handle.batch_id)
    assert batch.status is BatchStatus.CANCELLED
    assert {e.status for e in executions} == {S.CANCELLED}
    assert sum(1 for e in executions if e.attempts) == 2


def test_recovery_marks_a_dead_owners_runs_interrupted_and_kills_leftovers(
    container, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    leftover = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True
    )
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    batch = Batch(
        new_id(),
        RunOptions(jobs=2),
        status=BatchStatus.RUNNING,
        owner_pid=int(dead.stdout),
        owner_host=None,
        owner_token="1.000",
    )
    done = Execution(
        new_id(), batch.id, 0, "/x/done.py", status=S.SUCCEEDED, exit_code=0, attempts=1
    )
    running = Execution(
        new_id(),
        batch.id,
        1,
        "/x/run.py",
        status=S.RUNNING,
        attempts=1,
        pid=leftover.pid,
        pid_started_at=psutil.Process(leftover.pid).create_time(),
    )
    pending = Execution(new_id(), batch.id, 2, "/x/later.py")
    with container.uow() as uow:
        uow.batches.add(batch, [done, running, pending])
        uow.commit()

    assert container.batch_service().recover_interrupted() == 2
    assert leftover.wait(10) == -signal.SIGKILL
    stored, executions = container.history_service().batch(batch.id)
    assert stored.status is BatchStatus.FAILED
    assert [e.status for e in executions] == [S.SUCCEEDED, S.INTERRUPTED, S.INTERRUPTED]
    assert executions[0].exit_code == 0  # finished results untouched
    assert container.batch_service().recover_interrupted() == 0


def running_batch_of_this_process(container) -> Batch:  # type: ignore[no-untyped-def]
    """A batch recorded as running, owned by this (live) process."""
    pid, host, token = container.process_table().current_owner()
    return Batch(
        new_id(),
        RunOptions(jobs=1),
        status=BatchStatus.RUNNING,
        owner_pid=pid,
        owner_host=host,
        owner_token=token,
    )


def test_a_live_owners_batch_is_left_alone(container) -> None:  # type: ignore[no-untyped-def]
    batch = running_batch_of_this_process(container)
    with container.uow() as uow:
        uow.batches.add(batch, [Execution(new_id(), batch.id, 0, "/x.py", status=S.RUNNING)])
        uow.commit()
    assert container.batch_service().recover_interrupted() == 0


def test_prune_deletes_old_executions_with_their_logs(container, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    script = write_script(tmp_path / "s.py")
    old, old_runs = run(container, paths=[str(script)], each_args=[["1"], ["2"]])
    new, new_runs = run(container, paths=[str(script)])
    with container.database().begin() as conn:
        conn.execute(
            text("UPDATE executions SET created_at = :t WHERE batch_id = :b"),
            {"t": datetime.now(UTC).replace(tzinfo=None) - timedelta(days=100), "b": old.id},
        )
    report = container.batch_service().prune(timedelta(days=90))
    assert (report.executions, report.log_files) == (2, 2)
    assert not any(Path(e.log_path).exists() for e in old_runs)
    assert not (container.data_dir().runs / old.id).exists()
    assert Path(new_runs[0].log_path).exists()
    history = container.history_service()
    assert [b.id for b in history.batches()] == [new.id]
    with pytest.raises(NotFoundError):
        history.execution(old_runs[0].id)


def test_prune_leaves_a_batch_that_is_still_running_alone(container) -> None:  # type: ignore[no-untyped-def]
    running = running_batch_of_this_process(container)
    done = Execution(new_id(), running.id, 0, "/a.py", status=S.SUCCEEDED)
    queued = Execution(new_id(), running.id, 1, "/b.py", status=S.RUNNING)
    with container.uow() as uow:
        uow.batches.add(running, [done, queued])
        uow.commit()

    report = container.batch_service().prune(timedelta(0))

    assert report.executions == 0
    _batch, kept = container.history_service().batch(running.id)
    assert {e.id for e in kept} == {done.id, queued.id}


def test_rerun_runs_under_the_same_sandbox_as_the_original(container, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    script = write_script(tmp_path / "uses_json.py", "import json\nprint('ran')\n")
    overrides = {"block_modules": ["json"], "memory_limit_mb": 256}
    original, (first,) = run(container, paths=[str(script)], sandbox_overrides=overrides)
    assert first.status is S.BLOCKED

    service = container.batch_service()
    handle = service.rerun(original.id)
    assert service.wait(handle, 60)
    again, (second,) = container.history_service().batch(handle.batch_id)

    assert second.status is S.BLOCKED and "json" in (second.error_message or "")
    assert again.options.sandbox == original.options.sandbox
    assert again.options.sandbox is not None
    assert again.options.sandbox["memory_limit_mb"] == 256


@pytest.mark.parametrize(
    "request_", [{"no_sandbox": True}, {"sandbox_policy": "off"}, {"sandbox_policy": "standard"}]
)
def test_a_pinned_policy_holds_whatever_the_batch_uses(  # type: ignore[no-untyped-def]
    container, tmp_path: Path, request_: dict[str, object]
) -> None:
    pinned = write_script(tmp_path / "pinned.py", "import json\nprint('ran')\n")
    free = write_script(tmp_path / "free.py", "import json\nprint('ran')\n")
    container.script_service().add([str(pinned), str(free)])
    policy = tmp_path / "no_json.toml"
    policy.write_text('base = "standard"\nblocked_modules = ["json"]\n', encoding="utf-8")
    container.script_service().set_policy(str(pinned), str(policy))
    _batch, executions = run(container, paths=[str(pinned), str(free)], **request_)
    by_name = {Path(e.script_path).name: e for e in executions}
    assert by_name["pinned.py"].status is S.BLOCKED
    assert "json" in (by_name["pinned.py"].error_message or "")
    assert by_name["free.py"].status is S.SUCCEEDED


def test_arguments_for_every_run_follow_each_line_of_each_args(container, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    script = write_script(tmp_path / "s.py", "import sys\nprint(sys.argv[1:])\n")
    _batch, executions = run(
        container, paths=[str(script)], each_args=[["a"], ["b", "c"]], args=["--all"]
    )
    assert [e.args for e in executions] == [("a", "--all"), ("b", "c", "--all")]


@pytest.mark.parametrize(
    "request_",
    [
        {"no_sandbox": True, "sandbox_overrides": {"memory_limit_mb": 64}},
        {"no_sandbox": True, "sandbox_policy": "strict"},
        {"sandbox_policy": "off", "sandbox_overrides": {"block_modules": ["os"]}},
        {"sandbox_overrides": {"memory_limit_mb": 5}},
        {"sandbox_overrides": {"cpu_time_limit_s": 1e20}},
        {"timeout_s": float("nan")},
        {"paths": [""]},
    ],
    ids=[
        "off-and-limit",
        "off-and-strict",
        "policy-off-and-module",
        "memory-too-low",
        "cpu-too-high",
        "timeout-nan",
        "empty-path",
    ],
)
def test_contradictory_or_out_of_range_requests_store_nothing(  # type: ignore[no-untyped-def]
    container, tmp_path: Path, request_: dict[str, object]
) -> None:
    script = write_script(tmp_path / "s.py")
    with pytest.raises(ConfigurationError):
        container.batch_service().start({"paths": [str(script)], **request_})
    assert container.history_service().batches() == []


def test_a_script_whose_name_is_not_utf8_is_skipped_and_the_rest_runs(  # type: ignore[no-untyped-def]
    container, tmp_path: Path
) -> None:
    folder = tmp_path / "mixed"
    write_script(folder / "good.py")
    bad = os.fsdecode(bytes(folder) + b"/bad\xffname.py")
    Path(bad).write_text("print(1)\n", encoding="utf-8")
    skipped = []
    service = container.batch_service()
    handle = service.start({"paths": [str(folder)]}, on_skipped=skipped.append)
    assert service.wait(handle, 60)
    _batch, executions = container.history_service().batch(handle.batch_id)
    assert [Path(e.script_path).name for e in executions] == ["good.py"]
    assert [s.path for s in skipped] == [bad] and "UTF-8" in skipped[0].reason


def test_interpreter_start_up_variables_need_fresh_interpreters(container, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """PYTHONOPTIMIZE and the like are read when an interpreter starts: auto gives such a run
    fresh interpreters, and an explicit forkserver, which would ignore them, is refused."""
    script = write_script(tmp_path / "optimized.py", "assert False, 'asserts are on'\n")
    env = {"PYTHONOPTIMIZE": "1"}
    _, (execution,) = run(container, paths=[str(script)], env=env, start_method="auto")
    assert execution.status is ExecutionStatus.SUCCEEDED  # -O: the assert is gone
    with pytest.raises(ConfigurationError, match="PYTHONOPTIMIZE would be ignored"):
        container.batch_service().start(
            {"paths": [str(script)], "env": env, "start_method": "forkserver"}
        )
    # PYTHONPATH is the fork server's to apply: forkserver takes it.
    lib = tmp_path / "lib"
    write_script(lib / "helper_mod.py", "VALUE = 7\n")
    user = write_script(tmp_path / "user.py", "import helper_mod\nprint(helper_mod.VALUE)\n")
    _, (ran,) = run(
        container, paths=[str(user)], env={"PYTHONPATH": str(lib)}, start_method="forkserver"
    )
    assert ran.status is ExecutionStatus.SUCCEEDED, ran.error_message
