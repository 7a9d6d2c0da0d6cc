"""Data-access ports (the seed design's ``IDataAccess``): what services need from storage.

``infrastructure/data`` implements them on SQLAlchemy; unit tests use dict-backed fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from AppCode.core.domain.models import (
    ApiToken,
    Attempt,
    AuditEntry,
    BackupRecord,
    Batch,
    Execution,
    ExecutionStatus,
    MetricSample,
    Script,
    User,
)

__all__ = [
    "PREFIX_MATCHES",
    "AuditRepository",
    "BackupArchiver",
    "BackupRepository",
    "BatchRepository",
    "ExecutionFilter",
    "ExecutionRepository",
    "MetricsRepository",
    "PluginCandidate",
    "PluginState",
    "PluginStateRepository",
    "ProcessTable",
    "ScriptRepository",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "UserRepository",
]


class ScriptRepository(Protocol):
    """The script library's records."""

    def get(self, script_id: int) -> Script | None: ...

    def get_by_path(self, path: str) -> Script | None: ...

    def list(self, *, tag: str | None = None, search: str | None = None) -> list[Script]:
        """Scripts ordered by path; ``search`` matches name, path or description, any case."""
        ...

    def add(self, script: Script) -> Script:
        """Store a new script; the returned copy has its ``id``."""
        ...

    def update(self, script: Script) -> None: ...

    def remove(self, script_id: int) -> None: ...


@dataclass(frozen=True)
class ExecutionFilter:
    """What the history view and ``scriptbatch history`` filter executions by."""

    script_path: str | None = None
    script_contains: str | None = None
    statuses: tuple[ExecutionStatus, ...] = ()
    batch_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


PREFIX_MATCHES = 5  # what ``find(id_or_prefix)`` returns at most


class BatchRepository(Protocol):
    def add(self, batch: Batch, executions: Sequence[Execution]) -> None:
        """Store a new batch and all its executions (one bulk insert)."""
        ...

    def get(self, batch_id: str) -> Batch | None: ...

    def find(self, id_or_prefix: str) -> list[Batch]:
        """Batches whose id is ``id_or_prefix`` or starts with it (at most a few)."""
        ...

    def recent(self, limit: int = 50) -> list[Batch]:
        """The newest batches first."""
        ...

    def unfinished(self) -> list[Batch]:
        """Batches still marked pending or running (their owner may have died)."""
        ...

    def set_status(self, batch: Batch) -> None:
        """Store ``batch``'s status and timestamps."""
        ...


class ExecutionRepository(Protocol):
    def get(self, execution_id: str) -> Execution | None: ...

    def find(self, id_or_prefix: str) -> list[Execution]:
        """Executions whose id is ``id_or_prefix`` or starts with it (at most a few)."""
        ...

    def of_batch(self, batch_id: str) -> list[Execution]:
        """A batch's executions in the order they were queued."""
        ...

    def query(
        self, where: ExecutionFilter, *, limit: int, after: str | None = None
    ) -> list[Execution]:
        """Matching executions, newest first; ``after`` (an execution id from the previous page)
        continues where that page ended (keyset paging: cheap at any depth)."""
        ...

    def count(self, where: ExecutionFilter) -> int: ...

    def attempts(self, execution_id: str) -> list[Attempt]: ...

    def update(self, executions: Sequence[Execution]) -> None:
        """Store the status and results of ``executions``."""
        ...

    def oldest_before(self, cutoff: datetime, limit: int) -> list[Execution]:
        """Up to ``limit`` finished executions of finished batches created before ``cutoff``,
        oldest first."""
        ...

    def delete(self, execution_ids: Sequence[str]) -> None:
        """Delete executions (their attempts and metrics too) and batches left empty."""
        ...


class MetricsRepository(Protocol):
    """Stored performance samples (``performance_metrics``)."""

    def add(self, samples: Sequence[MetricSample]) -> None: ...

    def query(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        execution_id: str | None = None,
        limit: int = 100_000,
    ) -> list[MetricSample]:
        """Samples oldest first: the system's (``execution_id`` None) or one execution's."""
        ...

    def raw_before(self, cutoff: datetime, limit: int) -> list[tuple[int, MetricSample]]:
        """Up to ``limit`` full-resolution samples older than ``cutoff`` with their row ids,
        oldest first (for downsampling)."""
        ...

    def delete(self, ids: Sequence[int]) -> None: ...

    def delete_before(self, cutoff: datetime) -> int:
        """Delete every sample older than ``cutoff``; returns how many."""
        ...

    def fill_memory_peak(self, execution_id: str, peak_bytes: int) -> None:
        """Set an execution's peak memory where the runner could not measure it."""
        ...


