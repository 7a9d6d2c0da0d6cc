"""Hostile scripts against the sandbox, through the real services, engine, runner and database.

Every script is generated into ``tmp_path`` (one folder per script: its own folder is where it
may write) and run with ``BatchService.start`` under the policy it attacks, several scripts per
batch. Each one has an expected status, error type and message, and every batch then checks that
nothing escaped:

- no file appeared or changed outside the allowed folders (the ``outside`` folder is compared
  with a snapshot; targets elsewhere, such as site-packages or ``/``, must not exist);
- no connection or datagram reached the loopback listener (a TCP server and a UDP socket that
  the test owns) where the network is off;
- no process is left: scripts record the pids they start in ``<their folder>/pids``, and the
  test polls with a deadline until those, the scripts themselves and every new descendant of
  this process (except the fork server) are gone;
- this process (the app) and the processes a script tried to signal or trace are alive.

Each sandboxed execution must also record its policy and the layers that held, without
degrading; the layers are printed (``pytest -s``).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import sysconfig
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from AppCode.core.domain.models import Execution, ExecutionStatus
from AppCode.core.security.policy import STRICT_ENV_ALLOWED
from AppCode.infrastructure.execution import local_runner
from AppCode.infrastructure.execution.cgroups import PidsCgroups
from tests.conftest import wait_until

pytestmark = pytest.mark.timeout(90)

S = ExecutionStatus
MB = 1024 * 1024
TIMEOUT_S = 3.0  # wall clock for batches whose hostile scripts would run forever
SAFE_TIMEOUT_S = 20.0  # batches whose scripts must end by themselves (a hang is a failure)
GRACE_S = 0.5
MEMORY_MB = 512
FILE_MB = 16
MAX_PROCESSES = 20
GONE_WITHIN_S = 5.0
SECRET_NAME = "SB_SANDBOX_TEST_SECRET"
# "spawn-popen": spawn as on macOS and Windows (subprocess.Popen, every layer applied in the new
# interpreter) rather than through the fork server, so that path is tested on Linux too. Like
# there, it has no pids cgroup: the cgroups belong to the fork server's cells.
METHODS = ["spawn", "spawn-popen", "forkserver"]
FORK_SERVER_METHODS = ["spawn", "forkserver"]


# -- what this machine's kernel offers ------------------------------------------------------------


def _landlock_abi() -> int:
    """The Landlock ABI version, asked the way sandbox_child does (0 = none)."""
    if not sys.platform.startswith("linux"):
        return 0
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return max(0, int(abi))


def _has_libseccomp() -> bool:
    try:
        ctypes.CDLL("libseccomp.so.2")
    except OSError:
        return False
    return True


def _dead(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE  # left for whoever adopted it to reap
    except psutil.NoSuchProcess:
        return True


def _pids_cgroup_writable() -> bool:
    return os.path.isdir("/sys/fs/cgroup/pids") and os.access("/sys/fs/cgroup/pids", os.W_OK)


def _user_namespaces() -> bool:
    """Whether a process may make a user namespace here (asked in a forked child)."""
    if not sys.platform.startswith("linux"):
        return False
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        libc = ctypes.CDLL(None, use_errno=True)
        os._exit(0 if libc.unshare(0x10000000) == 0 else 1)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


LANDLOCK_ABI = _landlock_abi()
SECCOMP = _has_libseccomp()
CGROUP = _pids_cgroup_writable()
USER_NAMESPACES = _user_namespaces()
EXPECTED_LAYERS = [*(["cgroup"] if CGROUP else []), "rlimits", "landlock", "seccomp", "audit"]


def expected_layers(policy: str, method: str) -> list[str]:
    """What every run under ``policy`` must record: strict adds namespaces where it can; runs
    not started by the fork server have no cgroup."""
    layers = [layer for layer in EXPECTED_LAYERS if method != "spawn-popen" or layer != "cgroup"]
    if policy == "strict" and USER_NAMESPACES:
        at = 1 if layers[0] == "cgroup" else 0
        return [*layers[:at], "namespaces", *layers[at:]]
    return layers


needs_kernel_layers = pytest.mark.skipif(
    not (LANDLOCK_ABI >= 1 and SECCOMP),
    reason=f"needs Landlock (ABI here: {LANDLOCK_ABI}) and libseccomp (here: {SECCOMP})",
)
needs_cgroup = pytest.mark.skipif(
    not CGROUP, reason="needs a writable /sys/fs/cgroup/pids hierarchy (the process cap)"
)


# -- script text ----------------------------------------------------------------------------------

# Prepended to every script. record_pid writes <script folder>/pids/NAME atomically, so the test
# reads either nothing or the whole pid.
PRELUDE = """\
import os as _os

HERE = _os.path.dirname(_os.path.abspath(__file__))
OUTSIDE = {outside!r}


def record_pid(pid=None, name=None):
    pid = _os.getpid() if pid is None else pid
    folder = _os.path.join(HERE, "pids")
    _os.makedirs(folder, exist_ok=True)
    path = _os.path.join(folder, name or str(pid))
    with open(path + ".tmp", "w") as fh:
        fh.write(str(pid))
    _os.replace(path + ".tmp", path)


"""

SLEEPER = '[sys.executable, "-c", "import time; time.sleep(60)"]'


@dataclass
class Case:
    """One hostile (or harmless) script and what must become of it."""

    name: str
    body: str
    status: ExecutionStatus
    error_type: str | None = None
    message: str | None = None  # a regular expression the error message must contain
    absent: tuple[Path, ...] = ()  # paths that must not exist after the run
    check: Callable[[Execution, bytes], list[str]] | None = None  # more checks: problems


@dataclass
class Batch:
    executions: dict[str, Execution]
    problems: list[str]
    folders: dict[str, Path]

    def __getitem__(self, name: str) -> Execution:
        return self.executions[name]


# -- helpers --------------------------------------------------------------------------------------


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _left_running(pids: set[int], within: float = GONE_WITHIN_S) -> list[str]:
    """Waits (polling) until every pid has ended; describes and kills those that did not."""
    procs = []
    for pid in pids:
        try:
            procs.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            pass
    deadline = time.monotonic() + within
    alive = [p for p in procs if _running(p)]
    while alive and time.monotonic() < deadline:
        psutil.wait_procs(alive, timeout=0.05)
        alive = [p for p in alive if _running(p)]
    left = []
    for proc in alive:
        try:
            left.append(f"{proc.pid} {proc.status()} {proc.cmdline()}")
            proc.kill()  # do not leave it to the next test
        except psutil.Error:
            pass
    return left


def _snapshot(root: Path) -> dict[str, str]:
    """Every entry under ``root``: its kind and, for files, a hash of the content."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            found[rel] = "link:" + os.readlink(path)
        elif path.is_dir():
            found[rel] = "dir"
        else:
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _is_fork_server(proc: psutil.Process) -> bool:
    try:
        return any(part.endswith("forkserver.py") for part in proc.cmdline())
    except psutil.Error:
        return False


class Listener:
    """A TCP server and a UDP socket on 127.0.0.1 that record whatever reaches them."""

    def __init__(self) -> None:
        self.tcp = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.tcp.setblocking(False)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.udp.setblocking(False)
        self.received: list[tuple[str, bytes]] = []

    @property
    def env(self) -> dict[str, str]:
        return {
            "SB_TCP_PORT": str(self.tcp.getsockname()[1]),
            "SB_UDP_PORT": str(self.udp.getsockname()[1]),
        }

    def collect(self) -> list[tuple[str, bytes]]:
        """Accept what is queued (a connect completes in the kernel, accepted or not) and read
        the datagrams; the scripts have ended, so every sender has closed its end."""
        while True:
            try:
                conn, _ = self.tcp.accept()
            except BlockingIOError:
                break
            conn.settimeout(2.0)
            data = b""
            try:
                while chunk := conn.recv(65536):
                    data += chunk
            except OSError:
                pass
            conn.close()
            self.received.append(("tcp", data))
        while True:
            try:
                data, _ = self.udp.recvfrom(65536)
            except BlockingIOError:
                break
            self.received.append(("udp", data))
        return list(self.received)

    def close(self) -> None:
        self.tcp.close()
        self.udp.close()


class Victim:
    """A process outside every run (its own session) that notes any SIGUSR1 it receives."""

    CODE = (
        "import signal, sys, time\n"
        "flag, ready = sys.argv[1], sys.argv[2]\n"
        "signal.signal(signal.SIGUSR1, lambda *a: open(flag, 'w').write('hit'))\n"
        "open(ready, 'w').write('ready')\n"
        "time.sleep(120)\n"
    )

    def __init__(self, folder: Path) -> None:
        folder.mkdir()
        self.flag = folder / "signalled"
        ready = folder / "ready"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", self.CODE, str(self.flag), str(ready)],
            start_new_session=True,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not ready.exists():
            assert time.monotonic() < deadline, "the victim process did not start"
            time.sleep(0.01)

    @property
    def env(self) -> dict[str, str]:
        return {"SB_VICTIM_PID": str(self.proc.pid), "SB_VICTIM_PGID": str(self.proc.pid)}

    def problems(self) -> list[str]:
        found = []
        if self.proc.poll() is not None:
            found.append(f"the victim process outside the run died ({self.proc.returncode})")
        if self.flag.exists():
            found.append("the victim process outside the run received SIGUSR1")
        return found

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


