"""Performance findings over recorded executions and system samples.

Pure functions over data the caller has loaded from the database: no I/O, no clock reads, standard
library only. Each function returns :class:`Finding` objects, each with a one-sentence message for
the user and the figures that led to it (JSON-serialisable, for the CLI's ``--json`` and the API).

Conventions shared by every rule:

- Executions are grouped by ``script_path``; messages name the script's file name, ``script``
  holds the full path.
- A figure that is missing (None) or not a finite number is skipped, never treated as zero.
- Speed and failure counts use finished executions only: pending, running and cancelled ones are
  ignored. Memory uses any finished execution that recorded a peak (a cancelled run still reached
  the peak it reports).
- "When" an execution ran is its ``started_at``, else its ``created_at``; ties are broken by
  ``sequence`` and ``id`` so that results never depend on input order.
- Lists are sorted deterministically; ties end with the script path.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import Literal

from AppCode.core.domain.models import Batch, Execution, ExecutionStatus, MetricSample

__all__ = [
    "FAILURE_STATUSES",
    "Finding",
    "FindingKind",
    "analyze",
    "batch_bottlenecks",
    "execution_memory_limit",
    "memory_heaviest",
    "most_failing",
    "regressions",
    "slowest_scripts",
]

FindingKind = Literal[
    "slowest", "memory", "failing", "regression", "cpu_saturated", "memory_pressure", "io_bound"
]

Figure = float | int | str | None

FAILURE_STATUSES: frozenset[ExecutionStatus] = frozenset(
    {
        ExecutionStatus.FAILED,
        ExecutionStatus.TIMED_OUT,
        ExecutionStatus.BLOCKED,
        ExecutionStatus.INTERRUPTED,
    }
)
"""Final statuses that count as a failure of the script."""

_IGNORED_FOR_SPEED_AND_FAILURES: frozenset[ExecutionStatus] = frozenset(
    {ExecutionStatus.PENDING, ExecutionStatus.RUNNING, ExecutionStatus.CANCELLED}
)

# Batch-level thresholds.
CPU_SATURATED_PERCENT = 90.0
MEMORY_PRESSURE_PERCENT = 90.0
SWAP_GROWTH_BYTES = 256 * 1024 * 1024
MEMORY_LIMIT_FRACTION = 0.9
IO_BOUND_IOWAIT_PERCENT = 20.0
IO_BOUND_MAX_CPU_PERCENT = 50.0

_ERROR_MESSAGE_CHARS = 120


@dataclass(frozen=True)
class Finding:
    """One thing worth telling the user about performance."""

    kind: FindingKind
    script: str | None
    """The script's path, or None for a batch-level finding."""
    message: str
    """One plain-English sentence, with the numbers in it."""
    figures: dict[str, Figure]
    """The numbers that led to the finding (JSON-serialisable)."""


# --------------------------------------------------------------------------------------------
# Script-level rules
# --------------------------------------------------------------------------------------------


def slowest_scripts(executions: Sequence[Execution], *, top: int = 5) -> list[Finding]:
    """The ``top`` scripts with the highest median duration of their finished runs."""
    rows: list[tuple[str, float, float, int]] = []
    for path, runs in _group(executions).items():
        durations = sorted(
            d
            for e in runs
            if e.status not in _IGNORED_FOR_SPEED_AND_FAILURES
            and (d := _finite(e.duration_s)) is not None
        )
        if durations:
            rows.append((path, statistics.median(durations), _p95(durations), len(durations)))
    rows.sort(key=lambda r: (-r[1], -r[2], r[0]))
    findings = []
    for path, median_s, p95_s, runs_count in rows[: max(top, 0)]:
        message = (
            f"{_name(path)} takes {_seconds(median_s)} per run "
            f"(median of {_plural(runs_count, 'run')}; 95th percentile {_seconds(p95_s)})."
        )
        figures: dict[str, Figure] = {"median_s": median_s, "p95_s": p95_s, "runs": runs_count}
        findings.append(Finding("slowest", path, message, figures))
    return findings


def memory_heaviest(executions: Sequence[Execution], *, top: int = 5) -> list[Finding]:
    """The ``top`` scripts with the highest peak memory over their finished runs."""
    rows: list[tuple[str, int, int, int]] = []
    for path, runs in _group(executions).items():
        peaks = [
            e.memory_peak_bytes
            for e in runs
            if e.status.is_final and e.memory_peak_bytes is not None
        ]
        if peaks:
            median_bytes = round(statistics.median([float(p) for p in peaks]))
            rows.append((path, max(peaks), median_bytes, len(peaks)))
    rows.sort(key=lambda r: (-r[1], -r[2], r[0]))
    findings = []
    for path, peak, median_bytes, runs_count in rows[: max(top, 0)]:
        message = (
            f"{_name(path)} used up to {_bytes(peak)} of memory "
            f"(median {_bytes(median_bytes)} over {_plural(runs_count, 'run')})."
        )
        figures: dict[str, Figure] = {
            "peak_bytes": peak,
            "median_bytes": median_bytes,
            "runs": runs_count,
        }
        findings.append(Finding("memory", path, message, figures))
    return findings


