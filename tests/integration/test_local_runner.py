"""The local runner with real scripts in real child processes.

Every test runs under both start methods ("spawn" and "forkserver"), which must give identical
results. Scripts are generated into ``tmp_path`` at test time. Scripts that start processes of
their own record the pids in ``$SB_PIDS`` so the test can check that none is left behind; every
run also checks that the script's own process and anything the runner started (the fork server)
are gone. Nothing here sleeps: waiting is polling with a deadline (only the generated scripts
sleep).
"""

from __future__ import annotations

import asyncio
import codecs
import dataclasses
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from AppCode.core.domain.models import ExecutionStatus
from AppCode.core.engines.runner import AttemptOutcome, LaunchRequest
from AppCode.infrastructure.execution import local_runner
from AppCode.infrastructure.execution.local_runner import LocalRunner
from AppCode.infrastructure.execution.log_file import read_log

pytestmark = pytest.mark.timeout(60)

MB = 1024 * 1024
TIMEOUT_S = 1.5
GRACE_S = 0.5
SAFETY_TIMEOUT_S = 15.0  # for scripts that must end by themselves: a hang becomes timed_out
RUN_GUARD_S = 30.0  # a run() that takes longer than this is a runner hang: fail the test
KEEP_BYTES = 8 * MB  # output kept per run for assertions (the 100 MB test only counts the rest)
GONE_WITHIN_S = 5.0

SUCCEEDED = ExecutionStatus.SUCCEEDED
FAILED = ExecutionStatus.FAILED
TIMED_OUT = ExecutionStatus.TIMED_OUT
CANCELLED = ExecutionStatus.CANCELLED

# Prepended to scripts that start processes: record_pid(name, pid) writes $SB_PIDS/name
# atomically, so the test reads either nothing or the whole pid.
RECORD_PID = """\
import os as _os


def record_pid(name, pid):
    path = _os.path.join(_os.environ["SB_PIDS"], name)
    with open(path + ".tmp", "w") as fh:
        fh.write(str(pid))
    _os.replace(path + ".tmp", path)

"""

# A process that sleeps long after every test's time limit (started by scripts as a grandchild).
SLEEPER = '[sys.executable, "-c", "import time; time.sleep(120)"]'


# -- helpers ---------------------------------------------------------------------------------


