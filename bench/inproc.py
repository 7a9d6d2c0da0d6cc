"""Benchmarks D (memory), E (start latency) and B's in-app row: the engine driven in-process
through the container.

Run by ``python -m bench`` as a child process (``python -m bench.inproc ...``), so that the RSS
measured is that of a process doing nothing but this, and a hang can be timed out from outside.
Prints one JSON object on the last line of stdout.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import threading
import time
from pathlib import Path

import psutil

from bench.common import write_scripts

TRIVIAL = "x = 1\n"
_MB = 1024 * 1024


class RssSampler:
    """Samples this process's RSS every ``interval`` seconds in a thread; keeps the peak."""

    def __init__(self, interval: float = 0.2) -> None:
        self._proc = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self.peak = self._proc.memory_info().rss
        self.samples = 0
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _sample(self) -> None:
        self.peak = max(self.peak, self._proc.memory_info().rss)
        self.samples += 1

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()


def _statuses(handle: object) -> dict[str, int]:
    counts: dict[str, int] = {}
    for e in handle.executions:  # type: ignore[attr-defined]
        counts[e.status.value] = counts.get(e.status.value, 0) + 1
    return counts


def memory(
    c: object, root: Path, jobs: int, warm: int, n: int, timeout: float
) -> dict[str, object]:
    """D: RSS growth of this process over a batch of ``n`` trivial scripts, after a warm-up."""
    service = c.batch_service()  # type: ignore[attr-defined]
    warm_dir, big_dir = root / "warm", root / "big"
    write_scripts(warm_dir, warm, TRIVIAL, prefix="w")
    write_scripts(big_dir, n, TRIVIAL, prefix="t")
    request = {"jobs": jobs, "start_method": "forkserver"}

    handle = service.start({"paths": [str(warm_dir)], **request})
    if not service.wait(handle, timeout):
        return {"error": f"the warm-up batch of {warm} scripts did not finish in {timeout:.0f} s"}
    gc.collect()
    me = psutil.Process()
    baseline = me.memory_info().rss
    start, cpu0 = time.perf_counter(), time.process_time()
    with RssSampler(0.2) as sampler:
        handle = service.start({"paths": [str(big_dir)], **request})
        finished = service.wait(handle, timeout)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu0
    gc.collect()
    after = me.memory_info().rss
    result: dict[str, object] = {
        "baseline_mb": baseline / _MB,
        "peak_growth_mb": (sampler.peak - baseline) / _MB,
        "end_growth_mb": (after - baseline) / _MB,
        "samples": sampler.samples,
        "seconds": elapsed,
        "engine_cpu_ms_per_script": 1000 * cpu / n,
        "statuses": _statuses(handle) if finished else {},
    }
    if not finished:
        service.cancel(handle.batch_id)
        service.wait(handle, 60)
        result["error"] = f"the batch of {n} scripts did not finish within {timeout:.0f} s"
    elif result["statuses"] != {"succeeded": n}:
        result["error"] = f"not every execution succeeded: {result['statuses']}"
    return result


def start_latency(c: object, root: Path, jobs: int, n: int, repeats: int) -> dict[str, object]:
    """E: from ``start()`` to the first ``ExecutionStarted`` of a batch of ``n`` scripts; then
    cancel the batch and wait for it."""
    from AppCode.core.domain.events import ExecutionStarted

    service = c.batch_service()  # type: ignore[attr-defined]
    folder = root / "big"
    if not folder.exists():
        write_scripts(folder, n, TRIVIAL, prefix="t")
    first: dict[str, float] = {}
    lock = threading.Lock()

    def on_event(event: object) -> None:
        if isinstance(event, ExecutionStarted):
            now = time.perf_counter()
            with lock:
                first.setdefault(event.batch_id, now)

    latencies, returns, cancels, runs = [], [], [], []
    unsubscribe = c.event_bus().subscribe(on_event)  # type: ignore[attr-defined]
    try:
        for _ in range(repeats):
            t0 = time.perf_counter()
            handle = service.start(
                {"paths": [str(folder)], "jobs": jobs, "start_method": "forkserver"}
            )
            returned = time.perf_counter() - t0
            deadline = time.monotonic() + 120
            while handle.batch_id not in first and time.monotonic() < deadline:
                time.sleep(0.001)
            t_first = first.get(handle.batch_id)
            t_cancel = time.perf_counter()
            service.cancel(handle.batch_id)
            if not service.wait(handle, 300):
                return {"error": "the cancelled batch did not finish within 300 s"}
            cancels.append(time.perf_counter() - t_cancel)
            if t_first is None:
                return {"error": "no ExecutionStarted within 120 s of start()"}
            latencies.append(t_first - t0)
            returns.append(returned)
            runs.append(_statuses(handle))
            print(f"    start latency {t_first - t0:.3f} s", file=sys.stderr, flush=True)
    finally:
        unsubscribe()
    return {
        "latencies": latencies,
        "median": statistics.median(latencies),
        "start_returned_median": statistics.median(returns),
        "cancel_to_done_median": statistics.median(cancels),
        "statuses": runs,
    }


def batch_in_app(
    c: object, root: Path, folder: Path, jobs: int, timeout: float
) -> dict[str, object]:
    """B in a running app (the GUI, the API server): the seconds from ``start()`` of the batch
    of ``folder`` to its end, the app and its fork server already warm (a batch of two trivial
    scripts first), and the bytes captured (``output_bytes`` and the log files' sizes)."""
    service = c.batch_service()  # type: ignore[attr-defined]
    warm_dir = root / "warm-b"
    write_scripts(warm_dir, 2, TRIVIAL, prefix="w")
    handle = service.start({"paths": [str(warm_dir)], "jobs": jobs})
    if not service.wait(handle, timeout):
        return {"error": "the warm-up batch did not finish"}
    start = time.perf_counter()
    handle = service.start({"paths": [str(folder)], "jobs": jobs})
    finished = service.wait(handle, timeout)
    seconds = time.perf_counter() - start
    if not finished:
        return {"error": f"the batch did not finish in {timeout:.0f} s"}
    logs = [Path(e.log_path) for e in handle.executions if e.log_path]
    return {
        "seconds": seconds,
        "statuses": _statuses(handle),
        "output_bytes": sum(e.output_bytes or 0 for e in handle.executions),
        "log_bytes": sum(p.stat().st_size for p in logs if p.is_file()),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--jobs", type=int, required=True)
    parser.add_argument("--warm", type=int, default=200)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default="DE")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--folder", help="B: the folder of scripts to run in the app")
    args = parser.parse_args()

    from AppCode.container import build

    root = Path(args.root)
    c = build(root / "data")
    out: dict[str, object] = {}
    try:
        if "D" in args.only:
            print("  D: memory", file=sys.stderr, flush=True)
            out["D"] = memory(c, root, args.jobs, args.warm, args.n, args.timeout)
        if "B" in args.only:
            out["B"] = batch_in_app(c, root, Path(args.folder), args.jobs, args.timeout)
        if "E" in args.only:
            print("  E: start latency", file=sys.stderr, flush=True)
            out["E"] = start_latency(c, root, args.jobs, args.n, args.repeat)
    finally:
        c.shutdown_resources()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
