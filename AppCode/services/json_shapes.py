"""The JSON shapes of the public contracts (ARCHITECTURE.md), shared by the CLI and the API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from AppCode.core.analyzers.performance import Finding
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
from AppCode.services.plugin_service import PluginView

__all__ = [
    "attempt_json",
    "audit_json",
    "backup_json",
    "batch_json",
    "execution_json",
    "finding_json",
    "iso",
    "metric_json",
    "plugin_json",
    "script_json",
    "summary",
    "token_json",
    "user_json",
]


def iso(value: datetime | None) -> str | None:
    """ISO-8601 in UTC, or None."""
    return value.astimezone(UTC).isoformat() if value else None


def script_json(script: Script) -> dict[str, Any]:
    return {
        "id": script.id,
        "path": script.path,
        "name": script.name,
        "description": script.description,
        "tags": list(script.tags),
        "size": script.size,
        "mtime": iso(datetime.fromtimestamp(script.mtime, UTC)),
        "sha256": script.sha256,
        "missing": script.missing,
        "sandbox_policy": script.sandbox_policy,
        "created_at": iso(script.created_at),
        "updated_at": iso(script.updated_at),
    }


SUMMARY_STATUSES = (
    ExecutionStatus.SUCCEEDED,
    ExecutionStatus.FAILED,
    ExecutionStatus.TIMED_OUT,
    ExecutionStatus.BLOCKED,
    ExecutionStatus.CANCELLED,
    ExecutionStatus.INTERRUPTED,
)
NO_SANDBOX = {"policy": "off", "layers": [], "degraded": False}


def execution_json(e: Execution) -> dict[str, Any]:
    """One execution as ``run --json`` and ``history --json`` print it."""
    return {
        "id": e.id,
        "batch_id": e.batch_id,
        "script": e.script_path,
        "args": list(e.args),
        "status": e.status.value,
        "exit_code": e.exit_code,
        "attempts": e.attempts,
        "started_at": iso(e.started_at),
        "finished_at": iso(e.finished_at),
        "duration_s": _round(e.duration_s),
        "cpu_s": _round(e.cpu_s),
        "memory_peak_bytes": e.memory_peak_bytes,
        "error_type": e.error_type,
        "error_message": e.error_message,
        "output_bytes": e.output_bytes,
        "log_path": e.log_path,
        "worker": e.worker,
        "sandbox": e.sandbox or dict(NO_SANDBOX),
    }


def summary(executions: list[Execution]) -> dict[str, int]:
    counts = {"total": len(executions)}
    for status in SUMMARY_STATUSES:
        counts[status.value] = sum(1 for e in executions if e.status is status)
    return counts


def batch_json(batch: Batch, executions: list[Execution]) -> dict[str, Any]:
    """The ``run --json`` contract object."""
    return {
        "batch_id": batch.id,
        "status": batch.status.value,
        "started_at": iso(batch.started_at),
        "finished_at": iso(batch.finished_at),
        "jobs": batch.options.jobs,
        "backend": batch.options.backend,
        "summary": summary(executions),
        "executions": [execution_json(e) for e in executions],
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def metric_json(m: MetricSample) -> dict[str, Any]:
    """One stored sample as ``scriptbatch metrics --json`` prints it."""
    return {
        "at": iso(m.at),
        "resolution_s": m.resolution_s,
        "cpu_percent": m.cpu_percent,
        "cpu_percent_min": m.cpu_percent_min,
        "cpu_percent_max": m.cpu_percent_max,
        "memory_used_bytes": m.memory_used_bytes,
        "memory_percent": m.memory_percent,
        "swap_used_bytes": m.swap_used_bytes,
        "disk_read_bytes_per_s": m.disk_read_bytes_per_s,
        "disk_write_bytes_per_s": m.disk_write_bytes_per_s,
        "script_processes": m.script_processes,
    }


def finding_json(f: Finding) -> dict[str, Any]:
    return {"kind": f.kind, "script": f.script, "message": f.message, "figures": dict(f.figures)}


def backup_json(r: BackupRecord) -> dict[str, Any]:
    """A backup record as ``backup create --json`` and ``backup list --json`` print it."""
    return {
        "id": r.id,
        "path": r.path,
        "kind": r.kind,
        "created_at": iso(r.created_at),
        "size_bytes": r.size_bytes,
        "sha256": r.sha256,
        "app_version": r.app_version,
        "schema_revision": r.schema_revision,
        "base_id": r.base_id,
        "includes_logs": r.includes_logs,
        "note": r.note,
        "verified_at": iso(r.verified_at),
        "verified_ok": r.verified_ok,
    }


def user_json(u: User) -> dict[str, Any]:
    """A user as ``users list --json`` and the API show it (never a password hash)."""
    return {
        "name": u.name,
        "role": u.role,
        "disabled": u.disabled,
        "created_at": iso(u.created_at),
        "last_login_at": iso(u.last_login_at),
    }


def token_json(t: ApiToken) -> dict[str, Any]:
    """An API token's record (never its secret or hash)."""
    return {
        "id": t.id,
        "user": t.user_name,
        "label": t.label,
        "created_at": iso(t.created_at),
        "expires_at": iso(t.expires_at),
        "revoked_at": iso(t.revoked_at),
        "last_used_at": iso(t.last_used_at),
    }


def audit_json(e: AuditEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": iso(e.at),
        "user": e.user,
        "action": e.action,
        "outcome": e.outcome,
        "target": e.target,
        "details": e.details,
    }


def attempt_json(a: Attempt) -> dict[str, Any]:
    """One attempt of an execution, as ``show --json`` and the API list them."""
    return {
        "number": a.number,
        "status": a.status.value,
        "exit_code": a.exit_code,
        "started_at": iso(a.started_at),
        "duration_s": a.duration_s,
        "error_type": a.error_type,
        "error_message": a.error_message,
    }


def plugin_json(p: PluginView) -> dict[str, Any]:
    info = p.info
    return {
        "name": p.name,
        "state": p.state,
        "error": p.error,
        "source": p.source,
        "version": info.version if info else None,
        "description": info.description if info else None,
        "author": info.author if info else None,
        "min_app_version": info.min_app_version if info else None,
        "formats": list(info.formats) if info else [],
        "hooks": list(p.hooks),
        "settings": p.settings,
        "settings_schema": p.settings_schema.model_json_schema() if p.settings_schema else None,
        "last_problem": p.last_problem,
    }
