"""The small pure parts of the API: byte ranges, cursors, the OpenAPI 3.0 rendition."""

from __future__ import annotations

import pytest

from AppCode.api.docs import openapi_30
from AppCode.api.pagination import decode_cursor, encode_cursor, page
from AppCode.api.ranges import UnsatisfiableRangeError, byte_range
from AppCode.core.domain.errors import ConfigurationError


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-4", (0, 4)),
        ("bytes=6-", (6, 14)),
        ("bytes=-5", (10, 14)),
        ("bytes=-50", (0, 14)),
        ("bytes=10-999", (10, 14)),
        ("BYTES = 1 - 2", (1, 2)),
        ("bytes=5-2", None),  # invalid: ignored, the whole output is sent
        ("bytes=0-1,4-5", None),  # several ranges: not supported, the whole output
        ("items=0-4", None),
        ("bytes=-", None),
        ("bytes=" + "9" * 5000 + "-", None),
    ],
)
def test_byte_ranges(header: str | None, expected: tuple[int, int] | None) -> None:
    assert byte_range(header, 15) == expected


@pytest.mark.parametrize(("header", "size"), [("bytes=15-", 15), ("bytes=-0", 15), ("bytes=0-", 0)])
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    with pytest.raises(UnsatisfiableRangeError):
        byte_range(header, size)


def test_cursors_round_trip_and_refuse_what_they_did_not_give() -> None:
    assert decode_cursor("batches", encode_cursor("batches", 100)) == 100
    assert decode_cursor("executions", encode_cursor("executions", "01abc")) == "01abc"
    assert decode_cursor("batches", None) is None
    for bad in (encode_cursor("scripts", 100), "!!", "", "e30", encode_cursor("batches", -1)):
        with pytest.raises(ConfigurationError, match="cursor"):
            decode_cursor("batches", bad)
    with pytest.raises(ConfigurationError):
        decode_cursor("batches", encode_cursor("batches", 10**12))

    rows = list(range(5))
    first = page("n", rows, 0, 2, lambda n: {"n": n})
    assert first["items"] == [{"n": 0}, {"n": 1}] and first["next_cursor"]
    last = page("n", rows, 4, 2, lambda n: {"n": n})
    assert last == {"items": [{"n": 4}], "next_cursor": None}


def test_the_openapi_30_rendition_of_31_constructs() -> None:
    document = {
        "openapi": "3.1.0",
        "components": {
            "schemas": {
                "A": {
                    "properties": {
                        "type": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "T"},
                        "ref": {"anyOf": [{"$ref": "#/components/schemas/B"}, {"type": "null"}]},
                        "n": {"type": "number", "exclusiveMinimum": 0, "examples": [1.5]},
                        "k": {"const": "x"},
                    }
                }
            }
        },
    }

    converted = openapi_30(document)["components"]["schemas"]["A"]["properties"]

    assert converted["type"] == {"type": "string", "title": "T", "nullable": True}
    assert converted["ref"] == {"allOf": [{"$ref": "#/components/schemas/B"}], "nullable": True}
    assert converted["n"] == {
        "type": "number",
        "minimum": 0,
        "exclusiveMinimum": True,
        "example": 1.5,
    }
    assert converted["k"] == {"enum": ["x"]}
    assert document["openapi"] == "3.1.0"  # the original is left as it was
