"""The script library: list (with tag and text filters), register, rescan, show one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field, field_validator

from AppCode.api.auth import ApiRoute, CallerDep, calls
from AppCode.api.bodies import STRICT, unicode_text
from AppCode.api.errors import DOCUMENTED_ERRORS
from AppCode.api.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, offset_of, page
from AppCode.services.json_shapes import script_json
from AppCode.services.script_service import ScriptService
from AppCode.utils.paths import shown_path

router = APIRouter(route_class=ApiRoute, tags=["scripts"], responses=DOCUMENTED_ERRORS)


class RegisterScripts(BaseModel):
    """Script files or folders on the server (folders are searched recursively)."""

    model_config = STRICT
    _text = field_validator("*")(unicode_text)

    paths: list[str] = Field(min_length=1, max_length=1000)
    tags: list[str] = Field(default_factory=list, max_length=100)


@router.get("/scripts", summary="Registered scripts, ordered by path")
def list_scripts(
    caller: CallerDep,
    tag: Annotated[str | None, Query(max_length=100, description="only with this tag")] = None,
    search: Annotated[
        str | None,
        Query(max_length=500, description="only those whose name, path or description has it"),
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page:
    offset = offset_of("scripts", cursor)
    scripts = caller.scripts.list(tag=tag, search=search)
    return Page(**page("scripts", scripts, offset, limit, script_json))


@router.post("/scripts", summary="Register scripts (files or folders); known ones are re-read")
@calls(ScriptService.add)
def register_scripts(body: RegisterScripts, caller: CallerDep) -> dict[str, Any]:
    report = caller.scripts.add(body.paths, tags=body.tags)
    return {
        "added": [script_json(s) for s in report.added],
        "updated": [script_json(s) for s in report.updated],
        "unchanged": [script_json(s) for s in report.unchanged],
        # A name that is not UTF-8 is shown with backslash escapes (JSON text cannot hold it).
        "rejected": [{"path": shown_path(r.path), "reason": r.reason} for r in report.rejected],
    }


@router.post("/scripts/rescan", summary="Re-read changed scripts; mark vanished ones missing")
def rescan_scripts(caller: CallerDep) -> dict[str, Any]:
    report = caller.scripts.rescan()
    return {
        "updated": [script_json(s) for s in report.updated],
        "missing": [script_json(s) for s in report.missing],
        "restored": [script_json(s) for s in report.restored],
        "unchanged": report.unchanged,
    }


@router.get("/scripts/{script_id}", summary="One script by its numeric id")
def get_script(
    script_id: Annotated[int, Path(ge=1, le=2**62)], caller: CallerDep
) -> dict[str, Any]:
    return script_json(caller.scripts.get(str(script_id)))
