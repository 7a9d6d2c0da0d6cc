"""Benchmarks H and I: what the sandbox adds per launch, and what monitoring costs.

H. The standard sandbox's launch cost: the same trivial scripts run one at a time through the
   real services with policy "off" and policy "standard", for each start method; the cost is the
   difference per script (target: at most 5 ms per launch).
I. The monitoring service's own CPU: with 8 script processes running (sleeping, so they add no
   CPU of their own), the app process's CPU time over a window with monitoring sampling at 1 Hz
   and at 10 Hz, against the same window without monitoring (targets: < 1% and < 5% of a core).

Both run in a child process (``python -m bench.platform_costs``) so the app's threads and
memory do not mix with the bench's; the parent prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import PYTHON, Row

TRIVIAL = "x = 1\n"


def run(*, quick: bool, only: str) -> list[Row]:
    rows: list[Row] = []
    if "H" in only:
        rows.extend(_child("H", quick))
    if "I" in only:
        rows.extend(_child("I", quick))
    return rows


def _child(letter: str, quick: bool) -> list[Row]:
    cmd = [PYTHON, "-m", "bench.platform_costs", letter] + (["--quick"] if quick else [])
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=1800, cwd=Path(__file__).resolve().parents[1]
    )
    if proc.returncode != 0:
        return [Row(letter, "measurement failed", None, error=proc.stderr.strip()[-300:])]
    return [Row(**row) for row in json.loads(proc.stdout.strip().splitlines()[-1])]


# -- the child side ----------------------------------------------------------------------------


def _launch_costs(quick: bool) -> list[dict[str, object]]:
    from AppCode.container import build

    count = 40 if quick else 200
    home = Path(tempfile.mkdtemp(prefix="bench-h-"))
    folder = home / "scripts"
    folder.mkdir()
    for i in range(count):
        (folder / f"s{i:04d}.py").write_text(TRIVIAL)
    container = build(home / "data")
    service = container.batch_service()
    rows = []
    try:
        for method in ("spawn", "forkserver"):
            per_script = {}
            for policy in ("off", "standard", "off", "standard"):  # interleaved, twice
                handle = service.start(
                    {
                        "paths": [str(folder)],
                        "jobs": 1,
                        "start_method": method,
                        "sandbox_policy": policy,
                    }
                )
                started = time.perf_counter()
                service.wait(handle, 600)
                elapsed = time.perf_counter() - started
                per_script.setdefault(policy, []).append(elapsed / count)
            off, standard = min(per_script["off"]), min(per_script["standard"])
            cost_ms = (standard - off) * 1000
            rows.append(
                {
                    "bench": "H",
                    "what": f"standard sandbox, {method}: extra per launch",
                    "value": round(cost_ms, 2),
                    "unit": "ms",
                    "target": 5.0,
                    "note": (
                        f"{off * 1000:.1f} ms per script without, {standard * 1000:.1f} ms "
                        f"with ({count} scripts, one at a time)"
                    ),
                }
            )
    finally:
        container.shutdown_resources()
    return rows


def _monitoring_cost(quick: bool) -> list[dict[str, object]]:
    from AppCode.container import build
    from AppCode.core.domain.events import ExecutionStarted

    window = 5.0 if quick else 20.0
    home = Path(tempfile.mkdtemp(prefix="bench-i-"))
    container = build(home / "data")
    sleepers = [subprocess.Popen([PYTHON, "-c", "import time; time.sleep(600)"]) for _ in range(8)]
    rows = []
    try:
        monitoring = container.monitoring_service()
        for i, process in enumerate(sleepers):  # as if the engine had started them
            monitoring.on_event(
                ExecutionStarted(
                    f"e{i}", "b", 1, process.pid, None, __import__("datetime").datetime.now(), None
                )
            )
        idle = _cpu_over(window, lambda: None, lambda: None)
        for hz in (1, 10):
            settings = container.settings().monitoring
            settings.interval_s = 1.0 / hz
            used = _cpu_over(window, monitoring.start, monitoring.stop)
            percent = max(0.0, used - idle) / window * 100
            target = 1.0 if hz == 1 else 5.0
            rows.append(
                {
                    "bench": "I",
                    "what": f"monitoring at {hz} Hz, 8 scripts: % of one core",
                    "value": round(percent, 2),
                    "unit": "%",
                    "target": target,
                    "strict": True,
                    "note": f"{used:.2f} CPU-s in {window:.0f} s (idle baseline {idle:.2f})",
                }
            )
    finally:
        for process in sleepers:
            process.kill()
            process.wait()
        container.shutdown_resources()
    return rows


def _cpu_over(window: float, start, stop) -> float:  # type: ignore[no-untyped-def]
    """CPU seconds this process used while ``start()``...``stop()`` ran for ``window``."""
    before = os.times()
    start()
    time.sleep(window)  # the measured window itself, not a wait for something
    stop()
    after = os.times()
    return (after.user - before.user) + (after.system - before.system)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("letter", choices=["H", "I"])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows = _launch_costs(args.quick) if args.letter == "H" else _monitoring_cost(args.quick)
    print(json.dumps(rows))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
