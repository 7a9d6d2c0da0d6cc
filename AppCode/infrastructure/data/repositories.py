"""SQLAlchemy implementations of core's repository ports; rows become domain objects here."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, or_, select, tuple_, update
from sqlalchemy.orm import Session

from AppCode.core.domain.events import ExecutionStarted
from AppCode.core.domain.models import (
    ApiToken,
    Attempt,
    AuditEntry,
    BackupRecord,
    Batch,
    BatchStatus,
    Execution,
    ExecutionStatus,
    MetricSample,
    RunOptions,
    Script,
    User,
)
from AppCode.core.domain.ports import PREFIX_MATCHES, ExecutionFilter, PluginState
from AppCode.infrastructure.data.orm import (
    ApiTokenRow,
    AuditLogRow,
    BackupRecordRow,
    BatchRow,
    ExecutionAttemptRow,
    ExecutionRow,
    PerformanceMetricRow,
    PluginStateRow,
    ScriptRow,
    ScriptTagRow,
    UserRow,
    UTCDateTime,
    utcnow,
)


class SqlScriptRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, script_id: int) -> Script | None:
        row = self._session.get(ScriptRow, script_id)
        return _script(row) if row else None

    def get_by_path(self, path: str) -> Script | None:
        row = self._session.scalar(select(ScriptRow).where(ScriptRow.path == path))
        return _script(row) if row else None

    def list(self, *, tag: str | None = None, search: str | None = None) -> list[Script]:
        query = select(ScriptRow).order_by(ScriptRow.path)
        if tag:
            query = query.where(ScriptRow.tags.any(ScriptTagRow.tag == tag))
        if search:
            # ILIKE folds case on both sides, every letter on PostgreSQL and, with the Unicode
            # lower() that database.py gives each SQLite connection, on SQLite too.
            pattern = f"%{_escape_like(search)}%"
            query = query.where(
                or_(
                    ScriptRow.name.ilike(pattern, escape="\\"),
                    ScriptRow.path.ilike(pattern, escape="\\"),
                    ScriptRow.description.ilike(pattern, escape="\\"),
                )
            )
        return [_script(row) for row in self._session.scalars(query)]

    def add(self, script: Script) -> Script:
        row = ScriptRow(
            path=script.path,
            name=script.name,
            description=script.description,
            size=script.size,
            mtime=script.mtime,
            sha256=script.sha256,
            missing=script.missing,
            sandbox_policy=script.sandbox_policy,
            tags=[ScriptTagRow(tag=tag) for tag in dict.fromkeys(script.tags)],
        )
        self._session.add(row)
        self._session.flush()
        return _script(row)

    def update(self, script: Script) -> None:
        row = self._session.get(ScriptRow, script.id)
        if row is None:
            raise KeyError(script.id)
        row.path = script.path
        row.name = script.name
        row.description = script.description
        row.size = script.size
        row.mtime = script.mtime
        row.sha256 = script.sha256
        row.missing = script.missing
        row.sandbox_policy = script.sandbox_policy
        wanted = list(dict.fromkeys(script.tags))
        if [t.tag for t in row.tags] != wanted:
            row.tags = [t for t in row.tags if t.tag in wanted]
            have = {t.tag for t in row.tags}
            row.tags.extend(ScriptTagRow(tag=tag) for tag in wanted if tag not in have)
        self._session.flush()

    def remove(self, script_id: int) -> None:
        self._session.execute(delete(ScriptRow).where(ScriptRow.id == script_id))


def _script(row: ScriptRow) -> Script:
    return Script(
        id=row.id,
        path=row.path,
        name=row.name,
        description=row.description,
        size=row.size,
        mtime=row.mtime,
        sha256=row.sha256,
        tags=tuple(sorted(t.tag for t in row.tags)),
        missing=row.missing,
        sandbox_policy=row.sandbox_policy,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# -- batches and executions -----------------------------------------------------------------


def _id_prefix(text: str) -> str:
    """Ids are lower case (``new_id``); a prefix matches them in any case, on PostgreSQL (whose
    LIKE minds case) as on SQLite (whose LIKE does not, for ASCII)."""
    return text.lower()


_FINAL_STATUSES = [s.value for s in ExecutionStatus if s.is_final]


class SqlBatchRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, batch: Batch, executions: Sequence[Execution]) -> None:
        now = utcnow()
        self._session.add(_batch_row(batch, now))
        self._session.flush()
        if executions:
            # Core, not the ORM's bulk insert: 10,000 rows in ~0.3 s less (bench E).
            rows = [execution_values(e, now) for e in executions]
            # A new batch's results are all still None: leave those columns to their NULL
            # rather than convert 10,000 Nones each (datetimes cost most).
            unset = [k for k in _RESULT_COLUMNS if all(row[k] is None for row in rows)]
            for row in rows:
                for key in unset:
                    del row[key]
            self._session.connection().execute(_INSERT_EXECUTION, rows)
        batch.created_at = now
        for execution in executions:
            execution.created_at = now

    def get(self, batch_id: str) -> Batch | None:
        row = self._session.get(BatchRow, batch_id)
        return _batch(row) if row else None

    def find(self, id_or_prefix: str) -> list[Batch]:
        query = select(BatchRow).where(
            BatchRow.id.startswith(_id_prefix(id_or_prefix), autoescape=True)
        )
        return [_batch(r) for r in self._session.scalars(query.limit(PREFIX_MATCHES))]

    def recent(self, limit: int = 50) -> list[Batch]:
        query = select(BatchRow).order_by(BatchRow.created_at.desc()).limit(limit)
        return [_batch(r) for r in self._session.scalars(query)]

    def unfinished(self) -> list[Batch]:
        query = select(BatchRow).where(
            BatchRow.status.in_([BatchStatus.PENDING.value, BatchStatus.RUNNING.value])
        )
        return [_batch(r) for r in self._session.scalars(query)]

    def set_status(self, batch: Batch) -> None:
        self._session.execute(
            update(BatchRow)
            .where(BatchRow.id == batch.id)
            .values(
                status=batch.status.value,
                started_at=batch.started_at,
                finished_at=batch.finished_at,
                updated_at=utcnow(),
            )
        )


class SqlExecutionRepository:
    """``runs_dir``: this data directory's ``runs/``, where an execution's log is read from
    (see ``_execution``); None keeps the stored path (the result writer only writes)."""

    def __init__(self, session: Session, runs_dir: str | None = None) -> None:
        self._session = session
        self._runs_dir = runs_dir

    def get(self, execution_id: str) -> Execution | None:
        row = self._session.get(ExecutionRow, execution_id)
        return _execution(row, self._runs_dir) if row else None

    def find(self, id_or_prefix: str) -> list[Execution]:
        query = select(ExecutionRow).where(
            ExecutionRow.id.startswith(_id_prefix(id_or_prefix), autoescape=True)
        )
        return [
            _execution(r, self._runs_dir)
            for r in self._session.scalars(query.limit(PREFIX_MATCHES))
        ]

    def of_batch(self, batch_id: str) -> list[Execution]:
        query = (
            select(ExecutionRow)
            .where(ExecutionRow.batch_id == batch_id)
            .order_by(ExecutionRow.sequence)
        )
        return [_execution(r, self._runs_dir) for r in self._session.scalars(query)]

    def query(
        self, where: ExecutionFilter, *, limit: int, after: str | None = None
    ) -> list[Execution]:
        query = _filtered(select(ExecutionRow), where)
        if after is not None:
            cursor = select(ExecutionRow.created_at).where(ExecutionRow.id == after)
            query = query.where(
                tuple_(ExecutionRow.created_at, ExecutionRow.id)
                < tuple_(cursor.scalar_subquery(), after)
            )
        query = query.order_by(ExecutionRow.created_at.desc(), ExecutionRow.id.desc())
        return [_execution(r, self._runs_dir) for r in self._session.scalars(query.limit(limit))]

    def count(self, where: ExecutionFilter) -> int:
        return int(self._session.scalar(_filtered(select(func.count(ExecutionRow.id)), where)) or 0)

    def attempts(self, execution_id: str) -> list[Attempt]:
        query = (
            select(ExecutionAttemptRow)
            .where(ExecutionAttemptRow.execution_id == execution_id)
            .order_by(ExecutionAttemptRow.number)
        )
        return [_attempt(r) for r in self._session.scalars(query)]

    def update(self, executions: Sequence[Execution]) -> None:
        if not executions:
            return
        now = utcnow()
        rows = []
        for execution in executions:
            values = execution_values(execution, now)
            for key in (
                "batch_id",
                "sequence",
                "script_path",
                "script_id",
                "args",
                "env",
                "created_at",
            ):
                values.pop(key)
            values["_id"] = values.pop("id")
            rows.append(values)
        self._session.connection().execute(_UPDATE_EXECUTION, rows)

    def mark_running(self, started: Sequence[ExecutionStarted]) -> None:
        """Store that attempts have started (the result writer's path)."""
        if not started:
            return
        now = utcnow()
        self._session.connection().execute(
            _MARK_RUNNING,
            [
                {
                    "_id": e.execution_id,
                    "_started_at": e.started_at,
                    "status": ExecutionStatus.RUNNING.value,
                    "attempts": e.attempt,
                    "pid": e.pid,
                    "pid_started_at": e.pid_started_at,
                    "log_path": e.log_path,
                    "updated_at": now,
                }
                for e in started
            ],
        )

    def oldest_before(self, cutoff: datetime, limit: int) -> list[Execution]:
        # Only of finished batches: one still running (in another process) keeps all its
        # executions, finished or not, until it ends.
        unfinished = select(BatchRow.id).where(
            BatchRow.status.in_([BatchStatus.PENDING.value, BatchStatus.RUNNING.value])
        )
        query = (
            select(ExecutionRow)
            .where(
                ExecutionRow.created_at < cutoff,
                ExecutionRow.status.in_(_FINAL_STATUSES),
                ExecutionRow.batch_id.not_in(unfinished),
            )
            .order_by(ExecutionRow.created_at)
            .limit(limit)
        )
        return [_execution(r, self._runs_dir) for r in self._session.scalars(query)]

    def delete(self, execution_ids: Sequence[str]) -> None:
        if not execution_ids:
            return
        ids = list(execution_ids)
        batch_ids = set(
            self._session.scalars(
                select(ExecutionRow.batch_id).where(ExecutionRow.id.in_(ids)).distinct()
            )
        )
        # Explicit deletes, not only ON DELETE CASCADE: they must hold on databases where
        # foreign keys are not enforced.
        self._session.execute(
            delete(ExecutionAttemptRow).where(ExecutionAttemptRow.execution_id.in_(ids))
        )
        self._session.execute(
            delete(PerformanceMetricRow).where(PerformanceMetricRow.execution_id.in_(ids))
        )
        self._session.execute(delete(ExecutionRow).where(ExecutionRow.id.in_(ids)))
        if batch_ids:
            still_used = select(ExecutionRow.batch_id).where(ExecutionRow.batch_id.in_(batch_ids))
            self._session.execute(
                delete(BatchRow).where(BatchRow.id.in_(batch_ids), BatchRow.id.not_in(still_used))
            )


# The result writer's statements are built once: SQLAlchemy then reuses their compiled form
# without recomputing a cache key for every transaction (measured: a third of its CPU).
_UPDATE_EXECUTION = update(ExecutionRow).where(ExecutionRow.id == bindparam("_id"))
_MARK_RUNNING = (
    update(ExecutionRow)
    .where(ExecutionRow.id == bindparam("_id"))
    .values(
        started_at=func.coalesce(
            ExecutionRow.started_at, bindparam("_started_at", type_=UTCDateTime())
        )
    )
)
_INSERT_EXECUTION = insert(ExecutionRow.__table__)
# Plain nullable columns (no default, not JSON: a JSON None would be stored as 'null') that
# an execution fills in as it runs.
_RESULT_COLUMNS = (
    "exit_code",
    "started_at",
    "finished_at",
    "duration_s",
    "cpu_s",
    "memory_peak_bytes",
    "cpu_percent_avg",
    "error_type",
    "error_message",
    "worker",
    "pid",
    "pid_started_at",
)
_INSERT_ATTEMPT = insert(ExecutionAttemptRow.__table__)
_INSERT_METRIC = insert(PerformanceMetricRow.__table__)


class SqlMetricsRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, samples: Sequence[MetricSample]) -> None:
        if samples:
            self._session.connection().execute(_INSERT_METRIC, [_metric_values(m) for m in samples])

    def query(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        execution_id: str | None = None,
        limit: int = 100_000,
    ) -> list[MetricSample]:
        m = PerformanceMetricRow
        query = select(m).where(
            m.execution_id.is_(None) if execution_id is None else m.execution_id == execution_id
        )
        if since is not None:
            query = query.where(m.at >= since)
        if until is not None:
            query = query.where(m.at < until)
        query = query.order_by(m.at, m.id).limit(limit)
        return [_metric(r) for r in self._session.scalars(query)]

    def raw_before(self, cutoff: datetime, limit: int) -> list[tuple[int, MetricSample]]:
        m = PerformanceMetricRow
        query = (
            select(m).where(m.resolution_s == 1, m.at < cutoff).order_by(m.at, m.id).limit(limit)
        )
        return [(r.id, _metric(r)) for r in self._session.scalars(query)]

    def delete(self, ids: Sequence[int]) -> None:
        if ids:
            self._session.execute(
                delete(PerformanceMetricRow).where(PerformanceMetricRow.id.in_(list(ids)))
            )

    def delete_before(self, cutoff: datetime) -> int:
        result = self._session.execute(
            delete(PerformanceMetricRow).where(PerformanceMetricRow.at < cutoff)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def fill_memory_peak(self, execution_id: str, peak_bytes: int) -> None:
        self._session.execute(
            update(ExecutionRow)
            .where(ExecutionRow.id == execution_id, ExecutionRow.memory_peak_bytes.is_(None))
            .values(memory_peak_bytes=peak_bytes)
        )


class SqlUserRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, name: str) -> User | None:
        row = self._session.scalar(select(UserRow).where(UserRow.name == name))
        return _user(row) if row else None

    def all(self) -> list[User]:
        return [_user(r) for r in self._session.scalars(select(UserRow).order_by(UserRow.name))]

    def add(self, user: User) -> User:
        row = UserRow(
            name=user.name, role=user.role, password_hash=user.password_hash, disabled=user.disabled
        )
        self._session.add(row)
        self._session.flush()
        return _user(row)

    def update(self, user: User) -> None:
        self._session.execute(
            update(UserRow)
            .where(UserRow.name == user.name)
            .values(
                role=user.role,
                password_hash=user.password_hash,
                disabled=user.disabled,
                last_login_at=user.last_login_at,
                updated_at=utcnow(),
            )
        )

    def add_token(self, token: ApiToken) -> ApiToken:
        user_id = self._session.scalar(select(UserRow.id).where(UserRow.name == token.user_name))
        if user_id is None:
            raise KeyError(token.user_name)
        row = ApiTokenRow(
            user_id=user_id,
            label=token.label,
            token_hash=token.token_hash,
            created_at=token.created_at,
            expires_at=token.expires_at,
        )
        self._session.add(row)
        self._session.flush()
        return _token(row, token.user_name)

    def token_by_hash(self, token_hash: str) -> ApiToken | None:
        row = self._session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == token_hash))
        return _token(row, row.user.name) if row else None

    def tokens(self, user_name: str | None = None) -> list[ApiToken]:
        query = select(ApiTokenRow).join(UserRow).order_by(ApiTokenRow.created_at)
        if user_name is not None:
            query = query.where(UserRow.name == user_name)
        return [_token(r, r.user.name) for r in self._session.scalars(query)]

    def update_token(self, token: ApiToken) -> None:
        self._session.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.id == token.id)
            .values(revoked_at=token.revoked_at, last_used_at=token.last_used_at)
        )


class SqlPluginStateRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def all(self) -> dict[str, PluginState]:
        rows = self._session.scalars(select(PluginStateRow))
        return {r.name: PluginState(r.name, r.enabled, r.error) for r in rows}

    def save(self, state: PluginState) -> None:
        row = self._session.get(PluginStateRow, state.name)
        if row is None:
            self._session.add(
                PluginStateRow(name=state.name, enabled=state.enabled, error=state.error)
            )
        else:
            row.enabled, row.error = state.enabled, state.error
        self._session.flush()


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        name=row.name,
        role=row.role,
        disabled=row.disabled,
        password_hash=row.password_hash,
        created_at=row.created_at,
        last_login_at=row.last_login_at,
    )


def _token(row: ApiTokenRow, user_name: str) -> ApiToken:
    return ApiToken(
        id=row.id,
        user_name=user_name,
        label=row.label,
        token_hash=row.token_hash,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


class SqlAuditRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, entry: AuditEntry) -> None:
        self._session.add(
            AuditLogRow(
                at=entry.at,
                user=entry.user,
                action=entry.action,
                target=entry.target,
                outcome=entry.outcome,
                details=entry.details,
            )
        )

    def query(
        self,
        *,
        user: str | None = None,
        action: str | None = None,
        outcome: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        query = select(AuditLogRow).order_by(AuditLogRow.at.desc(), AuditLogRow.id.desc())
        if user is not None:
            query = query.where(AuditLogRow.user == user)
        if action is not None:
            query = query.where(AuditLogRow.action == action)
        if outcome is not None:
            query = query.where(AuditLogRow.outcome == outcome)
        if since is not None:
            query = query.where(AuditLogRow.at >= since)
        return [
            AuditEntry(
                id=r.id,
                at=r.at,
                user=r.user,
                action=r.action,
                target=r.target,
                outcome=r.outcome,
                details=r.details,
            )
            for r in self._session.scalars(query.limit(limit))
        ]


class SqlBackupRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, record: BackupRecord) -> None:
        self._session.add(BackupRecordRow(**_backup_values(record)))
        self._session.flush()

    def all(self) -> list[BackupRecord]:
        query = select(BackupRecordRow).order_by(BackupRecordRow.created_at.desc())
        return [_backup(r) for r in self._session.scalars(query)]

    def update(self, record: BackupRecord) -> None:
        values = _backup_values(record)
        values.pop("id")
        self._session.execute(
            update(BackupRecordRow).where(BackupRecordRow.id == record.id).values(**values)
        )

    def delete(self, backup_id: str) -> None:
        self._session.execute(delete(BackupRecordRow).where(BackupRecordRow.id == backup_id))


