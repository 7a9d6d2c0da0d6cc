"""Helpers shared by the benchmarks: generating scripts, timing commands, results and the table."""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Every launcher (scriptbatch, xargs, the naive runner) uses the interpreter that runs the bench,
# so that interpreter start-up is the same for all of them.
PYTHON = sys.executable
BIN = Path(sys.executable).parent
SCRIPTBATCH = str(BIN / "scriptbatch")
REPO = Path(__file__).resolve().parents[1]


# Interpreter settings that change how fast Python runs, left out of every measured command so
# that the references and scriptbatch's scripts run alike. PYTHONUNBUFFERED (set by IDEs,
# containers and some shells) makes output-heavy scripts ~2x slower; scriptbatch never passes it
# to its scripts, so leaving it to xargs once made benchmark B look 2.5x better than it was.
# PYTHONDONTWRITEBYTECODE makes every command recompile the modules it imports.
UNSET = ("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE")


def bench_env(**extra: str) -> dict[str, str]:
    """The environment for every measured command: ours without ``SCRIPTBATCH_*`` settings and
    without the interpreter settings in ``UNSET``."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("SCRIPTBATCH_") and k not in UNSET
    }
    env.update(extra)
    return env


class CommandError(RuntimeError):
    """A measured command exited with an error or did not finish in time."""


def run_timed(
    cmd: Sequence[str],
    *,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    cwd: str | Path | None = None,
    timeout: float = 1800.0,
) -> float:
    """Run ``cmd`` to the end; return its wall-clock time in seconds (the whole command)."""
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            list(cmd),
            input=stdin,
            capture_output=True,
            env=env if env is not None else bench_env(),
            cwd=cwd,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CommandError(f"did not finish within {timeout:.0f} s: {' '.join(cmd)}") from None
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        tail = (proc.stderr or b"").decode(errors="replace").strip()[-800:]
        raise CommandError(f"exit code {proc.returncode}: {' '.join(cmd)}\n{tail}")
    return elapsed


def run_json(cmd: Sequence[str], *, timeout: float = 600.0) -> object:
    """Run a command that prints JSON and return it parsed (not timed)."""
    import json

    proc = subprocess.run(
        list(cmd), capture_output=True, env=bench_env(), timeout=timeout, check=False
    )
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip()[-800:]
        raise CommandError(f"exit code {proc.returncode}: {' '.join(cmd)}\n{tail}")
    return json.loads(proc.stdout)


def write_scripts(folder: Path, count: int, source: str, prefix: str = "s") -> list[str]:
    """``count`` scripts with the same ``source`` in ``folder``; their absolute paths, sorted."""
    folder.mkdir(parents=True, exist_ok=True)
    width = max(5, len(str(count)))
    paths = []
    for i in range(count):
        path = folder / f"{prefix}{i:0{width}d}.py"
        path.write_text(source, encoding="utf-8")
        paths.append(str(path.resolve()))
    return paths


class Workspace:
    """A temporary folder for one bench run; fresh subfolders on demand."""

    def __init__(self, keep: bool = False) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="scriptbatch-bench-"))
        self.keep = keep
        self._n = 0

    def fresh(self, name: str) -> Path:
        """A new, empty folder (never reused) — e.g. a scriptbatch data directory."""
        self._n += 1
        path = self.root / f"{name}-{self._n:04d}"
        path.mkdir(parents=True)
        return path

    def discard(self, path: Path) -> None:
        if not self.keep:
            shutil.rmtree(path, ignore_errors=True)

    def close(self) -> None:
        if self.keep:
            print(f"(kept {self.root})")
        else:
            shutil.rmtree(self.root, ignore_errors=True)


def _machine_busy_s() -> float | None:
    """CPU-seconds the whole machine has been busy since boot (/proc/stat; steal included)."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            v = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (v + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _our_cpu_s() -> float:
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class Disturbance:
    """Measures how much of the machine's CPU *other* processes used while a block ran: busy
    CPU time of the machine minus that of the bench and the processes it waited for, as a share
    of all CPUs over the wall time. 0% is a quiet machine; the figure is approximate.
    ``also_ours`` adds the CPU seconds of processes the bench started but does not wait for
    (a Dask cluster's scheduler and workers)."""

    def __init__(self, also_ours: Callable[[], float] = lambda: 0.0) -> None:
        self._also_ours = also_ours
        self.share: float | None = None

    def _ours(self) -> float:
        return _our_cpu_s() + self._also_ours()

    def __enter__(self) -> Disturbance:
        self._t0, self._busy0, self._ours0 = time.perf_counter(), _machine_busy_s(), self._ours()
        self.share = None
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.perf_counter() - self._t0
        busy = _machine_busy_s()
        if busy is None or self._busy0 is None or wall <= 0:
            return
        others = (busy - self._busy0) - (self._ours() - self._ours0)
        self.share = max(0.0, others) / (wall * (os.cpu_count() or 1))


