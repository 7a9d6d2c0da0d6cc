"""The GUI benchmarks F (responsiveness during a chatty batch) and G (start-up to the window).

bench/README.md says what each one measures and why. Both run the real app in child processes
on the offscreen Qt platform, with their own temporary data directories and Qt settings.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import (
    PYTHON,
    REPO,
    CommandError,
    Disturbance,
    Row,
    Samples,
    Workspace,
    bench_env,
    load_note,
    round_robin,
)


@dataclass
class GuiSizes:
    scripts: int = 500  # F
    lines: int = 2000  # F: lines each script prints
    runs: int = 3  # F: batches (a fresh app each)
    starts: int = 5  # G: start-ups of each kind


QUICK = GuiSizes(scripts=50, lines=500, runs=1, starts=1)


def gui_env(ws: Workspace) -> dict[str, str]:
    """Offscreen Qt, and Qt's settings and runtime files inside the bench's temporary folder
    (never the user's ~/.config/ScriptBatch)."""
    runtime = ws.root / "xdg-runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    return bench_env(
        QT_QPA_PLATFORM="offscreen",
        XDG_RUNTIME_DIR=str(runtime),
        XDG_CONFIG_HOME=str(ws.root / "xdg-config"),
    )


def _span(values: list[float], fmt: str = ".1f") -> str:
    return f"{min(values):{fmt}}-{max(values):{fmt}}" if len(values) > 1 else ""


def _others(shares: list[float]) -> str:
    return f"{100 * max(shares):.0f}%" if shares else ""


# -- F: responsiveness ----------------------------------------------------------------------------


def bench_f(ws: Workspace, size: GuiSizes) -> list[Row]:
    n, lines = size.scripts, size.lines
    print(
        f"\nF. GUI responsiveness: {n} scripts x {lines} lines, default jobs, output viewer "
        f"following a running script, {size.runs} run(s)  [{load_note()}]",
        flush=True,
    )
    results: list[dict[str, object]] = []
    shares: list[float] = []
    env = gui_env(ws)
    for run in range(size.runs):
        root = ws.fresh("gui-run")
        cmd = [PYTHON, "-m", "bench.gui_inproc", "--root", str(root)]
        cmd += ["--n", str(n), "--lines", str(lines), "--timeout", "1800"]
        disturbance = Disturbance()
        try:
            with disturbance:
                proc = subprocess.run(
                    cmd,
                    cwd=REPO,
                    env=env,
                    capture_output=True,
                    timeout=2400,
                    check=False,
                )
            for line in proc.stderr.decode(errors="replace").splitlines():
                if line.startswith("    ") or "Error" in line or "Traceback" in line:
                    print(f"  {line}", flush=True)  # progress; Qt's offscreen chatter left out
            if proc.returncode != 0:
                raise CommandError(f"exit code {proc.returncode}: {' '.join(cmd)}")
            out = json.loads(proc.stdout.decode().strip().splitlines()[-1])
        except (CommandError, subprocess.TimeoutExpired, ValueError, IndexError) as exc:
            return [Row("F", "GUI responsiveness", None, error=f"run {run + 1}: {exc}")]
        finally:
            ws.discard(root)
        if out.get("error"):
            return [Row("F", "GUI responsiveness", None, error=f"run {run + 1}: {out['error']}")]
        if disturbance.share is not None:
            shares.append(disturbance.share)
        results.append(out)
        s = out["stalls"]
        busy = "" if disturbance.share is None else f"  (others used {100 * shares[-1]:.0f}% CPU)"
        print(
            f"    run {run + 1}: batch {out['seconds']:.2f} s, max stall {s['max_ms']:.1f} ms, "
            f"p99 {s['p99_ms']:.1f} ms, RSS +{out['growth_mb']:.1f} MB, "
            f"worst (ms, s into the batch) {s['worst'][:3]}{busy}",
            flush=True,
        )

    def values(key: str, sub: str | None = None) -> list[float]:
        return [float(r[sub][key] if sub else r[key]) for r in results]  # type: ignore

    maxes, p99s, growth = (
        values("max_ms", "stalls"),
        values("p99_ms", "stalls"),
        values("growth_mb"),
    )
    walls, lib_max = values("seconds"), values("max_ms", "library_stalls")
    open_max = values("max_ms", "opening_stalls")
    others = _others(shares)
    first = results[0]
    worst = max(results, key=lambda r: r["stalls"]["max_ms"])  # type: ignore[index]
    succeeded = min(int(r["statuses"].get("succeeded", 0)) for r in results)  # type: ignore[attr-defined]
    return [
        Row(
            "F",
            "GUI stall during batch: max",
            statistics.median(maxes),
            unit="ms",
            spread=_span(maxes),
            others=others,
            target=100,
            note=f"10 ms heartbeat; worst run's 5 biggest (ms, s into batch): "
            f"{worst['stalls']['worst']}",  # type: ignore[index]
        ),
        Row(
            "F",
            "GUI stall during batch: p99",
            statistics.median(p99s),
            unit="ms",
            spread=_span(p99s),
            others=others,
            target=25,
            note="median stall "
            f"{statistics.median(values('p50_ms', 'stalls')):.1f} ms; stalls > 50 ms per run: "
            f"{[r['stalls']['over_50ms'] for r in results]}",  # type: ignore[index]
        ),
        Row(
            "F",
            "RSS growth, idle -> peak in batch",
            statistics.median(growth),
            unit="MB",
            spread=_span(growth),
            others=others,
            target=60,
            note=f"idle {first['idle_rss_mb']:.0f} MB (window shown, {n} scripts loaded), "
            f"peak {first['peak_rss_mb']:.0f} MB, +{first['end_growth_mb']:.1f} MB left 1 s "
            f"after; app process only (the fork server and scripts are other processes)",
        ),
        Row(
            "F",
            f"batch wall time ({n} x {lines} lines)",
            statistics.median(walls),
            spread=_span(walls, ".2f"),
            others=others,
            note=f"{succeeded}/{n} succeeded in every run, jobs {first['jobs']}; app CPU "
            f"{statistics.median(values('app_cpu_s')):.1f} s; ~{first['clicks']} row clicks",
        ),
        Row(
            "F",
            "first 3 s after show(), max stall",
            statistics.median(open_max),
            unit="ms",
            spread=_span(open_max),
            others=others,
            note="info only; examples loading, first paints",
        ),
        Row(
            "F",
            f"library: add + load {n} scripts, max stall",
            statistics.median(lib_max),
            unit="ms",
            spread=_span(lib_max),
            others=others,
            note=f"info only; add_paths -> refresh -> tick took "
            f"{statistics.median(values('library_seconds')):.2f} s",
        ),
    ]


