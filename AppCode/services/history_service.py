"""Past runs: finding executions and batches, their attempts and their output."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from AppCode.core.domain.errors import ConfigurationError, NotFoundError
from AppCode.core.domain.models import Attempt, Batch, Execution
from AppCode.core.domain.ports import (
    PREFIX_MATCHES,
    ExecutionFilter,
    UnitOfWork,
    UnitOfWorkFactory,
)
from AppCode.core.managers.cache import CacheManager
from AppCode.core.security.permissions import ALLOW_ALL, AccessControl, Level, requires
from AppCode.utils.paths import is_text

__all__ = ["HistoryService", "LogReader", "find_batch", "find_execution", "stored_output"]

CACHE_REGION = "history"
LogReader = Callable[[str], Iterator[tuple[str, bytes]]]
T = TypeVar("T", Batch, Execution)


class HistoryService:
    """Read-only use cases over stored runs, shared by the GUI, the CLI and the API."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        cache: CacheManager,
        read_log: LogReader,
        flush_results: Callable[[float], bool] = lambda timeout: True,
        access: AccessControl = ALLOW_ALL,
    ) -> None:
        self._uow = uow
        self._access = access
        self._cache = cache
        self._read_log = read_log
        # Results this process's engine produced are stored a few ms after they happen; a
        # query waits for them, so a batch that just finished shows its final statuses.
        self._flush_results = flush_results

    @requires(Level.VIEW, "list executions")
    def executions(
        self, where: ExecutionFilter, *, limit: int = 100, after: str | None = None
    ) -> list[Execution]:
        """Matching executions, newest first; pass the last id of a page as ``after`` for the
        next one."""
        if not _storable(where):
            return []
        self._flush_results(10.0)
        with self._uow() as uow:
            return uow.executions.query(where, limit=limit, after=after)

    @requires(Level.VIEW, "list executions")
    def count(self, where: ExecutionFilter) -> int:
        if not _storable(where):
            return 0
        with self._uow() as uow:
            return uow.executions.count(where)

    @requires(Level.VIEW, "view execution")
    def execution(self, ref: str) -> Execution:
        """One execution by id or unique id prefix. Finished ones are cached: they never
        change again."""
        key = ref.strip()

        def load() -> Execution:
            self._flush_results(10.0)  # one that just ended: its final record stored
            with self._uow() as uow:
                return find_execution(uow, key)

        found = self._cache.get_or_load(CACHE_REGION, ("execution", key), load)
        if not found.status.is_final:
            self._cache.invalidate(CACHE_REGION, ("execution", key))
            return load()
        return found

    @requires(Level.VIEW, "view execution")
    def attempts(self, execution_id: str) -> list[Attempt]:
        self._flush_results(10.0)
        with self._uow() as uow:
            return uow.executions.attempts(execution_id)

    @requires(Level.VIEW, "view batch")
    def batch(self, ref: str) -> tuple[Batch, list[Execution]]:
        """A batch by id or unique id prefix, with its executions in queue order."""
        self._flush_results(10.0)
        with self._uow() as uow:
            batch = find_batch(uow, ref)
            return batch, uow.executions.of_batch(batch.id)

    @requires(Level.VIEW, "view batch")
    def find_batch(self, ref: str) -> Batch:
        """A batch by id or unique id prefix, without its executions."""
        self._flush_results(10.0)
        with self._uow() as uow:
            return find_batch(uow, ref)

    @requires(Level.VIEW, "list batches")
    def batches(self, limit: int = 50) -> list[Batch]:
        self._flush_results(10.0)
        with self._uow() as uow:
            return uow.batches.recent(limit)

    @requires(Level.VIEW, "view output")
    def output(self, execution: Execution) -> Iterator[tuple[str, bytes]]:
        """The execution's stored output as ``(stream, bytes)`` chunks in the order written."""
        return stored_output(self._read_log, execution)

    def forget_cached(self) -> None:
        self._cache.invalidate(CACHE_REGION)


def stored_output(read_log: LogReader, execution: Execution) -> Iterator[tuple[str, bytes]]:
    """An execution's output from its log file. One not started yet has no file: empty; nor
    has one whose log was deleted (``history prune``, a backup restored without logs): empty if
    it recorded no output, else a ``NotFoundError`` saying the log is gone. A log that is there
    but cannot be read (its permissions, a folder in its place) raises the ``OSError``: each
    adapter says so in its terms (the API's 409)."""
    if not execution.log_path:
        return iter(())
    try:
        return read_log(execution.log_path)
    except FileNotFoundError:
        if not execution.status.is_final or execution.output_bytes == 0:
            return iter(())
        raise NotFoundError(
            f"the output of execution {execution.id} is gone ({execution.log_path})",
            hint="Log files are deleted by 'history prune' and the history retention.",
        ) from None


def find_batch(uow: UnitOfWork, ref: str) -> Batch:
    found = uow.batches.find(ref.strip()) if ref.strip() and is_text(ref) else []
    return _unique(found, ref, "batch")


def find_execution(uow: UnitOfWork, ref: str) -> Execution:
    found = uow.executions.find(ref.strip()) if ref.strip() and is_text(ref) else []
    return _unique(found, ref, "execution")


def _storable(where: ExecutionFilter) -> bool:
    """Whether the filter's text can match anything stored (see ``is_text``)."""
    texts = (where.script_path, where.script_contains, where.batch_id)
    return all(is_text(text) for text in texts if text is not None)


def _unique(matches: list[T], ref: str, kind: str) -> T:
    exact = [m for m in matches if m.id == ref.strip()]
    if exact:
        return exact[0]
    if len(matches) == 1:
        return matches[0]
    if matches:
        shown = ", ".join(m.id for m in matches)
        more = ", …" if len(matches) >= PREFIX_MATCHES else ""
        raise ConfigurationError(
            f"{kind} id {ref!r} is ambiguous: {shown}{more}",
            hint="Give more characters of the id.",
        )
    raise NotFoundError(
        f"no {kind} with id {ref!r}",
        hint="See past runs with 'scriptbatch history'.",
    )
