"""Every error the API answers with, as ``{"error": {"type", "message", "hint"}}``.

Services raise the taxonomy of ``core/domain/errors.py``; this module is the one place that
turns it into HTTP statuses, so a client can act on the status and show the message and hint
to its user. Tracebacks go to the app log, never into a response.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from AppCode.core.domain.errors import (
    AuthenticationError,
    BackupError,
    ConfigurationError,
    ConflictError,
    DatabaseError,
    NotFoundError,
    PermissionDeniedError,
    PluginError,
    ScriptBatchError,
)

__all__ = [
    "DOCUMENTED_ERRORS",
    "ErrorBody",
    "error_response",
    "install_error_handlers",
    "status_of",
]

log = logging.getLogger(__name__)

# Most specific first: ConflictError is a BackupError.
_STATUSES: tuple[tuple[type[ScriptBatchError], int], ...] = (
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    # The backup asked for cannot be used or made (damaged, missing its base, the folder not
    # writable): the request was understood, and the message says what stands in the way.
    (BackupError, 422),
    # No enabled plugin makes the format asked for, or the one that does failed.
    (PluginError, 422),
    (ConfigurationError, 400),
    (DatabaseError, 503),
)
_UNEXPECTED = (
    "an unexpected error stopped the request; the details are in the server's log "
    "(logs/scriptbatch.log in its data directory)"
)
_DOCS_HINT = "The endpoints and their parameters are described at /api/v1/docs."


class ErrorDetail(BaseModel):
    type: str
    message: str
    hint: str | None = None


class ErrorBody(BaseModel):
    """What every error response holds (for the OpenAPI document)."""

    error: ErrorDetail


DOCUMENTED_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Invalid request (parameters, body, options)"},
    401: {"model": ErrorBody, "description": "Missing, unknown, revoked or expired API token"},
    403: {"model": ErrorBody, "description": "The token's role does not allow this"},
    404: {"model": ErrorBody, "description": "Not found"},
}


def status_of(error: ScriptBatchError) -> int:
    for kind, status in _STATUSES:
        if isinstance(error, kind):
            return status
    return 500


def error_response(
    status: int,
    kind: str,
    message: str,
    hint: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        {"error": {"type": kind, "message": message, "hint": hint}},
        status_code=status,
        headers=dict(headers) if headers else None,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ScriptBatchError, _scriptbatch_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_middleware(_AnswerUnexpectedErrors)


async def _scriptbatch_error(request: Request, exc: ScriptBatchError) -> JSONResponse:
    status = status_of(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status >= 500:
        log.warning("%s %s failed: %s", request.method, request.url.path, exc.message, exc_info=exc)
    else:
        log.info("%s %s: %d %s", request.method, request.url.path, status, type(exc).__name__)
    return error_response(status, type(exc).__name__, exc.message, exc.hint, headers)


async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI answers 422 with its own shape; this API answers 400 in the common one. The
    message names each wrong field but never echoes its value (it may be a password)."""
    problems = []
    for error in exc.errors()[:5]:
        location = [str(part) for part in error.get("loc", ())]
        if error.get("type") == "json_invalid":
            reason = (error.get("ctx") or {}).get("error", "")
            problems.append(f"the body is not valid JSON ({reason})".replace(" ()", ""))
        else:
            problems.append(f"{'.'.join(location) or 'request'}: {error.get('msg', 'invalid')}")
    log.info("%s %s: 400 invalid request", request.method, request.url.path)
    return error_response(
        400, "ValidationError", "invalid request: " + "; ".join(problems), _DOCS_HINT
    )


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    """Errors raised by the framework itself: unknown routes (404), wrong methods (405), a
    body that cannot even be decoded (400: not UTF-8)."""
    if exc.status_code == 400:
        log.info("%s %s: 400 unreadable body", request.method, request.url.path)
        return error_response(
            400,
            "ValidationError",
            "invalid request: the body could not be read as JSON (it must be UTF-8 text)",
            _DOCS_HINT,
        )
    if exc.status_code == 404:
        kind = "NotFoundError"
        message = f"no such endpoint: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        kind = "MethodNotAllowed"
        message = f"{request.url.path} does not answer {request.method}"
    else:
        kind = "HTTPError"
        message = str(exc.detail)
    return error_response(exc.status_code, kind, message, _DOCS_HINT, exc.headers)


class _AnswerUnexpectedErrors:
    """Any other exception: logged once with its traceback, answered with a generic 500.

    (Starlette's outermost error middleware would answer as well, but it re-raises, and the
    server then logs the traceback a second time.)"""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._app(scope, receive, watched_send)
        except Exception as exc:
            if started:  # too late for an error response: the server closes the connection
                raise
            log.error("unexpected error in %s %s", scope["method"], scope["path"], exc_info=exc)
            await error_response(500, "InternalError", _UNEXPECTED)(scope, receive, send)
