"""How a sandboxed run's end is judged: what the script cannot forge, and what is not the
sandbox's doing.

The report pipe the bootstrap writes to is inherited by the script, which can write into it too;
the runner must not let junk push the real lines out, nor take a later set-up line for the real
one. A limit is blamed only for what the limit itself makes: an exception of the same type that
a script raises with its own text, or a non-blocking read that finds nothing, is a plain failure.
Scripts run through the real services, engine and runner (see ``test_sandbox.py``'s ``Hostile``).
"""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from tests.integration.test_sandbox import (
    FORK_SERVER_METHODS,
    METHODS,
    Case,
    Hostile,
    _assert_clean,
    _writing_denied,
    needs_cgroup,
    needs_kernel_layers,
)
from tests.integration.test_sandbox import S as Status
from tests.integration.test_sandbox import app as app  # the fixtures these tests use
from tests.integration.test_sandbox import hostile as hostile
from tests.integration.test_sandbox import secret as secret

pytestmark = pytest.mark.timeout(90)

# The script finds the report pipe: its only inherited write-only pipe above stderr.
FIND_REPORT_PIPE = """\
import os, stat
def report_pipe():
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            continue
        if fd > 2 and stat.S_ISFIFO(mode):
            try:
                os.write(fd, b"")  # the write end: the report pipe
                return fd
            except OSError:
                pass
    raise SystemExit("no report pipe found")
"""


def _forging_cases(hostile: Hostile) -> list[Case]:
    target = hostile.outside / "hidden.txt"

    def junk_then_caught_violation(name: str, junk: str) -> Case:
        """The script writes ``junk`` into the report pipe, then catches a violation."""
        body = f"""\
fd = report_pipe()
os.write(fd, {junk})
try:
    open({str(target)!r}, "w")
except Exception:
    pass
"""
        return Case(
            name,
            FIND_REPORT_PIPE + body,
            Status.BLOCKED,
            "SecurityError",
            _writing_denied(target),
            absent=(target,),
        )

    return [
        # More than any cap on what is kept:
        junk_then_caught_violation("junk_then_caught_violation", 'b"x" * 1_100_000 + b"\\n"'),
        # No newline: the next line would be glued to it.
        junk_then_caught_violation("unfinished_line_then_caught_violation", "b\"{'junk': \""),
        Case(
            "forged_set_up",
            FIND_REPORT_PIPE
            + dedent(
                """\
            fd = report_pipe()
            os.write(fd, b"\\n{'applied': ['namespaces', 'forged-layer'], 'degraded': True}\\n")
            print("forged")
            """
            ),
            Status.SUCCEEDED,  # the batch's check: the record is the real one, not degraded
        ),
    ]


@needs_kernel_layers
@pytest.mark.parametrize("method", METHODS)
def test_a_script_cannot_hide_a_violation_or_forge_its_sandbox_record(
    hostile: Hostile,
    method: str,
) -> None:
    _assert_clean(hostile.run(_forging_cases(hostile), policy="standard", method=method))


NOT_THE_SANDBOX = [
    Case(
        "own_permission_error",
        'raise PermissionError(13, "the remote API said: access denied")\n',
        Status.FAILED,
        "PermissionError",
        r"the remote API said",
    ),
    Case(
        "own_memory_error",
        'raise MemoryError("matrix too large for this report")\n',
        Status.FAILED,
        "MemoryError",
        r"matrix too large",
    ),
    Case(
        "own_file_too_large",
        'import errno\nraise OSError(errno.EFBIG, "the upload is over the API limit")\n',
        Status.FAILED,
        "OSError",
        r"over the API limit",
    ),
    Case(
        "empty_non_blocking_read",  # where no cgroup counts refusals, EAGAIN is taken for one
        "import os\nr, w = os.pipe()\nos.set_blocking(r, False)\nos.read(r, 1)\n",
        Status.FAILED,
        "BlockingIOError",
        r"Resource temporarily unavailable",
    ),
    Case(
        "undecodable_message",
        'raise ValueError("bad \\udce9 byte")\n',
        Status.FAILED,
        "ValueError",
        r"bad \\udce9 byte",
    ),
]


@needs_kernel_layers
@pytest.mark.parametrize("method", METHODS)
def test_a_scripts_own_errors_are_failures_not_sandbox_blocks(
    hostile: Hostile,
    method: str,
) -> None:
    cases = NOT_THE_SANDBOX
    if method == "spawn-popen":
        cases = [c for c in cases if c.name != "empty_non_blocking_read"]
    _assert_clean(hostile.run(cases, policy="standard", method=method))


THREADS = Case(
    "too_many_threads",
    """\
    import threading
    gate = threading.Event()
    threads = [threading.Thread(target=gate.wait) for _ in range(40)]
    try:
        for t in threads:
            t.start()
    finally:
        gate.set()
    """,
    Status.BLOCKED,
    "ResourceLimitError",
    r"process limit of 20 reached \(threads count toward it\)",
)


@needs_kernel_layers
@needs_cgroup
@pytest.mark.parametrize("method", FORK_SERVER_METHODS)
def test_threads_beyond_the_process_cap_are_blamed_on_it(
    hostile: Hostile, tmp_path: Path, method: str
) -> None:
    """Threads count toward the pids cgroup's cap: the script's own "can't start new thread"
    is the cap's doing, which the cgroup's count of refusals tells."""
    policy_file = tmp_path / "capped.toml"
    policy_file.write_text('base = "standard"\nmax_processes = 20\n')
    batch = hostile.run([THREADS], policy=str(policy_file), policy_name="capped", method=method)
    _assert_clean(batch)
