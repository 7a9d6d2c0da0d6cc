"""The REST API (``scriptbatch serve``): a FastAPI app over the same services as the GUI and
the CLI. Everything lives under ``/api/v1``; ``docs/api.md`` describes it for users."""

from __future__ import annotations

import threading
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from AppCode import __version__
from AppCode.api.docs import install_docs
from AppCode.api.errors import install_error_handlers
from AppCode.api.routes import (
    backups,
    batches,
    executions,
    monitoring,
    plugins,
    scripts,
    system,
    users,
)
from AppCode.container import Container

__all__ = ["API_PREFIX", "create_app"]

API_PREFIX = "/api/v1"

_DESCRIPTION = """\
Run and watch batches of Python scripts, browse their history and output, look at system
load and the analyzer's findings, manage backups, users and API tokens.

Send an API token as `Authorization: Bearer <token>` (make one with `scriptbatch users token`);
only `/health` and these docs are open. Errors are `{"error": {"type", "message", "hint"}}`.
Lists are pages: `?limit=N&cursor=...` answer `{"items": [...], "next_cursor": ...}`.
"""


def create_app(container: Container) -> FastAPI:
    """The API app over ``container``'s services. ``app.state.stopping`` is set when the
    server shuts down, so that open event streams end instead of holding it up."""
    app = FastAPI(
        title="ScriptBatch API",
        version=__version__,
        description=_DESCRIPTION,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.container = container
    app.state.stopping = threading.Event()
    install_error_handlers(app)
    for module in (system, scripts, batches, executions, monitoring, backups, users, plugins):
        app.include_router(module.router, prefix=API_PREFIX)
    install_docs(app, API_PREFIX)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _without_422(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _without_422(document: dict[str, Any]) -> dict[str, Any]:
    """FastAPI documents a 422 (its ``HTTPValidationError``) for every operation with
    parameters; this API answers invalid requests with 400 in its common error shape
    (``errors.py``), which the routers document. The 422s the routers declare themselves
    (``BackupError``, ``PluginError``) stay."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            if "HTTPValidationError" in str(responses.get("422", "")):
                del responses["422"]
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return document