class Hostile:
    """Writes cases as scripts and runs them as one batch through ``BatchService``."""

    def __init__(self, container, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        self.container = container
        self.tmp = tmp_path
        self.outside = tmp_path / "outside"
        self.outside.mkdir()
        (self.outside / "secret.txt").write_text("top secret\n")
        (self.outside / "hard_target.txt").write_text("original\n")
        (self.outside / "rename_me.txt").write_text("stay here\n")
        (self.outside / "race_target.txt").write_text("original\n")
        (self.outside / "many_out").mkdir()
        self._batches = 0

    def run(
        self,
        cases: list[Case],
        *,
        policy: str,
        method: str,
        policy_name: str | None = None,
        overrides: dict[str, object] | None = None,
        timeout_s: float = TIMEOUT_S,
        jobs: int = 4,
        env: dict[str, str] | None = None,
    ) -> Batch:
        self._batches += 1
        root = self.tmp / "scripts" / f"batch{self._batches}"
        folders: dict[str, Path] = {}
        paths = []
        for case in cases:
            folder = root / case.name
            folder.mkdir(parents=True)
            script = folder / f"{case.name}.py"
            prelude = PRELUDE.format(outside=str(self.outside))
            script.write_text(prelude + textwrap.dedent(case.body), encoding="utf-8")
            folders[case.name] = folder
            paths.append(str(script))
        outside_before = _snapshot(self.outside)
        me = psutil.Process()
        before = {p.pid for p in me.children(recursive=True)}

        request: dict[str, object] = {
            "paths": paths,
            "sandbox_policy": policy,
            "timeout_s": timeout_s,
            "start_method": "spawn" if method == "spawn-popen" else method,
            "jobs": jobs,
            "env": env or {},
        }
        if overrides:
            request["sandbox_overrides"] = overrides
        service = self.container.batch_service()
        began = time.monotonic()
        through_fork_server = local_runner.SPAWN_THROUGH_FORK_SERVER
        local_runner.SPAWN_THROUGH_FORK_SERVER = method != "spawn-popen" and through_fork_server
        try:
            handle = service.start(request)
            assert service.wait(handle, 120), "the batch did not finish within 120 s"
        finally:
            local_runner.SPAWN_THROUGH_FORK_SERVER = through_fork_server
        took = time.monotonic() - began
        executions = {Path(e.script_path).stem: e for e in handle.executions}
        assert sorted(executions) == sorted(folders)

        problems: list[str] = []
        name = policy_name or policy
        layers = expected_layers(name, method)
        records = set()
        for case in cases:
            e = executions[case.name]
            seen = f"got {e.status.value} {e.error_type}: {e.error_message!r} (exit {e.exit_code})"
            found: list[str] = []
            if e.status is not case.status:
                found.append(f"status should be {case.status.value}")
            if case.error_type is not None and e.error_type != case.error_type:
                found.append(f"error type should be {case.error_type}")
            if case.message is not None and not re.search(case.message, e.error_message or ""):
                found.append(f"error message should match {case.message!r}")
            for path in case.absent:
                if os.path.lexists(path):
                    found.append(f"{path} was created")
            if case.check is not None:
                found.extend(case.check(e, self.stdout(e)))
            record = e.sandbox or {}
            records.add(
                (record.get("policy"), tuple(record.get("layers") or ()), record.get("degraded"))
            )
            if name == "off":
                if record.get("layers"):
                    found.append(f"no sandbox layer may apply under 'off': {record}")
            elif record != {"policy": name, "layers": layers, "degraded": False}:
                found.append(
                    f"sandbox record should be policy {name!r}, layers {layers}, "
                    f"not degraded; it is {record}"
                )
            problems.extend(f"{case.name}: {p} — {seen}" for p in found)
            print(f"\n  {case.name}: {seen[4:][:160]}", end="")

        # Nothing left running: what the scripts recorded, the scripts, new descendants.
        pids = {e.pid for e in executions.values() if e.pid}
        for folder in folders.values():
            for pid_file in (folder / "pids").glob("*"):
                if not pid_file.name.endswith(".tmp"):
                    pids.add(int(pid_file.read_text()))
        pids |= {
            p.pid
            for p in me.children(recursive=True)
            if p.pid not in before and not _is_fork_server(p)
        }
        pids.discard(os.getpid())
        left = _left_running(pids)
        if left:
            problems.append(f"processes left behind: {left}")
        outside_after = _snapshot(self.outside)
        if outside_after != outside_before:
            changed = {
                k: (outside_before.get(k), outside_after.get(k))
                for k in set(outside_before) | set(outside_after)
                if outside_before.get(k) != outside_after.get(k)
            }
            problems.append(f"the folder outside the sandbox changed: {changed}")
        if not _running(psutil.Process(os.getpid())):  # pragma: no cover - we would be dead
            problems.append("the app died")
        for policy_seen, layers, degraded in sorted(records, key=str):
            print(
                f"\n[sandbox] {name}/{method}: {len(cases)} scripts in {took:.1f} s; "
                f"policy={policy_seen} layers={','.join(layers) or '-'} degraded={degraded}"
            )
        return Batch(executions, problems, folders)

    def stdout(self, execution: Execution) -> bytes:
        """What the script printed, as the app stored it."""
        history = self.container.history_service()
        return b"".join(data for stream, data in history.output(execution) if stream == "stdout")


def _writing_denied(path: Path) -> str:
    """The guard rail's message for a write outside the allowed folders."""
    return rf"writing {re.escape(str(path))} denied"


def _output_contains(*needles: bytes) -> Callable[[Execution, bytes], list[str]]:
    def check(e: Execution, stdout: bytes) -> list[str]:
        return [f"output should contain {n!r}" for n in needles if n not in stdout]

    return check


def _raced(e: Execution, stdout: bytes) -> list[str]:
    """The symlink race really alternated: some writes went inside, some were refused."""
    found = re.search(rb"wrote (\d+) denied (\d+)", stdout)
    if found is None or not (int(found[1]) and int(found[2])):
        return [f"the race did not alternate between inside and outside: {stdout[-200:]!r}"]
    return []


def _assert_clean(batch: Batch, *more: str) -> None:
    problems = [*batch.problems, *more]
    assert not problems, "\n" + "\n".join(problems)


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    """A variable in the app's environment that strict must not pass on (set before the app
    starts, so the runner's cached child environment has it)."""
    value = f"secret-{uuid.uuid4().hex}"
    monkeypatch.setenv(SECRET_NAME, value)
    return value


@pytest.fixture
def app(secret: str, container):  # type: ignore[no-untyped-def]
    """The real app on a temp data dir, with a short kill grace and a small file-size limit."""
    settings = container.settings()
    settings.execution.kill_grace_s = GRACE_S
    settings.sandbox.max_file_size_mb = FILE_MB
    return container


@pytest.fixture
def hostile(app, tmp_path: Path) -> Hostile:  # type: ignore[no-untyped-def]
    return Hostile(app, tmp_path)


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


@pytest.fixture
def victim(tmp_path: Path) -> Iterator[Victim]:
    proc = Victim(tmp_path / "victim")
    yield proc
    proc.close()


@pytest.fixture
def no_site_packages_escape() -> Iterator[Path]:
    """A .pth file name in site-packages that a script will try to create; removed if it was."""
    target = Path(sysconfig.get_paths()["purelib"]) / f"zz_sandbox_escape_{uuid.uuid4().hex}.pth"
    yield target
    target.unlink(missing_ok=True)


@pytest.fixture
def root_escape() -> Iterator[Path]:
    """A file name in ``/`` that a script will try to create after chdir("/")."""
    target = Path("/") / f"sandbox_escape_{uuid.uuid4().hex}.txt"
    yield target
    target.unlink(missing_ok=True)


# -- harmless scripts: they must work under every policy ------------------------------------------

HARMLESS = [
    Case(
        "threads",
        """\
        import threading
        results = []
        def work(n):
            results.append(sum(range(n)))
        threads = [threading.Thread(target=work, args=(10_000 * i,)) for i in range(1, 9)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print("threads", len(results))
        """,
        S.SUCCEEDED,
        check=_output_contains(b"threads 8"),
    ),
    Case(
        "csv_in_memory",
        """\
        import csv, io
        buf = io.StringIO()
        csv.writer(buf).writerows([["a", "b"], [1, 2], [3, 4]])
        rows = list(csv.reader(io.StringIO(buf.getvalue())))
        print("rows", len(rows))
        """,
        S.SUCCEEDED,
        check=_output_contains(b"rows 3"),
    ),
    Case(
        "tempfile_in_tmpdir",
        """\
        import os, tempfile
        with tempfile.NamedTemporaryFile("w+", delete=False) as fh:
            fh.write("scratch")
            name = fh.name
        assert open(name).read() == "scratch"
        with tempfile.TemporaryDirectory() as d:
            open(os.path.join(d, "x"), "w").write("y")
        os.unlink(name)
        print("tempfile ok", os.path.dirname(name) == tempfile.gettempdir())
        """,
        S.SUCCEEDED,
        check=_output_contains(b"tempfile ok True"),
    ),
    Case(
        "json_roundtrip",
        """\
        import json
        data = {"a": [1, 2, 3], "b": {"c": None}}
        assert json.loads(json.dumps(data)) == data
        print("json ok")
        """,
        S.SUCCEEDED,
        check=_output_contains(b"json ok"),
    ),
    Case(
        "write_own_folder",
        """\
        import os
        os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
        with open(os.path.join(HERE, "out", "result.txt"), "w") as fh:
            fh.write("done")
        os.rename(os.path.join(HERE, "out", "result.txt"), os.path.join(HERE, "result.txt"))
        print("wrote", open(os.path.join(HERE, "result.txt")).read())
        """,
        S.SUCCEEDED,
        check=_output_contains(b"wrote done"),
    ),
]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "policy",
    [
        "off",
        pytest.param("standard", marks=needs_kernel_layers),
        pytest.param("strict", marks=needs_kernel_layers),
    ],
)
def test_harmless_scripts_succeed_under_every_policy(
    hostile: Hostile, policy: str, method: str
) -> None:
    batch = hostile.run(HARMLESS, policy=policy, method=method, timeout_s=SAFE_TIMEOUT_S)
    _assert_clean(batch)
    for name, folder in batch.folders.items():
        if name == "write_own_folder":
            assert (folder / "result.txt").read_text() == "done"