@dataclass
class Samples:
    """The timings of one launcher in one benchmark, or why it could not be measured."""

    values: list[float] = field(default_factory=list)
    others: list[float] = field(default_factory=list)  # Disturbance.share of each run
    error: str | None = None

    @property
    def others_max(self) -> str:
        return f"{100 * max(self.others):.0f}%" if self.others else ""

    @property
    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None

    @property
    def spread(self) -> str:
        if len(self.values) < 2:
            return ""
        return f"{min(self.values):.2f}-{max(self.values):.2f}"


def round_robin(
    launchers: dict[str, Callable[[], float]],
    repeats: int,
    disturbance: Callable[[], Disturbance] = Disturbance,
) -> dict[str, Samples]:
    """Run every launcher ``repeats`` times, interleaved (A B C, A B C, ...), so that a slow
    period of the machine falls on all of them alike. A launcher that fails is not retried."""
    results = {name: Samples() for name in launchers}
    for rep in range(repeats):
        for name, launch in launchers.items():
            samples = results[name]
            if samples.error:
                continue
            try:
                with disturbance() as others:
                    value = launch()
            except (CommandError, AssertionError, OSError) as exc:
                samples.error = f"run {rep + 1}: {exc}"
                print(f"    {name}: FAILED ({str(exc).splitlines()[0]})", flush=True)
                continue
            samples.values.append(value)
            if others.share is not None:
                samples.others.append(others.share)
            busy = "" if others.share is None else f"  (others used {100 * others.share:.0f}% CPU)"
            print(f"    {name}: {value:.2f} s{busy}", flush=True)
    return results


@dataclass
class Row:
    """One line of the results table."""

    bench: str
    what: str
    value: float | None
    unit: str = "s"
    spread: str = ""
    others: str = ""  # the most CPU other processes used during one of its runs
    ratio: float | None = None
    target: float | None = None  # the ratio (or the value, if no ratio) must be <= / < this
    strict: bool = False  # "<" instead of "<="
    note: str = ""
    error: str | None = None

    @property
    def verdict(self) -> str:
        if self.error:
            return "ERROR"
        if self.target is None:
            return ""
        measured = self.ratio if self.ratio is not None else self.value
        if measured is None:
            return "ERROR"
        ok = measured < self.target if self.strict else measured <= self.target
        return "PASS" if ok else "FAIL"


def ratio_row(
    bench: str,
    what: str,
    samples: Samples,
    reference: Samples,
    *,
    target: float | None = None,
    note: str = "",
) -> Row:
    med, ref = samples.median, reference.median
    return Row(
        bench,
        what,
        med,
        spread=samples.spread,
        others=samples.others_max,
        ratio=med / ref if med is not None and ref else None,
        target=target,
        note=note,
        error=samples.error or (None if ref else reference.error or "no reference"),
    )


def print_table(rows: list[Row]) -> None:
    header = [
        "bench",
        "measurement",
        "median",
        "min-max",
        "others",
        "ratio",
        "target",
        "result",
        "note",
    ]
    lines = [header]
    for r in rows:
        value = "-" if r.value is None else f"{r.value:.2f} {r.unit}"
        if r.target is None:
            target = ""
        else:
            target = ("< " if r.strict else "<= ") + f"{r.target:g}"
            if r.ratio is None:
                target += f" {r.unit}"
        lines.append(
            [
                r.bench,
                r.what,
                value,
                r.spread,
                r.others,
                "" if r.ratio is None else f"{r.ratio:.2f}",
                target,
                r.verdict,
                r.note,
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    for n, line in enumerate(lines):
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(line[:-1])]
        print("  ".join([*cells, line[-1]]).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths) + "  ----")
    for r in (r for r in rows if r.error):
        print(f"\n{r.bench} {r.what}: {r.error}")


def load_note() -> str:
    """The machine's load average, to tell a disturbed run from a quiet one."""
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "load n/a"
    return f"load {one:.2f} (5 min {five:.2f})"
