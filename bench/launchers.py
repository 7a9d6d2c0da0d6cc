"""The launchers under measurement: the scriptbatch CLI and the two references.

Each ``*_launcher`` returns a callable that prepares a fresh output place (untimed), runs the whole
command once (timed, wall clock) and returns the seconds. Outputs are deleted afterwards (untimed).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bench.common import PYTHON, REPO, SCRIPTBATCH, Workspace, bench_env, run_timed

# xargs runs one shell per script; the shell redirects stdout+stderr to the script's own file and
# execs the interpreter ($0 = the interpreter, $1 = the script).
XARGS_SHELL = 'exec "$0" "$1" > "$OUT_DIR/${1##*/}.out" 2>&1'
NAIVE_RUNNER = str(REPO / "bench" / "naive_runner.py")

Check = Callable[[Path, Path], None]  # (data or output dir, scripts folder) -> raises on a problem


def xargs_command(jobs: int) -> list[str]:
    return ["xargs", "-0", "-P", str(jobs), "-n", "1", "sh", "-c", XARGS_SHELL, PYTHON]


def xargs_launcher(
    ws: Workspace, scripts: list[str], jobs: int, check: Check | None = None
) -> Callable[[], float]:
    listing = "\0".join(scripts).encode()
    folder = Path(scripts[0]).parent

    def launch() -> float:
        out = ws.fresh("xargs-out")
        try:
            seconds = run_timed(xargs_command(jobs), stdin=listing, env=bench_env(OUT_DIR=str(out)))
            if check:
                check(out, folder)
            return seconds
        finally:
            ws.discard(out)

    return launch


def naive_launcher(
    ws: Workspace, scripts: list[str], jobs: int, check: Check | None = None
) -> Callable[[], float]:
    listing = ws.root / f"list-{len(scripts)}-{abs(hash(scripts[0]))}.txt"
    listing.write_text("\n".join(scripts) + "\n", encoding="utf-8")
    folder = Path(scripts[0]).parent

    def launch() -> float:
        out = ws.fresh("naive-out")
        try:
            seconds = run_timed([PYTHON, NAIVE_RUNNER, str(jobs), str(out), str(listing)])
            if check:
                check(out, folder)
            return seconds
        finally:
            ws.discard(out)

    return launch


def scriptbatch_command(
    data_dir: Path, folder: Path, jobs: int, start_method: str | None = None
) -> list[str]:
    cmd = [SCRIPTBATCH, "--data-dir", str(data_dir), "run", str(folder)]
    cmd += ["--jobs", str(jobs), "--quiet"]
    if start_method:
        cmd += ["--start-method", start_method]
    return cmd


def scriptbatch_launcher(
    ws: Workspace,
    folder: Path,
    jobs: int,
    start_method: str | None = None,
    check: Check | None = None,
) -> Callable[[], float]:
    """``scriptbatch --data-dir <fresh> run <folder> --jobs N --quiet [--start-method M]``."""

    def launch() -> float:
        data = ws.fresh("sb-data")
        try:
            seconds = run_timed(scriptbatch_command(data, folder, jobs, start_method))
            if check:
                check(data, folder)
            return seconds
        finally:
            ws.discard(data)

    return launch


def startup_launcher(ws: Workspace, *, fresh: bool) -> Callable[[], float]:
    """The fixed cost of the command itself: ``scriptbatch --data-dir D scripts list``, on a new
    data directory (``fresh``: creates and migrates the database) or on one already set up."""
    existing = None if fresh else ws.fresh("sb-startup")

    def launch() -> float:
        data = ws.fresh("sb-startup") if fresh else existing
        assert data is not None
        cmd = [SCRIPTBATCH, "--data-dir", str(data), "scripts", "list"]
        if not fresh and not (data / "scriptbatch.db").exists():
            run_timed(cmd)  # set it up once, untimed
        try:
            return run_timed(cmd)
        finally:
            if fresh:
                ws.discard(data)

    return launch