def _backup_values(r: BackupRecord) -> dict[str, Any]:
    return {
        "id": r.id,
        "path": r.path,
        "kind": r.kind,
        "created_at": r.created_at,
        "size_bytes": r.size_bytes,
        "sha256": r.sha256,
        "app_version": r.app_version,
        "schema_revision": r.schema_revision,
        "base_id": r.base_id,
        "includes_logs": r.includes_logs,
        "note": r.note,
        "verified_at": r.verified_at,
        "verified_ok": r.verified_ok,
    }


def _backup(row: BackupRecordRow) -> BackupRecord:
    return BackupRecord(
        id=row.id,
        path=row.path,
        kind=row.kind,
        created_at=row.created_at,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        app_version=row.app_version,
        schema_revision=row.schema_revision,
        base_id=row.base_id,
        includes_logs=row.includes_logs,
        note=row.note,
        verified_at=row.verified_at,
        verified_ok=row.verified_ok,
    )


def _metric_values(m: MetricSample) -> dict[str, Any]:
    return {
        "at": m.at,
        "resolution_s": m.resolution_s,
        "execution_id": m.execution_id,
        "cpu_percent": m.cpu_percent,
        "cpu_percent_min": m.cpu_percent_min,
        "cpu_percent_max": m.cpu_percent_max,
        "memory_used_bytes": m.memory_used_bytes,
        "memory_percent": m.memory_percent,
        "swap_used_bytes": m.swap_used_bytes,
        "disk_read_bytes_per_s": m.disk_read_bytes_per_s,
        "disk_write_bytes_per_s": m.disk_write_bytes_per_s,
        "script_processes": m.script_processes,
        "rss_bytes": m.rss_bytes,
        "details": m.details,
    }


