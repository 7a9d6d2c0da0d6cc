"""Benchmarks J and K: the Dask backend (docs/distributed.md) against the local one.

J. Per-script overhead: the same trivial scripts (``print("x")``) run by the real
   ``scriptbatch run`` command with ``--backend local`` and with ``--backend dask --scheduler
   ADDR`` on a cluster of 2 single-threaded workers; ``--jobs 2`` for both.
K. Throughput: the same CPU-bound scripts (~50 ms of CPU each) on a cluster of 1 worker and on
   one of 2 workers: scripts per second and the speed-up.

The clusters are started by the bench before anything is timed (``dask scheduler`` on
127.0.0.1 with a scheduler file, ``dask worker ADDR --nthreads 1 --nworkers 1``), each process in
a session of its own inside the bench's temporary folder (``TMPDIR`` and the workers' local
directory point there), and stopped at the end, failure or not: SIGTERM to each process group,
SIGKILL after a deadline, then any process they had started that is still alive. No targets:
the issue asked for figures, so the rows say INFO. bench/README.md has the method and the
results.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench.common import (
    BIN,
    PYTHON,
    SCRIPTBATCH,
    CommandError,
    Disturbance,
    Row,
    Samples,
    Workspace,
    bench_env,
    load_note,
    round_robin,
    run_json,
    run_timed,
    write_scripts,
)
from bench.engine import SPIN, calibrate_spin
from bench.launchers import scriptbatch_command

TRIVIAL = 'print("x")\n'
START_TIMEOUT_S = 60.0  # scheduler file written / workers registered
STOP_GRACE_S = 15.0  # SIGTERM -> SIGKILL


@dataclass
class Sizes:
    trivial: int = 500  # J
    busy: int = 500  # K
    busy_s: float = 0.050  # K: CPU per script
    repeats: int = 3


QUICK = Sizes(trivial=50, busy=40, repeats=1)


class InfoRow(Row):
    """A row without a target: the result column says INFO (or ERROR)."""

    @property
    def verdict(self) -> str:
        return "ERROR" if self.error else "INFO"


# -- the clusters ---------------------------------------------------------------------------------


def _dask_command(what: str) -> list[str]:
    """``dask scheduler`` / ``dask worker`` from the venv, or the module if there is no script."""
    script = BIN / "dask"
    if script.exists():
        return [str(script), what]
    return [PYTHON, "-m", f"distributed.cli.dask_{what}"]


class Cluster:
    """A scheduler and ``workers`` single-threaded workers on 127.0.0.1, started by the bench."""

    def __init__(self, ws: Workspace, name: str, workers: int) -> None:
        self.name = name
        self.workers = workers
        self.folder = ws.fresh(f"cluster-{name}")
        self.address = ""
        self._procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self._env = bench_env(TMPDIR=str(self.folder / "tmp"))
        (self.folder / "tmp").mkdir()

    def start(self) -> Cluster:
        scheduler_file = self.folder / "scheduler.json"
        cmd = _dask_command("scheduler")
        cmd += ["--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
        cmd += ["--scheduler-file", str(scheduler_file)]
        scheduler = self._spawn("scheduler", cmd)
        self.address = self._wait_for_address(scheduler, scheduler_file)
        for i in range(self.workers):
            cmd = [*_dask_command("worker"), self.address, "--nthreads", "1", "--nworkers", "1"]
            cmd += ["--no-dashboard", "--local-directory", str(self.folder / f"worker-{i}")]
            self._spawn(f"worker-{i}", cmd)
        self._wait_for_workers()
        return self

    def _spawn(self, what: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        with open(self.folder / f"{what}.log", "wb") as log:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
                env=self._env,
                start_new_session=True,  # its own process group: stopped as a whole
            )
        self._procs.append((what, proc))
        return proc

    def _wait_for_address(self, scheduler: subprocess.Popen[bytes], path: Path) -> str:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if scheduler.poll() is not None:
                raise CommandError(f"the scheduler exited ({scheduler.returncode})" + self._tail())
            try:
                return str(json.loads(path.read_text())["address"])
            except (OSError, ValueError, KeyError):
                time.sleep(0.05)  # polling for the file the scheduler writes once it listens
        raise CommandError(f"no scheduler file after {START_TIMEOUT_S:.0f} s" + self._tail())

    def _wait_for_workers(self) -> None:
        from distributed import Client

        try:
            with Client(self.address, timeout=30, set_as_default=False) as client:
                client.wait_for_workers(self.workers, timeout=START_TIMEOUT_S)
                count = len(client.scheduler_info(n_workers=-1)["workers"])
        except Exception as exc:  # a timeout, or a worker that could not start
            raise CommandError(f"workers did not come up: {exc}" + self._tail()) from None
        if count != self.workers:
            raise CommandError(f"{count} workers registered, expected {self.workers}")

    def _tail(self) -> str:
        parts = []
        for what, _ in self._procs:
            try:
                text = (self.folder / f"{what}.log").read_text(errors="replace").strip()
            except OSError:
                continue
            parts.append(f"\n--- {self.name} {what}.log (end) ---\n{text[-600:]}")
        return "".join(parts)

    def cpu_s(self) -> float:
        """CPU-seconds used so far by the cluster's processes and everything they started
        (scripts included: reaped ones are in their parents' children times)."""
        import psutil

        total = 0.0
        for _, proc in self._procs:
            try:
                root = psutil.Process(proc.pid)
                tree = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            for p in tree:
                try:
                    t = p.cpu_times()
                except psutil.Error:
                    continue
                total += t.user + t.system + t.children_user + t.children_system
        return total

    def stop(self) -> None:
        """Workers first, then the scheduler: SIGTERM to each process group, SIGKILL after
        STOP_GRACE_S, then whatever they had started that is still alive (the fork servers of
        the app's runner live in sessions of their own)."""
        import psutil

        started: list[psutil.Process] = []
        for _, proc in self._procs:
            try:
                started += psutil.Process(proc.pid).children(recursive=True)
            except psutil.Error:
                pass
        workers = [p for what, p in self._procs if what != "scheduler"]
        schedulers = [p for what, p in self._procs if what == "scheduler"]
        for group in (workers, schedulers):
            for proc in group:
                _signal_group(proc, signal.SIGTERM)
            deadline = time.monotonic() + STOP_GRACE_S
            for proc in group:
                try:
                    proc.wait(max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    print(f"  ({self.name}: pid {proc.pid} ignored SIGTERM, killing)", flush=True)
                    _signal_group(proc, signal.SIGKILL)
                    proc.wait(10)
        for child in started:
            try:
                child.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(started, timeout=5)
        self._procs.clear()


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)  # start_new_session: the group id is its pid
    except ProcessLookupError:
        pass


# -- measuring ------------------------------------------------------------------------------------


@dataclass
class Run:
    """What one measured command left in its history (checked, untimed)."""

    seconds: float
    span_s: float  # first execution started -> last finished, from the history
    workers: set[str]
    cpu_s: float | None  # median CPU per script, as the runner measured it


def _history(data_dir: Path, limit: int) -> list[dict[str, object]]:
    cmd = [SCRIPTBATCH, "--data-dir", str(data_dir), "history", "--limit", str(limit), "--json"]
    rows = run_json(cmd)
    assert isinstance(rows, list)
    return rows


def _check(data_dir: Path, expected: int, dask: bool) -> Run:
    rows = _history(data_dir, expected + 10)
    bad = [r for r in rows if r["status"] != "succeeded"]
    if len(rows) != expected or bad:
        raise AssertionError(
            f"history has {len(rows)} executions (expected {expected}), {len(bad)} not "
            f"succeeded: {[(r['script'], r['status'], r['error_message']) for r in bad[:3]]}"
        )
    workers = {str(r["worker"]) for r in rows if r.get("worker")}
    if dask and len(workers) == 0:
        raise AssertionError("no execution recorded a worker")
    if not dask and workers:
        raise AssertionError(f"local executions recorded workers: {sorted(workers)[:3]}")
    starts = [datetime.fromisoformat(str(r["started_at"])) for r in rows]
    ends = [datetime.fromisoformat(str(r["finished_at"])) for r in rows]
    cpu = [float(r["cpu_s"]) for r in rows if r.get("cpu_s") is not None]  # type: ignore[arg-type]
    span = (max(ends) - min(starts)).total_seconds()
    return Run(0.0, span, workers, statistics.median(cpu) if cpu else None)


def launcher(
    ws: Workspace, folder: Path, count: int, jobs: int, cluster: Cluster | None, runs: list[Run]
) -> Callable[[], float]:
    """``scriptbatch --data-dir <fresh> run FOLDER --jobs N --quiet`` with ``--backend local`` or
    ``--backend dask --scheduler ADDR``; every run is checked and recorded in ``runs``."""

    def launch() -> float:
        data = ws.fresh("sb-data")
        cmd = scriptbatch_command(data, folder, jobs)
        if cluster is None:
            cmd += ["--backend", "local"]
        else:
            cmd += ["--backend", "dask", "--scheduler", cluster.address]
        try:
            seconds = run_timed(cmd, timeout=1800)
            checked = _check(data, count, cluster is not None)
            checked.seconds = seconds
            runs.append(checked)
            return seconds
        finally:
            ws.discard(data)

    return launch


def _round_robin(
    launchers: dict[str, Callable[[], float]], repeats: int, clusters: list[Cluster]
) -> dict[str, Samples]:
    """``common.round_robin`` with the clusters' CPU counted as the bench's own (their
    processes are not waited for, so ``RUSAGE_CHILDREN`` does not see them)."""
    return round_robin(
        launchers,
        repeats,
        disturbance=lambda: Disturbance(also_ours=lambda: sum(c.cpu_s() for c in clusters)),
    )


def _warm_up(ws: Workspace, clusters: list[Cluster], jobs: int) -> None:
    """Untimed: the page cache for the app, and on every worker the runner's host and fork
    server (made by a worker's first script), so that a timed run starts on a warm cluster."""
    for cluster in [None, *clusters]:
        n = 4 * (cluster.workers if cluster else 1)
        folder = ws.fresh("warm-up")
        write_scripts(folder, n, TRIVIAL)
        launcher(ws, folder, n, jobs, cluster, [])()
        ws.discard(folder)


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


# -- the benchmarks -------------------------------------------------------------------------------


def bench_j(ws: Workspace, size: Sizes, jobs: int, two: Cluster) -> list[Row]:
    n = size.trivial
    print(
        f"\nJ. {n} trivial scripts, --jobs {jobs}: --backend local vs --backend dask "
        f"({two.workers} workers at {two.address})  [{load_note()}]",
        flush=True,
    )
    folder = ws.root / "j-trivial"
    write_scripts(folder, n, TRIVIAL)
    runs: dict[str, list[Run]] = {"local": [], "dask": []}
    res = _round_robin(
        {
            "local": launcher(ws, folder, n, jobs, None, runs["local"]),
            "dask": launcher(ws, folder, n, jobs, two, runs["dask"]),
        },
        size.repeats,
        [two],
    )
    local, dask = res["local"], res["dask"]
    span_local = _median([r.span_s for r in runs["local"]])
    span_dask = _median([r.span_s for r in runs["dask"]])
    used = sorted({len(r.workers) for r in runs["dask"]})
    rows: list[Row] = [
        InfoRow(
            "J",
            "local backend, whole command",
            local.median,
            spread=local.spread,
            others=local.others_max,
            ratio=1.0 if local.median else None,
            note=f"inside the batch {span_local:.2f} s" if span_local else "",
            error=local.error,
        ),
        InfoRow(
            "J",
            f"dask backend ({two.workers} workers), whole command",
            dask.median,
            spread=dask.spread,
            others=dask.others_max,
            ratio=dask.median / local.median if dask.median and local.median else None,
            note=(
                f"inside the batch {span_dask:.2f} s; workers used: {'/'.join(map(str, used))}"
                if span_dask
                else ""
            ),
            error=dask.error or (None if local.median else local.error or "no local figure"),
        ),
    ]
    overhead = inside = None
    if dask.median and local.median:
        overhead = (dask.median - local.median) / n * 1000
    if span_dask and span_local:
        inside = (span_dask - span_local) / n * 1000
    rows.append(
        InfoRow(
            "J",
            f"per-script overhead (dask - local) / {n}",
            overhead,
            unit="ms",
            note=(
                f"inside the batch: {inside:.1f} ms/script (command start-up, connecting and "
                "the version check excluded)"
                if inside is not None
                else ""
            ),
            error=None if overhead is not None else (dask.error or local.error or "no figure"),
        )
    )
    return rows


def bench_k(ws: Workspace, size: Sizes, jobs: int, one: Cluster, two: Cluster) -> list[Row]:
    n = size.busy
    spins = calibrate_spin(size.busy_s)
    cores = os.cpu_count() or 1
    print(
        f"\nK. {n} scripts x ~{size.busy_s * 1000:.0f} ms CPU (spin {spins}), --jobs {jobs}: "
        f"1 worker vs 2 workers, {cores} CPUs  [{load_note()}]",
        flush=True,
    )
    folder = ws.root / "k-cpu"
    write_scripts(folder, n, SPIN.format(n=spins))
    runs: dict[str, list[Run]] = {"1 worker": [], "2 workers": []}
    res = _round_robin(
        {
            "1 worker": launcher(ws, folder, n, jobs, one, runs["1 worker"]),
            "2 workers": launcher(ws, folder, n, jobs, two, runs["2 workers"]),
        },
        size.repeats,
        [one, two],
    )
    rows: list[Row] = []
    rates: dict[str, float | None] = {}
    for name, cluster in (("1 worker", one), ("2 workers", two)):
        samples = res[name]
        per_run = [n / v for v in samples.values]
        rate = n / samples.median if samples.median else None
        rates[name] = rate
        span = _median([r.span_s for r in runs[name]])
        used = sorted({len(r.workers) for r in runs[name]})
        cpu = _median([r.cpu_s for r in runs[name] if r.cpu_s is not None])
        floor = n * (cpu or size.busy_s) / min(cluster.workers, jobs)
        rows.append(
            InfoRow(
                "K",
                f"{name}: scripts per second",
                rate,
                unit="/s",
                spread=f"{min(per_run):.1f}-{max(per_run):.1f}" if len(per_run) > 1 else "",
                others=samples.others_max,
                note=(
                    f"{samples.median:.2f} s for {n}; inside the batch {n / span:.1f}/s; "
                    f"median cpu_s {1000 * (cpu or 0):.0f} ms/script, CPU floor {floor:.1f} s; "
                    f"workers used: {'/'.join(map(str, used))}"
                    if samples.median and span
                    else ""
                ),
                error=samples.error,
            )
        )
    r1, r2 = rates["1 worker"], rates["2 workers"]
    rows.append(
        InfoRow(
            "K",
            "speed-up, 2 workers / 1 worker",
            r2 / r1 if r1 and r2 else None,
            unit="x",
            note=f"{cores} CPUs on this machine, shared by the app, scheduler and workers",
            error=None if r1 and r2 else "no figure",
        )
    )
    return rows


def run(*, quick: bool, jobs: int | None, repeats: int | None, only: str, keep: bool) -> list[Row]:
    size = Sizes() if not quick else QUICK
    if repeats:
        size.repeats = repeats
    jobs = jobs or 2
    print(
        "ScriptBatch Dask backend benchmarks"
        + (" (QUICK: small sizes, figures not comparable)" if quick else "")
        + f"\ndate {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, jobs {jobs}, "
        f"{size.repeats} run(s) each (median), python {sys.version.split()[0]} ({PYTHON})"
        f"\n[{load_note()}]",
        flush=True,
    )
    ws = Workspace(keep=keep)
    clusters: list[Cluster] = []
    rows: list[Row] = []
    try:
        try:
            print("starting the clusters (untimed) ...", flush=True)
            two = Cluster(ws, "2-workers", 2)
            clusters.append(two)
            two.start()
            one = None
            if "K" in only:
                one = Cluster(ws, "1-worker", 1)
                clusters.append(one)
                one.start()
            print("  " + ", ".join(f"{c.name} at {c.address}" for c in clusters), flush=True)
            _warm_up(ws, clusters, jobs)
        except (CommandError, AssertionError, OSError) as exc:
            print(f"  FAILED: {str(exc).splitlines()[0]}", flush=True)
            return [InfoRow(b, "cluster start-up / warm-up", None, error=str(exc)) for b in only]
        if "J" in only:
            rows += bench_j(ws, size, jobs, two)
        if "K" in only:
            assert one is not None
            rows += bench_k(ws, size, jobs, one, two)
    finally:
        for cluster in clusters:
            cluster.stop()
        ws.close()
    print(f"\n[{load_note()}]\n")
    return rows