def most_failing(executions: Sequence[Execution], *, top: int = 5) -> list[Finding]:
    """The ``top`` scripts with the most failed runs (then the highest failure rate)."""
    rows: list[tuple[str, int, int, float, Execution]] = []
    for path, runs in _group(executions).items():
        finished = [e for e in runs if e.status not in _IGNORED_FOR_SPEED_AND_FAILURES]
        failures = sorted((e for e in finished if e.status in FAILURE_STATUSES), key=_when_key)
        if failures:
            rate = len(failures) / len(finished)
            rows.append((path, len(failures), len(finished), rate, failures[-1]))
    rows.sort(key=lambda r: (-r[1], -r[3], r[0]))
    findings = []
    for path, failures_count, runs_count, rate, last in rows[: max(top, 0)]:
        message = (
            f"{_name(path)} failed {failures_count} of {_plural(runs_count, 'run')} "
            f"({_percent(rate * 100)}); last failure: {_describe_failure(last)}."
        )
        figures: dict[str, Figure] = {
            "failures": failures_count,
            "runs": runs_count,
            "failure_rate": rate,
            "last_status": str(last.status),
            "last_error_type": last.error_type,
            "last_error_message": last.error_message,
        }
        findings.append(Finding("failing", path, message, figures))
    return findings


def regressions(
    executions: Sequence[Execution],
    *,
    threshold: float = 2.0,
    min_history: int = 3,
    min_delta_s: float = 0.2,
) -> list[Finding]:
    """Scripts whose latest successful run was much slower than their usual.

    The latest successful run (by ``started_at``, else ``created_at``; runs with neither cannot
    be placed in time and are left out) is compared with the median of the successful runs
    before it, of which there must be at least ``min_history``. A script is reported when
    ``latest / median >= threshold`` and ``latest - median >= min_delta_s``; a median of zero
    gives no ratio and is not reported. Sorted by ratio, largest first.
    """
    rows: list[tuple[str, float, float, float, int]] = []
    for path, runs in _group(executions).items():
        timed = sorted(
            (
                e
                for e in runs
                if e.status is ExecutionStatus.SUCCEEDED
                and _finite(e.duration_s) is not None
                and _when(e) is not None
            ),
            key=_when_key,
        )
        history = timed[:-1]
        if not timed or len(history) < max(min_history, 1):
            continue
        latest_s = _require(_finite(timed[-1].duration_s))
        median_s = statistics.median(_require(_finite(e.duration_s)) for e in history)
        if median_s <= 0:
            continue
        ratio = latest_s / median_s
        if ratio >= threshold and latest_s - median_s >= min_delta_s:
            rows.append((path, latest_s, median_s, ratio, len(history)))
    rows.sort(key=lambda r: (-r[3], r[0]))
    findings = []
    for path, latest_s, median_s, ratio, history_runs in rows:
        message = (
            f"{_name(path)} took {_seconds(latest_s)} in its latest run, "
            f"{ratio:.1f}x its usual {_seconds(median_s)} "
            f"(median of the {_plural(history_runs, 'successful run')} before it)."
        )
        figures: dict[str, Figure] = {
            "latest_s": latest_s,
            "median_s": median_s,
            "ratio": ratio,
            "history_runs": history_runs,
        }
        findings.append(Finding("regression", path, message, figures))
    return findings


# --------------------------------------------------------------------------------------------
# Batch-level rules
# --------------------------------------------------------------------------------------------