def _metric(r: PerformanceMetricRow) -> MetricSample:
    return MetricSample(
        at=r.at,
        resolution_s=r.resolution_s,
        execution_id=r.execution_id,
        cpu_percent=r.cpu_percent,
        cpu_percent_min=r.cpu_percent_min,
        cpu_percent_max=r.cpu_percent_max,
        memory_used_bytes=r.memory_used_bytes,
        memory_percent=r.memory_percent,
        swap_used_bytes=r.swap_used_bytes,
        disk_read_bytes_per_s=r.disk_read_bytes_per_s,
        disk_write_bytes_per_s=r.disk_write_bytes_per_s,
        script_processes=r.script_processes,
        rss_bytes=r.rss_bytes,
        details=r.details,
    )


def insert_attempts(session: Session, attempts: Sequence[Attempt]) -> None:
    """Bulk insert of attempt rows (the result writer's path)."""
    if attempts:
        session.connection().execute(_INSERT_ATTEMPT, [_attempt_values(a) for a in attempts])


def _filtered(query: Any, where: ExecutionFilter) -> Any:
    if where.script_path:
        query = query.where(ExecutionRow.script_path == where.script_path)
    if where.script_contains:
        pattern = f"%{_escape_like(where.script_contains)}%"
        query = query.where(ExecutionRow.script_path.ilike(pattern, escape="\\"))
    if where.statuses:
        query = query.where(ExecutionRow.status.in_([s.value for s in where.statuses]))
    if where.batch_id:
        query = query.where(ExecutionRow.batch_id == where.batch_id)
    if where.since:
        query = query.where(ExecutionRow.created_at >= where.since)
    if where.until:
        query = query.where(ExecutionRow.created_at < where.until)
    return query