@needs_kernel_layers
@pytest.mark.parametrize("method", METHODS)
def test_a_module_imported_from_another_folder_runs_without_its_bytecode_cache(
    hostile: Hostile, method: str
) -> None:
    """Python writes a module's bytecode cache beside it, and goes on without when it cannot:
    a module imported from a folder the run may not write is no violation."""
    (hostile.outside / "shared_helper.py").write_text("VALUE = 42\n")
    case = Case(
        "imports_from_another_folder",
        """\
        import sys
        sys.dont_write_bytecode = False  # whatever PYTHONDONTWRITEBYTECODE says
        sys.path.insert(0, OUTSIDE)
        import shared_helper
        print("helper", shared_helper.VALUE)
        """,
        S.SUCCEEDED,
        check=_output_contains(b"helper 42"),
    )
    _assert_clean(hostile.run([case], policy="standard", method=method))
    assert not (hostile.outside / "__pycache__").exists()


# -- resource limits ------------------------------------------------------------------------------


def _limit_cases(hostile: Hostile) -> list[Case]:
    many_out = hostile.outside / "many_out"
    return [
        Case(
            "memory_bomb",
            """\
            blocks = []
            while True:
                blocks.append(bytearray(64 * 1024 * 1024))
            """,
            S.BLOCKED,
            "ResourceLimitError",
            rf"memory limit of {MEMORY_MB} MB",
        ),
        Case(
            "sleep_forever",
            """\
            import time
            time.sleep(3600)
            """,
            S.TIMED_OUT,
            "ScriptTimeoutError",
            rf"time limit of {TIMEOUT_S:g} s",
        ),
        Case(
            "sigterm_ignorer",
            """\
            import signal, time
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            record_pid()
            while True:
                time.sleep(0.05)
            """,
            S.TIMED_OUT,
            "ScriptTimeoutError",
            rf"time limit of {TIMEOUT_S:g} s",
        ),
        Case(
            "huge_file",
            """\
            chunk = b"x" * (1024 * 1024)
            with open(_os.path.join(HERE, "huge.bin"), "wb") as fh:
                for _ in range(200):
                    fh.write(chunk)
            """,
            S.BLOCKED,
            "ResourceLimitError",
            rf"file size limit of {FILE_MB} MB",
        ),
        Case(
            "many_files_inside",
            """\
            import os
            folder = os.path.join(HERE, "many")
            os.mkdir(folder)
            for i in range(2000):
                with open(os.path.join(folder, f"f{i}.txt"), "w") as fh:
                    fh.write(str(i))
            print("files", len(os.listdir(folder)))
            """,
            S.SUCCEEDED,
            check=_output_contains(b"files 2000"),
        ),
        Case(
            "many_files_outside",
            f"""\
            import os
            for i in range(2000):
                with open(os.path.join({str(many_out)!r}, f"f{{i}}.txt"), "w") as fh:
                    fh.write(str(i))
            """,
            S.BLOCKED,
            "SecurityError",
            re.escape(str(many_out)),
        ),
        Case(
            "fd_exhaustion",
            """\
            import os
            fds = []
            while True:
                fds.append(os.open(os.devnull, os.O_RDONLY))
            """,
            # RLIMIT_NOFILE (4096 per sandboxed process) ends it.
            S.BLOCKED,
            "ResourceLimitError",
            "open-file limit of 4096 reached",
        ),
        Case(
            "output_flood",
            """\
            import sys
            line = "y" * 1023 + "\\n"
            for _ in range(16 * 1024):
                sys.stdout.write(line)
            """,
            S.SUCCEEDED,
            check=lambda e, out: (
                [] if e.output_bytes >= 16 * MB else [f"output_bytes is {e.output_bytes}"]
            ),
        ),
        Case(
            "invalid_utf8",
            """\
            import sys
            sys.stdout.buffer.write(b"bad \\xff\\xfe \\xc3\\x28 end\\n")
            sys.stderr.buffer.write(b"err \\xed\\xa0\\x80\\n")
            """,
            S.SUCCEEDED,
            check=_output_contains(b"bad \xff\xfe \xc3\x28 end\n"),
        ),
        Case(
            "grandchildren",
            f"""\
            import subprocess, sys, time
            SLEEPER = {SLEEPER}
            child = subprocess.Popen(SLEEPER)
            record_pid(child.pid, "child")
            middle = subprocess.Popen([
                sys.executable, "-c",
                "import os, subprocess, sys, time\\n"
                "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\\n"
                "open(sys.argv[1] + '.tmp', 'w').write(str(p.pid))\\n"
                "os.replace(sys.argv[1] + '.tmp', sys.argv[1])\\n"
                "time.sleep(60)\\n",
                _os.path.join(HERE, "pids", "grandchild"),
            ])
            record_pid(middle.pid, "middle")
            deadline = time.monotonic() + 10
            while not _os.path.exists(_os.path.join(HERE, "pids", "grandchild")):
                assert time.monotonic() < deadline, "the grandchild did not start"
                time.sleep(0.01)
            print("started three processes")
            """,
            S.SUCCEEDED,
            check=_output_contains(b"started three processes"),
        ),
    ]


@needs_kernel_layers
@pytest.mark.parametrize("method", METHODS)
def test_resource_limits_stop_hostile_scripts(hostile: Hostile, method: str) -> None:
    batch = hostile.run(
        _limit_cases(hostile),
        policy="standard",
        method=method,
        overrides={"memory_limit_mb": MEMORY_MB},
    )
    more = []
    huge = batch.folders["huge_file"] / "huge.bin"
    if huge.exists() and huge.stat().st_size > FILE_MB * MB:
        more.append(f"huge_file: the file grew to {huge.stat().st_size} bytes")
    for name in ("child", "middle", "grandchild"):
        if not (batch.folders["grandchildren"] / "pids" / name).exists():
            more.append(f"grandchildren: the script did not record {name}")
    _assert_clean(batch, *more)


CPU_CASES = [
    Case(
        "cpu_loop",
        """\
        while True:
            pass
        """,
        S.TIMED_OUT,
        "ScriptTimeoutError",
        r"CPU time limit of 1 s",
    ),
    Case(
        "cpu_threads",
        """\
        import hashlib, threading
        data = b"z" * (8 * 1024 * 1024)
        def burn():
            while True:
                hashlib.sha256(data).digest()  # releases the GIL: every thread burns a core
        for _ in range(3):
            threading.Thread(target=burn, daemon=True).start()
        burn()
        """,
        S.TIMED_OUT,
        "ScriptTimeoutError",
        r"CPU time limit of 1 s",
    ),
    Case(
        "cpu_catches_sigxcpu",
        """\
        import signal
        caught = []
        def on_xcpu(signum, frame):
            caught.append(signum)
            print("caught SIGXCPU, going on", flush=True)
        signal.signal(signal.SIGXCPU, on_xcpu)
        while True:
            pass
        """,
        S.TIMED_OUT,
        "ScriptTimeoutError",
        r"CPU time limit of 1 s",
        check=_output_contains(b"caught SIGXCPU"),
    ),
]