# -- G: start-up ----------------------------------------------------------------------------------


def startup_launcher(ws: Workspace, data_dir: Path | None, extras: list[dict[str, float]]):  # type: ignore[no-untyped-def]
    """A launcher for round_robin: ``python -m AppCode --data-dir D`` through bench.gui_startup;
    returns seconds from just before spawning it to the main window shown. ``data_dir=None``:
    a fresh data directory every time (first start)."""
    env = gui_env(ws)

    def launch() -> float:
        where = data_dir or ws.fresh("gui-fresh") / "data"
        out = ws.root / "startup.json"
        out.unlink(missing_ok=True)
        cmd = [PYTHON, "-m", "bench.gui_startup", str(out), "--data-dir", str(where)]
        spawn = time.perf_counter()
        try:
            proc = subprocess.run(
                cmd, cwd=REPO, env=env, capture_output=True, timeout=120, check=False
            )
        except subprocess.TimeoutExpired:
            raise CommandError(f"did not finish within 120 s: {' '.join(cmd)}") from None
        ended = time.perf_counter()
        if proc.returncode != 0 or not out.is_file():
            tail = proc.stderr.decode(errors="replace").strip()[-800:]
            raise CommandError(f"exit code {proc.returncode}: {' '.join(cmd)}\n{tail}")
        t = json.loads(out.read_text())["times"]
        if "shown" not in t:
            raise CommandError("the app exited without showing its window")
        if "frame" not in t:
            raise CommandError("the window was shown but never painted")
        extras.append(
            {
                "in_process": t["shown"] - t["start"],
                "before_module": t["start"] - spawn,
                "frame_after_show": t["frame"] - t["shown"],
                "total": ended - spawn,
            }
        )
        if data_dir is None:
            ws.discard(where.parent)
        return float(t["shown"]) - spawn

    return launch


def interpreter_startup(repeats: int = 5) -> float:
    """Fastest of ``python -c pass``: the part of a start no app can save."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([PYTHON, "-c", "pass"], check=True, env=bench_env())
        best = min(best, time.perf_counter() - t0)
    return best


def bench_g(ws: Workspace, size: GuiSizes) -> list[Row]:
    print(
        f"\nG. GUI start-up: python -m AppCode --data-dir D until the main window is shown, "
        f"{size.starts} run(s) each  [{load_note()}]",
        flush=True,
    )
    existing = ws.fresh("gui-existing") / "data"
    extras: dict[str, list[dict[str, float]]] = {"existing": [], "fresh": []}
    # Sets up the "existing" data directory (database, examples) and warms the page cache.
    try:
        startup_launcher(ws, existing, [])()
    except CommandError as exc:
        return [Row("G", "GUI start-up", None, error=str(exc))]
    res = round_robin(
        {
            "existing data dir": startup_launcher(ws, existing, extras["existing"]),
            "fresh data dir": startup_launcher(ws, None, extras["fresh"]),
        },
        size.starts,
    )
    python_s = interpreter_startup()

    def note(kind: str) -> str:
        e = extras[kind]
        if not e:
            return ""

        def med(key: str) -> float:
            return statistics.median(x[key] for x in e)

        return (
            f"in-process {med('in_process'):.2f} s (+{1000 * med('before_module'):.0f} ms "
            f"interpreter up to the wrapper; bare python -c pass {1000 * python_s:.0f} ms); "
            f"first frame painted +{1000 * med('frame_after_show'):.0f} ms; "
            f"spawn -> exit {med('total'):.2f} s"
        )

    def row(what: str, samples: Samples, kind: str, target: float | None) -> Row:
        return Row(
            "G",
            what,
            samples.median,
            spread=samples.spread,
            others=samples.others_max,
            target=target,
            strict=True,
            note=note(kind)
            if target
            else "info only; creates the database, copies examples; " + note(kind),
            error=samples.error,
        )

    return [
        row("start-up to window shown, existing dir", res["existing data dir"], "existing", 1.5),
        row("start-up to window shown, fresh dir", res["fresh data dir"], "fresh", None),
    ]


def run(*, quick: bool, repeats: int | None, only: str, keep: bool) -> list[Row]:
    size = GuiSizes() if not quick else QUICK
    if repeats:
        size.runs = size.starts = repeats
    print(
        "ScriptBatch GUI benchmarks"
        + (" (QUICK: small sizes, not comparable to targets)" if quick else "")
        + f"\ndate {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, "
        f"python {sys.version.split()[0]} ({PYTHON}), Qt platform offscreen\n[{load_note()}]",
        flush=True,
    )
    ws = Workspace(keep=keep)
    rows: list[Row] = []
    try:
        if "F" in only:
            rows += bench_f(ws, size)
        if "G" in only:
            rows += bench_g(ws, size)
    finally:
        ws.close()
    print(f"\n[{load_note()}]\n")
    return rows
