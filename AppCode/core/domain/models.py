"""Domain objects: plain dataclasses and enums, free of any framework."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "ApiToken",
    "Attempt",
    "AuditEntry",
    "BackupRecord",
    "Batch",
    "BatchStatus",
    "Execution",
    "ExecutionStatus",
    "MetricSample",
    "ProcessFigures",
    "RunOptions",
    "Script",
    "SystemReading",
    "User",
]


class ExecutionStatus(StrEnum):
    """Where an execution is in its life (ARCHITECTURE.md, "Statuses")."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    @property
    def is_final(self) -> bool:
        return self not in (ExecutionStatus.PENDING, ExecutionStatus.RUNNING)


@dataclass(frozen=True)
class Script:
    """A Python script registered in the library.

    Immutable, so that cached copies can be shared; change one with ``dataclasses.replace``.
    ``missing`` is set when a rescan no longer finds the file; the record (and the history that
    names it) is kept so that the file can come back.
    """

    path: str
    name: str
    description: str
    size: int
    mtime: float
    sha256: str
    tags: tuple[str, ...] = ()
    missing: bool = False
    sandbox_policy: str | None = None  # pinned: runs under this policy whatever the batch says
    id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class BatchStatus(StrEnum):
    """A batch is ``succeeded`` when every execution succeeded, ``cancelled`` if the user
    stopped it, else ``failed``; ``pending``/``running`` while it is under way."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self not in (BatchStatus.PENDING, BatchStatus.RUNNING)


@dataclass(frozen=True)
class RunOptions:
    """How a batch runs: everything a user can set per batch (CLI flags, GUI toolbar, API body)."""

    jobs: int
    timeout_s: float | None = None
    retries: int = 0
    retry_backoff_s: float = 1.0
    retry_on: tuple[ExecutionStatus, ...] = (ExecutionStatus.FAILED, ExecutionStatus.TIMED_OUT)
    kill_grace_s: float = 3.0
    fail_fast: bool = False
    python: str = ""
    start_method: str = "spawn"
    max_log_bytes: int = 100 * 1024 * 1024
    backend: str = "local"  # "local" or "dask"
    scheduler: str = ""  # the Dask scheduler's address; "" = a cluster on this machine
    sandbox_policy: str = "off"
    # The resolved policy the batch ran with (its name, limits, paths, modules), so that a
    # re-run gets the same sandbox; None for batches stored before it was kept.
    sandbox: dict[str, Any] | None = field(default=None, hash=False)


@dataclass
class Attempt:
    """One try at running an execution's script; retries make more than one."""

    execution_id: str
    number: int
    status: ExecutionStatus
    exit_code: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_s: float | None = None
    cpu_s: float | None = None
    memory_peak_bytes: int | None = None
    error_type: str | None = None
    error_message: str | None = None
    output_bytes: int = 0
    worker: str | None = None


@dataclass
class Execution:
    """One script with its arguments inside a batch, and what became of it."""

    id: str
    batch_id: str
    sequence: int
    script_path: str
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    script_id: int | None = None
    status: ExecutionStatus = ExecutionStatus.PENDING
    exit_code: int | None = None
    attempts: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_s: float | None = None
    cpu_s: float | None = None
    memory_peak_bytes: int | None = None
    cpu_percent_avg: float | None = None
    error_type: str | None = None
    error_message: str | None = None
    output_bytes: int = 0
    log_path: str | None = None
    worker: str | None = None
    sandbox: dict[str, Any] | None = None
    pid: int | None = None
    pid_started_at: float | None = None
    created_at: datetime | None = None


@dataclass
class Batch:
    """A set of executions started together with the same options."""

    id: str
    options: RunOptions
    status: BatchStatus = BatchStatus.PENDING
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    created_by: str | None = None
    owner_pid: int | None = None
    owner_host: str | None = None
    owner_token: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class MetricSample:
    """System figures at one moment (``resolution_s`` = 1), or aggregated over a bucket
    (``resolution_s`` = 60: ``cpu_percent`` is the mean, with min and max beside it).

    A row with an ``execution_id`` holds one script's process tree instead of the system.
    Fields psutil cannot read on a platform are None.
    """

    at: datetime
    resolution_s: int = 1
    cpu_percent: float | None = None
    cpu_percent_min: float | None = None
    cpu_percent_max: float | None = None
    memory_used_bytes: int | None = None
    memory_percent: float | None = None
    swap_used_bytes: int | None = None
    disk_read_bytes_per_s: float | None = None
    disk_write_bytes_per_s: float | None = None
    script_processes: int | None = None
    rss_bytes: int | None = None
    execution_id: str | None = None
    details: dict[str, Any] | None = None


@dataclass(frozen=True)
class ProcessFigures:
    """A process (or a script's whole process tree) at one moment."""

    cpu_percent: float | None
    rss_bytes: int | None
    processes: int
    threads: int | None


@dataclass(frozen=True)
class SystemReading:
    """One pass of the resource sampler: the system, this app, and each running script's
    process tree keyed by execution id."""

    system: MetricSample
    app: ProcessFigures
    scripts: dict[str, ProcessFigures]


@dataclass
class BackupRecord:
    """One backup archive: what it holds and whether it verified."""

    id: str
    path: str
    kind: str  # manual, scheduled, pre-restore, pre-migration
    created_at: datetime
    size_bytes: int
    sha256: str
    app_version: str
    schema_revision: str | None = None
    base_id: str | None = None  # the backup holding the run logs this one did not repeat
    includes_logs: bool = False
    note: str | None = None
    verified_at: datetime | None = None
    verified_ok: bool | None = None


@dataclass(frozen=True)
class User:
    """Someone who may use ScriptBatch; ``role`` is one of viewer, operator, manager, admin."""

    name: str
    role: str
    id: int | None = None
    disabled: bool = False
    password_hash: str | None = None
    created_at: datetime | None = None
    last_login_at: datetime | None = None


@dataclass(frozen=True)
class ApiToken:
    """An API token: only a hash of its secret is stored."""

    id: int | None
    user_name: str
    label: str
    token_hash: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


@dataclass(frozen=True)
class AuditEntry:
    """Who did what, when, and how it ended."""

    at: datetime
    user: str
    action: str
    outcome: str  # succeeded, failed, denied
    target: str | None = None
    details: dict[str, Any] | None = None
    id: int | None = None