def _running(proc: psutil.Process) -> bool:
    """Still running: a zombie (dead, not yet reaped by whoever adopted it) does not count."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def assert_gone(pids: Iterable[int], within: float = GONE_WITHIN_S) -> None:
    """Every pid ends within ``within`` seconds (polled; the wait is psutil's own)."""
    procs = []
    for pid in pids:
        try:
            procs.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            pass
    deadline = time.monotonic() + within
    alive = [p for p in procs if _running(p)]
    while alive:
        if time.monotonic() > deadline:
            described = []
            for proc in alive:
                try:
                    described.append((proc.pid, proc.status(), proc.cmdline()))
                    proc.kill()  # do not leave it to the next test
                except psutil.Error:
                    pass
            raise AssertionError(f"processes left behind: {described}")
        psutil.wait_procs(alive, timeout=0.05)
        alive = [p for p in alive if _running(p)]


@dataclass
class Result:
    """One run: the request, what the runner reported, and what the callbacks saw."""

    request: LaunchRequest
    cancel: asyncio.Event
    outcome: AttemptOutcome = field(init=False)
    chunks: list[tuple[str, bytes]] = field(default_factory=list)
    received: int = 0  # bytes passed to on_output, kept or not
    kept: int = 0
    non_bytes: list[type] = field(default_factory=list)
    started: list[tuple[int, float | None]] = field(default_factory=list)

    def output(self, stream: str = "stdout") -> bytes:
        """What on_output received for ``stream`` (up to KEEP_BYTES in all)."""
        return b"".join(data for s, data in self.chunks if s == stream)

    def log(self, stream: str | None = None) -> bytes:
        """The log file's bytes, of one stream or all."""
        return b"".join(
            data for s, data in read_log(self.request.log_path) if stream is None or s == stream
        )

    def text(self, stream: str = "stdout") -> str:
        return self.log(stream).decode("utf-8")

    @property
    def pid(self) -> int:
        assert len(self.started) == 1, f"on_started called {len(self.started)} times"
        return self.started[0][0]


Hook = Callable[[Result, str, bytes], None]


class Harness:
    """Writes scripts into tmp_path and runs them with a fresh LocalRunner per ``run``."""

    def __init__(self, tmp_path: Path, method: str) -> None:
        self.tmp = tmp_path
        self.method = method
        self.pid_dir = tmp_path / "pids"
        self.pid_dir.mkdir()
        self._ids = 0

    def script(self, relpath: str, body: str, *, record_pids: bool = False) -> Path:
        path = self.tmp / "scripts" / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        text = textwrap.dedent(body)
        path.write_text((RECORD_PID if record_pids else "") + text, encoding="utf-8")
        return path

    def request(
        self,
        script: Path,
        *,
        args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        timeout_s: float | None = None,
        kill_grace_s: float = GRACE_S,
        max_log_bytes: int = 100 * MB,
        log_name: str | None = None,
    ) -> LaunchRequest:
        self._ids += 1
        execution_id = f"exec-{self._ids}"
        return LaunchRequest(
            execution_id=execution_id,
            attempt=1,
            script_path=str(script),
            args=args,
            env={"SB_PIDS": str(self.pid_dir), **(env or {})},
            log_path=str(self.tmp / "logs" / f"{log_name or execution_id}.log"),
            python="",
            start_method=self.method,
            cwd=str(cwd) if cwd is not None else None,
            timeout_s=timeout_s,
            kill_grace_s=kill_grace_s,
            max_log_bytes=max_log_bytes,
        )

    def run(
        self, *requests: LaunchRequest, hook: Hook | None = None, concurrent: bool = False
    ) -> list[Result]:
        """Run the requests on one runner (one after the other, or all at once) inside one
        ``asyncio.run``; then check that nothing the runs started is still running."""

        async def main() -> list[Result]:
            runner = LocalRunner()
            try:
                results = [Result(request, asyncio.Event()) for request in requests]

                async def one(result: Result) -> None:
                    def on_output(stream: str, data: bytes) -> None:
                        if not isinstance(data, bytes):
                            result.non_bytes.append(type(data))
                        result.received += len(data)
                        if result.kept < KEEP_BYTES:
                            result.chunks.append((stream, bytes(data)))
                            result.kept += len(data)
                        if hook is not None:
                            hook(result, stream, data)

                    def on_started(pid: int, started_at: float | None) -> None:
                        result.started.append((pid, started_at))

                    try:
                        result.outcome = await asyncio.wait_for(
                            runner.run(result.request, on_output, on_started, result.cancel),
                            RUN_GUARD_S,
                        )
                    except TimeoutError:
                        pytest.fail(f"run() did not return within {RUN_GUARD_S} s")

                if concurrent:
                    await asyncio.gather(*(one(result) for result in results))
                else:
                    for result in results:
                        await one(result)
                return results
            finally:
                await runner.aclose()

        before = {p.pid for p in psutil.Process().children(recursive=True)}
        results = asyncio.run(main())
        for result in results:
            assert_gone(pid for pid, _ in result.started)
        # Everything the runner started itself (scripts, fork servers) was reaped by now.
        left = [
            (p.pid, p.status(), p.cmdline())
            for p in psutil.Process().children(recursive=True)
            if p.pid not in before
        ]
        assert left == [], f"the runner left child processes behind: {left}"
        return results

    def run_one(self, request: LaunchRequest, hook: Hook | None = None) -> Result:
        return self.run(request, hook=hook)[0]

    def recorded_pids(self, *names: str) -> list[int]:
        """The pids the script recorded with record_pid; all must be there."""
        missing = [name for name in names if not (self.pid_dir / name).exists()]
        assert not missing, f"the script did not record {missing}"
        return [int((self.pid_dir / name).read_text()) for name in names]


@pytest.fixture(params=["spawn", "spawn-popen", "forkserver"])
def start_method(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """``spawn-popen``: spawn as on macOS and Windows (subprocess.Popen rather than the fork
    server's fork + exec), so that path is tested on Linux too."""
    if request.param == "spawn-popen":
        monkeypatch.setattr(local_runner, "SPAWN_THROUGH_FORK_SERVER", False)
        return "spawn"
    return str(request.param)


@pytest.fixture
def h(tmp_path: Path, start_method: str) -> Harness:
    return Harness(tmp_path, start_method)


def _utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name == "utf-8"


# -- how a script ends -----------------------------------------------------------------------


def test_a_missing_script_fails_without_starting_a_process(h: Harness) -> None:
    missing = h.tmp / "scripts" / "missing.py"
    result = h.run_one(h.request(missing))
    outcome = result.outcome
    assert outcome.status is FAILED
    assert outcome.error_type == "FileNotFoundError"
    assert "missing.py" in (outcome.error_message or "")
    assert result.started == []
    assert b"missing.py" in result.log("stderr")


def test_where_scripts_cannot_run_every_attempt_fails_saying_so(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows: no process is started, and the user is told why and what to use instead."""
    monkeypatch.setattr(local_runner, "PLATFORM_SUPPORTED", False)
    result = h.run_one(h.request(h.script("fine.py", "print('hi')\n")))
    assert result.outcome.status is FAILED
    assert result.outcome.error_type == "UnsupportedPlatform"
    assert "Linux and macOS" in (result.outcome.error_message or "")
    assert "WSL" in (result.outcome.error_message or "")
    assert result.started == []


def test_an_interpreter_that_cannot_be_started_fails_the_attempt_naming_it(h: Harness) -> None:
    """The interpreter was checked when the batch started but is gone (a deleted virtualenv)."""
    request = h.request(h.script("fine.py", "print('hi')\n"))
    request = dataclasses.replace(request, python=str(h.tmp / "gone-venv" / "bin" / "python"))
    outcome = h.run_one(request).outcome
    assert outcome.status is FAILED
    assert outcome.error_type == "LaunchError"
    assert "gone-venv" in (outcome.error_message or "")


def test_a_syntax_error_fails_with_its_line_number(h: Harness) -> None:
    script = h.script("bad.py", "x = 1\ny = 2\nif x ==:\n    pass\n")
    result = h.run_one(h.request(script))
    outcome = result.outcome
    assert outcome.status is FAILED
    assert outcome.exit_code == 1
    assert outcome.error_type == "SyntaxError"
    assert "line 3" in (outcome.error_message or ""), outcome.error_message
    assert b"SyntaxError" in result.log("stderr")


def test_reading_stdin_gets_eof_at_once(h: Harness) -> None:
    script = h.script(
        "reads_stdin.py",
        """\
        import sys
        text = sys.stdin.read()
        raw = sys.stdin.buffer.readline()
        print("stdin:", repr(text), repr(raw))
        """,
    )
    result = h.run_one(h.request(script, timeout_s=SAFETY_TIMEOUT_S))
    assert result.outcome.status is SUCCEEDED
    assert result.text() == "stdin: '' b''\n"


def test_os_exit_with_a_code_fails_with_that_code(h: Harness) -> None:
    script = h.script("exit3.py", 'import os\nprint("bye", flush=True)\nos._exit(3)\n')
    result = h.run_one(h.request(script))
    assert result.outcome.status is FAILED
    assert result.outcome.exit_code == 3
    assert result.text() == "bye\n"


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGSEGV], ids=lambda s: s.name)
def test_death_by_a_signal_fails_naming_the_signal(h: Harness, sig: signal.Signals) -> None:
    script = h.script(
        "suicide.py",
        f"""\
        import os, signal
        print("before", flush=True)
        os.kill(os.getpid(), signal.{sig.name})
        print("after", flush=True)
        """,
    )
    result = h.run_one(h.request(script))
    outcome = result.outcome
    assert outcome.status is FAILED
    assert outcome.exit_code == -sig.value
    assert outcome.error_type == "Signal"
    assert sig.name in (outcome.error_message or ""), outcome.error_message
    assert result.text() == "before\n"


@pytest.mark.parametrize("close", ["os.close(1)", "sys.stdout.close()"])
def test_a_script_that_closes_its_stdout_succeeds(h: Harness, close: str) -> None:
    script = h.script(
        "closes_stdout.py",
        f"""\
        import os, sys
        print("before", flush=True)
        {close}
        print("after, on stderr", file=sys.stderr, flush=True)
        """,
    )
    result = h.run_one(h.request(script, timeout_s=SAFETY_TIMEOUT_S))
    assert result.outcome.status is SUCCEEDED, result.log("stderr")
    assert result.outcome.exit_code == 0
    assert result.log("stdout") == b"before\n"
    assert result.log("stderr") == b"after, on stderr\n"


@pytest.mark.parametrize(
    "exit_call", ["sys.exit(0)", "raise SystemExit(0)", "sys.exit()", "sys.exit(None)"]
)
def test_system_exit_zero_succeeds(h: Harness, exit_call: str) -> None:
    script = h.script("exit0.py", f'import sys\nprint("done")\n{exit_call}\nprint("not here")\n')
    result = h.run_one(h.request(script))
    outcome = result.outcome
    assert outcome.status is SUCCEEDED
    assert outcome.exit_code == 0
    assert (outcome.error_type, outcome.error_message) == (None, None)
    assert result.text() == "done\n"


def test_system_exit_with_a_message_fails_with_that_message(h: Harness) -> None:
    message = "每日报表 failed: no data for 2024-01-31"
    script = h.script("exit_message.py", f"import sys\nsys.exit({message!r})\n")
    result = h.run_one(h.request(script))
    outcome = result.outcome
    assert outcome.status is FAILED
    assert outcome.exit_code == 1
    assert outcome.error_type == "SystemExit"
    assert outcome.error_message == message
    assert result.text("stderr") == message + "\n"


def test_an_exception_gives_its_type_and_message(h: Harness) -> None:
    script = h.script("raises.py", 'print("working")\nraise ValueError("bad row 17")\n')
    result = h.run_one(h.request(script))
    outcome = result.outcome
    assert outcome.status is FAILED
    assert outcome.exit_code == 1
    assert (outcome.error_type, outcome.error_message) == ("ValueError", "bad row 17")
    assert "ValueError: bad row 17" in result.text("stderr")
    # The traceback shows the script's frames only, as `python raises.py` would.
    assert 'raises.py", line 2' in result.text("stderr")
    assert "bootstrap.py" not in result.text("stderr") and "runpy" not in result.text("stderr")


@pytest.mark.parametrize("ending", ["raise Unprintable()", "raise SystemExit(Unprintable())"])
def test_an_exception_that_cannot_be_shown_still_gives_its_type(h: Harness, ending: str) -> None:
    script = h.script(
        "unprintable.py",
        f"""\
        class Unprintable(Exception):
            def __str__(self):
                raise RuntimeError("no text")
        {ending}
        """,
    )
    outcome = h.run_one(h.request(script)).outcome
    assert outcome.status is FAILED
    assert outcome.exit_code == 1
    expected = "SystemExit" if "SystemExit" in ending else "Unprintable"
    assert (outcome.error_type, outcome.error_message) == (expected, "<exception str() failed>")
    assert outcome.memory_peak_bytes is not None  # the report was sent


def test_an_empty_script_succeeds(h: Harness) -> None:
    script = h.script("empty.py", "")
    assert script.stat().st_size == 0
    result = h.run_one(h.request(script))
    assert result.outcome.status is SUCCEEDED
    assert result.outcome.exit_code == 0
    assert result.outcome.output_bytes == 0
    assert result.log() == b""
    assert not Path(result.request.log_path + ".idx").exists()  # no stderr: no stream index


# -- what a script does to its surroundings ---------------------------------------------------


def test_a_script_that_changes_directory_succeeds(h: Harness) -> None:
    elsewhere = h.tmp / "elsewhere"
    elsewhere.mkdir()
    script = h.script(
        "chdir.py",
        """\
        import os, sys
        os.chdir(sys.argv[1])
        with open("made-here.txt", "w") as fh:
            fh.write("x")
        print("cwd:", os.getcwd())
        """,
    )
    our_cwd = os.getcwd()
    result = h.run_one(h.request(script, args=(str(elsewhere),)))
    assert result.outcome.status is SUCCEEDED
    assert result.text() == f"cwd: {elsewhere}\n"
    assert (elsewhere / "made-here.txt").exists()
    assert os.getcwd() == our_cwd


def test_a_script_that_deletes_itself_succeeds(h: Harness) -> None:
    script = h.script(
        "self_deleting.py",
        """\
        import os
        os.remove(__file__)
        print("still here:", os.path.exists(__file__))
        """,
    )
    result = h.run_one(h.request(script))
    assert result.outcome.status is SUCCEEDED
    assert result.text() == "still here: False\n"
    assert not script.exists()


@pytest.mark.parametrize("how", ["fork", "subprocess"])
def test_a_child_left_writing_forever_is_killed_and_the_run_ends(h: Harness, how: str) -> None:
    writer_loop = """\
import os, sys, time
first = True
while True:
    try:
        os.write(1, b"tick\\n")
    except OSError:
        pass
    if first:
        open(sys.argv[1], "w").close()
        first = False
    time.sleep(0.02)
"""
    if how == "fork":
        start = f"""\
pid = os.fork()
if pid == 0:
    sys.argv = [sys.argv[0], flag]
    exec(compile({writer_loop!r}, "writer", "exec"))
"""
    else:
        start = f"""\
import subprocess
pid = subprocess.Popen(
    [sys.executable, "-c", {writer_loop!r}, flag], start_new_session=False
).pid
"""
    script = h.script(
        "leaves_a_writer.py",
        "import os, sys, time\n"
        "flag = sys.argv[1]\n"
        + start
        + """\
record_pid("writer", pid)
deadline = time.monotonic() + 10
while not os.path.exists(flag):  # the writer is writing
    if time.monotonic() > deadline:
        sys.exit("the writer never started")
    time.sleep(0.01)
print("parent done", flush=True)
""",
        record_pids=True,
    )
    flag = h.tmp / "writer-started"
    result = h.run_one(h.request(script, args=(str(flag),), timeout_s=SAFETY_TIMEOUT_S))
    outcome = result.outcome
    assert outcome.status is SUCCEEDED, result.log("stderr")
    assert outcome.exit_code == 0
    assert outcome.duration_s < 10
    assert b"parent done\n" in result.log("stdout")
    assert b"tick\n" in result.log("stdout")
    assert_gone(h.recorded_pids("writer"))


def test_a_path_with_spaces_and_chinese_characters_runs(h: Harness) -> None:
    script = h.script(
        "数据 脚本/每日 报表.py",
        """\
        import os, sys
        print("argv0:", sys.argv[0])
        print("file:", __file__)
        print("cwd:", os.getcwd())
        print("问候: 你好")
        """,
    )
    result = h.run_one(h.request(script, log_name="每日 报表"))
    assert result.outcome.status is SUCCEEDED, result.log("stderr")
    assert result.text() == (f"argv0: {script}\nfile: {script}\ncwd: {script.parent}\n问候: 你好\n")


def test_two_scripts_with_the_same_name_in_different_folders(h: Harness) -> None:
    requests = []
    for folder in ("a", "b"):
        h.script(f"{folder}/helper.py", f"VALUE = {folder.upper()!r}\n")
        script = h.script(
            f"{folder}/job.py",
            "import os, helper\nprint(helper.VALUE, os.path.basename(os.getcwd()))\n",
        )
        requests.append(h.request(script))
    first, second = h.run(*requests, concurrent=True)
    assert first.request.log_path != second.request.log_path
    assert (first.outcome.status, second.outcome.status) == (SUCCEEDED, SUCCEEDED)
    assert first.log() == b"A a\n"
    assert second.log() == b"B b\n"


# -- stopping a script -----------------------------------------------------------------------

SPAWNS_A_SLEEPER = f"""\
import os, subprocess, sys, time
child = subprocess.Popen({SLEEPER})
record_pid("script", os.getpid())
record_pid("grandchild", child.pid)
print("ready", flush=True)
time.sleep(120)
"""


def test_a_timeout_ends_the_script_and_its_grandchild(h: Harness) -> None:
    script = h.script("sleeps.py", SPAWNS_A_SLEEPER, record_pids=True)
    result = h.run_one(h.request(script, timeout_s=TIMEOUT_S))
    outcome = result.outcome
    assert outcome.status is TIMED_OUT
    assert outcome.duration_s >= TIMEOUT_S
    assert result.log("stdout") == b"ready\n"
    pids = h.recorded_pids("script", "grandchild")
    assert pids[0] == result.pid
    assert_gone(pids)


def test_a_script_ignoring_sigterm_is_killed_after_the_grace_period(h: Harness) -> None:
    script = h.script(
        "stubborn.py",
        """\
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("ready", flush=True)
        while True:
            time.sleep(1)
        """,
    )
    result = h.run_one(h.request(script, timeout_s=TIMEOUT_S, kill_grace_s=GRACE_S))
    outcome = result.outcome
    assert outcome.status is TIMED_OUT
    assert outcome.exit_code == -signal.SIGKILL.value
    assert outcome.duration_s >= TIMEOUT_S + GRACE_S - 0.05
    assert result.log("stdout") == b"ready\n"


def test_cancelling_a_running_script_ends_it_and_its_grandchild(h: Harness) -> None:
    def cancel_when_ready(result: Result, stream: str, data: bytes) -> None:
        if b"ready" in result.output("stdout"):
            result.cancel.set()

    script = h.script("sleeps.py", SPAWNS_A_SLEEPER, record_pids=True)
    result = h.run_one(h.request(script, timeout_s=SAFETY_TIMEOUT_S), hook=cancel_when_ready)
    outcome = result.outcome
    assert outcome.status is CANCELLED
    assert outcome.duration_s < SAFETY_TIMEOUT_S
    assert result.log("stdout") == b"ready\n"
    assert_gone(h.recorded_pids("script", "grandchild"))


# -- output ----------------------------------------------------------------------------------


def test_100_mb_on_stderr_with_stdout_does_not_deadlock_and_is_capped(h: Harness) -> None:
    script = h.script(
        "loud.py",
        """\
        import sys
        chunk = b"e" * 65536
        total = 0
        for i in range(1600):  # 100 MB
            sys.stderr.buffer.write(chunk)
            total += len(chunk)
            if i % 8 == 0:
                line = f"stdout line {i}\\n"
                sys.stdout.write(line)
                total += len(line.encode())
        sys.stderr.buffer.flush()
        sys.stdout.flush()
        with open(sys.argv[1], "w") as fh:
            fh.write(str(total))
        """,
    )
    total_file = h.tmp / "total.txt"
    result = h.run_one(
        h.request(script, args=(str(total_file),), timeout_s=20, max_log_bytes=1 * MB)
    )
    outcome = result.outcome
    assert outcome.status is SUCCEEDED
    total = int(total_file.read_text())
    assert total > 100 * MB
    assert outcome.output_bytes == total
    assert result.received == total
    size = os.path.getsize(result.request.log_path)
    assert 1 * MB <= size <= 1 * MB + 1024
    assert b"[scriptbatch: output truncated" in result.log("stderr")


def test_invalid_utf8_is_kept_byte_for_byte(h: Harness) -> None:
    out = b"raw:\xff\xfe\xc3\x28\x80 end\n"
    err = b"err:\xff\x00\xe9\n"
    script = h.script(
        "binary.py",
        f"""\
        import sys
        sys.stdout.write("text before\\n")
        sys.stdout.buffer.write({out!r})
        sys.stderr.buffer.write({err!r})
        sys.stdout.flush()
        sys.stderr.flush()
        """,
    )
    result = h.run_one(h.request(script))
    assert result.outcome.status is SUCCEEDED
    assert result.non_bytes == []
    assert result.log("stdout") == b"text before\n" + out
    assert result.log("stderr") == err
    assert result.output("stdout") == b"text before\n" + out
    assert result.output("stderr") == err


@pytest.mark.parametrize(
    "write",
    ['print("waiting for the test")', 'sys.stdout.buffer.write(b"waiting for the test\\n")'],
)
def test_output_is_live(h: Harness, write: str) -> None:
    """The line reaches on_output while the script still runs: the script waits for a file
    that only the callback creates on seeing the line (nothing is timed). The first write
    starts the flushing thread under the fork server, through the text layer or the bytes one."""
    flag = h.tmp / "line-seen"

    def release(result: Result, stream: str, data: bytes) -> None:
        if b"waiting for the test\n" in result.output("stdout") and not flag.exists():
            flag.touch()

    script = h.script(
        "live.py",
        """\
        import os, sys, time
        WRITE  # no flush: the bootstrap's periodic flush delivers it
        deadline = time.monotonic() + 10
        while not os.path.exists(sys.argv[1]):
            if time.monotonic() > deadline:
                sys.exit("the line never reached the runner")
            time.sleep(0.01)
        print("released")
        """.replace("WRITE", write),
    )
    result = h.run_one(
        h.request(script, args=(str(flag),), timeout_s=SAFETY_TIMEOUT_S), hook=release
    )
    assert result.outcome.status is SUCCEEDED, result.outcome.error_message
    assert result.text() == "waiting for the test\nreleased\n"


def test_a_silent_script_runs_without_a_flushing_thread(h: Harness) -> None:
    """Under the fork server (Linux: forkserver and spawn) the flushing thread starts with the
    first write to stdout; a child started with Popen has it from the start, to watch the
    app's lifeline."""
    script = h.script(
        "threads.py",
        """\
        import os, sys
        tasks = len(os.listdir("/proc/self/task"))
        sys.stderr.write(f"threads before printing: {tasks}\\n")
        print("now")
        sys.stdout.flush()
        sys.stderr.write(f"threads after: {len(os.listdir('/proc/self/task'))}\\n")
        """,
    )
    result = h.run_one(h.request(script))
    assert result.outcome.status is SUCCEEDED, result.outcome.error_message
    popen = h.method == "spawn" and not local_runner.SPAWN_THROUGH_FORK_SERVER
    assert result.text("stderr") == (
        "threads before printing: 2\nthreads after: 2\n"
        if popen
        else "threads before printing: 1\nthreads after: 2\n"
    )


def test_a_first_print_that_cannot_start_the_flushing_thread_still_prints(h: Harness) -> None:
    """At its process or memory cap a script may have no thread left when it first prints:
    the print works, and the output arrives (at exit) all the same."""
    script = h.script(
        "no_threads.py",
        """\
        import _thread

        def refuse(*args, **kwargs):
            raise RuntimeError("can't start new thread")

        _thread.start_new_thread = refuse
        print("still printed")
        """,
    )
    result = h.run_one(h.request(script))
    assert result.outcome.status is SUCCEEDED, result.outcome.error_message
    assert result.text() == "still printed\n"


# -- measurements ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "low", "high"),
    [
        ("pass\n", 1, 40 * MB),
        ("data = b'\\x01' * (120 * 1024 * 1024)\nprint(len(data))\n", 100 * MB, None),
    ],
    ids=["trivial", "allocates-120MB"],
)
def test_peak_memory_is_the_scripts_own(h: Harness, body: str, low: int, high: int | None) -> None:
    script = h.script("memory.py", body)
    result = h.run_one(h.request(script))
    assert result.outcome.status is SUCCEEDED
    peak = result.outcome.memory_peak_bytes
    assert peak is not None
    assert peak >= low, f"{peak / MB:.1f} MB"
    if high is not None:
        assert peak < high, f"{peak / MB:.1f} MB"


@pytest.mark.parametrize(
    ("ending", "status", "low", "high"),
    [
        ("import os; os._exit(3)", FAILED, 1, 40 * MB),
        ("import os; os.kill(os.getpid(), 9)", FAILED, 1, 40 * MB),
        (
            "data = b'\\x01' * (120 * 1024 * 1024)\nimport os; os.kill(os.getpid(), 9)",
            FAILED,
            100 * MB,
            None,
        ),
        ("import time; time.sleep(60)", TIMED_OUT, 1, 40 * MB),
    ],
    ids=["os-exit", "sigkill", "allocates-then-sigkill", "timed-out"],
)
def test_a_script_that_cannot_report_still_gets_its_peak_memory(
    h: Harness, ending: str, status: ExecutionStatus, low: int, high: int | None
) -> None:
    """From the fork server's wait4 (ru_maxrss of its small fork); not where the app spawns
    the interpreter itself, whose ru_maxrss would count the app's pages."""
    if not local_runner.SPAWN_THROUGH_FORK_SERVER and h.method == "spawn":
        pytest.skip("spawned by the app: no figure of the script's own")
    result = h.run_one(h.request(h.script("ends.py", ending + "\n"), timeout_s=TIMEOUT_S))
    assert result.outcome.status is status
    peak = result.outcome.memory_peak_bytes
    assert peak is not None and peak >= low, peak
    if high is not None:
        assert peak < high, f"{peak / MB:.1f} MB"


def test_cpu_time_is_reported(h: Harness) -> None:
    script = h.script(
        "busy.py",
        """\
        import time
        start = time.process_time()
        while time.process_time() - start < 0.3:
            pass
        """,
    )
    result = h.run_one(h.request(script))
    assert result.outcome.status is SUCCEEDED
    assert result.outcome.cpu_s is not None
    assert result.outcome.cpu_s >= 0.25


# -- the child's environment -----------------------------------------------------------------


@pytest.mark.parametrize("given_cwd", [False, True], ids=["script-folder", "given-cwd"])
def test_argv_cwd_environment_and_session(
    h: Harness, monkeypatch: pytest.MonkeyPatch, given_cwd: bool
) -> None:
    # The app's own environment, as a child would inherit it; PYTHONIOENCODING must still be
    # utf-8 in the child.
    monkeypatch.setenv("SB_FROM_PARENT", "parent-value")
    monkeypatch.setenv("SB_OVERRIDDEN", "parent")
    monkeypatch.setenv("PYTHONIOENCODING", "latin-1")
    other = h.tmp / "other cwd"
    other.mkdir()
    script = h.script(
        "env/info.py",
        """\
        import json, os, sys
        info = {
            "name": __name__,
            "argv": sys.argv,
            "path0": sys.path[0],
            "cwd": os.getcwd(),
            "run": os.environ.get("SB_RUN_VAR"),
            "parent": os.environ.get("SB_FROM_PARENT"),
            "overridden": os.environ.get("SB_OVERRIDDEN"),
            "ioencoding": os.environ.get("PYTHONIOENCODING"),
            "stdout_encoding": sys.stdout.encoding,
            "stderr_encoding": sys.stderr.encoding,
            "pid": os.getpid(),
            "pgid": os.getpgrp(),
            "sid": os.getsid(0),
            "stdin_rdev": os.fstat(0).st_rdev,
            "devnull_rdev": os.stat(os.devnull).st_rdev,
        }
        print(json.dumps(info))
        print("报表 ✓")
        """,
    )
    args = ("a", "b c", "ü", "")
    result = h.run_one(
        h.request(
            script,
            args=args,
            env={"SB_RUN_VAR": "每日 value", "SB_OVERRIDDEN": "run"},
            cwd=other if given_cwd else None,
        )
    )
    stdout = result.log("stdout").decode("utf-8", "replace")
    info = json.loads(stdout.splitlines()[0])
    assert info["name"] == "__main__"
    assert info["argv"] == [str(script), *args]
    assert info["path0"] == str(script.parent)
    expected_cwd = other if given_cwd else script.parent
    assert os.path.realpath(info["cwd"]) == os.path.realpath(expected_cwd)
    assert info["run"] == "每日 value"
    assert info["parent"] == "parent-value"
    assert info["overridden"] == "run"
    assert info["ioencoding"] == "utf-8"
    assert info["pid"] == result.pid
    assert info["pgid"] == info["pid"] == info["sid"]  # its own session and process group
    assert info["stdin_rdev"] == info["devnull_rdev"]  # stdin is /dev/null
    assert isinstance(result.started[0][1], float)
    assert _utf8(info["stdout_encoding"]), info["stdout_encoding"]
    assert _utf8(info["stderr_encoding"]), info["stderr_encoding"]
    assert result.outcome.status is SUCCEEDED, result.log("stderr")
    assert stdout.splitlines()[1] == "报表 ✓"


def test_stdout_is_not_unbuffered(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """Even when the app itself runs with PYTHONUNBUFFERED=1 (IDEs and containers set it).

    CPython has no ``sys.flags.unbuffered``: ``-u``/PYTHONUNBUFFERED shows as the interpreter's
    own stdout/stderr having no buffer (``sys.__stdout__.buffer`` is the raw ``FileIO``).
    """
    monkeypatch.setenv("PYTHONUNBUFFERED", "1")
    script = h.script(
        "buffering.py",
        """\
        import io, json, os, sys
        print(json.dumps({
            "interpreter_stdout": type(sys.__stdout__.buffer).__name__,
            "interpreter_stderr": type(sys.__stderr__.buffer).__name__,
            "env": "PYTHONUNBUFFERED" in os.environ,
            "line_buffering": sys.stdout.line_buffering,
            "stdout_buffered": isinstance(sys.stdout.buffer, io.BufferedWriter),
        }))
        """,
    )
    result = h.run_one(h.request(script))
    assert result.outcome.status is SUCCEEDED
    info = json.loads(result.text())
    assert info == {
        "interpreter_stdout": "BufferedWriter",  # i.e. not unbuffered (-u)
        "interpreter_stderr": "BufferedWriter",
        "env": False,
        "line_buffering": False,
        "stdout_buffered": True,
    }


def test_no_state_leaks_from_one_script_to_the_next(h: Harness) -> None:
    """Same runner (so, with forkserver, the same fork server) for both scripts."""
    leaker = h.script(
        "leaker.py",
        """\
        import builtins, json, os, sys
        json._scriptbatch_leak = 1
        builtins.scriptbatch_leak = 1
        os.environ["SB_LEAK"] = "1"
        sys.path.append("/scriptbatch-leak")
        sys.modules["scriptbatch_leak_module"] = json
        os.chdir("/")
        print("leaked")
        """,
    )
    checker = h.script(
        "checker.py",
        """\
        import builtins, json, os, sys
        found = []
        if hasattr(json, "_scriptbatch_leak"):
            found.append("json._scriptbatch_leak")
        if hasattr(builtins, "scriptbatch_leak"):
            found.append("builtins.scriptbatch_leak")
        if "SB_LEAK" in os.environ:
            found.append("os.environ[SB_LEAK]")
        if "/scriptbatch-leak" in sys.path:
            found.append("sys.path")
        if "scriptbatch_leak_module" in sys.modules:
            found.append("sys.modules")
        if os.getcwd() != os.path.dirname(os.path.abspath(__file__)):
            found.append("cwd " + os.getcwd())
        print(json.dumps(found))
        """,
    )
    first, second = h.run(h.request(leaker), h.request(checker))
    assert first.outcome.status is SUCCEEDED
    assert first.text() == "leaked\n"
    assert second.outcome.status is SUCCEEDED
    assert json.loads(second.text()) == []
    assert "SB_LEAK" not in os.environ


def test_a_spawned_script_gets_its_code_compiled_by_the_fork_server(h: Harness) -> None:
    """Its own interpreter need not build the AST types to compile it (~2.5 ms per script);
    the in-memory file it came in is closed before the script's first line."""
    if h.method != "spawn" or not local_runner.SPAWN_THROUGH_FORK_SERVER:
        pytest.skip("spawn through the fork server only")
    script = h.script(
        "compiled.py",
        """\
        import json, os
        argv = open("/proc/self/cmdline", "rb").read().split(b"\\0")
        code_fd = int(argv[5])  # python -c LAUNCHER REPORT_FD LIFELINE_FD CODE_FD ...
        print(json.dumps({"code_fd": code_fd, "open": os.path.exists(f"/proc/self/fd/{code_fd}")}))
        """,
    )
    result = h.run_one(h.request(script))
    assert result.outcome.status is SUCCEEDED, result.log("stderr")
    info = json.loads(result.text())
    assert info["code_fd"] >= 0
    assert info["open"] is False


@pytest.mark.parametrize(
    ("env", "body", "expected"),
    [
        ({"PYTHONOPTIMIZE": "1"}, "print(__debug__)", "False\n"),
        ({}, "print('ran', '\\d')", "ran \\d\n"),  # a DeprecationWarning, hidden as by python
    ],
    ids=["optimize", "compile-warning"],
)
def test_a_spawned_script_is_compiled_as_its_interpreter_would(
    h: Harness, env: dict[str, str], body: str, expected: str
) -> None:
    """The run's environment decides how a spawned script is compiled, as for ``python
    SCRIPT``: whoever compiles it (its interpreter, or the fork server for it)."""
    if h.method != "spawn":
        pytest.skip("a fresh interpreter reads the run's PYTHON* variables")
    result = h.run_one(h.request(h.script("compile.py", body), env=env))
    assert result.outcome.status is SUCCEEDED, result.log("stderr")
    assert result.text() == expected


def test_warnings_as_errors_fail_a_spawned_script_at_compile_time(h: Harness) -> None:
    if h.method != "spawn":
        pytest.skip("a fresh interpreter reads the run's PYTHON* variables")
    script = h.script("escape.py", "x = 1\ny = '\\d'\n")
    result = h.run_one(h.request(script, env={"PYTHONWARNINGS": "error"}))
    assert result.outcome.status is FAILED
    assert result.outcome.error_type == "SyntaxError"
    assert "invalid escape sequence" in (result.outcome.error_message or "")
    assert "line 2" in result.text("stderr")


@pytest.mark.skipif(not local_runner.SPAWN_THROUGH_FORK_SERVER, reason="Linux: the fork server")
@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_prepare_starts_the_fork_server_without_waiting_for_it(
    tmp_path: Path, start_method: str
) -> None:
    """``prepare`` (called before a batch is stored) returns at once and the fork server comes
    up meanwhile; the first launch then uses that server instead of starting another."""
    from AppCode.core.domain.models import RunOptions

    script = tmp_path / "s.py"
    script.write_text("print('ok')\n")

    async def main() -> tuple[list[int], AttemptOutcome]:
        runner = LocalRunner()
        try:
            options = RunOptions(jobs=1, python=sys.executable, start_method=start_method)
            assert await runner.prepare(options) is None
            servers: list[psutil.Process] = []
            deadline = time.monotonic() + 20
            while not servers:
                assert time.monotonic() < deadline, "no fork server came up"
                await asyncio.sleep(0.01)
                servers = [
                    p
                    for p in psutil.Process().children()
                    if any("forkserver.py" in part for part in p.cmdline())
                ]
            request = LaunchRequest(
                execution_id="e1",
                attempt=1,
                script_path=str(script),
                args=(),
                env={},
                cwd=None,
                timeout_s=30,
                kill_grace_s=1,
                python=sys.executable,
                start_method=start_method,
                log_path=str(tmp_path / "e1.log"),
                max_log_bytes=1 << 20,
                sandbox=None,
            )
            outcome = await runner.run(request, lambda *_: None, lambda *_: None, asyncio.Event())
            after = [
                p.pid
                for p in psutil.Process().children()
                if any("forkserver.py" in part for part in p.cmdline())
            ]
            assert after == [servers[0].pid]
            return after, outcome
        finally:
            await runner.aclose()

    _, outcome = asyncio.run(main())
    assert outcome.status is ExecutionStatus.SUCCEEDED


def test_the_temp_dirs_of_a_killed_app_are_removed_and_nothing_else(tmp_path: Path) -> None:
    """Sandboxed runs' temp dirs are named after their app's pid and host; once that process
    is gone (kill -9: no clean-up ran), the next app removes them. Not a live app's, not
    another host's (a container sharing /tmp), not another name's, never through a symlink."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    made = local_runner._new_temp_dir()
    os.rmdir(made)
    host = os.path.basename(made).split("-")[1].partition("@")[2]
    assert os.path.basename(made).startswith(f"scriptbatch-{os.getpid()}@{host}-")
    dead = tmp_path / f"scriptbatch-{gone.pid}@{host}-abc"
    (dead / "cache").mkdir(parents=True)
    (dead / "cache" / "left.txt").write_text("x")
    mine = tmp_path / f"scriptbatch-{os.getpid()}@{host}-def"
    live = tmp_path / f"scriptbatch-1@{host}-ghi"  # init: alive
    elsewhere = tmp_path / f"scriptbatch-{gone.pid}@another{host}-jkl"  # its pid is not ours
    odd = tmp_path / "scriptbatch-notes"
    target = tmp_path / "precious"
    for folder in (mine, live, elsewhere, odd, target):
        folder.mkdir()
    (target / "keep.txt").write_text("keep")
    link = tmp_path / f"scriptbatch-{gone.pid}@{host}-link"
    link.symlink_to(target)

    assert local_runner.remove_orphan_temp_dirs(str(tmp_path)) == 1
    assert not dead.exists()
    assert mine.is_dir() and live.is_dir() and elsewhere.is_dir() and odd.is_dir()
    assert link.is_symlink() and (target / "keep.txt").read_text() == "keep"
