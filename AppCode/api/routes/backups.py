"""Backups: list, create, verify, restore (``scriptbatch backup ...``).

Backups are addressed by id only: the service also accepts an archive's path, which over the
network would let a client point the server at any file it can read.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field, field_validator

from AppCode.api.auth import ApiRoute, CallerDep, calls
from AppCode.api.bodies import STRICT, unicode_text
from AppCode.api.errors import DOCUMENTED_ERRORS, ErrorBody
from AppCode.api.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, offset_of, page
from AppCode.core.domain.errors import BackupError, ConflictError
from AppCode.services.backup_service import BackupService
from AppCode.services.json_shapes import backup_json

router = APIRouter(route_class=ApiRoute, tags=["backups"], responses=DOCUMENTED_ERRORS)

BackupRef = Annotated[
    str,
    Path(pattern=r"^[0-9A-Za-z_-]{1,64}$", description="backup id (or a unique prefix)"),
]


class NewBackup(BaseModel):
    model_config = STRICT
    _text = field_validator("*")(unicode_text)

    note: str | None = Field(default=None, max_length=2000)


@router.get("/backups", summary="Backups, newest first")
def list_backups(caller: CallerDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page:
    offset = offset_of("backups", cursor)
    return Page(**page("backups", caller.backups.backups(), offset, limit, backup_json))


_UNUSABLE: dict[int | str, dict[str, Any]] = {
    422: {
        "model": ErrorBody,
        "description": "BackupError: the backup cannot be used or made (damaged, missing its "
        "base, the folder not writable)",
    }
}


@router.post("/backups", status_code=201, summary="Make a backup now", responses=_UNUSABLE)
@calls(BackupService.create)
def create_backup(caller: CallerDep, body: NewBackup | None = None) -> dict[str, Any]:
    return backup_json(caller.backups.create(note=body.note if body else None))


@router.post(
    "/backups/{backup_id}/verify",
    summary="Check a backup completely; valid is false (with the problem) when it does not verify",
)
def verify_backup(backup_id: BackupRef, caller: CallerDep) -> dict[str, Any]:
    record = caller.backups.find(backup_id)
    try:
        verified = caller.backups.verify(record.id)
    except ConflictError:
        raise
    except BackupError as exc:
        problem = {"type": type(exc).__name__, "message": exc.message, "hint": exc.hint}
        return {"valid": False, "problem": problem, "backup": backup_json(record)}
    return {"valid": True, "problem": None, "backup": backup_json(verified)}


@router.post(
    "/backups/{backup_id}/restore",
    summary="Replace the current data with a backup's (admins; refused while a batch runs)",
    responses={
        409: {"model": ErrorBody, "description": "ConflictError: a batch is running"},
        **_UNUSABLE,
    },
)
def restore_backup(backup_id: BackupRef, caller: CallerDep) -> dict[str, Any]:
    record = caller.backups.find(backup_id)
    safety = caller.backups.restore(record.id)
    return {"restored": backup_json(record), "pre_restore_backup": backup_json(safety)}
