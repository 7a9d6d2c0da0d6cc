"""The last lines of each running execution, and coalesced ``OutputAppended`` events."""

from __future__ import annotations

import codecs
import threading
from collections import deque
from collections.abc import Callable

from AppCode.core.domain.events import OutputAppended

TAIL_LINES = 200
# Live views cannot show more than this per update anyway; the log file has everything.
MAX_PENDING_CHARS = 256 * 1024


class _Stream:
    def __init__(self) -> None:
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.partial = ""


class _Live:
    def __init__(self) -> None:
        self.tail: deque[tuple[str, str]] = deque(maxlen=TAIL_LINES)
        self.streams = {"stdout": _Stream(), "stderr": _Stream()}
        self.pending: list[tuple[str, str]] = []
        self.pending_chars = 0
        self.seq = 0  # output events published so far


class LiveOutput:
    """Keeps the last 200 lines per running execution and batches new text into events.

    ``append`` runs on the engine's thread for every chunk; ``flush`` (called by the engine at
    most ~10 times a second) turns what arrived into one ``OutputAppended`` per execution and
    only then adds it to the tail, so a tail snapshot plus the events after its ``seq`` is the
    output exactly once. ``tail`` may be called from any thread.
    """

    def __init__(self, publish: Callable[[OutputAppended], None]) -> None:
        self._publish = publish
        self._live: dict[str, _Live] = {}
        self._dirty: set[str] = set()
        self._lock = threading.Lock()

    def open(self, execution_id: str) -> None:
        with self._lock:
            self._live.setdefault(execution_id, _Live())

    def append(self, execution_id: str, stream: str, data: bytes) -> None:
        live = self._live.get(execution_id)
        if live is None:
            return
        state = live.streams[stream]
        text = state.decoder.decode(data)
        if not text:
            return
        with self._lock:
            live.pending.append((stream, text))
            live.pending_chars += len(text)
            if live.pending_chars > MAX_PENDING_CHARS:
                self._trim_pending(live)
            self._dirty.add(execution_id)

    def close(self, execution_id: str) -> None:
        """The execution ended: flush what is left of it and forget it."""
        live = self._live.get(execution_id)
        if live is None:
            return
        with self._lock:
            for stream, state in live.streams.items():
                rest = state.decoder.decode(b"", final=True)
                if rest:
                    live.pending.append((stream, rest))
                    self._dirty.add(execution_id)
        self.flush()
        with self._lock:
            del self._live[execution_id]

    def has_pending(self) -> bool:
        return bool(self._dirty)

    def flush(self) -> None:
        with self._lock:
            events = []
            for execution_id in self._dirty:
                live = self._live.get(execution_id)
                if live is None or not live.pending:
                    continue
                live.seq += 1
                chunks = _merge(live.pending)
                events.append(OutputAppended(execution_id, chunks, live.seq))
                for stream, text in chunks:
                    self._add_lines(live, stream, live.streams[stream], text)
                live.pending = []
                live.pending_chars = 0
            self._dirty.clear()
        for event in events:
            self._publish(event)

    def tail(self, execution_id: str) -> tuple[int, list[tuple[str, str]]]:
        """``(seq, chunks)``: the last lines of a running execution's published output as
        ``(stream, text)`` (complete lines end with a newline, an unfinished one does not), and
        the ``seq`` of the last event they include. ``(0, [])`` when it is not running."""
        with self._lock:
            live = self._live.get(execution_id)
            if live is None:
                return 0, []
            chunks = [(stream, line + "\n") for stream, line in live.tail]
            chunks.extend(
                (stream, state.partial) for stream, state in live.streams.items() if state.partial
            )
            return live.seq, chunks

    @staticmethod
    def _add_lines(live: _Live, stream: str, state: _Stream, text: str) -> None:
        parts = (state.partial + text).split("\n")
        state.partial = parts.pop()
        # Only the newest lines can survive in the tail; skip splitting work beyond them.
        for line in parts[-TAIL_LINES:]:
            live.tail.append((stream, line))

    @staticmethod
    def _trim_pending(live: _Live) -> None:
        kept: list[tuple[str, str]] = []
        size = 0
        for stream, text in reversed(live.pending):
            if size + len(text) > MAX_PENDING_CHARS // 2:
                break
            kept.append((stream, text))
            size += len(text)
        if not kept:
            stream, text = live.pending[-1]
            kept.append((stream, text[-(MAX_PENDING_CHARS // 2) :]))
            size = len(kept[0][1])
        kept.reverse()
        kept.insert(0, ("stderr", "\n[… output skipped in the live view; the log has it all]\n"))
        live.pending = kept
        live.pending_chars = size


def _merge(chunks: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    merged: list[tuple[str, str]] = []
    for stream, text in chunks:
        if merged and merged[-1][0] == stream:
            merged[-1] = (stream, merged[-1][1] + text)
        else:
            merged.append((stream, text))
    return tuple(merged)
