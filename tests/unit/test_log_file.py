"""Per-execution log files: streams kept apart, an index only when needed, retries appended."""

from __future__ import annotations

from pathlib import Path

from AppCode.infrastructure.execution.log_file import (
    STDERR,
    STDOUT,
    LogWriter,
    create_log,
    read_log,
)


def write(path: Path, chunks: list[tuple[str, bytes]], max_bytes: int = 1 << 20) -> LogWriter:
    writer = LogWriter(str(path), max_bytes)
    for stream, data in chunks:
        writer.write(stream, data)
    writer.close()
    return writer


def test_a_silent_attempt_leaves_an_empty_log_and_no_index(tmp_path: Path) -> None:
    log = tmp_path / "run" / "e1.log"  # the run folder is made by its first log
    writer = write(log, [(STDOUT, b"")])
    assert writer.received == 0
    assert log.read_bytes() == b""
    assert not Path(f"{log}.idx").exists()
    assert list(read_log(log)) == []


def test_stdout_only_needs_no_index(tmp_path: Path) -> None:
    log = tmp_path / "e1.log"
    write(log, [(STDOUT, b"one\n"), (STDOUT, b"two\n")])
    assert log.read_bytes() == b"one\ntwo\n"
    assert not Path(f"{log}.idx").exists()
    assert list(read_log(log)) == [(STDOUT, b"one\ntwo\n")]


def test_streams_are_told_apart_and_a_retry_appends(tmp_path: Path) -> None:
    log = tmp_path / "e1.log"
    write(log, [(STDERR, b"warn\n"), (STDOUT, b"out\n")])
    write(log, [(STDOUT, b"again\n")])  # attempt 2 opens the same log
    assert list(read_log(log)) == [(STDERR, b"warn\n"), (STDOUT, b"out\nagain\n")]
    write(log, [(STDERR, b"last\n")])
    assert list(read_log(log))[-1] == (STDERR, b"last\n")
    assert log.read_bytes() == b"warn\nout\nagain\nlast\n"


def test_the_cap_counts_earlier_attempts_and_marks_the_cut(tmp_path: Path) -> None:
    log = tmp_path / "e1.log"
    write(log, [(STDOUT, b"12345")], max_bytes=8)
    writer = write(log, [(STDOUT, b"678910")], max_bytes=8)
    assert writer.received == 6
    data = log.read_bytes()
    assert data.startswith(b"12345678\n[scriptbatch: output truncated")
    assert list(read_log(log))[-1][0] == STDERR


def test_a_note_creates_the_log(tmp_path: Path) -> None:
    log = tmp_path / "e1.log"
    writer = LogWriter(str(log), 1 << 20)
    writer.note("script not found: x.py")
    writer.close()
    assert list(read_log(log)) == [(STDERR, b"[scriptbatch: script not found: x.py]\n")]


def test_the_file_is_opened_by_the_first_write_and_made_at_close_if_nothing_made_it(
    tmp_path: Path,
) -> None:
    log = tmp_path / "run" / "e1.log"
    writer = LogWriter(str(log), 1 << 20)
    assert not log.exists()  # the fork server's child makes it (create_log), off the app's loop
    writer.close()
    assert log.read_bytes() == b""  # nothing made it: the writer did, at the end
    create_log(str(tmp_path / "run2" / "e2.log"))  # as the child does: the batch folder too
    assert (tmp_path / "run2" / "e2.log").read_bytes() == b""


def test_a_retry_counts_the_earlier_attempts_against_the_size_cap(tmp_path: Path) -> None:
    log = tmp_path / "e1.log"
    write(log, [(STDOUT, b"x" * 60)], max_bytes=100)
    retry = write(log, [(STDOUT, b"y" * 60)], max_bytes=100)  # opened only by this write
    assert retry.received == 60
    data = log.read_bytes()
    assert data.startswith(b"x" * 60 + b"y" * 40) and b"output truncated" in data
