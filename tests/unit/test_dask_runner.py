"""The Dask runner's decisions without a cluster: the MEMORY a task asks of its worker (its
sandbox's memory limit, only when every worker offers MEMORY, never more than the biggest has)
and when a worker counts as lost."""

from __future__ import annotations

from AppCode.core.engines.runner import LaunchRequest
from AppCode.core.security.policy import builtin_policy
from AppCode.infrastructure.execution.dask_runner import DaskRunner

MB = 1024 * 1024


def _request(memory_mb: int, *, enabled: bool = True) -> LaunchRequest:
    policy = builtin_policy("standard" if enabled else "off", memory_limit_mb=memory_mb)
    return LaunchRequest("e", 1, "/x.py", (), {}, "/x.log", sandbox=policy)


def _runner(*offers: float | None) -> DaskRunner:
    runner = DaskRunner("tcp://127.0.0.1:8786")
    runner._workers = {
        f"tcp://w{i}": {"nthreads": 1, "resources": {} if o is None else {"MEMORY": o}}
        for i, o in enumerate(offers)
    }
    return runner


def test_the_memory_limit_is_asked_when_every_worker_offers_memory() -> None:
    assert _runner(8e9, 4e9)._resources(_request(2048)) == {"MEMORY": 2048 * MB}


def test_nothing_is_asked_when_a_worker_does_not_offer_memory() -> None:
    assert _runner(8e9, None)._resources(_request(2048)) is None


def test_never_more_than_the_biggest_worker_offers() -> None:
    assert _runner(1e9, 5e8)._resources(_request(4096)) == {"MEMORY": 1e9}


def test_no_limit_or_no_sandbox_asks_nothing() -> None:
    assert _runner(8e9)._resources(_request(0)) is None
    assert _runner(8e9)._resources(_request(2048, enabled=False)) is None


def test_a_worker_is_lost_only_if_missing_from_a_list_asked_for_after_it_started() -> None:
    from AppCode.infrastructure.execution.dask_runner import _Attempt

    runner = _runner(8e9)  # knows tcp://w0
    state = _Attempt(writer=None, on_output=print, on_started=print)  # type: ignore[arg-type]
    state.worker, state.started_at = "tcp://new", 10.0
    runner._workers_asked_at = 9.0  # the list predates the newcomer's first script
    assert not runner._lost(state)
    runner._workers_asked_at = 11.0  # asked since, and it is not there: gone
    assert runner._lost(state)
    state.worker = "tcp://w0"
    assert not runner._lost(state)
