"""The execution-engine benchmarks A-E (bench/README.md says what each one measures and why)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    PYTHON,
    REPO,
    SCRIPTBATCH,
    CommandError,
    Disturbance,
    Row,
    Samples,
    Workspace,
    bench_env,
    load_note,
    ratio_row,
    round_robin,
    run_json,
    write_scripts,
)
from bench.launchers import (
    naive_launcher,
    scriptbatch_launcher,
    startup_launcher,
    xargs_launcher,
)

TRIVIAL = "x = 1\n"
LINES = 20_000
CHATTY = f'for i in range({LINES}):\n    print(f"line {{i}} " + "x" * 40)\n'
SPIN = "def spin(n):\n    for _ in range(n):\n        pass\n\n\nspin({n})\n"


@dataclass
class Sizes:
    trivial: int = 1000  # A
    chatty: int = 40  # B
    busy: int = 100  # C
    busy_s: float = 0.050  # C: CPU per script
    warm: int = 200  # D
    big: int = 10_000  # D and E
    repeats: int = 3


QUICK = Sizes(trivial=100, chatty=8, busy=20, warm=50, big=1000, repeats=1)


# -- checks run after each measured run (untimed) -----------------------------------------------


def _history(data_dir: Path, limit: int) -> list[dict[str, object]]:
    cmd = [SCRIPTBATCH, "--data-dir", str(data_dir), "history", "--limit", str(limit), "--json"]
    result = run_json(cmd)
    assert isinstance(result, list)
    return result


def check_all_succeeded(expected: int):  # type: ignore[no-untyped-def]
    def check(data_dir: Path, folder: Path) -> None:
        rows = _history(data_dir, expected + 10)
        bad = [r for r in rows if r["status"] != "succeeded"]
        if len(rows) != expected or bad:
            raise AssertionError(
                f"history has {len(rows)} executions (expected {expected}), "
                f"{len(bad)} not succeeded: {[(r['script'], r['status']) for r in bad[:3]]}"
            )

    return check


def chatty_bytes() -> int:
    return sum(len(f"line {i} " + "x" * 40) + 1 for i in range(LINES))


def check_output_captured(expected_scripts: int):  # type: ignore[no-untyped-def]
    """B: every byte each script printed is counted (``output_bytes``) and in its log file."""
    per_script = chatty_bytes()

    def check(data_dir: Path, folder: Path) -> None:
        rows = _history(data_dir, 100)
        problems = []
        if len(rows) != expected_scripts:
            problems.append(f"{len(rows)} executions in history, expected {expected_scripts}")
        total = sum(int(r["output_bytes"]) for r in rows)  # type: ignore[call-overload]
        if total != per_script * expected_scripts:
            problems.append(
                f"sum of output_bytes {total} != expected {per_script * expected_scripts}"
            )
        for r in rows:
            log = r.get("log_path")
            if r["status"] != "succeeded":
                problems.append(f"{r['script']}: {r['status']}")
            if not log or not os.path.isfile(str(log)):
                problems.append(f"{r['script']}: log file missing ({log})")
            elif os.path.getsize(str(log)) != per_script:
                problems.append(
                    f"{r['script']}: log file has {os.path.getsize(str(log))} bytes, "
                    f"expected {per_script}"
                )
        if problems:
            raise AssertionError("; ".join(problems[:5]) + (" ..." if len(problems) > 5 else ""))

    return check


def check_out_files(expected_size: int | None):  # type: ignore[no-untyped-def]
    """For the references: one output file per script (of the expected size, if given)."""

    def check(out_dir: Path, folder: Path) -> None:
        scripts = sorted(p.name for p in folder.glob("*.py"))
        for name in scripts:
            out = out_dir / f"{name}.out"
            if not out.is_file():
                raise AssertionError(f"no output file {out}")
            if expected_size is not None and out.stat().st_size != expected_size:
                raise AssertionError(f"{out} has {out.stat().st_size} bytes, not {expected_size}")

    return check


# -- calibration ----------------------------------------------------------------------------------


def calibrate_spin(seconds: float) -> int:
    """Iterations of ``spin`` that take ``seconds`` of CPU on this interpreter (best of 5, so a
    busy machine does not inflate the count)."""
    namespace: dict[str, object] = {}
    exec(SPIN.split("\n\n\n")[0], namespace)
    spin = namespace["spin"]
    n = 100_000
    while True:
        t0 = time.process_time()
        spin(n)  # type: ignore[operator]
        if time.process_time() - t0 > 0.1:
            break
        n *= 2
    best = min(_cpu_time(spin, n) for _ in range(5))
    return max(1, int(n * seconds / best))


def _cpu_time(spin: object, n: int) -> float:
    t0 = time.process_time()
    spin(n)  # type: ignore[operator]
    return time.process_time() - t0


# -- the benchmarks -------------------------------------------------------------------------------


def bench_a(ws: Workspace, size: Sizes, jobs: int) -> list[Row]:
    n = size.trivial
    print(f"\nA. {n} trivial scripts, jobs={jobs}  [{load_note()}]", flush=True)
    folder = ws.root / "a-trivial"
    scripts = write_scripts(folder, n, TRIVIAL)
    ok = check_all_succeeded(n)
    refs = check_out_files(0)
    res = round_robin(
        {
            "xargs": xargs_launcher(ws, scripts, jobs, refs),
            "naive": naive_launcher(ws, scripts, jobs, refs),
            "scriptbatch spawn": scriptbatch_launcher(ws, folder, jobs, "spawn", ok),
            "scriptbatch forkserver": scriptbatch_launcher(ws, folder, jobs, "forkserver", ok),
        },
        size.repeats,
    )
    print("  start-up of the command (scripts list)", flush=True)
    startup = round_robin(
        {
            "new data dir": startup_launcher(ws, fresh=True),
            "existing data dir": startup_launcher(ws, fresh=False),
        },
        size.repeats,
    )
    xargs, fresh = res["xargs"], startup["new data dir"]

    def share(of: Samples) -> str:
        if of.median and fresh.median:
            return f"start-up = {100 * fresh.median / of.median:.0f}% of it"
        return ""

    return [
        ratio_row("A", "xargs (reference)", xargs, xargs),
        ratio_row("A", "naive ThreadPool runner", res["naive"], xargs, note="info only"),
        ratio_row(
            "A",
            "scriptbatch spawn",
            res["scriptbatch spawn"],
            xargs,
            target=1.25,
            note=share(res["scriptbatch spawn"]),
        ),
        ratio_row(
            "A",
            "scriptbatch forkserver",
            res["scriptbatch forkserver"],
            xargs,
            target=0.5,
            note="aim 0.30; " + share(res["scriptbatch forkserver"]),
        ),
        ratio_row(
            "A",
            "start-up: scripts list, new dir",
            fresh,
            xargs,
            note="fixed cost of the command (creates + migrates the database)",
        ),
        ratio_row(
            "A",
            "start-up: scripts list, existing",
            startup["existing data dir"],
            xargs,
            note="fixed cost on a data dir already set up",
        ),
    ]


def bench_b(ws: Workspace, size: Sizes, jobs: int) -> list[Row]:
    n = size.chatty
    per = chatty_bytes()
    print(
        f"\nB. {n} scripts x {LINES} lines ({per} bytes each), jobs={jobs}  [{load_note()}]",
        flush=True,
    )
    folder = ws.root / "b-output"
    scripts = write_scripts(folder, n, CHATTY)
    refs = check_out_files(per)
    res = round_robin(
        {
            "xargs": xargs_launcher(ws, scripts, jobs, refs),
            "naive": naive_launcher(ws, scripts, jobs, refs),
            "scriptbatch auto": scriptbatch_launcher(
                ws, folder, jobs, None, check_output_captured(n)
            ),
            "in a running app": in_app_launcher(ws, folder, jobs, n * per),
        },
        size.repeats,
    )
    xargs = res["xargs"]
    captured = "every byte captured" if not res["scriptbatch auto"].error else ""
    return [
        ratio_row("B", "xargs to files (reference)", xargs, xargs),
        ratio_row("B", "naive ThreadPool runner", res["naive"], xargs, note="info only"),
        ratio_row(
            "B",
            "scriptbatch auto",
            res["scriptbatch auto"],
            xargs,
            target=1.2,
            note=f"{captured} ({n * per} bytes: output_bytes sum + log sizes)",
        ),
        ratio_row(
            "B",
            "scriptbatch in a running app",
            res["in a running app"],
            xargs,
            target=1.2,
            note="start() to batch finished, app and fork server warm (the GUI's, the API's "
            "case): the command's fixed start-up left out; every byte checked",
        ),
    ]


def in_app_launcher(ws: Workspace, folder: Path, jobs: int, expected: int) -> Callable[[], float]:
    """B's batch run by an app that is already running (``bench.inproc --only B``): the child
    process's start-up is not timed, only ``start()`` to the batch's end."""

    def launch() -> float:
        root = ws.fresh("b-in-app")
        cmd = [PYTHON, "-m", "bench.inproc", "--root", str(root), "--jobs", str(jobs)]
        cmd += ["--only", "B", "--folder", str(folder), "--timeout", "600"]
        try:
            proc = subprocess.run(
                cmd, cwd=REPO, env=bench_env(), stdout=subprocess.PIPE, timeout=900, check=False
            )
            if proc.returncode != 0:
                raise CommandError(f"exit code {proc.returncode}: {' '.join(cmd)}")
            out = json.loads(proc.stdout.decode().strip().splitlines()[-1])["B"]
        finally:
            ws.discard(root)
        if "error" in out:
            raise CommandError(str(out["error"]))
        assert out["statuses"] == {"succeeded": len(list(folder.glob("*.py")))}, out["statuses"]
        assert out["output_bytes"] == expected == out["log_bytes"], out
        return float(out["seconds"])

    return launch


def bench_c(ws: Workspace, size: Sizes, jobs: int) -> list[Row]:
    n = size.busy
    spins = calibrate_spin(size.busy_s)
    print(
        f"\nC. {n} scripts x ~{size.busy_s * 1000:.0f} ms CPU (spin {spins}), jobs={jobs}"
        f"  [{load_note()}]",
        flush=True,
    )
    folder = ws.root / "c-cpu"
    scripts = write_scripts(folder, n, SPIN.format(n=spins))
    cpu: list[float] = []
    ok = check_all_succeeded(n)

    def check(data_dir: Path, folder: Path) -> None:
        ok(data_dir, folder)
        cpu.extend(float(r["cpu_s"]) for r in _history(data_dir, n + 10) if r["cpu_s"])  # type: ignore[arg-type]

    res = round_robin(
        {
            "xargs": xargs_launcher(ws, scripts, jobs, check_out_files(0)),
            "naive": naive_launcher(ws, scripts, jobs, check_out_files(0)),
            "scriptbatch auto": scriptbatch_launcher(ws, folder, jobs, None, check),
        },
        size.repeats,
    )
    xargs = res["xargs"]
    floor = n * size.busy_s / jobs
    cpu_note = f"median cpu_s per script {statistics.median(cpu) * 1000:.0f} ms" if cpu else ""
    return [
        ratio_row("C", "xargs (reference)", xargs, xargs, note=f"CPU floor {floor:.2f} s"),
        ratio_row("C", "naive ThreadPool runner", res["naive"], xargs, note="info only"),
        ratio_row(
            "C", "scriptbatch auto", res["scriptbatch auto"], xargs, target=1.1, note=cpu_note
        ),
    ]


def bench_de(ws: Workspace, size: Sizes, jobs: int, only: str) -> list[Row]:
    which = "".join(b for b in "DE" if b in only)
    print(
        f"\n{' and '.join(which)}. in-process: batches of {size.big} trivial scripts, "
        f"forkserver, jobs={jobs}  [{load_note()}]",
        flush=True,
    )
    root = ws.fresh("inproc")
    cmd = [PYTHON, "-m", "bench.inproc", "--root", str(root), "--jobs", str(jobs)]
    cmd += ["--warm", str(size.warm), "--n", str(size.big), "--repeat", str(size.repeats)]
    cmd += ["--only", which]
    rows: list[Row] = []
    disturbance = Disturbance()
    try:
        with disturbance:
            proc = subprocess.run(
                cmd,
                cwd=REPO,
                env=bench_env(),
                stdout=subprocess.PIPE,
                stderr=None,  # progress goes straight to the terminal
                timeout=3600,
                check=False,
            )
        if proc.returncode != 0:
            raise CommandError(f"exit code {proc.returncode}: {' '.join(cmd)}")
        out = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    except (CommandError, subprocess.TimeoutExpired, ValueError, IndexError) as exc:
        return [Row(b, "in-process run", None, error=str(exc)) for b in which]
    finally:
        ws.discard(root)
    others = "" if disturbance.share is None else f"{100 * disturbance.share:.0f}%"

    if "D" in out:
        d = out["D"]
        rows.append(
            Row(
                "D",
                f"RSS growth over {size.big} scripts",
                d.get("peak_growth_mb"),
                unit="MB",
                others=others,
                target=50,
                strict=True,
                note=(
                    f"peak; baseline {d.get('baseline_mb', 0):.0f} MB after {size.warm} warm-up,"
                    f" growth at end {d.get('end_growth_mb', 0):.1f} MB,"
                    f" {d.get('samples', 0)} samples, batch took {d.get('seconds', 0):.1f} s,"
                    f" engine process CPU {d.get('engine_cpu_ms_per_script', 0):.1f} ms/script"
                )
                if "peak_growth_mb" in d
                else "",
                error=d.get("error"),
            )
        )
    if "E" in out:
        e = out["E"]
        lat = e.get("latencies", [])
        rows.append(
            Row(
                "E",
                f"start() -> first ExecutionStarted ({size.big})",
                e.get("median"),
                spread=f"{min(lat):.2f}-{max(lat):.2f}" if len(lat) > 1 else "",
                others=others,
                target=1.0,
                strict=True,
                note=(
                    f"start() returned after {e['start_returned_median']:.2f} s;"
                    f" cancel -> done {e['cancel_to_done_median']:.2f} s"
                )
                if "median" in e
                else "",
                error=e.get("error"),
            )
        )
    return rows


def run(*, quick: bool, jobs: int | None, repeats: int | None, only: str, keep: bool) -> list[Row]:
    size = Sizes() if not quick else QUICK
    if repeats:
        size.repeats = repeats
    jobs = jobs or os.cpu_count() or 1
    print(
        "ScriptBatch engine benchmarks"
        + (" (QUICK: small sizes, not comparable to targets)" if quick else "")
        + f"\ndate {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, jobs {jobs}, "
        f"{size.repeats} run(s) each (median), python {sys.version.split()[0]} "
        f"({PYTHON})\n[{load_note()}]",
        flush=True,
    )
    ws = Workspace(keep=keep)
    rows: list[Row] = []
    try:
        # Warm the page cache for the interpreter, the venv and the app (untimed).
        startup_launcher(ws, fresh=True)()
        if "A" in only:
            rows += bench_a(ws, size, jobs)
        if "B" in only:
            rows += bench_b(ws, size, jobs)
        if "C" in only:
            rows += bench_c(ws, size, jobs)
        if "D" in only or "E" in only:
            rows += bench_de(ws, size, jobs, only)
    finally:
        ws.close()
    print(f"\n[{load_note()}]\n")
    return rows
