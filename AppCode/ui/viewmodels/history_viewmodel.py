"""Past runs as the history view and the execution dialog show them.

The history can hold millions of executions, so it is never loaded at once: pages of ``PAGE``
executions are fetched on demand with keyset paging (the id of the last row loaded is the
cursor), one page at a time, off the GUI thread. Every filter change starts a new *generation*;
results that come back for an older generation are dropped, so pages of an old filter never
mix into the new results.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from PyQt5.QtCore import QObject, pyqtSignal

from AppCode.core.domain.errors import NotFoundError
from AppCode.core.domain.models import Attempt, Execution, ExecutionStatus
from AppCode.core.domain.ports import ExecutionFilter
from AppCode.services.history_service import HistoryService
from AppCode.ui.viewmodels.background import Background, user_message
from AppCode.ui.viewmodels.batch_viewmodel import read_output

__all__ = ["PAGE", "ExecutionDetailsViewModel", "HistoryViewModel"]

PAGE = 200


def _aware(value: datetime | None) -> datetime | None:
    """Filters compare against UTC timestamps; a naive datetime is taken as local time."""
    if value is None or value.tzinfo is not None:
        return value
    return value.astimezone()


class HistoryViewModel(QObject):
    """The filtered, paged list of past executions, newest first.

    The first page of a filter arrives with ``reset``, later ones with ``appended``; the number
    of matching executions follows with ``count_changed``.
    """

    reset = pyqtSignal(list)  # list[Execution]: the first page of the current filter
    appended = pyqtSignal(list)  # list[Execution]: the next page
    count_changed = pyqtSignal(int)  # how many executions match the filter
    loading_changed = pyqtSignal(bool)  # a page is being fetched
    error_occurred = pyqtSignal(str)

    def __init__(self, history: HistoryService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._history = history
        self._background = Background(self)
        # The filter as the user set it.
        self._script = ""
        self._statuses: frozenset[ExecutionStatus] = frozenset()
        self._batch_ref = ""
        self._since: datetime | None = None
        self._until: datetime | None = None
        self._batch_ids: dict[str, str] = {}  # batch id prefix -> full id, resolved before
        # The results of the current generation.
        self._generation = 0
        self._where: ExecutionFilter | None = None  # resolved once the first page is in
        self._rows: list[Execution] = []
        self._count: int | None = None
        self._can_fetch_more = True
        self._loaded_once = False
        self._fetching = False

    # -- state -------------------------------------------------------------------------------

    @property
    def script_text(self) -> str:
        return self._script

    @property
    def statuses(self) -> frozenset[ExecutionStatus]:
        return self._statuses

    @property
    def batch_ref(self) -> str:
        return self._batch_ref

    @property
    def since(self) -> datetime | None:
        return self._since

    @property
    def until(self) -> datetime | None:
        return self._until

    @property
    def executions(self) -> list[Execution]:
        """The executions loaded so far for the current filter, newest first."""
        return list(self._rows)

    @property
    def count(self) -> int | None:
        """How many executions match the current filter; ``None`` until counted."""
        return self._count

    @property
    def can_fetch_more(self) -> bool:
        """Whether another page may exist (False once a page came back short)."""
        return self._can_fetch_more

    @property
    def is_loading(self) -> bool:
        return self._fetching

    @property
    def has_loaded(self) -> bool:
        """Whether any filter has been loaded yet (views load lazily on first show)."""
        return self._loaded_once

    # -- intents -----------------------------------------------------------------------------

    def set_filter(
        self,
        *,
        script: str = "",
        statuses: Iterable[ExecutionStatus] = (),
        batch: str = "",
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> None:
        """Replace the whole filter and reload once."""
        self._script = script.strip()
        self._statuses = frozenset(statuses)
        self._batch_ref = batch.strip()
        self._since, self._until = _aware(since), _aware(until)
        self.reload()

    def set_script_text(self, text: str) -> None:
        """Only executions whose script path contains ``text`` (any case)."""
        if text.strip() != self._script:
            self._script = text.strip()
            self.reload()

    def set_statuses(self, statuses: Iterable[ExecutionStatus]) -> None:
        """Only executions in one of ``statuses``; empty means every status."""
        wanted = frozenset(statuses)
        if wanted != self._statuses:
            self._statuses = wanted
            self.reload()

    def set_batch_ref(self, text: str) -> None:
        """Only executions of one batch, given by its id or a unique prefix of it."""
        if text.strip() != self._batch_ref:
            self._batch_ref = text.strip()
            self.reload()

    def set_since(self, since: datetime | None) -> None:
        """Only executions created at or after ``since`` (naive: local time)."""
        if _aware(since) != self._since:
            self._since = _aware(since)
            self.reload()

    def set_until(self, until: datetime | None) -> None:
        """Only executions created before ``until`` (naive: local time)."""
        if _aware(until) != self._until:
            self._until = _aware(until)
            self.reload()

    def set_date_range(self, since: datetime | None, until: datetime | None) -> None:
        if (_aware(since), _aware(until)) != (self._since, self._until):
            self._since, self._until = _aware(since), _aware(until)
            self.reload()

    def reload(self) -> None:
        """Start over with the current filter: ``reset`` with the first page, then the count.

        If a page is still being fetched, the new first page is fetched as soon as it is back
        (its result is dropped), so only one query runs at a time.
        """
        self._generation += 1
        self._loaded_once = True
        self._where = None
        self._count = None
        self._can_fetch_more = True
        if not self._fetching:
            self._fetch()

    def fetch_more(self) -> None:
        """Fetch the next page (the first one if nothing was loaded); ignored while a page is
        being fetched or when there is no more."""
        if self._fetching or not self._can_fetch_more:
            return
        if not self._loaded_once:
            self.reload()
            return
        self._fetch()

    def recount(self) -> None:
        """Count the matching executions again (``count_changed`` follows)."""
        if self._where is not None:
            self._count_in_background(self._generation, self._where)

    # -- fetching ----------------------------------------------------------------------------

    def _fetch(self) -> None:
        generation = self._generation
        where = self._where
        after = self._rows[-1].id if where is not None and self._rows else None
        unresolved = self._unresolved_filter()
        known_batches = dict(self._batch_ids)
        history = self._history

        def work() -> tuple[ExecutionFilter, list[Execution]]:
            resolved = where if where is not None else _resolve(history, unresolved, known_batches)
            return resolved, history.executions(resolved, limit=PAGE, after=after)

        self._set_fetching(True)
        self._background.submit(
            work,
            lambda result: self._on_page(generation, result),
            lambda error: self._on_failed(generation, error),
        )

    def _unresolved_filter(self) -> ExecutionFilter:
        """The filter with the batch field still as typed (resolved on the worker thread)."""
        return ExecutionFilter(
            script_contains=self._script or None,
            statuses=tuple(sorted(self._statuses)),
            batch_id=self._batch_ref or None,
            since=self._since,
            until=self._until,
        )

    def _on_page(self, generation: int, result: tuple[ExecutionFilter, list[Execution]]) -> None:
        if generation != self._generation:
            self._fetch()  # the filter changed meanwhile: this page belongs to the old one
            return
        self._set_fetching(False)
        where, page = result
        first = self._where is None
        self._can_fetch_more = len(page) >= PAGE
        if first:
            self._where = where
            if self._batch_ref and where.batch_id:
                self._batch_ids[self._batch_ref] = where.batch_id
            self._rows = list(page)
            self.reset.emit(list(page))
            if not self._can_fetch_more:
                self._set_count(len(page))  # everything is in: no need to count
            else:
                self._count_in_background(generation, where)
        else:
            self._rows.extend(page)
            self.appended.emit(list(page))

    def _on_failed(self, generation: int, error: BaseException) -> None:
        if generation != self._generation:
            self._fetch()
            return
        self._set_fetching(False)
        self._can_fetch_more = False  # else a view asking for more would retry in a loop
        if self._where is None:  # the first page: show no rows of the previous filter
            self._rows = []
            self.reset.emit([])
            self._set_count(0)
        if isinstance(error, NotFoundError) and self._batch_ref:
            # The service's hint is for the command line; this is the batch filter's.
            self.error_occurred.emit(
                self.tr(
                    "No batch has the id “{batch}” or an id starting with it. A row's tooltip "
                    "shows its batch id."
                ).format(batch=self._batch_ref)
            )
            return
        self.error_occurred.emit(user_message(error))

    def _count_in_background(self, generation: int, where: ExecutionFilter) -> None:
        history = self._history

        def done(count: int) -> None:
            if generation == self._generation:
                self._set_count(count)

        def failed(error: BaseException) -> None:
            if generation == self._generation:
                self.error_occurred.emit(user_message(error))

        self._background.submit(lambda: history.count(where), done, failed)

    def _set_count(self, count: int) -> None:
        self._count = count
        self.count_changed.emit(count)

    def _set_fetching(self, fetching: bool) -> None:
        if fetching != self._fetching:
            self._fetching = fetching
            self.loading_changed.emit(fetching)


def _resolve(
    history: HistoryService, where: ExecutionFilter, known: dict[str, str]
) -> ExecutionFilter:
    """``where`` with its batch id prefix replaced by the full id (runs on a worker thread;
    an unknown or ambiguous prefix raises the service's error)."""
    ref = where.batch_id
    if not ref:
        return where
    batch_id = known.get(ref)
    if batch_id is None:
        batch = history.find_batch(ref)
        batch_id = batch.id
    return ExecutionFilter(
        script_contains=where.script_contains,
        statuses=where.statuses,
        batch_id=batch_id,
        since=where.since,
        until=where.until,
    )


class ExecutionDetailsViewModel(QObject):
    """One execution with its attempts and the tail of its output, for the execution dialog.

    The details arrive first (``loaded``), the output after (``output_loaded``): a large or
    missing log never delays the rest.
    """

    loaded = pyqtSignal(object, list)  # Execution, list[Attempt]
    output_loaded = pyqtSignal(list)  # [(stream, text)], the last 2 MB of the log
    loading_changed = pyqtSignal(bool)
    error_occurred = pyqtSignal(str)

    def __init__(self, history: HistoryService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._history = history
        self._background = Background(self)
        self._requested: str | None = None
        self._execution: Execution | None = None
        self._attempts: list[Attempt] = []
        self._chunks: list[tuple[str, str]] = []
        self._loading = False

    @property
    def execution(self) -> Execution | None:
        return self._execution

    @property
    def attempts(self) -> list[Attempt]:
        return list(self._attempts)

    @property
    def output_chunks(self) -> list[tuple[str, str]]:
        return list(self._chunks)

    @property
    def output_text(self) -> str:
        """The loaded output as plain text (what "Copy output" copies)."""
        return "".join(text for _, text in self._chunks)

    @property
    def is_loading(self) -> bool:
        return self._loading

    def load(self, execution_id: str) -> None:
        """Load an execution (by id or unique prefix), its attempts, then its output."""
        self._requested = execution_id
        self._execution, self._attempts, self._chunks = None, [], []
        history = self._history

        def work() -> tuple[Execution, list[Attempt]]:
            execution = history.execution(execution_id)
            return execution, history.attempts(execution.id)

        self._set_loading(True)
        self._background.submit(
            work,
            lambda result: self._on_loaded(execution_id, result),
            lambda error: self._on_failed(execution_id, error),
        )

    def _on_loaded(self, requested: str, result: tuple[Execution, list[Attempt]]) -> None:
        if requested != self._requested:
            return
        self._execution, self._attempts = result
        self.loaded.emit(self._execution, list(self._attempts))
        execution, history = self._execution, self._history

        def done(chunks: list[tuple[str, str]]) -> None:
            if requested == self._requested:
                self._set_loading(False)
                self._chunks = chunks
                self.output_loaded.emit(list(chunks))

        self._background.submit(
            lambda: read_output(history, execution),
            done,
            lambda error: self._on_failed(requested, error),
        )

    def _on_failed(self, requested: str, error: BaseException) -> None:
        if requested != self._requested:
            return
        self._set_loading(False)
        if not isinstance(error, NotFoundError):
            self.error_occurred.emit(user_message(error))
        elif self._execution is None:  # the service's hint names a command of the CLI
            self.error_occurred.emit(
                self.tr(
                    "There is no execution with the id “{execution}”: it may have been removed "
                    "from the history."
                ).format(execution=requested)
            )
        elif "history prune" not in (error.hint or ""):  # its log cannot be read: why
            self.error_occurred.emit(user_message(error))
        else:  # its log is gone: the service's hint names a command of the CLI
            self.error_occurred.emit(
                self.tr(
                    "{problem}\n\nLog files are removed when old runs are pruned from the "
                    "history, or when a backup without logs is restored."
                ).format(problem=error.message[:1].upper() + error.message[1:])
            )

    def _set_loading(self, loading: bool) -> None:
        if loading != self._loading:
            self._loading = loading
            self.loading_changed.emit(loading)
