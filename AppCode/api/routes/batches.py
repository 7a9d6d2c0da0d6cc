"""Batches: start one, list them, look at one (the ``run --json`` shape), cancel, and follow
its progress as server-sent events."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import Field, field_validator
from starlette.concurrency import run_in_threadpool

from AppCode.api.auth import ApiRoute, Caller, CallerDep, calls
from AppCode.api.bodies import STRICT, unicode_text
from AppCode.api.errors import DOCUMENTED_ERRORS
from AppCode.api.events import batch_events
from AppCode.api.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, offset_of, page
from AppCode.core.domain.errors import ConfigurationError
from AppCode.core.domain.models import Batch
from AppCode.core.managers.script_manager import Rejected
from AppCode.core.security.permissions import Level
from AppCode.services.batch_service import BatchOptions, BatchService, ScriptPath
from AppCode.services.json_shapes import batch_json, iso
from AppCode.services.policies import PolicyOverrides
from AppCode.utils.paths import shown_path

router = APIRouter(route_class=ApiRoute, tags=["batches"], responses=DOCUMENTED_ERRORS)

BatchRef = Annotated[
    str, Path(min_length=1, max_length=64, description="batch id (or a unique prefix)")
]


class SandboxOverrides(PolicyOverrides):
    """Per-run changes to the chosen sandbox policy."""

    model_config = STRICT
    _text = field_validator("*")(unicode_text)


class BatchRequest(BatchOptions):
    """What to run and how: the options of ``StartBatch`` (and its bounds), with the scripts.
    Options left out take their value from ``[execution]`` and ``[sandbox]`` in the server's
    settings (the same fields as ``scriptbatch run``). ``sandbox_policy`` is a policy name
    (off, standard, strict or a custom policy of the server), never a file path; ``python``
    is for administrators only. Where a Dask batch runs is the server's
    ``[execution] dask_scheduler``, never the client's choice: the server trusts the scheduler
    it connects to with its own process."""

    model_config = STRICT
    _text = field_validator("*")(unicode_text)

    scripts: list[ScriptPath] = Field(
        min_length=1,
        max_length=10_000,
        description="script files or folders on the server; folders expand to their *.py",
    )
    sandbox_overrides: SandboxOverrides | None = None


def batch_item(batch: Batch) -> dict[str, Any]:
    """A batch in a list: without its executions (``GET /batches/{id}`` has them)."""
    return {
        "id": batch.id,
        "status": batch.status.value,
        "created_at": iso(batch.created_at),
        "started_at": iso(batch.started_at),
        "finished_at": iso(batch.finished_at),
        "jobs": batch.options.jobs,
        "backend": batch.options.backend,
        "scheduler": batch.options.scheduler or None,
        "sandbox_policy": batch.options.sandbox_policy,
        "created_by": batch.created_by,
        "note": batch.note,
    }


@router.post(
    "/batches",
    status_code=202,
    summary="Start a batch; it runs in the background (follow it with GET or /events)",
)
@calls(BatchService.start)
def start_batch(body: BatchRequest, caller: CallerDep, response: Response) -> dict[str, Any]:
    if body.python is not None:
        # The server runs that file (to check it, and then the scripts with it): only as
        # trusted as an administrator, whoever wrote it.
        caller.require(Level.ADMIN, "run batch with another Python")
    if body.sandbox_policy is not None:
        _check_policy_name(caller, body.sandbox_policy)
    request = {
        "paths": body.scripts,
        **body.model_dump(exclude={"scripts"}),
        "created_by": caller.user.name,
    }
    skipped: list[Rejected] = []
    handle = caller.batches.start(request, on_skipped=skipped.append)
    batch, executions = caller.history.batch(handle.batch_id)
    response.headers["Location"] = f"/api/v1/batches/{batch.id}"
    return {
        "id": batch.id,
        **batch_json(batch, executions),
        "skipped": [{"path": shown_path(r.path), "reason": r.reason} for r in skipped],
    }


def _check_policy_name(caller: Caller, name: str) -> None:
    """The API takes a policy by name only: the service would also read a policy file at any
    path, which over the network would let a client make the server read any file."""
    names = caller.batches.policies()
    if name not in names:
        raise ConfigurationError(
            f"sandbox_policy {name!r} is not a sandbox policy of this server",
            hint=f"Use one of: {', '.join(names)} (a name, not a file path).",
        )


@router.get("/batches", summary="Batches, newest first")
def list_batches(caller: CallerDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page:
    offset = offset_of("batches", cursor)
    batches = caller.history.batches(limit=offset + limit + 1)
    return Page(**page("batches", batches, offset, limit, batch_item))


@router.get("/batches/{batch_id}", summary="A batch and its executions (the run --json shape)")
def get_batch(batch_id: BatchRef, caller: CallerDep) -> dict[str, Any]:
    batch, executions = caller.history.batch(batch_id)
    return {"id": batch.id, **batch_json(batch, executions)}


@router.post(
    "/batches/{batch_id}/cancel",
    status_code=202,
    summary="Stop a batch this server runs (pending scripts never start, running ones are killed)",
)
def cancel_batch(batch_id: BatchRef, caller: CallerDep) -> dict[str, Any]:
    batch = caller.history.find_batch(batch_id)
    cancelled = caller.batches.cancel(batch.id)
    # False: it had finished, or another process (a CLI run) runs it.
    return {"id": batch.id, "cancelled": cancelled}


@router.get(
    "/batches/{batch_id}/events",
    summary="Server-sent events: a snapshot, then the batch's execution events until it ends",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def follow_batch(batch_id: BatchRef, caller: CallerDep, request: Request) -> Any:
    batch = await run_in_threadpool(caller.history.find_batch, batch_id)  # 404 before streaming
    return StreamingResponse(
        batch_events(caller, batch.id, request.app.state.stopping),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
