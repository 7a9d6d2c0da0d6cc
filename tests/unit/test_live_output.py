from __future__ import annotations

from AppCode.core.domain.events import OutputAppended
from AppCode.core.engines.live_output import MAX_PENDING_CHARS, TAIL_LINES, LiveOutput


def make() -> tuple[LiveOutput, list[OutputAppended]]:
    events: list[OutputAppended] = []
    live = LiveOutput(events.append)
    live.open("e")
    return live, events


def test_partial_lines_join_across_chunks_per_stream() -> None:
    live, events = make()
    live.append("e", "stdout", b"hel")
    live.append("e", "stderr", b"warn\n")
    live.append("e", "stdout", b"lo\nwor")
    assert live.tail("e") == (0, [])  # nothing published yet
    live.flush()
    assert events[0].chunks == (("stdout", "hel"), ("stderr", "warn\n"), ("stdout", "lo\nwor"))
    assert events[0].seq == 1
    assert live.tail("e") == (1, [("stderr", "warn\n"), ("stdout", "hello\n"), ("stdout", "wor")])


def test_a_tail_snapshot_and_later_events_give_the_output_exactly_once() -> None:
    live, events = make()
    live.append("e", "stdout", b"one\n")
    live.flush()
    live.append("e", "stdout", b"two\n")
    seq, chunks = live.tail("e")  # taken while "two" is not yet published
    live.flush()
    later = [c for e in events if e.seq > seq for c in e.chunks]
    assert "".join(t for _, t in chunks + later) == "one\ntwo\n"


def test_invalid_utf8_is_replaced_and_split_characters_are_joined() -> None:
    live, _events = make()
    encoded = "数据\n".encode()
    live.append("e", "stdout", encoded[:2])
    live.append("e", "stdout", encoded[2:] + b"\xff\xfe bad\n")
    live.flush()
    assert live.tail("e")[1] == [("stdout", "数据\n"), ("stdout", "\ufffd\ufffd bad\n")]


def test_only_the_last_lines_are_kept() -> None:
    live, _ = make()
    live.append("e", "stdout", "".join(f"{i}\n" for i in range(1000)).encode())
    live.flush()
    _, tail = live.tail("e")
    assert len(tail) == TAIL_LINES and tail[-1] == ("stdout", "999\n")


def test_a_flood_keeps_the_newest_text_for_live_views() -> None:
    live, events = make()
    for i in range(100):
        live.append("e", "stdout", (f"{i:04d}" * 2000).encode())
    live.flush()
    (event,) = events
    total = sum(len(t) for _, t in event.chunks)
    assert total <= MAX_PENDING_CHARS
    assert "skipped" in event.chunks[0][1]
    assert event.chunks[-1][1].endswith("0099")


def test_close_flushes_and_forgets() -> None:
    live, events = make()
    live.append("e", "stdout", b"no newline at end")
    live.close("e")
    assert events[-1].chunks == (("stdout", "no newline at end"),)
    assert live.tail("e") == (0, [])