def _batch_row(batch: Batch, now: datetime) -> BatchRow:
    o = batch.options
    return BatchRow(
        id=batch.id,
        status=batch.status.value,
        jobs=o.jobs,
        backend=o.backend,
        timeout_s=o.timeout_s,
        retries=o.retries,
        fail_fast=o.fail_fast,
        options={
            "retry_backoff_s": o.retry_backoff_s,
            "retry_on": [s.value for s in o.retry_on],
            "kill_grace_s": o.kill_grace_s,
            "python": o.python,
            "start_method": o.start_method,
            "max_log_bytes": o.max_log_bytes,
            "sandbox_policy": o.sandbox_policy,
            "sandbox": o.sandbox,
            "scheduler": o.scheduler,
        },
        note=batch.note,
        created_by=batch.created_by,
        owner_pid=batch.owner_pid,
        owner_host=batch.owner_host,
        owner_token=batch.owner_token,
        started_at=batch.started_at,
        finished_at=batch.finished_at,
        created_at=now,
        updated_at=now,
    )


def _batch(row: BatchRow) -> Batch:
    extra = row.options or {}
    options = RunOptions(
        jobs=row.jobs,
        timeout_s=row.timeout_s,
        retries=row.retries,
        retry_backoff_s=float(extra.get("retry_backoff_s", 1.0)),
        retry_on=tuple(ExecutionStatus(s) for s in extra.get("retry_on", ["failed", "timed_out"])),
        kill_grace_s=float(extra.get("kill_grace_s", 3.0)),
        fail_fast=row.fail_fast,
        python=str(extra.get("python", "")),
        start_method=str(extra.get("start_method", "spawn")),
        max_log_bytes=int(extra.get("max_log_bytes", 100 * 1024 * 1024)),
        backend=row.backend,
        sandbox_policy=str(extra.get("sandbox_policy", "off")),
        sandbox=extra.get("sandbox"),
        scheduler=str(extra.get("scheduler", "")),
    )
    return Batch(
        id=row.id,
        options=options,
        status=BatchStatus(row.status),
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        created_by=row.created_by,
        owner_pid=row.owner_pid,
        owner_host=row.owner_host,
        owner_token=row.owner_token,
        note=row.note,
    )


