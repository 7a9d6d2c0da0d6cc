"""Durations and dates as users type them, including absurd ones (a clear ValueError)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from AppCode.utils.timeparse import parse_duration, parse_since


def test_durations_and_dates() -> None:
    assert parse_duration("90d") == timedelta(days=90)
    assert parse_duration(" 1.5h ") == timedelta(minutes=90)
    now = datetime(2026, 11, 28, tzinfo=UTC)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since("2026-11-01T08:00+00:00") == datetime(2026, 11, 1, 8, tzinfo=UTC)


@pytest.mark.parametrize("text", ["soon", "5x", "-3d"])
def test_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["99999999999d", "1e400w"])
def test_too_long_a_duration_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize("text", ["9999999d", "0001-01-01", "yesterday"])
def test_since_out_of_range_or_nonsense_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_since(text)


@pytest.mark.parametrize("parse", [parse_duration, parse_since])
@pytest.mark.parametrize("text", ["", "  "])
def test_an_empty_text_is_said_to_be_empty(parse, text: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="is empty"):
        parse(text)


@pytest.mark.parametrize(
    ("text", "words"),
    [("99999999999999d", "too long a duration"), ("9999999d", "before the year 1")],
)
def test_since_says_why_a_duration_does_not_fit(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_since(text)
