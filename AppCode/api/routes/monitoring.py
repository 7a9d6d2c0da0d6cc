"""Stored performance samples and the analyzer's findings (``scriptbatch metrics|analyze``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from AppCode.api.auth import ApiRoute, CallerDep
from AppCode.api.errors import DOCUMENTED_ERRORS
from AppCode.api.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, offset_of, page
from AppCode.api.params import point_in_time
from AppCode.services.json_shapes import finding_json, metric_json

router = APIRouter(route_class=ApiRoute, tags=["monitoring"], responses=DOCUMENTED_ERRORS)


@router.get(
    "/metrics",
    summary="System samples, oldest first: every sample of the last hour, one-minute "
    "aggregates before that",
)
def list_metrics(
    caller: CallerDep,
    since: Annotated[
        str, Query(max_length=64, description="from then on: 10m, 12h, 7d or a date")
    ] = "10m",
    until: Annotated[
        str | None, Query(max_length=64, description="before then: 10m, 12h, 7d or a date")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page:
    offset = offset_of("metrics", cursor)
    samples = caller.monitoring.metrics(
        since=point_in_time("since", since), until=point_in_time("until", until)
    )
    return Page(**page("metrics", samples, offset, limit, metric_json))


@router.get(
    "/findings",
    summary="Slow, failing, memory-hungry and regressing scripts; with batch, also why that "
    "batch was slow",
)
def list_findings(
    caller: CallerDep,
    batch: Annotated[
        str | None, Query(max_length=64, description="also analyse this batch (id or prefix)")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page:
    offset = offset_of("findings", cursor)
    findings = caller.monitoring.findings(batch or None)
    return Page(**page("findings", findings, offset, limit, finding_json))