class UserRepository(Protocol):
    """Users and their API tokens."""

    def get(self, name: str) -> User | None: ...

    def all(self) -> list[User]: ...

    def add(self, user: User) -> User: ...

    def update(self, user: User) -> None: ...

    def add_token(self, token: ApiToken) -> ApiToken: ...

    def token_by_hash(self, token_hash: str) -> ApiToken | None: ...

    def tokens(self, user_name: str | None = None) -> list[ApiToken]: ...

    def update_token(self, token: ApiToken) -> None: ...


class AuditRepository(Protocol):
    def add(self, entry: AuditEntry) -> None: ...

    def query(
        self,
        *,
        user: str | None = None,
        action: str | None = None,
        outcome: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """Entries newest first."""
        ...


class BackupRepository(Protocol):
    """The ``backup_records`` table."""

    def add(self, record: BackupRecord) -> None: ...

    def all(self) -> list[BackupRecord]:
        """Every record, newest first."""
        ...

    def update(self, record: BackupRecord) -> None: ...

    def delete(self, backup_id: str) -> None: ...


class BackupArchiver(Protocol):
    """Writes, reads and checks backup archives, and puts a backup's database in place."""

    def write(
        self,
        path: str,
        *,
        kind: str,
        note: str | None,
        include_logs: bool,
        base: BackupRecord | None,
    ) -> BackupRecord:
        """Create the archive at ``path`` (atomically) and return its record."""
        ...

    def read(self, path: str) -> BackupRecord:
        """The record an archive describes (from its manifest), without checking it."""
        ...

    def verify(self, path: str) -> None:
        """Check every member's checksum and the database snapshot; raise BackupError."""
        ...

    def log_members(self, path: str) -> dict[str, str]:
        """The run logs an archive lists (incremental ones included): ``{name: sha256}``."""
        ...

    def install(self, path: str, chain: Sequence[str]) -> Callable[[], None]:
        """Put the archive's database and config in place (logs from ``chain``, oldest
        first); returns a function that undoes it all. Atomic per file."""
        ...

    def forget_previous(self) -> None:
        """The restore is confirmed: drop the copy of the previous database kept for undo."""
        ...

    def damage(self) -> str | None:
        """What is wrong with the live database file if it is damaged, else None."""
        ...

    def set_aside_damaged(self) -> tuple[str, Callable[[], None]]:
        """Move the damaged live database file aside (kept, renamed); returns its new path and
        a function that puts it back."""
        ...


class ProcessTable(Protocol):
    """The operating system's view of processes, for crash recovery."""

    def current_owner(self) -> tuple[int, str, str]:
        """This process as a batch owner: ``(pid, host, start token)``."""
        ...

    def owner_alive(self, pid: int | None, host: str | None, token: str | None) -> bool:
        """Whether the process that owns a batch is still running (unknown hosts: assume so)."""
        ...

    def kill_leftover(self, pid: int, started_at: float | None) -> bool:
        """End a script's process group if ``pid`` is still that script (same start time)."""
        ...


@dataclass(frozen=True)
class PluginState:
    """What the user chose for a plugin (``enabled``) and why it is errored, if it is."""

    name: str
    enabled: bool
    error: str | None = None


class PluginStateRepository(Protocol):
    def all(self) -> dict[str, PluginState]: ...

    def save(self, state: PluginState) -> None:
        """Insert or replace the plugin's row."""
        ...


@dataclass(frozen=True)
class PluginCandidate:
    """A plugin that discovery found but has not imported yet."""

    name: str  # module, entry-point or file name; the plugin's own name comes with its info
    source: str  # "built-in", "entry point of <distribution>", or the file's path
    load: Callable[[], object]  # imports it; the module (or object) holding its hookimpls


class UnitOfWork(Protocol):
    """One transaction over the repositories: ``with uow: ...; uow.commit()``.

    Leaving the block without ``commit()`` rolls everything back.
    """

    scripts: ScriptRepository
    batches: BatchRepository
    executions: ExecutionRepository
    metrics: MetricsRepository
    backups: BackupRepository
    users: UserRepository
    audit: AuditRepository
    plugin_states: PluginStateRepository

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