def batch_bottlenecks(
    batch: Batch,
    executions: Sequence[Execution],
    samples: Sequence[MetricSample],
    *,
    cpu_count: int,
    memory_limit_bytes: int | None = None,
) -> list[Finding]:
    """What held a batch back, from its executions and the system samples taken during it.

    Only system samples count (``execution_id`` None) whose ``at`` lies within
    ``[batch.started_at, batch.finished_at]`` (each bound applied when set). When samples of
    several resolutions fall in that window (raw 1 s samples and 60 s aggregates of the same
    period), only the finest resolution is used so that no period is counted twice. Only
    executions whose ``batch_id`` is the batch's count, each judged against the memory limit it
    ran under (``execution_memory_limit``; ``memory_limit_bytes`` is the ``[sandbox]``
    setting's, for executions the batch records none for). Order: cpu_saturated,
    memory_pressure (system, then scripts by peak), io_bound.
    """
    window = _batch_samples(batch, samples)
    findings: list[Finding] = []

    mean_cpu = _mean(s.cpu_percent for s in window)
    jobs = batch.options.jobs
    if mean_cpu is not None and mean_cpu >= CPU_SATURATED_PERCENT and 0 < cpu_count < jobs:
        findings.append(
            Finding(
                "cpu_saturated",
                None,
                f"The CPU averaged {_percent(mean_cpu)} during the batch, which ran "
                f"{_plural(jobs, 'job')} on {_plural(cpu_count, 'CPU')}; "
                f"use {cpu_count} jobs or fewer.",
                {"mean_cpu_percent": mean_cpu, "jobs": jobs, "cpu_count": cpu_count},
            )
        )

    findings.extend(_system_memory_pressure(window))
    own = [e for e in executions if e.batch_id == batch.id]
    findings.extend(_memory_limit_pressure(batch, own, memory_limit_bytes))

    mean_iowait = _mean(_iowait(s) for s in window)
    if (
        mean_iowait is not None
        and mean_cpu is not None
        and mean_iowait >= IO_BOUND_IOWAIT_PERCENT
        and mean_cpu < IO_BOUND_MAX_CPU_PERCENT
    ):
        findings.append(
            Finding(
                "io_bound",
                None,
                f"The batch was waiting on disk I/O: iowait averaged {_percent(mean_iowait)} "
                f"while the CPU averaged only {_percent(mean_cpu)}.",
                {"mean_iowait_percent": mean_iowait, "mean_cpu_percent": mean_cpu},
            )
        )
    return findings


def analyze(
    executions: Sequence[Execution],
    *,
    batch: Batch | None = None,
    batch_executions: Sequence[Execution] = (),
    samples: Sequence[MetricSample] = (),
    cpu_count: int,
    memory_limit_bytes: int | None = None,
    top: int = 5,
) -> list[Finding]:
    """Every finding, in a fixed order: regression, failing, slowest, memory, then batch-level."""
    findings = [
        *regressions(executions),
        *most_failing(executions, top=top),
        *slowest_scripts(executions, top=top),
        *memory_heaviest(executions, top=top),
    ]
    if batch is not None:
        findings.extend(
            batch_bottlenecks(
                batch,
                batch_executions,
                samples,
                cpu_count=cpu_count,
                memory_limit_bytes=memory_limit_bytes,
            )
        )
    return findings


def _system_memory_pressure(window: Sequence[MetricSample]) -> list[Finding]:
    swapped = [s for s in window if s.swap_used_bytes is not None]
    swap_growth = (
        _require(swapped[-1].swap_used_bytes) - _require(swapped[0].swap_used_bytes)
        if swapped
        else None
    )
    mean_memory = _mean(s.memory_percent for s in window)
    swap_hit = swap_growth is not None and swap_growth >= SWAP_GROWTH_BYTES
    memory_hit = mean_memory is not None and mean_memory >= MEMORY_PRESSURE_PERCENT
    if not (swap_hit or memory_hit):
        return []
    reasons = []
    if swap_hit and swap_growth is not None:
        reasons.append(f"swap use grew by {_bytes(swap_growth)}")
    if mean_memory is not None:
        reasons.append(f"memory use averaged {_percent(mean_memory)}")
    message = "Memory ran short during the batch: " + " and ".join(reasons) + "."
    figures: dict[str, Figure] = {
        "swap_growth_bytes": swap_growth,
        "mean_memory_percent": mean_memory,
    }
    return [Finding("memory_pressure", None, message, figures)]


def _memory_limit_pressure(
    batch: Batch, executions: Sequence[Execution], default_limit_bytes: int | None
) -> list[Finding]:
    """Scripts whose peak came within ``MEMORY_LIMIT_FRACTION`` of the memory limit they ran
    under (see ``execution_memory_limit``); per script, the run closest to its limit."""
    closest: dict[str, tuple[float, int, int]] = {}  # path -> (fraction, peak, limit)
    for e in executions:
        limit = execution_memory_limit(batch, e, default_limit_bytes)
        if e.memory_peak_bytes is None or limit is None:
            continue
        fraction = e.memory_peak_bytes / limit
        best = closest.get(e.script_path)
        if fraction >= MEMORY_LIMIT_FRACTION and (best is None or fraction > best[0]):
            closest[e.script_path] = (fraction, e.memory_peak_bytes, limit)
    findings = []
    for path, (fraction, peak, limit) in sorted(closest.items(), key=lambda r: (-r[1][1], r[0])):
        message = (
            f"{_name(path)} peaked at {_bytes(peak)}, {_percent(fraction * 100)} of the "
            f"{_bytes(limit)} memory limit."
        )
        figures: dict[str, Figure] = {
            "peak_bytes": peak,
            "memory_limit_bytes": limit,
            "limit_fraction": fraction,
        }
        findings.append(Finding("memory_pressure", path, message, figures))
    return findings


