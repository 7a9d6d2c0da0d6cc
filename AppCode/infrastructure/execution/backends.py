"""The runner the engine is given: it sends each attempt to the backend its batch chose
(``[execution].backend``, ``run --backend``): this machine, or a Dask cluster."""

from __future__ import annotations

import asyncio

from AppCode.core.domain.errors import ConfigurationError
from AppCode.core.domain.models import RunOptions
from AppCode.core.engines.runner import (
    AttemptOutcome,
    LaunchRequest,
    OutputSink,
    Runner,
    StartedSink,
)
from AppCode.infrastructure.execution.local_runner import LocalRunner

__all__ = ["BackendRunner"]

BACKENDS = ("local", "dask")


class BackendRunner:
    def __init__(self, local: LocalRunner | None = None) -> None:
        self._local = local or LocalRunner()
        self._dask: dict[str, Runner] = {}  # scheduler address -> DaskRunner, made on first use

    async def prepare(self, options: RunOptions) -> int | None:
        return await self._runner(options.backend, options.scheduler).prepare(options)

    async def run(
        self,
        request: LaunchRequest,
        on_output: OutputSink,
        on_started: StartedSink,
        cancel: asyncio.Event,
    ) -> AttemptOutcome:
        runner = self._runner(request.backend, request.scheduler)
        return await runner.run(request, on_output, on_started, cancel)

    async def aclose(self) -> None:
        for runner in self._dask.values():
            await runner.aclose()
        self._dask.clear()
        await self._local.aclose()

    def _runner(self, backend: str, scheduler: str) -> Runner:
        if backend == "local":
            return self._local
        if backend != "dask":
            raise ConfigurationError(
                f"unknown execution backend {backend!r}", hint=f"Use one of: {', '.join(BACKENDS)}."
            )
        address = scheduler.strip()
        if address not in self._dask:
            try:
                from AppCode.infrastructure.execution.dask_runner import DaskRunner
            except ImportError as exc:
                raise ConfigurationError(
                    f"the Dask backend needs the 'distributed' package ({exc})",
                    hint="Install it with: pip install 'scriptbatch[dask]'",
                ) from None
            self._dask[address] = DaskRunner(address)
        return self._dask[address]