def execution_values(e: Execution, now: datetime) -> dict[str, Any]:
    return {
        "id": e.id,
        "batch_id": e.batch_id,
        "sequence": e.sequence,
        "script_id": e.script_id,
        "script_path": e.script_path,
        "args": list(e.args),
        "env": dict(e.env),
        "status": e.status.value,
        "exit_code": e.exit_code,
        "attempts": e.attempts,
        "started_at": e.started_at,
        "finished_at": e.finished_at,
        "duration_s": e.duration_s,
        "cpu_s": e.cpu_s,
        "memory_peak_bytes": e.memory_peak_bytes,
        "cpu_percent_avg": e.cpu_percent_avg,
        "error_type": e.error_type,
        "error_message": e.error_message,
        "output_bytes": e.output_bytes,
        "log_path": e.log_path,
        "worker": e.worker,
        "sandbox": e.sandbox,
        "pid": e.pid,
        "pid_started_at": e.pid_started_at,
        "created_at": e.created_at or now,
        "updated_at": now,
    }


def _execution(row: ExecutionRow, runs_dir: str | None = None) -> Execution:
    """An execution as stored, its log where this data directory keeps it: a log is always
    ``runs/<batch>/<execution>.log``, and the data directory may have been moved, copied or
    restored elsewhere since the path was stored (reading or pruning the stored path would
    reach another data directory's file)."""
    log_path = row.log_path
    if log_path and runs_dir:
        log_path = os.path.join(runs_dir, row.batch_id, f"{row.id}.log")
    return Execution(
        id=row.id,
        batch_id=row.batch_id,
        sequence=row.sequence,
        script_path=row.script_path,
        args=tuple(str(a) for a in row.args or ()),
        env={str(k): str(v) for k, v in (row.env or {}).items()},
        script_id=row.script_id,
        status=ExecutionStatus(row.status),
        exit_code=row.exit_code,
        attempts=row.attempts,
        started_at=row.started_at,
        finished_at=row.finished_at,
        duration_s=row.duration_s,
        cpu_s=row.cpu_s,
        memory_peak_bytes=row.memory_peak_bytes,
        cpu_percent_avg=row.cpu_percent_avg,
        error_type=row.error_type,
        error_message=row.error_message,
        output_bytes=row.output_bytes,
        log_path=log_path,
        worker=row.worker,
        sandbox=row.sandbox,
        pid=row.pid,
        pid_started_at=row.pid_started_at,
        created_at=row.created_at,
    )


def _attempt_values(a: Attempt) -> dict[str, Any]:
    return {
        "execution_id": a.execution_id,
        "number": a.number,
        "status": a.status.value,
        "exit_code": a.exit_code,
        "started_at": a.started_at,
        "finished_at": a.finished_at,
        "duration_s": a.duration_s,
        "cpu_s": a.cpu_s,
        "memory_peak_bytes": a.memory_peak_bytes,
        "error_type": a.error_type,
        "error_message": a.error_message,
        "worker": a.worker,
    }


def _attempt(row: ExecutionAttemptRow) -> Attempt:
    return Attempt(
        execution_id=row.execution_id,
        number=row.number,
        status=ExecutionStatus(row.status),
        exit_code=row.exit_code,
        started_at=row.started_at,
        finished_at=row.finished_at,
        duration_s=row.duration_s,
        cpu_s=row.cpu_s,
        memory_peak_bytes=row.memory_peak_bytes,
        error_type=row.error_type,
        error_message=row.error_message,
        worker=row.worker,
    )