def execution_memory_limit(
    batch: Batch, execution: Execution, default_limit_bytes: int | None
) -> int | None:
    """The memory limit (bytes) ``execution`` ran under, None for none.

    An execution that ran without a sandbox (its ``sandbox`` says policy "off") had none. One
    that ran under the batch's policy had the limit of the resolved policy stored with the
    batch (``RunOptions.sandbox``: ``--memory-limit``, a policy file's ``memory_limit_mb``);
    0 there means none. Otherwise (a script pinned to another policy, a batch stored before
    the resolved policy was kept) ``default_limit_bytes``: the ``[sandbox]`` setting's.
    """
    ran_under = (execution.sandbox or {}).get("policy")
    if ran_under == "off":
        return None
    record = batch.options.sandbox
    if record is not None and ran_under in (None, record.get("name")):
        if record.get("level") == "off":
            return None
        limit_mb = record.get("memory_limit_mb")
        if isinstance(limit_mb, bool) or not isinstance(limit_mb, int):
            return _positive(default_limit_bytes)
        return limit_mb * 1024 * 1024 if limit_mb > 0 else None
    return _positive(default_limit_bytes)


def _positive(value: int | None) -> int | None:
    return value if value is not None and value > 0 else None


def _batch_samples(batch: Batch, samples: Sequence[MetricSample]) -> list[MetricSample]:
    window = [
        s
        for s in samples
        if s.execution_id is None
        and (batch.started_at is None or s.at >= batch.started_at)
        and (batch.finished_at is None or s.at <= batch.finished_at)
    ]
    if not window:
        return []
    finest = min(s.resolution_s for s in window)
    return sorted((s for s in window if s.resolution_s == finest), key=lambda s: s.at)


def _iowait(sample: MetricSample) -> float | None:
    if not sample.details:
        return None
    value = sample.details.get("iowait_percent")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return _finite(float(value))


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _group(executions: Iterable[Execution]) -> dict[str, list[Execution]]:
    groups: dict[str, list[Execution]] = {}
    for e in executions:
        groups.setdefault(e.script_path, []).append(e)
    return groups


def _when(e: Execution) -> datetime | None:
    return e.started_at if e.started_at is not None else e.created_at


def _when_key(e: Execution) -> tuple[bool, datetime | None, int, str]:
    # Executions without a time sort first; tuples compare element by element, so None is
    # only ever compared with None, never with a datetime.
    when = _when(e)
    return (when is not None, when, e.sequence, e.id)


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def _require(value: float | None) -> float:
    assert value is not None  # filtered by the caller
    return value


def _mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in (_finite(x) for x in values) if v is not None]
    return sum(present) / len(present) if present else None


def _p95(sorted_values: Sequence[float]) -> float:
    """Nearest-rank 95th percentile: the ceil(0.95 n)-th smallest value."""
    rank = (95 * len(sorted_values) + 99) // 100
    return sorted_values[max(rank, 1) - 1]


def _name(path: str) -> str:
    return PurePath(path).name or path


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _seconds(value: float) -> str:
    if abs(value) < 1:
        return f"{value:.2f} s"
    if abs(value) < 60:
        return f"{value:.1f} s"
    total = round(value)
    if total < 3600:
        minutes, seconds = divmod(total, 60)
        return f"{minutes} min {seconds} s"
    hours, rest = divmod(total, 3600)
    return f"{hours} h {rest // 60} min"


def _bytes(value: float) -> str:
    size = float(value)
    if abs(size) < 1024:
        return f"{round(size)} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        size /= 1024
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.1f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def _percent(value: float) -> str:
    return f"{value:.0f}%"


def _describe_failure(e: Execution) -> str:
    status = str(e.status).replace("_", " ")
    if e.error_type is None and not e.error_message:
        return status
    text = e.error_type or status
    if e.error_message:
        first_line = e.error_message.strip().splitlines()[0] if e.error_message.strip() else ""
        if len(first_line) > _ERROR_MESSAGE_CHARS:
            first_line = first_line[: _ERROR_MESSAGE_CHARS - 1] + "…"
        if first_line:
            text = f"{text}: {first_line}"
    return text