@needs_kernel_layers
@pytest.mark.parametrize("method", METHODS)
def test_cpu_time_limit_ends_cpu_loops_as_timed_out(hostile: Hostile, method: str) -> None:
    batch = hostile.run(
        CPU_CASES,
        policy="standard",
        method=method,
        overrides={"cpu_time_limit_s": 1, "memory_limit_mb": MEMORY_MB},
        timeout_s=SAFE_TIMEOUT_S,  # the CPU limit must end them, long before the wall clock
        jobs=3,
    )
    more = [
        f"{name}: used only {e.cpu_s} s of CPU, so the CPU limit did not end it"
        for name, e in batch.executions.items()
        if (e.cpu_s or 0) < 0.5
    ]
    _assert_clean(batch, *more)


# -- the process cap: fork bombs and daemons (needs the pids cgroup) ------------------------------

PROCESS_CASES = [
    Case(
        "fork_bomb",
        """\
        import os
        while True:
            if os.fork() == 0:
                record_pid()
        """,
        S.BLOCKED,
        "ResourceLimitError",
        rf"process limit of {MAX_PROCESSES}",
    ),
    Case(
        "fork_bomb_persistent",
        """\
        import os
        while True:
            try:
                pid = os.fork()
            except OSError:
                continue  # the cap said no: try again, for ever
            if pid == 0:
                record_pid()
        """,
        S.TIMED_OUT,  # it never ends by itself; the cap holds it and the timeout ends it
        "ScriptTimeoutError",
    ),
    Case(
        "double_fork_daemon",
        """\
        import os, time
        pid = os.fork()
        if pid == 0:
            os.setsid()
            if os.fork() == 0:
                record_pid(name="daemon")
                time.sleep(60)
            os._exit(0)
        os.waitpid(pid, 0)
        deadline = time.monotonic() + 10
        while not os.path.exists(os.path.join(HERE, "pids", "daemon")):
            assert time.monotonic() < deadline, "the daemon did not start"
            time.sleep(0.01)
        print("daemon started")
        """,
        S.SUCCEEDED,
        check=_output_contains(b"daemon started"),
    ),
]


@needs_kernel_layers
@needs_cgroup
@pytest.mark.parametrize("method", FORK_SERVER_METHODS)
def test_process_cap_stops_fork_bombs_and_daemons_do_not_survive(
    hostile: Hostile, tmp_path: Path, method: str
) -> None:
    policy_file = tmp_path / "capped.toml"
    policy_file.write_text(f'base = "standard"\nmax_processes = {MAX_PROCESSES}\n')
    batch = hostile.run(
        PROCESS_CASES,
        policy=str(policy_file),
        policy_name="capped",
        method=method,
        overrides={"memory_limit_mb": MEMORY_MB},
        jobs=3,
    )
    more = []
    if not list((batch.folders["fork_bomb"] / "pids").glob("*")):
        more.append("fork_bomb: no child was forked, so the cap was not tested")
    if not (batch.folders["double_fork_daemon"] / "pids" / "daemon").exists():
        more.append("double_fork_daemon: the daemon did not record its pid")
    _assert_clean(batch, *more)


@needs_kernel_layers
@needs_cgroup
@pytest.mark.parametrize("method", FORK_SERVER_METHODS)
def test_a_cell_reuses_its_cgroup_and_each_run_gets_its_own_cap_and_a_clean_one(
    app, tmp_path: Path, method: str
) -> None:  # type: ignore[no-untyped-def]
    """One job, so one cell runs every script in turn in the same cgroup: a run's daemon is
    killed before the next run starts, and each run has its own policy's cap (pinned
    policies differ), counted without the cell."""
    folder = tmp_path / "scripts"
    folder.mkdir()
    daemon_pid = folder / "daemon.pid"
    (folder / "a_daemon.py").write_text(
        textwrap.dedent(
            f"""\
            import os, time
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    open({str(daemon_pid)!r}, "w").write(str(os.getpid()))
                    time.sleep(120)
                os._exit(0)
            deadline = time.monotonic() + 10
            while not os.path.exists({str(daemon_pid)!r}):
                assert time.monotonic() < deadline, "the daemon did not start"
                time.sleep(0.01)
            """
        )
    )
    census = textwrap.dedent(
        """\
        import os
        procs = open(f"/proc/{os.getpid()}/cgroup").read()
        path = next(l.split(":")[2] for l in procs.splitlines() if ":pids:" in l)
        base = "/sys/fs/cgroup/pids" + path
        cap = open(base + "/pids.max").read().strip()
        print(cap, len(open(base + "/cgroup.procs").read().split()))
        """
    )
    (folder / "b_census.py").write_text(census)
    (folder / "c_census_pinned.py").write_text(census)
    (tmp_path / "five.toml").write_text('base = "standard"\nmax_processes = 5\n')
    (tmp_path / "seven.toml").write_text('base = "standard"\nmax_processes = 7\n')
    service, scripts = app.batch_service(), app.script_service()
    scripts.add([str(folder)])
    pinned = next(s for s in scripts.list() if s.path.endswith("c_census_pinned.py"))
    scripts.set_policy(pinned.path, str(tmp_path / "five.toml"))
    handle = service.start(
        {
            "paths": [str(folder)],
            "jobs": 1,
            "start_method": method,
            "sandbox_policy": str(tmp_path / "seven.toml"),
        }
    )
    assert service.wait(handle, 60)
    runs = {Path(e.script_path).stem: e for e in handle.executions}
    assert all(e.status is S.SUCCEEDED for e in runs.values()), runs
    assert all(e.sandbox["layers"][0] == "cgroup" for e in runs.values())

    def census(name: str) -> str:
        return Path(runs[name].log_path or "").read_text().strip()

    # The daemon was gone before the next run looked: only the cell and the script are there.
    assert census("b_census") == "8 2"
    assert census("c_census_pinned") == "6 2"
    assert not psutil.pid_exists(int(daemon_pid.read_text()))


@needs_kernel_layers
@needs_cgroup
@pytest.mark.parametrize("method", FORK_SERVER_METHODS)
def test_a_cell_or_fork_server_killed_ends_its_runs_and_the_next_run_gets_new_ones(
    app, tmp_path: Path, method: str
) -> None:  # type: ignore[no-untyped-def]
    """Whatever kills a cell (only something outside the sandbox can) ends its script with it;
    the cell's cgroup goes with what was left in it, and later runs get a new cell (and a new
    fork server, if that was killed)."""
    folder = tmp_path / "scripts"
    folder.mkdir()
    started = folder / "started"
    (folder / "slow.py").write_text(
        f"import os, time\nopen({str(started)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)\n"
    )
    (folder / "quick.py").write_text("print('after')\n")
    service = app.batch_service()
    request = {"paths": [str(folder / "slow.py")], "start_method": method, "jobs": 1}
    handle = service.start(request)
    wait_until(lambda: started.exists() and started.read_text(), what="the script to start")
    script = psutil.Process(int(started.read_text()))
    cell = script.parent()
    assert (
        cell is not None
        and f"scriptbatch-{os.getpid()}/cell-" in Path(f"/proc/{cell.pid}/cgroup").read_text()
    )
    cell.kill()
    assert service.wait(handle, 30)
    ended = handle.executions[0]
    # Not the script's doing: interrupted, saying why.
    assert ended.status is S.INTERRUPTED and "fork server was killed" in ended.error_message
    wait_until(lambda: _dead(script), what="the script to die with its cell")
    handle = service.start({**request, "paths": [str(folder / "quick.py")]})
    assert service.wait(handle, 30)
    again = handle.executions[0]
    assert again.status is S.SUCCEEDED and again.sandbox["layers"][0] == "cgroup"
    assert Path(again.log_path or "").read_text() == "after\n"
    # The fork server itself killed between batches: its idle cells die with it; the next
    # batch starts a new server and new cells.
    server = next(
        p for p in psutil.Process().children() if "forkserver.py" in " ".join(p.cmdline())
    )
    idle_cells = server.children()
    assert idle_cells
    server.kill()
    wait_until(lambda: all(_dead(c) for c in idle_cells), what="the idle cells to die")
    handle = service.start({**request, "paths": [str(folder / "quick.py")]})
    assert service.wait(handle, 30)
    third = handle.executions[0]
    assert third.status is S.SUCCEEDED and third.sandbox["layers"][0] == "cgroup", third


