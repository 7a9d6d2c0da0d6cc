"""Batches: start one, list them, look at one (the ``run --json`` shape), cancel, and follow
its progress as server-sent events."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from AppCode.api.auth import CallerDep
from AppCode.api.errors import DOCUMENTED_ERRORS
from AppCode.api.events import batch_events
from AppCode.api.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, offset_of, page
from AppCode.core.domain.models import Batch
from AppCode.services.json_shapes import batch_json, iso
from AppCode.services.policies import PolicyOverrides

router = APIRouter(tags=["batches"], responses=DOCUMENTED_ERRORS)

BatchRef = Annotated[
    str, Path(min_length=1, max_length=64, description="batch id (or a unique prefix)")
]


class BatchRequest(BaseModel):
    """What to run and how; options left out take their value from ``[execution]`` and
    ``[sandbox]`` in the server's settings (the same fields as ``scriptbatch run``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    scripts: list[str] = Field(
        min_length=1,
        max_length=10_000,
        description="script files or folders on the server; folders expand to their *.py",
    )
    jobs: int | None = Field(default=None, ge=0, le=1024, description="scripts at once")
    timeout_s: float | None = Field(default=None, ge=0, description="time limit per script")
    retries: int | None = Field(default=None, ge=0, le=100, description="extra attempts")
    args: list[str] = Field(default_factory=list, description="arguments for every script")
    each_args: list[list[str]] | None = Field(
        default=None, description="run each script once per argument list"
    )
    env: dict[str, str] = Field(default_factory=dict, description="environment variables")
    python: str | None = Field(default=None, description="interpreter to run the scripts with")
    start_method: Literal["auto", "spawn", "forkserver"] | None = None
    fail_fast: bool | None = Field(default=None, description="cancel the rest after a failure")
    sandbox_policy: str | None = Field(
        default=None, description="off, standard, strict or a custom policy name"
    )
    no_sandbox: bool = False
    sandbox_overrides: PolicyOverrides | None = None
    # Where a Dask batch runs is the server's [execution] dask_scheduler, never the client's
    # choice: the server trusts the scheduler it connects to with its own process.
    backend: Literal["local", "dask"] | None = Field(
        default=None,
        description="run on the server's machine or on the Dask cluster of its configuration",
    )
    note: str | None = Field(default=None, max_length=2000)


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
def start_batch(body: BatchRequest, caller: CallerDep, response: Response) -> dict[str, Any]:
    request = {
        "paths": body.scripts,
        **body.model_dump(exclude={"scripts"}),
        "created_by": caller.user.name,
    }
    handle = caller.batches.start(request)
    batch, executions = caller.history.batch(handle.batch_id)
    response.headers["Location"] = f"/api/v1/batches/{batch.id}"
    return {"id": batch.id, **batch_json(batch, executions)}


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
