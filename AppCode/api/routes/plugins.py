"""Plugins (list, enable, disable, settings) and batch reports made by them
(``scriptbatch plugins ...``, ``scriptbatch report``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from starlette.concurrency import run_in_threadpool

from AppCode.api.auth import ApiRoute, CallerDep, calls
from AppCode.api.errors import DOCUMENTED_ERRORS, ErrorBody
from AppCode.api.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, offset_of, page
from AppCode.core.domain.errors import ConfigurationError
from AppCode.services.json_shapes import plugin_json
from AppCode.services.plugin_service import PluginService

router = APIRouter(route_class=ApiRoute, tags=["plugins"], responses=DOCUMENTED_ERRORS)

PluginName = Annotated[str, Path(min_length=1, max_length=255, description="plugin name")]
_CANNOT_LOAD: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorBody, "description": "PluginError: the plugin still cannot be loaded"}
}
_FAILED: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorBody, "description": "PluginError: the plugin that makes it failed"}
}
# What a report's bytes are served as; a third-party format not listed is a download.
_MEDIA_TYPES = {
    "html": "text/html; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
}


@router.get("/plugins", summary="Every plugin found, with its state, info and settings")
def list_plugins(caller: CallerDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page:
    offset = offset_of("plugins", cursor)
    return Page(**page("plugins", caller.plugins.list(), offset, limit, plugin_json))


@router.get("/plugins/{name}", summary="One plugin")
def get_plugin(name: PluginName, caller: CallerDep) -> dict[str, Any]:
    return plugin_json(caller.plugins.get(name))


@router.post(
    "/plugins/{name}/enable",
    summary="Switch a plugin on (managers); clears an error and reloads it",
    responses=_CANNOT_LOAD,
)
def enable_plugin(name: PluginName, caller: CallerDep) -> dict[str, Any]:
    return plugin_json(caller.plugins.enable(name))


@router.post("/plugins/{name}/disable", summary="Switch a plugin off (managers)")
def disable_plugin(name: PluginName, caller: CallerDep) -> dict[str, Any]:
    return plugin_json(caller.plugins.disable(name))


@router.put(
    "/plugins/{name}/settings",
    summary="Replace a plugin's settings (managers); validated with its settings schema",
)
@calls(PluginService.configure)
def configure_plugin(name: PluginName, caller: CallerDep, body: dict[str, Any]) -> dict[str, Any]:
    return plugin_json(caller.plugins.configure(name, body))


@router.get(
    "/batches/{batch_id}/report",
    summary="A batch's report as a file (html, xlsx, or a plugin's format); a format no "
    "enabled plugin makes is a 400",
    responses={
        200: {"content": {t.split(";")[0]: {} for t in _MEDIA_TYPES.values()}},
        **_FAILED,
    },
    tags=["batches"],
)
async def batch_report(
    caller: CallerDep,
    batch_id: Annotated[
        str, Path(pattern=r"^[0-9A-Za-z_-]{1,64}$", description="batch id (or a unique prefix)")
    ],
    format: Annotated[str, Query(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")],
) -> Response:
    fmt = format.lower()
    if fmt not in await run_in_threadpool(caller.plugins.formats):
        raise ConfigurationError(
            f"no enabled plugin makes {fmt!r} reports",
            hint="GET /api/v1/plugins lists the plugins and the formats they make.",
        )
    data = await run_in_threadpool(caller.reports.report, batch_id, fmt)
    name = f"batch-{batch_id[:8]}.{fmt}"
    return Response(
        content=data,
        media_type=_MEDIA_TYPES.get(fmt, "application/octet-stream"),
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