@needs_kernel_layers
@pytest.mark.parametrize("method", METHODS)
def test_each_run_gets_an_empty_private_temp_dir_and_none_is_left_behind(
    app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:  # type: ignore[no-untyped-def]
    """TMPDIR is a folder of the run's own (mode 0700), empty when the script starts, whatever
    an earlier run left in its own (folders are reused only when left empty and as they were);
    when the app closes, none is left."""
    if method == "spawn-popen":
        monkeypatch.setattr(local_runner, "SPAWN_THROUGH_FORK_SERVER", False)
    folder = tmp_path / "scripts"
    folder.mkdir()
    (folder / "look.py").write_text(
        "import os, stat, sys\nd = os.environ['TMPDIR']\n"
        "print(d, oct(stat.S_IMODE(os.stat(d).st_mode)), len(os.listdir(d)))\n"
        "if sys.argv[1] == 'litter':\n"
        "    os.makedirs(os.path.join(d, 'sub'))\n"
        "    open(os.path.join(d, 'sub', 'f'), 'w').close()\n"
        "if sys.argv[1] == 'open':\n"
        "    os.chmod(d, 0o755)\n"
    )
    service = app.batch_service()
    handle = service.start(
        {
            "paths": [str(folder / "look.py")],
            "each_args": [["tidy"], ["litter"], ["open"], ["tidy"], ["tidy"], ["litter"]],
            "jobs": 1,
            "start_method": "spawn" if method == "spawn-popen" else method,
        }
    )
    assert service.wait(handle, 60)
    seen = []
    for e in handle.executions:
        assert e.status is S.SUCCEEDED, (e.error_type, e.error_message)
        temp_dir, mode, entries = Path(e.log_path or "").read_text().split()
        assert (mode, entries) == ("0o700", "0"), e.args
        seen.append(temp_dir)
    # Left tidy, a folder serves the next run; littered or opened up, it is removed.
    assert seen[1] == seen[0] and seen[2] != seen[1] and seen[3] != seen[2]
    assert not os.path.exists(seen[1]) and not os.path.exists(seen[2])
    app.execution_engine().stop()
    assert not any(os.path.exists(d) for d in seen)


@needs_cgroup
def test_the_cgroups_of_a_killed_app_are_removed_with_what_its_scripts_left() -> None:
    """An app killed with -9 leaves its base cgroup (and its cells' cgroups, maybe with a daemon
    in one): the next start removes them. A live app's are left alone."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    sleep = [sys.executable, "-c", "import time; time.sleep(120)"]
    daemon, live_app = subprocess.Popen(sleep), subprocess.Popen(sleep)
    dead_base = Path(f"/sys/fs/cgroup/pids/scriptbatch-{gone.pid}")
    live_base = Path(f"/sys/fs/cgroup/pids/scriptbatch-{live_app.pid}")
    cell = dead_base / "cell-1"
    try:
        cell.mkdir(parents=True)
        (cell / "cgroup.procs").write_text(str(daemon.pid))
        live_base.mkdir()
        cgroups = PidsCgroups.available()
        assert cgroups is not None
        cgroups.close()
        assert daemon.wait(timeout=10) == -signal.SIGKILL
        assert not dead_base.exists()
        assert live_base.exists()
    finally:
        for process in (daemon, live_app):
            process.kill()
            process.wait()
        for path in (cell, dead_base, live_base):
            if path.exists():
                path.rmdir()


@needs_kernel_layers
@needs_cgroup
@pytest.mark.parametrize("method", FORK_SERVER_METHODS)
def test_a_cell_that_cannot_join_its_cgroup_degrades_the_run_or_refuses_it(
    app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:  # type: ignore[no-untyped-def]
    """A cell moves itself into its cgroup and says whether that worked: runs in a cell that
    could not are "degraded" (no cgroup layer) where the policy allows it, else the script
    never runs."""
    fakes = tmp_path / "not-cgroups"

    def not_a_cgroup(self: PidsCgroups, name: str) -> str:
        path = fakes / name  # a plain folder: it has no cgroup.procs to write to
        path.mkdir(parents=True)
        return str(path)

    monkeypatch.setattr(PidsCgroups, "create", not_a_cgroup)
    folder = tmp_path / "scripts"
    folder.mkdir()
    marker = folder / "ran.txt"
    (folder / "s.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    (tmp_path / "unyielding.toml").write_text('base = "standard"\nallow_degraded = false\n')
    service = app.batch_service()
    outcomes = {}
    for policy in ("standard", str(tmp_path / "unyielding.toml")):
        marker.unlink(missing_ok=True)
        handle = service.start(
            {"paths": [str(folder / "s.py")], "sandbox_policy": policy, "start_method": method}
        )
        assert service.wait(handle, 60)
        outcomes[policy] = (handle.executions[0], marker.exists())
    degraded, ran = outcomes["standard"]
    assert degraded.status is S.SUCCEEDED and ran
    assert degraded.sandbox == {
        "policy": "standard",
        "layers": [layer for layer in EXPECTED_LAYERS if layer != "cgroup"],
        "degraded": True,
    }
    refused, ran = outcomes[str(tmp_path / "unyielding.toml")]
    assert refused.status is S.BLOCKED and not ran
    assert refused.error_type == "SecurityError"
    assert "process cap (cgroup)" in (refused.error_message or "")


# -- escapes under standard -----------------------------------------------------------------------


def _standard_cases(hostile: Hostile, site_target: Path, root_target: Path) -> list[Case]:
    out = hostile.outside
    cases = [
        Case(
            "write_outside",
            f"""\
            with open({str(out / "escaped.txt")!r}, "w") as fh:
                fh.write("escaped")
            """,
            S.BLOCKED,
            "SecurityError",
            _writing_denied(out / "escaped.txt"),
            absent=(out / "escaped.txt",),
        ),
        Case(
            "write_site_packages",
            f"""\
            with open({str(site_target)!r}, "w") as fh:
                fh.write("# a .pth file runs at every interpreter start\\n")
            """,
            S.BLOCKED,
            "SecurityError",
            _writing_denied(site_target),
            absent=(site_target,),
        ),
        Case(
            "symlink_escape",
            f"""\
            link = _os.path.join(HERE, "link")
            _os.symlink({str(out / "via_symlink.txt")!r}, link)
            with open(link, "w") as fh:
                fh.write("escaped")
            """,
            S.BLOCKED,
            "SecurityError",
            _writing_denied(out / "via_symlink.txt"),
            absent=(out / "via_symlink.txt",),
        ),
        Case(
            "hardlink_escape",
            f"""\
            link = _os.path.join(HERE, "hardlink")
            _os.link({str(out / "hard_target.txt")!r}, link)
            with open(link, "a") as fh:
                fh.write("escaped")
            """,
            S.BLOCKED,
            "SecurityError",
        ),
        Case(
            "rename_into_folder",
            f"""\
            _os.rename({str(out / "rename_me.txt")!r}, _os.path.join(HERE, "moved.txt"))
            """,
            S.BLOCKED,
            "SecurityError",
        ),
        Case(
            "chdir_root_relative_write",
            f"""\
            _os.chdir("/")
            with open({root_target.name!r}, "w") as fh:
                fh.write("escaped")
            """,
            S.BLOCKED,
            "SecurityError",
            _writing_denied(root_target),
            absent=(root_target,),
        ),
        Case(
            "symlink_swap_race",
            f"""\
            import threading, time
            inside = _os.path.join(HERE, "inside_target.txt")
            open(inside, "w").close()
            outside = {str(out / "race_target.txt")!r}
            link = _os.path.join(HERE, "swap")
            _os.symlink(inside, link)
            stop = []
            def swapper():
                i = 0
                while not stop:
                    tmp = _os.path.join(HERE, "swap.tmp")
                    _os.symlink(outside if i % 2 else inside, tmp)
                    _os.replace(tmp, link)
                    i += 1
            thread = threading.Thread(target=swapper)
            thread.start()
            wrote = denied = 0
            last = None
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:
                try:
                    with open(link, "a") as fh:
                        fh.write("x")
                    wrote += 1
                except PermissionError as exc:  # SecurityError included
                    denied += 1
                    last = exc
            stop.append(True)
            thread.join()
            print("wrote", wrote, "denied", denied, flush=True)
            if last is not None:
                raise last
            """,
            S.BLOCKED,
            "SecurityError",
            check=_raced,
        ),
        Case(
            "monkeypatched_guard",
            f"""\
            import os, sys
            harmless = os.path.join(HERE, "harmless")
            os.path.realpath = lambda p, *a, **k: "/tmp"
            sys.modules["os"].path.abspath = lambda p: harmless
            with open({str(out / "monkey.txt")!r}, "w") as fh:
                fh.write("escaped")
            """,
            S.BLOCKED,
            "SecurityError",
            _writing_denied(out / "monkey.txt"),
            absent=(out / "monkey.txt",),
        ),
        Case(
            "kill_parent",
            """\
            import os, signal
            open(os.path.join(HERE, "parent"), "w").write(str(os.getppid()))
            os.kill(os.getppid(), signal.SIGKILL)
            """,
            S.BLOCKED,
            "SecurityError",
            r"signal",
        ),
        Case(
            "kill_test_process",
            """\
            import os, signal
            os.kill(int(os.environ["SB_TEST_PID"]), signal.SIGUSR1)
            """,
            S.BLOCKED,
            "SecurityError",
            r"signal",
        ),
        Case(
            "kill_victim",
            """\
            import os, signal
            os.kill(int(os.environ["SB_VICTIM_PID"]), signal.SIGKILL)
            """,
            S.BLOCKED,
            "SecurityError",
            r"signal",
        ),
        Case(
            "ptrace_parent",
            """\
            import ctypes, os
            open(os.path.join(HERE, "parent"), "w").write(str(os.getppid()))
            libc = ctypes.CDLL(None, use_errno=True)
            PTRACE_SEIZE = 0x4206  # attaches without stopping the tracee
            result = libc.ptrace(PTRACE_SEIZE, os.getppid(), None, None)
            print("ptrace returned", result, ctypes.get_errno(), flush=True)
            """,
            S.BLOCKED,
            "SecurityError",
            r"SIGSYS",
        ),
        Case(
            "network_allowed",
            """\
            import os, socket
            with socket.create_connection(
                ("127.0.0.1", int(os.environ["SB_TCP_PORT"])), timeout=5
            ) as conn:
                conn.sendall(b"standard-tcp")
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                udp.sendto(b"standard-udp", ("127.0.0.1", int(os.environ["SB_UDP_PORT"])))
            print("sent")
            """,
            S.SUCCEEDED,
            check=_output_contains(b"sent"),
        ),
        Case(
            "environment_kept",
            """\
            import os
            print(os.environ.get("SB_SANDBOX_TEST_SECRET", "missing"))
            """,
            S.SUCCEEDED,
        ),
    ]
    if LANDLOCK_ABI >= 6:
        # A negative pid is a process group: the guard rail lets it through, Landlock's signal
        # scope (ABI >= 6) must refuse it.
        cases.append(
            Case(
                "kill_victim_group",
                """\
                import os, signal
                os.kill(-int(os.environ["SB_VICTIM_PGID"]), signal.SIGUSR1)
                """,
                S.BLOCKED,
                "SecurityError",
                r"signal",
            )
        )
    return cases


@needs_kernel_layers
@pytest.mark.parametrize("method", METHODS)
def test_standard_policy_stops_escapes(
    hostile: Hostile,
    listener: Listener,
    victim: Victim,
    secret: str,
    no_site_packages_escape: Path,
    root_escape: Path,
    method: str,
) -> None:
    signals: list[int] = []
    previous = signal.signal(signal.SIGUSR1, lambda signum, frame: signals.append(signum))
    try:
        batch = hostile.run(
            _standard_cases(hostile, no_site_packages_escape, root_escape),
            policy="standard",
            method=method,
            timeout_s=SAFE_TIMEOUT_S,
            env={"SB_TEST_PID": str(os.getpid()), **listener.env, **victim.env},
        )
    finally:
        signal.signal(signal.SIGUSR1, previous)
    more = []
    if signals:
        more.append("kill_test_process: the test process received SIGUSR1")
    more.extend(victim.problems())
    out = hostile.outside
    if (out / "hard_target.txt").read_text() != "original\n":
        more.append("hardlink_escape: the outside file was changed")
    if (out / "race_target.txt").read_text() != "original\n":
        more.append("symlink_swap_race: the outside target was written")
    if not (out / "rename_me.txt").exists():
        more.append("rename_into_folder: the outside file was moved away")
    for name in ("kill_parent", "ptrace_parent"):
        pid_file = batch.folders[name] / "parent"
        if not pid_file.exists():
            more.append(f"{name}: the script did not record its parent")
            continue
        parent = psutil.Process(int(pid_file.read_text()))
        if not _running(parent):
            more.append(f"{name}: its parent {parent.pid} died")
        elif parent.status() in (psutil.STATUS_STOPPED, psutil.STATUS_TRACING_STOP):
            more.append(f"{name}: its parent {parent.pid} is {parent.status()}")
    received = sorted(listener.collect())
    if received != [("tcp", b"standard-tcp"), ("udp", b"standard-udp")]:
        more.append(f"network_allowed: the listener received {received}")
    output = hostile.stdout(batch["environment_kept"])
    if secret.encode() not in output:
        more.append("environment_kept: standard should pass the app's environment on")
    _assert_clean(batch, *more)


# -- escapes under strict -------------------------------------------------------------------------

CTYPES_FROM_GC = """\
import gc, os, socket, struct

# ctypes is blocked and gone from sys.modules; were the sandbox's own CDLL objects still alive,
# their class would lead back to the ctypes module's namespace (the sandbox drops them).
ns = None
for obj in gc.get_objects():
    cls = type(obj)
    if cls.__name__ == "CDLL" and hasattr(cls.__init__, "__globals__"):
        ns = cls.__init__.__globals__
        break
if ns is None:  # the sandbox dropped them: nothing to recover
    print("ctypes is not recoverable")
    raise SystemExit(0)
libc = ns["CDLL"](None, use_errno=True)
print("recovered ctypes", flush=True)
errors = []
fd = libc.socket(17, 3, 0x0300)  # AF_PACKET, SOCK_RAW, ETH_P_ALL
if fd >= 0:
    print("ESCAPED: packet socket", flush=True)
else:
    errors.append(("packet socket", ns["get_errno"]()))
fd = libc.socket(2, 2, 0)  # AF_INET, SOCK_DGRAM
if fd >= 0:
    print("ESCAPED: UDP socket", flush=True)
else:
    errors.append(("UDP socket", ns["get_errno"]()))
fd = libc.socket(2, 1, 0)  # AF_INET, SOCK_STREAM (allowed; connect must not be)
port = int(os.environ["SB_TCP_PORT"])
addr = struct.pack("=H", 2) + struct.pack("!H", port) + socket.inet_aton("127.0.0.1") + bytes(8)
buf = ns["create_string_buffer"](addr, 16)
if fd >= 0 and libc.connect(fd, buf, 16) == 0:
    print("ESCAPED: TCP connect", flush=True)
else:
    errors.append(("TCP connect", ns["get_errno"]()))
print("errors", errors, flush=True)
if len(errors) == 3:
    what, errno = errors[0]
    raise PermissionError(errno, f"{what}: {os.strerror(errno)}")
"""


def _strict_cases(hostile: Hostile) -> list[Case]:
    out = hostile.outside
    database = hostile.container.data_dir().database

    def ran_marker(name: str) -> str:
        return f"touch {name}_ran"

    def spawner(name: str, body: str) -> Case:
        return Case(
            name,
            body,
            S.BLOCKED,
            "SecurityError",
            r"starting a process .* denied",
        )

    def no_secret(e: Execution, stdout: bytes) -> list[str]:
        return ["the outside file's content was printed"] if b"top secret" in stdout else []

    def env_check(e: Execution, stdout: bytes) -> list[str]:
        found = []
        names = [line.split("=", 1)[0] for line in stdout.decode().splitlines() if "=" in line]
        if SECRET_NAME in names:
            found.append(f"{SECRET_NAME} leaked into the strict environment")
        allowed = {
            *STRICT_ENV_ALLOWED,
            "TMPDIR",
            "TEMP",
            "TMP",
            "XDG_CACHE_HOME",
            "MPLCONFIGDIR",
            "PYTHONIOENCODING",
            "SB_TCP_PORT",
            "SB_UDP_PORT",
        }
        extra = [n for n in names if n not in allowed and not n.startswith("LC_")]
        if extra:
            found.append(f"variables outside the allow-list: {extra}")
        if "TMPDIR" not in names:
            found.append("the run's TMPDIR is missing")
        return found

    cases = [
        Case(
            "tcp_connect",
            """\
            import os, socket
            conn = socket.create_connection(
                ("127.0.0.1", int(os.environ["SB_TCP_PORT"])), timeout=5
            )
            conn.sendall(b"strict-tcp")
            """,
            S.BLOCKED,
            "SecurityError",
            r"connect to 127\.0\.0\.1:\d+ denied",
        ),
        Case(
            "udp_send",
            """\
            import os, socket
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.sendto(b"strict-udp", ("127.0.0.1", int(os.environ["SB_UDP_PORT"])))
            """,
            S.BLOCKED,
            "SecurityError",
            r"UDP socket denied",
        ),
        Case(
            "raw_socket_ctypes",
            """\
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            fd = libc.socket(17, 3, 0x0300)  # AF_PACKET, SOCK_RAW, ETH_P_ALL
            print("packet socket", fd)
            """,
            S.BLOCKED,
            "SecurityError",
            r"import of ctypes denied",
        ),
        Case(
            "ctypes_from_gc",
            CTYPES_FROM_GC,
            S.SUCCEEDED,
            check=lambda e, stdout: (
                [] if b"ctypes is not recoverable" in stdout else ["ctypes was recovered"]
            ),
        ),
        Case(
            "read_outside",
            f"""\
            print(open({str(out / "secret.txt")!r}).read())
            """,
            S.BLOCKED,
            "SecurityError",
            r"reading .*secret\.txt denied",
            check=no_secret,
        ),
        Case(
            "read_app_database",
            f"""\
            print(len(open({str(database)!r}, "rb").read()))
            """,
            S.BLOCKED,
            "SecurityError",
            r"reading .*scriptbatch\.db denied",
        ),
        Case(
            "ctypes_import_caught",
            """\
            try:
                import ctypes
            except Exception as exc:
                print("caught", type(exc).__name__)
            """,
            S.BLOCKED,
            "SecurityError",
            r"import of ctypes denied",
        ),
        Case(
            "cffi_import_caught",
            """\
            try:
                import cffi
            except Exception as exc:
                print("caught", type(exc).__name__)
            """,
            S.BLOCKED,
            "SecurityError",
            r"import of cffi denied",
        ),
        spawner(
            "subprocess_run",
            f"""\
            import subprocess
            subprocess.run(["/bin/sh", "-c", {ran_marker("subprocess_run")!r}], cwd=HERE)
            """,
        ),
        spawner(
            "os_system",
            f"""\
            _os.chdir(HERE)
            _os.system({ran_marker("os_system")!r})
            """,
        ),
        spawner(
            "posix_spawn",
            f"""\
            _os.chdir(HERE)
            pid = _os.posix_spawn(
                "/bin/sh", ["sh", "-c", {ran_marker("posix_spawn")!r}], dict(_os.environ)
            )
            _os.waitpid(pid, 0)
            """,
        ),
        spawner(
            "pty_spawn",
            f"""\
            import pty
            _os.chdir(HERE)
            pty.spawn(["/bin/sh", "-c", {ran_marker("pty_spawn")!r}])
            """,
        ),
        spawner(
            "os_fork",
            """\
            import os
            if os.fork() == 0:
                open(os.path.join(HERE, "os_fork_ran"), "w").close()
                os._exit(0)
            """,
        ),
        Case(
            "fork_exec",
            f"""\
            import _posixsubprocess
            _os.chdir(HERE)
            errpipe_read, errpipe_write = _os.pipe()
            _posixsubprocess.fork_exec(
                [b"/bin/sh", b"-c", {ran_marker("fork_exec").encode()!r}], [b"/bin/sh"],
                True, (errpipe_write,), None, None,
                -1, -1, -1, -1, -1, -1, errpipe_read, errpipe_write,
                False, False, -1, None, None, None, -1, None, True,
            )
            print("fork_exec returned")
            """,
            S.BLOCKED,
            "SecurityError",
            r"SIGSYS",
        ),
        Case(
            "print_environment",
            """\
            import os
            for name, value in sorted(os.environ.items()):
                print(f"{name}={value}")
            """,
            S.SUCCEEDED,
            check=env_check,
        ),
        Case(
            "network_and_ids_inside",
            """\
            import os
            with open("/proc/net/dev") as fh:
                devices = sorted(line.split(":")[0].strip() for line in fh if ":" in line)
            print("devices", ",".join(devices))
            print("ids", os.getuid(), os.getgid())
            """,
            S.SUCCEEDED,
            check=_output_contains(
                f"ids {os.getuid()} {os.getgid()}".encode(),
                *([b"devices lo\n"] if USER_NAMESPACES else []),
            ),
        ),
        Case(
            "memory_bomb_strict",
            """\
            blocks = []
            while True:
                blocks.append(bytearray(64 * 1024 * 1024))
            """,
            S.BLOCKED,
            "ResourceLimitError",
            rf"memory limit of {MEMORY_MB} MB",
        ),
        Case(
            "huge_file_strict",
            """\
            with open(_os.path.join(HERE, "huge.bin"), "wb") as fh:
                for _ in range(200):
                    fh.write(b"x" * (1024 * 1024))
            """,
            S.BLOCKED,
            "ResourceLimitError",
            rf"file size limit of {FILE_MB} MB",
        ),
    ]
    return cases


@needs_kernel_layers
@pytest.mark.parametrize("method", METHODS)
def test_strict_policy_stops_escapes(
    hostile: Hostile, listener: Listener, secret: str, method: str
) -> None:
    cases = _strict_cases(hostile)
    batch = hostile.run(
        cases,
        policy="strict",
        method=method,
        overrides={"memory_limit_mb": MEMORY_MB},
        timeout_s=SAFE_TIMEOUT_S,
        env=listener.env,
    )
    more = []
    received = listener.collect()
    if received:
        more.append(f"the loopback listener received {received} under strict")
    for name, folder in batch.folders.items():
        if (folder / f"{name}_ran").exists():
            more.append(f"{name}: the process it tried to start ran")
    output = hostile.stdout(batch["print_environment"])
    if secret.encode() in output:
        more.append("print_environment: the secret's value leaked")
    _assert_clean(batch, *more)


# -- the app's own data, inside a folder the run may write ----------------------------------------


def _app_data_cases(data: Path, policy: str) -> list[Case]:
    """Scripts that go for the data directory (config, logs, database) by every path event the
    guard rail knows; ``data`` lies inside a folder they may write."""
    config, database = data / "config.toml", data / "scriptbatch.db"

    def app_data(what: str, path: Path) -> str:
        if policy == "strict":  # opening a folder or file of it to read is where strict stops
            what, path = r"(writing|reading|listing|changing|renaming|linking to)", data
        return rf"{what} {re.escape(str(path))}\S* denied: it is ScriptBatch's own data"

    cases = [
        Case(
            "append_config",
            f"""\
            with open({str(config)!r}, "a") as fh:
                fh.write("[sandbox]\\nenabled = false\\n")
            """,
            S.BLOCKED,
            "SecurityError",
            app_data("writing", config),
        ),
        Case(
            "rewrite_logs",
            f"""\
            import glob
            for path in glob.glob({str(data / "runs" / "*" / "*.log")!r}):
                with open(path, "w") as fh:
                    fh.write("forged")
            """,
            S.BLOCKED,
            "SecurityError",
            app_data("writing", data / "runs"),
        ),
        Case(
            "open_database_for_writing",
            f"""\
            open({str(database)!r}, "r+b").close()
            """,
            S.BLOCKED,
            "SecurityError",
            app_data("writing", database),
        ),
        Case(
            "open_relative_to_a_dir_fd",
            f"""\
            import os
            fd = os.open({str(data)!r}, os.O_RDONLY)
            os.chdir(os.environ["TMPDIR"])  # where the guard rail would resolve a relative path
            os.close(os.open("config.toml", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=fd))
            """,
            S.BLOCKED,
            "SecurityError",
            app_data("writing", config),
        ),
        Case(
            "chmod_through_a_descriptor",
            f"""\
            import os
            fd = os.open({str(database)!r}, os.O_RDONLY)
            os.fchmod(fd, 0o666)
            """,
            S.BLOCKED,
            "SecurityError",
            app_data("changing", database),
        ),
        Case(
            "rename_database_away",
            f"""\
            import os
            os.rename({str(database)!r}, os.path.join(HERE, "stolen.db"))
            """,
            S.BLOCKED,
            "SecurityError",
            app_data("renaming", database),
        ),
        Case(
            "symlink_to_config",
            f"""\
            import os
            os.symlink({str(config)!r}, os.path.join(HERE, "config.toml"))
            """,
            S.BLOCKED,
            "SecurityError",
            app_data("linking to", config),
        ),
    ]
    if policy == "strict":
        cases.append(
            Case(
                "read_database",
                f"""\
                print(len(open({str(database)!r}, "rb").read()))
                """,
                S.BLOCKED,
                "SecurityError",
                app_data("reading", database),
            )
        )
    else:
        cases.append(
            Case(
                "read_database",
                f"""\
                print("read", len(open({str(database)!r}, "rb").read(16)))
                """,
                S.SUCCEEDED,
                check=_output_contains(b"read 16"),
            )
        )
    return cases


@needs_kernel_layers
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("policy", ["standard", "strict"])
def test_scripts_never_touch_the_apps_data_even_inside_a_writable_folder(
    hostile: Hostile, tmp_path: Path, policy: str, method: str
) -> None:
    data = hostile.container.data_dir().root
    assert data.is_relative_to(tmp_path)
    hostile.run(HARMLESS[:1], policy=policy, method=method)  # a log for them to forge
    logs = {p: p.read_bytes() for p in (data / "runs").rglob("*.log")}
    database_mode = (data / "scriptbatch.db").stat().st_mode
    grant = {"allow_write": [str(tmp_path)], "allow_read": [str(tmp_path)]}
    batch = hostile.run(
        _app_data_cases(data, policy),
        policy=policy,
        method=method,
        overrides={**grant, "memory_limit_mb": MEMORY_MB},
        timeout_s=SAFE_TIMEOUT_S,
    )
    more = []
    if (data / "config.toml").exists() and b"enabled" in (data / "config.toml").read_bytes():
        more.append("append_config: the config file was changed")
    more.extend(
        f"rewrite_logs: {p} was changed" for p, text in logs.items() if p.read_bytes() != text
    )
    if (data / "scriptbatch.db").stat().st_mode != database_mode:
        more.append("chmod_through_a_descriptor: the database's mode changed")
    if not (data / "scriptbatch.db").exists():
        more.append("rename_database_away: the database was moved")
    _assert_clean(batch, *more)
    # The next run is still sandboxed.
    after = hostile.run(HARMLESS[:1], policy=policy, method=method)
    _assert_clean(after)


# -- network off: Unix sockets, name lookups; what normal scripts use must still work -------------


@pytest.fixture
def unix_listener() -> Iterator[tuple[Path, socket.socket]]:
    """A Unix-domain socket listener outside every run (as docker.sock or an ssh agent)."""
    folder = Path(f"/tmp/sb-unix-{uuid.uuid4().hex[:12]}")  # sun_path is short
    folder.mkdir()
    path = folder / "u.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(16)
    server.setblocking(False)
    yield path, server
    server.close()
    path.unlink(missing_ok=True)
    folder.rmdir()


def _network_off_cases(unix_path: Path, policy: str) -> list[Case]:
    off = rf"denied: network is off in policy '{policy}'"
    cases = [
        Case(
            "unix_connect",
            f"""\
            import socket
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conn.connect({str(unix_path)!r})
            conn.sendall(b"reached")
            """,
            S.BLOCKED,
            "SecurityError",
            rf"opening a Unix socket {off}",
        ),
        Case(
            "unix_connect_raw",
            f"""\
            import _socket
            conn = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)  # past socket.py
            conn.connect({str(unix_path)!r})
            conn.send(b"reached")
            """,
            S.BLOCKED,
            "SecurityError",
        ),
        Case(
            "unix_connect_socketpair_end",
            f"""\
            import socket
            a, b = socket.socketpair()
            a.connect({str(unix_path)!r})
            """,
            S.BLOCKED,
            "SecurityError",
            rf"connect to {re.escape(str(unix_path))} {off}",
        ),
        Case(
            "unix_sendto",
            f"""\
            import socket
            a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
            a.sendto(b"reached", {str(unix_path)!r})
            """,
            S.BLOCKED,
            "SecurityError",
            rf"connect to {re.escape(str(unix_path))} {off}",
        ),
        Case(
            "gethostbyname",
            """\
            import socket
            print(socket.gethostbyname("example.com"))
            """,
            S.BLOCKED,
            "SecurityError",
            rf"name lookup of example\.com {off}",
        ),
        Case(
            "gethostbyname_ex",
            """\
            import socket
            print(socket.gethostbyname_ex("example.com"))
            """,
            S.BLOCKED,
            "SecurityError",
            rf"name lookup of example\.com {off}",
        ),
        Case(
            "gethostbyaddr",
            """\
            import socket
            print(socket.gethostbyaddr("93.184.216.34"))
            """,
            S.BLOCKED,
            "SecurityError",
            rf"name lookup of 93\.184\.216\.34 {off}",
        ),
        Case(
            "asyncio_and_logging_work",
            """\
            import asyncio, logging, socket
            logging.basicConfig(level=logging.INFO)
            logging.getLogger("script").info("logged")
            async def main():
                await asyncio.sleep(0)
                return "ran"
            print("asyncio", asyncio.run(main()))
            loop = asyncio.new_event_loop()
            print("loop", loop.run_until_complete(main()))
            loop.close()
            a, b = socket.socketpair()
            a.sendall(b"pair")
            print("socketpair", b.recv(4).decode())
            print("literal", socket.gethostbyname("127.0.0.1"))
            """,
            S.SUCCEEDED,
            check=_output_contains(
                b"asyncio ran", b"loop ran", b"socketpair pair", b"literal 127.0.0.1"
            ),
        ),
    ]
    if policy == "strict":
        cases.append(
            Case(
                "no_ctypes_objects_to_find",
                """\
                import gc
                found = set()
                for obj in gc.get_objects():
                    names = {c.__name__ for c in type(obj).__mro__}
                    if names & {"CDLL", "PyDLL", "LibraryLoader", "CFuncPtr"}:
                        found.add(type(obj).__name__)
                print("ctypes objects", sorted(found))
                """,
                S.SUCCEEDED,
                check=_output_contains(b"ctypes objects []"),
            )
        )
    return cases


@needs_kernel_layers
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("policy", ["standard", "strict"])
def test_network_off_stops_unix_sockets_and_lookups_and_keeps_socketpairs(
    hostile: Hostile,
    unix_listener: tuple[Path, socket.socket],
    policy: str,
    method: str,
) -> None:
    path, server = unix_listener
    batch = hostile.run(
        _network_off_cases(path, policy),
        policy=policy,
        method=method,
        overrides={"network": False, "memory_limit_mb": MEMORY_MB},
        timeout_s=SAFE_TIMEOUT_S,
    )
    reached = []
    while True:
        try:
            conn, _ = server.accept()
        except BlockingIOError:
            break
        reached.append(conn.recv(64))
        conn.close()
    _assert_clean(batch, *([f"the Unix listener was reached: {reached}"] if reached else []))


# -- file metadata and imports the guard rail checks (standard) -----------------------------------


def _metadata_cases(hostile: Hostile) -> list[Case]:
    secret = hostile.outside / "secret.txt"
    changing = rf"changing {re.escape(str(secret))} denied"
    return [
        Case(
            "fchmod_outside",
            f"""\
            import os
            os.fchmod(os.open({str(secret)!r}, os.O_RDONLY), 0o777)
            """,
            S.BLOCKED,
            "SecurityError",
            changing,
        ),
        Case(
            "fchown_outside",
            f"""\
            import os
            os.fchown(os.open({str(secret)!r}, os.O_RDONLY), os.getuid(), os.getgid())
            """,
            S.BLOCKED,
            "SecurityError",
            changing,
        ),
        Case(
            "futime_outside",
            f"""\
            import os
            os.utime(os.open({str(secret)!r}, os.O_RDONLY), (1, 1))
            """,
            S.BLOCKED,
            "SecurityError",
            changing,
        ),
        Case(
            "chmod_through_symlink",
            f"""\
            import os
            link = os.path.join(HERE, "link")
            os.symlink({str(secret)!r}, link)
            os.chmod(link, 0o777)
            """,
            S.BLOCKED,
            "SecurityError",
            changing,
        ),
        Case(
            "setxattr_outside",
            f"""\
            import os
            os.setxattr({str(secret)!r}, "user.b", b"y")
            """,
            S.BLOCKED,
            "SecurityError",
            changing,
        ),
        Case(
            "removexattr_outside",
            f"""\
            import os
            os.removexattr({str(secret)!r}, "user.b")
            """,
            S.BLOCKED,
            "SecurityError",
            changing,
        ),
        Case(
            "chmod_own_file_through_descriptor",
            """\
            import os
            fd = os.open(os.path.join(HERE, "mine.txt"), os.O_WRONLY | os.O_CREAT, 0o600)
            os.fchmod(fd, 0o640)
            os.utime(fd, (1, 1))
            print("mode", oct(os.stat(fd).st_mode & 0o777))
            """,
            S.SUCCEEDED,
            check=_output_contains(b"mode 0o640"),
        ),
        Case(
            "import_module_blocked",
            """\
            import importlib
            importlib.import_module("colorsys")
            """,
            S.BLOCKED,
            "SecurityError",
            r"import of colorsys denied",
        ),
        Case(
            "import_blocked",
            """\
            import colorsys
            """,
            S.BLOCKED,
            "SecurityError",
            r"import of colorsys denied",
        ),
        Case(
            "import_module_allowed",
            """\
            import importlib
            print("imported", importlib.import_module("json.decoder").__name__)
            """,
            S.SUCCEEDED,
            check=_output_contains(b"imported json.decoder"),
        ),
    ]


@needs_kernel_layers
@pytest.mark.parametrize("method", METHODS)
def test_guard_rail_checks_metadata_through_descriptors_and_importlib(
    hostile: Hostile, method: str
) -> None:
    secret = hostile.outside / "secret.txt"
    before = secret.stat()
    batch = hostile.run(
        _metadata_cases(hostile),
        policy="standard",
        method=method,
        overrides={"block_modules": ["colorsys"]},
        timeout_s=SAFE_TIMEOUT_S,
    )
    after = secret.stat()
    more = []
    if (after.st_mode, after.st_mtime_ns) != (before.st_mode, before.st_mtime_ns):
        more.append(f"the outside file's metadata changed: {before} -> {after}")
    try:
        if os.listxattr(secret):
            more.append(f"the outside file got extended attributes: {os.listxattr(secret)}")
    except OSError:
        pass  # no xattrs on this file system
    _assert_clean(batch, *more)


def test_a_module_every_script_finds_imported_cannot_be_blocked(container) -> None:  # type: ignore[no-untyped-def]
    from AppCode.core.domain.errors import ConfigurationError
    from AppCode.services.policies import PolicyOverrides

    resolver = container.policy_resolver()
    with pytest.raises(ConfigurationError, match=r"blocks stat, which every script finds"):
        resolver.resolve("standard", PolicyOverrides(block_modules=["stat"]))
    assert (
        "colorsys"
        in resolver.resolve("standard", PolicyOverrides(block_modules=["colorsys"])).blocked_modules
    )
