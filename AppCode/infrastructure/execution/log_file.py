"""Per-execution log files: ``runs/<batch>/<execution>.log`` and its stream index.

The ``.log`` holds the script's output bytes exactly as written, stdout and stderr interleaved
in the order they arrived (``cat`` shows what a terminal would have). Which byte ranges came from
stderr is kept beside it in ``.log.idx``: one line ``<offset> <o|e>`` each time the stream
changes to stderr and back (output that starts on stdout needs no line). Non-UTF-8 bytes are
kept; readers decode with replacement for display. Output beyond the size cap is dropped (the
script keeps running unblocked) with a marker.

Every started attempt has a ``.log``, empty if the script printed nothing. Where the fork server
starts the script, its child creates the file before the script's first line (``create_log``),
off the engine's loop: creating a file costs 0.02-0.8 ms on the CI machine's file system (ext4
scans past recently deleted inodes), ~10% of a batch of trivial scripts when the loop did it.
The runner opens it at the first byte or note to write, and makes it at the attempt's end if it
is not there (a start that failed, ``subprocess.Popen`` outside Linux). The ``.idx`` is created
only when a script writes to stderr: most never do.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

STDOUT, STDERR = "stdout", "stderr"
_CODES = {STDOUT: b"o", STDERR: b"e"}
_STREAMS = {"o": STDOUT, "e": STDERR}


def index_path(log_path: str | Path) -> Path:
    return Path(str(log_path) + ".idx")


def create_log(path: str) -> None:
    """Make the (empty) log file of an attempt, and its batch's folder if need be."""
    os.close(_open_append(path))


class LogWriter:
    """Appends output chunks to a log file (one attempt; retries append). The file is opened by
    the first write or note, and made at ``close`` if nothing made it (see the module)."""

    def __init__(self, path: str, max_bytes: int) -> None:
        self.path = path
        self._fd = -1  # opened by the first write (see the module's docstring)
        self._idx = -1  # created by the first mark
        self._offset = 0  # once open: the file's size (a retry appends to the earlier attempts)
        self._stream: str | None = None
        self._max_bytes = max_bytes
        self.received = 0  # bytes the script wrote this attempt, kept or not
        self._truncated = False

    def write(self, stream: str, data: bytes) -> None:
        self.received += len(data)
        if self._truncated:
            return
        self._open()
        room = self._max_bytes - self._offset
        if len(data) > room:
            self._emit(stream, data[: max(room, 0)])
            limit_mb = self._max_bytes / (1024 * 1024)
            self._emit(
                STDERR,
                f"\n[scriptbatch: output truncated at {limit_mb:g} MB; the rest was dropped "
                "while the script kept running]\n".encode(),
            )
            self._truncated = True
            return
        self._emit(stream, data)

    def note(self, text: str) -> None:
        """A line from ScriptBatch itself (e.g. "attempt 2 of 3"), shown as stderr."""
        self._open()
        self._emit(STDERR, f"[scriptbatch: {text}]\n".encode())

    def close(self) -> None:
        if self._fd < 0 and not os.path.exists(self.path):
            create_log(self.path)
        for fd in (self._fd, self._idx):
            if fd >= 0:
                os.close(fd)
        self._fd = self._idx = -1

    def _open(self) -> None:
        if self._fd < 0:
            self._fd = _open_append(self.path)
            self._offset = os.fstat(self._fd).st_size

    def _emit(self, stream: str, data: bytes) -> None:
        if not data:
            return
        if stream != self._stream:
            if self._offset or stream != STDOUT:  # a log starts on stdout unless marked
                if self._idx < 0:
                    self._idx = _open_append(str(index_path(self.path)))
                os.write(self._idx, b"%d %s\n" % (self._offset, _CODES[stream]))
            self._stream = stream
        os.write(self._fd, data)
        self._offset += len(data)


def _open_append(path: str) -> int:
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    except FileNotFoundError:  # the batch's run folder, made by its first log
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)


def read_log(path: str | Path) -> Iterator[tuple[str, bytes]]:
    """The log's chunks as ``(stream, bytes)``, merged per run of the same stream. Reads the
    file now, so a missing log raises ``FileNotFoundError`` here, not while iterating."""
    path = Path(path)
    data = path.read_bytes()
    return _chunks(path, data)


def _chunks(path: Path, data: bytes) -> Iterator[tuple[str, bytes]]:
    marks: list[tuple[int, str]] = []
    idx = index_path(path)
    if idx.exists():
        for line in idx.read_text(encoding="ascii", errors="replace").splitlines():
            offset, _, code = line.partition(" ")
            if offset.isdigit() and code in _STREAMS:
                marks.append((int(offset), _STREAMS[code]))
    if not marks or marks[0][0] > 0:
        marks.insert(0, (0, STDOUT))
    # A retry marks its first chunk's stream even when it continues the previous one.
    marks = [m for i, m in enumerate(marks) if i == 0 or m[1] != marks[i - 1][1]]
    for i, (start, stream) in enumerate(marks):
        end = marks[i + 1][0] if i + 1 < len(marks) else len(data)
        if end > start:
            yield stream, data[start:end]


def remove_log(path: str | Path) -> None:
    """Delete a log and its index, and the run folder once it is empty."""
    for file in (Path(path), index_path(path)):
        try:
            file.unlink()
        except FileNotFoundError:
            pass
    try:
        Path(path).parent.rmdir()
    except OSError:
        pass  # other executions' logs are still there
