"""PerformanceAnalyzer: pure rules over hand-built executions and samples (no clock, no I/O)."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest

from AppCode.core.analyzers.performance import (
    Finding,
    analyze,
    batch_bottlenecks,
    memory_heaviest,
    most_failing,
    regressions,
    slowest_scripts,
)
from AppCode.core.domain.models import Batch, BatchStatus, Execution, ExecutionStatus, RunOptions
from AppCode.core.domain.models import MetricSample as Sample

S = ExecutionStatus
BASE = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
MIB = 1024 * 1024
GIB = 1024 * MIB
_ids = itertools.count(1)


def ex(
    path: str = "/jobs/a.py",
    status: ExecutionStatus = S.SUCCEEDED,
    duration: float | None = 1.0,
    *,
    minute: float | None = 0,
    memory: int | None = None,
    batch_id: str = "b0",
    created_minute: float | None = None,
    error_type: str | None = None,
    error_message: str | None = None,
) -> Execution:
    n = next(_ids)
    started = None if minute is None else BASE + timedelta(minutes=minute)
    return Execution(
        id=f"e{n:04d}",
        batch_id=batch_id,
        sequence=n,
        script_path=path,
        status=status,
        started_at=started,
        finished_at=started,  # not read by the analyzer; duration_s is
        duration_s=duration,
        memory_peak_bytes=memory,
        created_at=None if created_minute is None else BASE + timedelta(minutes=created_minute),
        error_type=error_type,
        error_message=error_message,
    )


def history(path: str, durations: list[float], latest: float) -> list[Execution]:
    runs = [ex(path, duration=d, minute=i) for i, d in enumerate(durations)]
    return [*runs, ex(path, duration=latest, minute=len(durations))]


def make_batch(jobs: int = 4, *, start: int | None = 0, end: int | None = 10) -> Batch:
    return Batch(
        id="b1",
        options=RunOptions(jobs=jobs),
        status=BatchStatus.SUCCEEDED,
        started_at=None if start is None else BASE + timedelta(minutes=start),
        finished_at=None if end is None else BASE + timedelta(minutes=end),
    )


def sample(minute: float, **fields: object) -> Sample:
    return Sample(at=BASE + timedelta(minutes=minute), **fields)  # type: ignore[arg-type]


def kinds(findings: list[Finding]) -> list[str]:
    return [f.kind for f in findings]


# ------------------------------------------------------------------------------ no data


def test_no_data_gives_no_findings() -> None:
    assert slowest_scripts([]) == []
    assert memory_heaviest([]) == []
    assert most_failing([]) == []
    assert regressions([]) == []
    assert batch_bottlenecks(make_batch(), [], [], cpu_count=4) == []
    assert analyze([], cpu_count=4) == []
    assert analyze([], batch=make_batch(jobs=64), cpu_count=4, memory_limit_bytes=GIB) == []


def test_figures_are_json_serialisable() -> None:
    runs = [
        *history("/jobs/r.py", [2.0, 2.0, 2.0], 6.0),
        ex("/jobs/f.py", S.FAILED, 1.0, memory=MIB, error_type="ValueError", error_message="x"),
    ]
    batch = make_batch(jobs=8)
    samples = [
        sample(m, cpu_percent=30.0, memory_percent=95.0, swap_used_bytes=m * 100 * MIB)
        for m in range(5)
    ]
    samples = [*samples, sample(5, cpu_percent=30.0, details={"iowait_percent": 40})]
    found = analyze(
        runs,
        batch=batch,
        batch_executions=[ex("/jobs/m.py", memory=GIB, batch_id="b1")],
        samples=samples,
        cpu_count=4,
        memory_limit_bytes=GIB,
    )
    assert set(kinds(found)) >= {"regression", "failing", "slowest", "memory", "io_bound"}
    for finding in found:
        json.dumps(finding.figures)
        assert finding.message.endswith(".")


# ------------------------------------------------------------------------------ slowest


def test_slowest_median_and_nearest_rank_p95() -> None:
    runs = [ex("/jobs/a.py", duration=float(d)) for d in range(1, 21)]
    [finding] = slowest_scripts(runs)
    assert finding.kind == "slowest"
    assert finding.script == "/jobs/a.py"
    # median of 1..20 is 10.5; nearest rank ceil(0.95 * 20) = 19th value
    assert finding.figures == {"median_s": 10.5, "p95_s": 19.0, "runs": 20}
    assert (
        finding.message == "a.py takes 10.5 s per run (median of 20 runs; 95th percentile 19.0 s)."
    )


def test_slowest_p95_rounds_rank_up() -> None:
    runs = [ex(duration=float(d)) for d in range(1, 11)]  # ceil(9.5) = 10th value
    assert slowest_scripts(runs)[0].figures["p95_s"] == 10.0


def test_slowest_single_run() -> None:
    [finding] = slowest_scripts([ex("/x/one.py", duration=0.25)])
    assert finding.figures == {"median_s": 0.25, "p95_s": 0.25, "runs": 1}
    assert "one.py takes 0.25 s" in finding.message
    assert "median of 1 run;" in finding.message


def test_slowest_orders_by_median_and_respects_top() -> None:
    runs = [
        *[ex("/j/fast.py", duration=d) for d in (1.0, 1.0, 50.0)],  # outlier: median stays 1
        *[ex("/j/slow.py", duration=d) for d in (10.0, 12.0)],
        *[ex("/j/mid.py", duration=d) for d in (5.0,)],
    ]
    assert [f.script for f in slowest_scripts(runs)] == ["/j/slow.py", "/j/mid.py", "/j/fast.py"]
    assert [f.script for f in slowest_scripts(runs, top=2)] == ["/j/slow.py", "/j/mid.py"]
    assert slowest_scripts(runs, top=0) == []
    assert slowest_scripts(runs, top=-3) == []


def test_slowest_ignores_unfinished_cancelled_and_missing_durations() -> None:
    runs = [
        ex("/j/a.py", S.SUCCEEDED, 2.0),
        ex("/j/a.py", S.FAILED, 4.0),  # a failed run still took its time
        ex("/j/a.py", S.CANCELLED, 1000.0),
        ex("/j/a.py", S.RUNNING, 1000.0),
        ex("/j/a.py", S.PENDING, None),
        ex("/j/a.py", S.SUCCEEDED, None),
        ex("/j/a.py", S.SUCCEEDED, float("nan")),
        ex("/j/only_cancelled.py", S.CANCELLED, 99.0),
        ex("/j/no_duration.py", S.SUCCEEDED, None),
    ]
    [finding] = slowest_scripts(runs)
    assert finding.script == "/j/a.py"
    assert finding.figures == {"median_s": 3.0, "p95_s": 4.0, "runs": 2}


def test_slowest_ties_broken_by_path_whatever_the_input_order() -> None:
    runs = [ex("/j/b.py", duration=3.0), ex("/j/a.py", duration=3.0), ex("/j/c.py", duration=3.0)]
    expected = ["/j/a.py", "/j/b.py", "/j/c.py"]
    assert [f.script for f in slowest_scripts(runs)] == expected
    assert [f.script for f in slowest_scripts(runs[::-1])] == expected


def test_slowest_formats_long_durations() -> None:
    [minutes] = slowest_scripts([ex("/j/m.py", duration=125.0)])
    assert "m.py takes 2 min 5 s per run" in minutes.message
    [hours] = slowest_scripts([ex("/j/h.py", duration=7500.0)])
    assert "h.py takes 2 h 5 min per run" in hours.message


# ------------------------------------------------------------------------------ memory


def test_memory_max_and_median_top_by_max() -> None:
    runs = [
        *[ex("/j/big.py", memory=m * MIB) for m in (100, 300, 200)],
        *[ex("/j/small.py", memory=m * MIB) for m in (50, 60)],
        ex("/j/small.py", memory=None),
        ex("/j/unknown.py", memory=None),
        ex("/j/big.py", S.RUNNING, memory=999 * GIB),  # not finished
    ]
    found = memory_heaviest(runs)
    assert [f.script for f in found] == ["/j/big.py", "/j/small.py"]
    assert found[0].figures == {"peak_bytes": 300 * MIB, "median_bytes": 200 * MIB, "runs": 3}
    assert found[1].figures == {"peak_bytes": 60 * MIB, "median_bytes": 55 * MIB, "runs": 2}
    assert (
        found[0].message == "big.py used up to 300.0 MiB of memory (median 200.0 MiB over 3 runs)."
    )
    assert [f.script for f in memory_heaviest(runs, top=1)] == ["/j/big.py"]


def test_memory_ties_and_units() -> None:
    runs = [ex("/j/b.py", memory=2 * GIB), ex("/j/a.py", memory=2 * GIB), ex("/j/c.py", memory=512)]
    found = memory_heaviest(runs)
    assert [f.script for f in found] == ["/j/a.py", "/j/b.py", "/j/c.py"]
    assert "2.0 GiB" in found[0].message
    assert "512 B" in found[2].message


# ------------------------------------------------------------------------------ failing


def test_failing_counts_rate_and_last_error() -> None:
    runs = [
        ex("/j/f.py", S.SUCCEEDED, minute=0),
        ex("/j/f.py", S.FAILED, minute=1, error_type="KeyError", error_message="'a'"),
        ex("/j/f.py", S.TIMED_OUT, minute=3),
        ex(
            "/j/f.py",
            S.FAILED,
            minute=2,
            error_type="ValueError",
            error_message="bad input\nTraceback ...",
        ),
        ex("/j/f.py", S.CANCELLED, minute=4),
        ex("/j/f.py", S.RUNNING, minute=5),
    ]
    [finding] = most_failing(runs)
    assert finding.kind == "failing"
    assert finding.figures["failures"] == 3
    assert finding.figures["runs"] == 4
    assert finding.figures["failure_rate"] == 0.75
    assert finding.figures["last_status"] == "timed_out"
    assert finding.figures["last_error_type"] is None
    assert finding.message == "f.py failed 3 of 4 runs (75%); last failure: timed out."


def test_failing_message_names_last_error_first_line() -> None:
    runs = [
        ex("/j/f.py", S.TIMED_OUT, minute=0),
        ex("/j/f.py", S.FAILED, minute=2, error_type="ValueError", error_message="bad\nmore"),
    ]
    [finding] = most_failing(runs)
    assert finding.figures["last_error_type"] == "ValueError"
    assert finding.figures["last_error_message"] == "bad\nmore"
    assert finding.message == "f.py failed 2 of 2 runs (100%); last failure: ValueError: bad."


def test_failing_counts_every_failure_status() -> None:
    runs = [ex("/j/x.py", status) for status in (S.FAILED, S.TIMED_OUT, S.BLOCKED, S.INTERRUPTED)]
    [finding] = most_failing(runs)
    assert finding.figures["failures"] == 4
    assert finding.figures["failure_rate"] == 1.0


def test_failing_all_succeeded_or_cancelled_gives_nothing() -> None:
    runs = [ex("/j/a.py"), ex("/j/a.py"), ex("/j/b.py", S.CANCELLED), ex("/j/c.py", S.PENDING)]
    assert most_failing(runs) == []


def test_failing_orders_by_failures_then_rate_then_path() -> None:
    runs = [
        # two failures out of 10
        *[ex("/j/many.py", S.FAILED) for _ in range(2)],
        *[ex("/j/many.py") for _ in range(8)],
        # two failures out of 2
        *[ex("/j/always.py", S.FAILED) for _ in range(2)],
        # one failure out of 1, twice (tie on both: path decides)
        ex("/j/z.py", S.FAILED),
        ex("/j/y.py", S.BLOCKED),
    ]
    order = [f.script for f in most_failing(runs)]
    assert order == ["/j/always.py", "/j/many.py", "/j/y.py", "/j/z.py"]
    assert [f.script for f in most_failing(runs, top=1)] == ["/j/always.py"]


# ------------------------------------------------------------------------------ regression


def test_regression_3x_slowdown_is_reported() -> None:
    runs = history("/jobs/report.py", [2.0, 2.1, 1.9, 2.0, 2.0], 6.1)
    [finding] = regressions(runs)
    assert finding.kind == "regression"
    assert finding.script == "/jobs/report.py"
    assert finding.figures["latest_s"] == 6.1
    assert finding.figures["median_s"] == 2.0
    assert finding.figures["ratio"] == pytest.approx(3.05)
    assert finding.figures["history_runs"] == 5
    assert finding.message.startswith(
        "report.py took 6.1 s in its latest run, 3.0x its usual 2.0 s"
    )


@pytest.mark.parametrize("latest", [1.8, 2.0, 2.2])
def test_regression_ten_percent_noise_is_not_reported(latest: float) -> None:
    runs = history("/jobs/report.py", [2.0, 2.2, 1.8, 2.1, 1.9], latest)
    assert regressions(runs) == []


def test_regression_needs_min_history() -> None:
    runs = history("/j/a.py", [1.0, 1.0], 10.0)
    assert regressions(runs) == []
    assert len(regressions(runs, min_history=2)) == 1
    assert regressions([ex("/j/a.py", duration=10.0)], min_history=0) == []  # nothing to compare


def test_regression_needs_min_delta() -> None:
    runs = history("/j/tiny.py", [0.01, 0.01, 0.01], 0.05)  # 5x but only 40 ms slower
    assert regressions(runs) == []
    assert len(regressions(runs, min_delta_s=0.01)) == 1


def test_regression_uses_time_order_not_input_order() -> None:
    runs = history("/j/a.py", [1.0, 1.0, 1.0], 5.0)
    assert len(regressions(runs[::-1])) == 1
    # the slow run is the oldest: no regression
    slow_first = [ex("/j/b.py", duration=5.0, minute=0)] + [
        ex("/j/b.py", duration=1.0, minute=m) for m in (1, 2, 3)
    ]
    assert regressions(slow_first[::-1]) == []


def test_regression_compares_successful_runs_only() -> None:
    runs = [
        *history("/j/a.py", [1.0, 1.0, 1.0], 1.0),
        ex("/j/a.py", S.FAILED, 30.0, minute=10),  # latest, but failed
        ex("/j/a.py", S.TIMED_OUT, 60.0, minute=11),
        ex("/j/a.py", S.SUCCEEDED, None, minute=12),  # no figure
    ]
    assert regressions(runs) == []


def test_regression_falls_back_to_created_at_and_skips_untimed_runs() -> None:
    runs = [ex("/j/a.py", duration=1.0, minute=None, created_minute=m) for m in (0, 1, 2)] + [
        ex("/j/a.py", duration=4.0, minute=None, created_minute=3)
    ]
    [finding] = regressions(runs)
    assert finding.figures["latest_s"] == 4.0
    untimed = [ex("/j/b.py", duration=d, minute=None) for d in (1.0, 1.0, 1.0, 9.0)]
    assert regressions(untimed) == []


def test_regression_with_zero_median_does_not_divide() -> None:
    assert regressions(history("/j/a.py", [0.0, 0.0, 0.0], 5.0)) == []


def test_regressions_sorted_by_ratio() -> None:
    runs = [
        *history("/j/b.py", [1.0, 1.0, 1.0], 3.0),
        *history("/j/a.py", [1.0, 1.0, 1.0], 3.0),
        *history("/j/c.py", [1.0, 1.0, 1.0], 8.0),
    ]
    assert [f.script for f in regressions(runs)] == ["/j/c.py", "/j/a.py", "/j/b.py"]


# ------------------------------------------------------------------------------ batch level


def test_cpu_saturated_when_jobs_exceed_cpus() -> None:
    samples = [sample(m, cpu_percent=95.0) for m in range(1, 6)]
    [finding] = batch_bottlenecks(make_batch(jobs=16), [], samples, cpu_count=8)
    assert finding.kind == "cpu_saturated"
    assert finding.script is None
    assert finding.figures == {"mean_cpu_percent": 95.0, "jobs": 16, "cpu_count": 8}
    assert finding.message == (
        "The CPU averaged 95% during the batch, which ran 16 jobs on 8 CPUs; use 8 jobs or fewer."
    )
    assert batch_bottlenecks(make_batch(jobs=8), [], samples, cpu_count=8) == []
    assert batch_bottlenecks(make_batch(jobs=16), [], samples, cpu_count=0) == []


def test_cpu_samples_outside_the_window_and_per_execution_are_ignored() -> None:
    inside = [sample(m, cpu_percent=96.0) for m in range(1, 6)]
    noise = [
        sample(-5, cpu_percent=0.0),
        sample(30, cpu_percent=0.0),
        sample(3, cpu_percent=0.0, execution_id="e1"),
    ]
    found = batch_bottlenecks(make_batch(jobs=16), [], noise + inside, cpu_count=8)
    assert kinds(found) == ["cpu_saturated"]
    assert found[0].figures["mean_cpu_percent"] == 96.0
    # and samples outside the window cannot make a finding on their own
    busy_outside = [sample(m, cpu_percent=100.0) for m in (-3, -2, 11, 12)]
    quiet_inside = [sample(m, cpu_percent=20.0) for m in (0, 5, 10)]  # bounds are inclusive
    assert (
        batch_bottlenecks(make_batch(jobs=16), [], busy_outside + quiet_inside, cpu_count=8) == []
    )


def test_open_ended_batch_uses_the_bounds_it_has() -> None:
    samples = [sample(-1, cpu_percent=0.0), *[sample(m, cpu_percent=99.0) for m in (20, 40)]]
    running = make_batch(jobs=16, end=None)
    assert kinds(batch_bottlenecks(running, [], samples, cpu_count=8)) == ["cpu_saturated"]
    unbounded = make_batch(jobs=16, start=None, end=None)  # every sample counts: mean 66%
    assert batch_bottlenecks(unbounded, [], samples, cpu_count=8) == []


def test_missing_sample_figures_are_skipped() -> None:
    samples = [sample(1, cpu_percent=None), sample(2, cpu_percent=92.0), sample(3)]
    [finding] = batch_bottlenecks(make_batch(jobs=16), [], samples, cpu_count=8)
    assert finding.figures["mean_cpu_percent"] == 92.0
    empty = [sample(m) for m in range(5)]
    assert batch_bottlenecks(make_batch(jobs=16), [], empty, cpu_count=8) == []


def test_finest_resolution_is_used_when_aggregates_overlap() -> None:
    raw = [sample(m, cpu_percent=95.0) for m in (1, 2, 3)]
    bucket = [sample(1, resolution_s=60, cpu_percent=10.0)]
    [finding] = batch_bottlenecks(make_batch(jobs=16), [], raw + bucket, cpu_count=8)
    assert finding.figures["mean_cpu_percent"] == 95.0
    # aggregates alone still count
    [only_buckets] = batch_bottlenecks(
        make_batch(jobs=16), [], [sample(1, resolution_s=60, cpu_percent=91.0)], cpu_count=8
    )
    assert only_buckets.figures["mean_cpu_percent"] == 91.0


def test_memory_pressure_from_swap_growth() -> None:
    samples = [
        sample(3, swap_used_bytes=400 * MIB),
        sample(1, swap_used_bytes=100 * MIB),  # out of order on purpose: first is by time
        sample(-1, swap_used_bytes=0),  # before the batch: ignored
        sample(2, swap_used_bytes=None),
    ]
    [finding] = batch_bottlenecks(make_batch(), [], samples, cpu_count=8)
    assert finding.kind == "memory_pressure"
    assert finding.script is None
    assert finding.figures == {"swap_growth_bytes": 300 * MIB, "mean_memory_percent": None}
    assert finding.message == "Memory ran short during the batch: swap use grew by 300.0 MiB."
    small = [sample(1, swap_used_bytes=0), sample(2, swap_used_bytes=255 * MIB)]
    assert batch_bottlenecks(make_batch(), [], small, cpu_count=8) == []


def test_memory_pressure_from_memory_percent() -> None:
    samples = [sample(m, memory_percent=p) for m, p in ((1, 88.0), (2, 94.0), (3, None))]
    [finding] = batch_bottlenecks(make_batch(), [], samples, cpu_count=8)
    assert finding.kind == "memory_pressure"
    assert finding.figures["mean_memory_percent"] == 91.0
    assert "memory use averaged 91%" in finding.message
    calm = [sample(m, memory_percent=60.0, swap_used_bytes=GIB) for m in (1, 2)]
    assert batch_bottlenecks(make_batch(), [], calm, cpu_count=8) == []


def test_memory_limit_names_the_script_even_without_samples() -> None:
    limit = 2 * GIB
    execs = [
        ex("/j/hog.py", memory=int(1.9 * GIB), batch_id="b1"),
        ex("/j/hog.py", memory=GIB, batch_id="b1"),
        ex("/j/ok.py", memory=int(1.7 * GIB), batch_id="b1"),  # 85%: fine
        ex("/j/none.py", memory=None, batch_id="b1"),
        ex("/j/other_batch.py", memory=limit, batch_id="b9"),  # not this batch's
    ]
    # jobs > cpus, but without samples only the memory-limit rule can fire
    found = batch_bottlenecks(make_batch(jobs=64), execs, [], cpu_count=2, memory_limit_bytes=limit)
    [finding] = found
    assert finding.kind == "memory_pressure"
    assert finding.script == "/j/hog.py"
    assert finding.figures["peak_bytes"] == int(1.9 * GIB)
    assert finding.figures["memory_limit_bytes"] == limit
    assert finding.figures["limit_fraction"] == pytest.approx(0.95)
    assert finding.message == "hog.py peaked at 1.9 GiB, 95% of the 2.0 GiB memory limit."
    assert batch_bottlenecks(make_batch(), execs, [], cpu_count=2) == []
    assert batch_bottlenecks(make_batch(), execs, [], cpu_count=2, memory_limit_bytes=0) == []


def test_io_bound() -> None:
    samples = [
        sample(1, cpu_percent=20.0, details={"iowait_percent": 30.0}),
        sample(2, cpu_percent=30.0, details={"iowait_percent": 40}),
        sample(3, cpu_percent=25.0, details={}),
        sample(4, cpu_percent=25.0),
        sample(20, cpu_percent=99.0, details={"iowait_percent": 0.0}),  # after the batch
    ]
    [finding] = batch_bottlenecks(make_batch(), [], samples, cpu_count=8)
    assert finding.kind == "io_bound"
    assert finding.figures == {"mean_iowait_percent": 35.0, "mean_cpu_percent": 25.0}
    assert finding.message == (
        "The batch was waiting on disk I/O: iowait averaged 35% while the CPU averaged only 25%."
    )


def test_io_bound_needs_iowait_and_idle_cpu() -> None:
    no_iowait = [sample(m, cpu_percent=10.0) for m in range(1, 4)]
    assert batch_bottlenecks(make_batch(), [], no_iowait, cpu_count=8) == []
    busy = [sample(m, cpu_percent=60.0, details={"iowait_percent": 50.0}) for m in range(1, 4)]
    assert batch_bottlenecks(make_batch(), [], busy, cpu_count=8) == []
    low = [sample(m, cpu_percent=10.0, details={"iowait_percent": 19.0}) for m in range(1, 4)]
    assert batch_bottlenecks(make_batch(), [], low, cpu_count=8) == []
    no_cpu = [sample(m, details={"iowait_percent": 80.0}) for m in range(1, 4)]
    assert batch_bottlenecks(make_batch(), [], no_cpu, cpu_count=8) == []
    junk = [sample(1, cpu_percent=10.0, details={"iowait_percent": "high"})]
    assert batch_bottlenecks(make_batch(), [], junk, cpu_count=8) == []


def test_batch_findings_in_fixed_order() -> None:
    samples = [
        sample(m, cpu_percent=95.0, swap_used_bytes=m * 200 * MIB, details={"iowait_percent": 1})
        for m in range(1, 5)
    ]
    execs = [ex("/j/b.py", memory=GIB, batch_id="b1"), ex("/j/a.py", memory=GIB, batch_id="b1")]
    found = batch_bottlenecks(
        make_batch(jobs=16), execs, samples, cpu_count=4, memory_limit_bytes=GIB
    )
    assert [(f.kind, f.script) for f in found] == [
        ("cpu_saturated", None),
        ("memory_pressure", None),
        ("memory_pressure", "/j/a.py"),
        ("memory_pressure", "/j/b.py"),
    ]


# ------------------------------------------------------------------------------ analyze


def test_analyze_order_and_top() -> None:
    runs = [
        *history("/j/reg.py", [1.0, 1.0, 1.0], 4.0),
        ex("/j/fail.py", S.FAILED, 0.5, memory=10 * MIB),
        ex("/j/fail2.py", S.FAILED, 0.5),
        ex("/j/mem.py", duration=0.1, memory=GIB),
    ]
    samples = [sample(m, cpu_percent=10.0, details={"iowait_percent": 50.0}) for m in (1, 2)]
    found = analyze(
        runs,
        batch=make_batch(jobs=2),
        batch_executions=[],
        samples=samples,
        cpu_count=4,
        top=1,
    )
    assert kinds(found) == ["regression", "failing", "slowest", "memory", "io_bound"]
    assert [f.script for f in found[:4]] == ["/j/reg.py", "/j/fail.py", "/j/reg.py", "/j/mem.py"]
    assert analyze(runs, cpu_count=4, top=1) == found[:4]


def test_analyze_is_deterministic_under_input_order() -> None:
    runs = [
        *history("/j/a.py", [1.0, 1.0, 1.0], 3.0),
        *history("/j/b.py", [1.0, 1.0, 1.0], 3.0),
        ex("/j/c.py", S.FAILED, 1.0, memory=MIB),
        ex("/j/d.py", S.FAILED, 1.0, memory=MIB),
    ]
    assert analyze(runs, cpu_count=4) == analyze(runs[::-1], cpu_count=4)
