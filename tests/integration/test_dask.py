"""The Dask backend against real clusters on loopback: a ``distributed.LocalCluster`` of worker
processes, and separately started ``dask scheduler`` / ``dask worker`` processes. Results must be
the local backend's; cancel, timeouts, the sandbox and a dying worker behave as locally."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from distributed import Client, LocalCluster

from AppCode.core.domain.errors import ConfigurationError
from tests.conftest import wait_until, write_script

pytestmark = pytest.mark.timeout(300)

# A script that says it started (its pid in {marker}), then waits for the file {gate}.
GATED = """\
import os, pathlib, sys, time
pathlib.Path({marker!r}).write_text(str(os.getpid()))
print("started", flush=True)
deadline = time.monotonic() + 120
while not os.path.exists({gate!r}) and time.monotonic() < deadline:
    time.sleep(0.02)
print("released", flush=True)
"""


class ExternalCluster:
    """``dask scheduler`` and ``dask worker`` as their own processes, as on real machines."""

    def __init__(self, folder: Path, workers: int, *, nanny: bool = True) -> None:
        self.folder = folder
        (folder / "tmp").mkdir(parents=True, exist_ok=True)  # the workers' TMPDIR
        self.processes: list[subprocess.Popen[bytes]] = []
        try:
            self._start_all(workers, nanny)
        except BaseException:
            self.stop()
            raise

    def _start_all(self, workers: int, nanny: bool) -> None:
        scheduler_file = self.folder / "scheduler.json"
        self._start(
            "dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(scheduler_file),
        )
        wait_until(scheduler_file.exists, timeout=60, what="the dask scheduler")
        with Client(scheduler_file=str(scheduler_file), timeout=30) as client:
            self.address = str(client.scheduler_info()["address"])
            self.nanny = nanny
            self.workers = [self.add_worker() for _ in range(workers)]
            if workers:
                client.wait_for_workers(workers, timeout=60)

    def add_worker(self, *, nanny: bool | None = None) -> subprocess.Popen[bytes]:
        nanny = self.nanny if nanny is None else nanny
        options = ["--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"]
        return self._start(
            "dask_worker", self.address, *options, *([] if nanny else ["--no-nanny"])
        )

    def _start(self, module: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.folder / f"{module}-{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", f"distributed.cli.{module}", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.folder,
            env={**os.environ, "TMPDIR": str(self.folder / "tmp")},
            start_new_session=True,
        )
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


@pytest.fixture(scope="module")
def local_cluster() -> Iterator[str]:
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield str(cluster.scheduler_address)


@pytest.fixture(scope="module")
def external_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    cluster = ExternalCluster(tmp_path_factory.mktemp("dask"), workers=2)
    try:
        yield cluster.address
    finally:
        cluster.stop()


def _library(folder: Path) -> list[Path]:
    """50 scripts that succeed, fail, raise, print to both streams, in several languages."""
    scripts = []
    for i in range(50):
        kind = i % 5
        body = {
            0: f"print('ok {i}')\nprint('日志 {i}', flush=True)\n",
            1: f"import sys\nprint('to stderr {i}', file=sys.stderr)\nsys.exit({i % 7 + 1})\n",
            2: f"print('before {i}')\nraise ValueError('bad value {i}')\n",
            3: "import sys\nprint('args', sys.argv[1:])\nprint('x' * 5000)\n",
            4: f"for n in range(200):\n    print('line', n, {i})\n",
        }[kind]
        scripts.append(write_script(folder / f"job_{i:02d}.py", body))
    return scripts


def _run(container: Any, scripts: list[Path], **options: Any) -> Any:
    handle = container.batch_service().start(
        {"paths": [str(s) for s in scripts], "args": ["a b", "ü"], **options}
    )
    assert container.batch_service().wait(handle, 120)
    return container.history_service().batch(handle.batch_id)


def _results(container: Any, executions: list[Any]) -> dict[str, tuple[Any, ...]]:
    history = container.history_service()
    results = {}
    for e in executions:
        # Per stream: how stdout and stderr interleave depends on when each is flushed.
        streams = {"stdout": b"", "stderr": b""}
        for stream, data in history.output(e):
            streams[stream] += data
        # A traceback names the script where it ran: its folder here, a temp dir on a worker.
        stderr = re.sub(r'File "[^"]*/(job_\d+\.py)"', r'File "\1"', streams["stderr"].decode())
        results[Path(e.script_path).name] = (
            e.status.value,
            e.exit_code,
            e.error_type,
            streams["stdout"].decode(),
            stderr,
        )
    return results


@pytest.mark.parametrize("cluster", ["local_cluster", "external_cluster"])
def test_fifty_scripts_give_what_the_local_backend_gives(
    container: Any, tmp_path: Path, cluster: str, request: pytest.FixtureRequest
) -> None:
    address = request.getfixturevalue(cluster)
    scripts = _library(tmp_path / "library")

    local_batch, local = _run(container, scripts, jobs=2)
    dask_batch, remote = _run(container, scripts, backend="dask", scheduler=address)

    assert (local_batch.options.backend, dask_batch.options.backend) == ("local", "dask")
    assert dask_batch.options.jobs == 2  # the cluster's two worker threads
    assert _results(container, remote) == _results(container, local)
    assert {e.status.value for e in remote} == {"succeeded", "failed"}
    workers = {e.worker for e in remote}
    assert len(workers) == 2 and all(w and w.startswith("tcp://127.0.0.1:") for w in workers)
    assert all(e.worker is None for e in local)


def test_timeouts_and_sandbox_violations_behave_as_locally(
    container: Any, tmp_path: Path, local_cluster: str
) -> None:
    outside = tmp_path / "outside.txt"
    slow = write_script(tmp_path / "lib" / "slow.py", "import time\ntime.sleep(60)\n")
    sneaky = write_script(
        tmp_path / "lib" / "sneaky.py", f"open({str(outside)!r}, 'w').write('gotcha')\n"
    )

    for backend in ({}, {"backend": "dask", "scheduler": local_cluster}):
        _, executions = _run(container, [slow, sneaky], timeout_s=2, **backend)
        by_name = {Path(e.script_path).name: e for e in executions}
        assert by_name["slow.py"].status.value == "timed_out", backend
        assert by_name["sneaky.py"].status.value == "blocked", backend
        assert by_name["sneaky.py"].error_type == "SecurityError"
        assert str(outside) in (by_name["sneaky.py"].error_message or "")
        assert not outside.exists()
        # The runner's own word on the timeout reaches the log wherever the script ran.
        output = b"".join(d for _, d in container.history_service().output(by_name["slow.py"]))
        assert b"[scriptbatch: " in output and b"time limit" in output, backend


def test_a_dying_worker_interrupts_its_script_and_the_retry_runs_elsewhere(
    container: Any, tmp_path: Path
) -> None:
    cluster = ExternalCluster(tmp_path / "cluster", workers=2, nanny=False)
    try:
        container.settings().execution.retry_on = ["failed", "interrupted"]
        container.settings().execution.retry_backoff_s = 0.1
        marker, gate = tmp_path / "pid", tmp_path / "gate"
        script = write_script(
            tmp_path / "lib" / "long.py", GATED.format(marker=str(marker), gate=str(gate))
        )
        handle = container.batch_service().start(
            {
                "paths": [str(script)],
                "backend": "dask",
                "scheduler": cluster.address,
                "retries": 1,
                "sandbox_overrides": {"allow_write": [str(tmp_path)]},  # the marker file
            }
        )
        wait_until(marker.exists, timeout=60, what="the script to start on a worker")
        script_process = psutil.Process(int(marker.read_text()))
        worker = next(
            p
            for p in [script_process, *script_process.parents()]
            if p.pid in {w.pid for w in cluster.workers}
        )
        marker.unlink()
        os.kill(worker.pid, signal.SIGKILL)
        wait_until(lambda: not script_process.is_running(), timeout=30, what="the script to die")
        gate.touch()  # the retry, on the other worker, runs to the end

        assert container.batch_service().wait(handle, 120)
        [execution] = container.history_service().batch(handle.batch_id)[1]
        attempts = container.history_service().attempts(execution.id)
        assert [a.status.value for a in attempts] == ["interrupted", "succeeded"]
        assert attempts[0].error_type == "WorkerLost"
        assert attempts[0].worker != attempts[1].worker
        assert execution.status.value == "succeeded"
    finally:
        cluster.stop()


def test_cancel_stops_queued_and_running_scripts_on_the_workers(
    container: Any, tmp_path: Path, external_cluster: str
) -> None:
    scripts = [
        write_script(
            tmp_path / "lib" / f"wait_{i}.py",
            GATED.format(marker=str(tmp_path / f"pid_{i}"), gate=str(tmp_path / "never")),
        )
        for i in range(4)
    ]
    service = container.batch_service()
    # Four at once on two single-threaded workers: two run, two wait in the scheduler's queue.
    handle = service.start(
        {
            "paths": [str(s) for s in scripts],
            "jobs": 4,
            "sandbox_overrides": {"allow_write": [str(tmp_path)]},  # the pid files
            "backend": "dask",
            "scheduler": external_cluster,
        }
    )
    wait_until(
        lambda: len(list(tmp_path.glob("pid_*"))) == 2, timeout=60, what="two scripts to start"
    )
    pids = [int(p.read_text()) for p in tmp_path.glob("pid_*")]

    assert service.cancel(handle.batch_id)
    assert service.wait(handle, 60)

    executions = container.history_service().batch(handle.batch_id)[1]
    assert [e.status.value for e in executions] == ["cancelled"] * 4
    # The scheduler and the workers hear of the cancel each in its own time: a queued script a
    # freed worker took up in that moment may have started; it is stopped too (docs/distributed).
    started = {int(text) for p in tmp_path.glob("pid_*") if (text := p.read_text())}
    pids = sorted(started | set(pids))
    wait_until(
        lambda: (
            not any(
                psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie" for pid in pids
            )
        ),
        timeout=30,
        what="every script that started to be stopped",
    )
    with Client(external_cluster, timeout=30) as client:
        wait_until(
            lambda: not client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)),
            timeout=30,
            what="the scheduler to forget the tasks",
        )


def test_an_unreachable_scheduler_is_a_usage_error_and_nothing_is_recorded(
    container: Any, tmp_path: Path, cli: Any
) -> None:
    script = write_script(tmp_path / "a.py")
    with pytest.raises(
        ConfigurationError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"
    ):
        container.batch_service().start(
            {"paths": [str(script)], "backend": "dask", "scheduler": "tcp://127.0.0.1:9"}
        )
    assert container.history_service().batches() == []

    run = cli("run", str(script), "--scheduler", "tcp://127.0.0.1:9")
    assert run.returncode == 2 and "cannot reach the Dask scheduler" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_cluster_without_workers_or_with_another_version_is_refused(
    container: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, local_cluster: str
) -> None:
    script = write_script(tmp_path / "a.py")
    cluster = ExternalCluster(tmp_path / "empty", workers=0)
    try:
        with pytest.raises(ConfigurationError, match="has no workers"):
            container.batch_service().start(
                {"paths": [str(script)], "backend": "dask", "scheduler": cluster.address}
            )
    finally:
        cluster.stop()

    import AppCode.infrastructure.execution.dask_runner as dask_runner

    monkeypatch.setattr(dask_runner, "__version__", "0.0.1")
    with pytest.raises(ConfigurationError, match="another ScriptBatch version") as refused:
        container.batch_service().start(
            {"paths": [str(script)], "backend": "dask", "scheduler": local_cluster}
        )
    assert "scriptbatch==0.0.1" in (refused.value.hint or "")
    assert container.history_service().batches() == []


def test_the_cli_runs_on_a_cluster_of_this_machine(cli: Any, tmp_path: Path) -> None:
    import json

    scripts = [write_script(tmp_path / f"s{i}.py", f"print('hi {i}')\n") for i in range(3)]
    run = cli("run", *map(str, scripts), "--backend", "dask", "--json", timeout=180)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["backend"] == "dask"
    assert all(e["worker"].startswith("tcp://") for e in result["executions"])


def test_a_worker_that_joins_mid_batch_takes_work_and_is_not_taken_for_lost(
    container: Any, tmp_path: Path
) -> None:
    cluster = ExternalCluster(tmp_path / "cluster", workers=1, nanny=False)
    try:
        gate = tmp_path / "gate"
        scripts = [
            write_script(
                tmp_path / "lib" / f"job_{i}.py",
                GATED.format(marker=str(tmp_path / f"pid_{i}"), gate=str(gate)),
            )
            for i in range(4)
        ]
        handle = container.batch_service().start(
            {
                "paths": [str(s) for s in scripts],
                "jobs": 4,
                "backend": "dask",
                "scheduler": cluster.address,
                "sandbox_overrides": {"allow_write": [str(tmp_path)]},
            }
        )
        wait_until(lambda: len(list(tmp_path.glob("pid_*"))) == 1, timeout=60, what="one start")
        cluster.add_worker()  # it is handed a queued script as soon as it registers
        wait_until(lambda: len(list(tmp_path.glob("pid_*"))) == 2, timeout=60, what="the newcomer")
        gate.touch()

        assert container.batch_service().wait(handle, 120)
        executions = container.history_service().batch(handle.batch_id)[1]
        assert [e.status.value for e in executions] == ["succeeded"] * 4
        assert all(e.attempts == 1 for e in executions)
        assert len({e.worker for e in executions}) == 2
    finally:
        cluster.stop()


def test_options_that_mean_nothing_on_a_cluster_are_refused(container: Any, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="--python does not apply to a Dask cluster"):
        container.batch_service().start(
            {"paths": [str(write_script(tmp_path / "a.py"))], "backend": "dask", "python": "/x"}
        )
    assert container.history_service().batches() == []
