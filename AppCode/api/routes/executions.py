"""Executions: the history list (the filters of ``scriptbatch history`` and the history view),
one execution with its attempts, and its output as text with HTTP range support."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import Response

from AppCode.api.auth import ApiRoute, CallerDep
from AppCode.api.errors import DOCUMENTED_ERRORS, ErrorBody, error_response
from AppCode.api.pagination import (
    DEFAULT_LIMIT,
    Cursor,
    Limit,
    Page,
    decode_cursor,
    encode_cursor,
)
from AppCode.api.params import point_in_time
from AppCode.api.ranges import UnsatisfiableRangeError, byte_range
from AppCode.core.domain.errors import ConfigurationError
from AppCode.core.domain.models import ExecutionStatus
from AppCode.core.domain.ports import ExecutionFilter
from AppCode.core.managers.script_manager import absolute
from AppCode.services.json_shapes import attempt_json, execution_json

log = logging.getLogger(__name__)

router = APIRouter(route_class=ApiRoute, tags=["executions"], responses=DOCUMENTED_ERRORS)

_STATUSES = [s.value for s in ExecutionStatus]

ExecutionRef = Annotated[
    str, Path(min_length=1, max_length=64, description="execution id (or a unique prefix)")
]


@router.get("/executions", summary="Past and current executions, newest first")
def list_executions(
    caller: CallerDep,
    script: Annotated[
        str | None, Query(max_length=4096, description="only runs of this script (path)")
    ] = None,
    script_contains: Annotated[
        str | None, Query(max_length=500, description="only scripts whose path contains this")
    ] = None,
    status: Annotated[
        list[str] | None,
        Query(
            description="only these statuses (repeat, or comma-separated): " + ", ".join(_STATUSES)
        ),
    ] = None,
    batch: Annotated[
        str | None, Query(max_length=64, description="only this batch (id or unique prefix)")
    ] = None,
    since: Annotated[
        str | None, Query(max_length=64, description="from then on: 10m, 12h, 7d or a date")
    ] = None,
    until: Annotated[
        str | None, Query(max_length=64, description="before then: 10m, 12h, 7d or a date")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page:
    after = decode_cursor("executions", cursor)
    if isinstance(after, int):
        raise ConfigurationError("the cursor is not one this list gave out")
    where = ExecutionFilter(
        script_path=absolute(script) if script else None,
        script_contains=script_contains or None,
        statuses=_statuses(status or []),
        batch_id=caller.history.find_batch(batch).id if batch else None,
        since=point_in_time("since", since),
        until=point_in_time("until", until),
    )
    rows = caller.history.executions(where, limit=limit + 1, after=after)
    more = len(rows) > limit
    return Page(
        items=[execution_json(e) for e in rows[:limit]],
        next_cursor=encode_cursor("executions", rows[limit - 1].id) if more else None,
    )


@router.get("/executions/{execution_id}", summary="One execution, with its attempts")
def get_execution(execution_id: ExecutionRef, caller: CallerDep) -> dict[str, Any]:
    execution = caller.history.execution(execution_id)
    shape = execution_json(execution)
    shape["attempt_list"] = [attempt_json(a) for a in caller.history.attempts(execution.id)]
    return shape


@router.get(
    "/executions/{execution_id}/output",
    summary="The execution's output (stdout and stderr as they came) as text; supports Range",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}, "description": "the whole output"},
        206: {"content": {"text/plain": {}}, "description": "the requested byte range"},
        409: {
            "model": ErrorBody,
            "description": "ConflictError: the output's log file cannot be read (not a file, "
            "no permission)",
        },
        416: {"description": "the range starts beyond the end of the output"},
    },
)
def get_output(
    execution_id: ExecutionRef,
    caller: CallerDep,
    range_header: Annotated[
        str | None, Header(alias="Range", description="bytes=START-END, START- or -LAST")
    ] = None,
) -> Response:
    execution = caller.history.execution(execution_id)
    try:
        data = b"".join(chunk for _stream, chunk in caller.history.output(execution))
    except OSError as exc:  # a log path that is a folder, or that the server may not read
        log.warning("output of execution %s unreadable: %s", execution.id, exc)
        return error_response(
            409,
            "ConflictError",
            f"the output of execution {execution.id} cannot be read from {execution.log_path}: "
            f"{exc.strerror or exc}",
            "The log file was replaced by something else or its permissions changed; the "
            "metadata is still at GET /executions/{id}.",
        )
    headers = {"Accept-Ranges": "bytes"}
    media_type = "text/plain; charset=utf-8"
    try:
        wanted = byte_range(range_header, len(data))
    except UnsatisfiableRangeError as exc:
        return error_response(
            416,
            "RangeNotSatisfiable",
            f"the output of execution {execution.id} has {exc.size} bytes; the range "
            f"{range_header!r} starts beyond them",
            "Ask for a range that starts before the end, or leave out the Range header.",
            {**headers, "Content-Range": f"bytes */{exc.size}"},
        )
    if wanted is None:
        return Response(data, media_type=media_type, headers=headers)
    first, last = wanted
    headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
    return Response(data[first : last + 1], status_code=206, media_type=media_type, headers=headers)


def _statuses(values: list[str]) -> tuple[ExecutionStatus, ...]:
    statuses = []
    for item in values:
        for name in item.split(","):
            if name.strip() not in _STATUSES:
                raise ConfigurationError(
                    f"unknown status {name.strip()!r}", hint=f"Use one of: {', '.join(_STATUSES)}."
                )
            statuses.append(ExecutionStatus(name.strip()))
    return tuple(statuses)
