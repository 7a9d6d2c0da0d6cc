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
    assert live.tail("e") == [("stderr", "warn"), ("stdout", "hello"), ("stdout", "wor")]
    live.flush()
    assert events[0].chunks == (("stdout", "hel"), ("stderr", "warn\n"), ("stdout", "lo\nwor"))


def test_invalid_utf8_is_replaced_and_split_characters_are_joined() -> None:
    live, _events = make()
    encoded = "数据\n".encode()
    live.append("e", "stdout", encoded[:2])
    live.append("e", "stdout", encoded[2:] + b"\xff\xfe bad\n")
    assert live.tail("e") == [("stdout", "数据"), ("stdout", "\ufffd\ufffd bad")]


def test_only_the_last_lines_are_kept() -> None:
    live, _ = make()
    live.append("e", "stdout", "".join(f"{i}\n" for i in range(1000)).encode())
    tail = live.tail("e")
    assert len(tail) == TAIL_LINES and tail[-1] == ("stdout", "999")


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
    assert live.tail("e") == []
