"""Running service calls off the GUI thread and getting their results back on it."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

from PyQt5.QtCore import QObject, QRunnable, QThreadPool, pyqtSignal

from AppCode.core.domain.errors import ScriptBatchError

log = logging.getLogger(__name__)


def user_message(error: BaseException) -> str:
    """An error in the user's terms: the message and its hint; never a traceback."""
    if isinstance(error, ScriptBatchError):
        return error.message + (f"\n\n{error.hint}" if error.hint else "")
    return "An unexpected error occurred. The details are in the app log (Help > Open log folder)."


class _Call(QRunnable):
    def __init__(self, owner: Background, token: int, fn: Callable[[], Any]) -> None:
        super().__init__()
        self._owner = owner
        self._token = token
        self._fn = fn

    def run(self) -> None:
        try:
            result = self._fn()
        except BaseException as exc:  # reported on the GUI thread, logged here
            if not isinstance(exc, ScriptBatchError):
                log.exception("background call failed")
            self._owner._finished.emit(self._token, None, exc)
            return
        self._owner._finished.emit(self._token, result, None)


class Background(QObject):
    """``submit(fn, on_done, on_error)``: ``fn`` runs on a worker thread; ``on_done(result)`` or
    ``on_error(exception)`` then runs on the thread that owns this object (the GUI thread)."""

    _finished = pyqtSignal(int, object, object)

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self._pool = pool or QThreadPool.globalInstance()
        self._tokens = itertools.count()
        self._callbacks: dict[int, tuple[Callable[[Any], None], Callable[[BaseException], None]]]
        self._callbacks = {}
        self._finished.connect(self._dispatch)

    def submit(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        token = next(self._tokens)
        self._callbacks[token] = (on_done, on_error)
        self._pool.start(_Call(self, token, fn))

    def pending(self) -> int:
        return len(self._callbacks)

    def _dispatch(self, token: int, result: object, error: object) -> None:
        on_done, on_error = self._callbacks.pop(token)
        if isinstance(error, BaseException):
            on_error(error)
        else:
            on_done(result)
