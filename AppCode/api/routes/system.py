"""``/health`` (no token needed: for monitors and start-up checks) and ``/me``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from AppCode import __version__
from AppCode.api.auth import ApiRoute, CallerDep
from AppCode.api.errors import DOCUMENTED_ERRORS
from AppCode.container import Container
from AppCode.services.json_shapes import user_json

log = logging.getLogger(__name__)

router = APIRouter(route_class=ApiRoute, tags=["system"])


@router.get("/health", summary="Whether the server and its database answer (no token needed)")
def health(request: Request) -> Any:
    container: Container = request.app.state.container
    try:
        revision = container.migrator().current()
    except Exception:
        log.exception("health check: the database does not answer")
        return JSONResponse(
            {"status": "unavailable", "version": __version__, "schema_revision": None},
            status_code=503,
        )
    return {"status": "ok", "version": __version__, "schema_revision": revision}


@router.get("/me", summary="The user the token belongs to", responses=DOCUMENTED_ERRORS)
def me(caller: CallerDep) -> dict[str, Any]:
    return user_json(caller.user)
