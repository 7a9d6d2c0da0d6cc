"""What the CLI prints: names and messages from scripts cannot forge rows or drive the terminal."""

from __future__ import annotations

import io

from AppCode.cli.output import print_error, print_table
from AppCode.core.domain.errors import NotFoundError
from AppCode.utils.paths import printable, shown_path

HOSTILE = "x\nFAKE ROW\x1b[31mRED\x1b]0;title\x07\u202egnp.\u2028end"


def test_control_characters_are_escaped_and_everything_else_kept() -> None:
    shown = printable(HOSTILE + " 中文\tok")
    assert shown == ("x\\nFAKE ROW\\x1b[31mRED\\x1b]0;title\\x07\\u202egnp.\\u2028end 中文\\tok")
    assert printable("plain 中文 name.py") == "plain 中文 name.py"
    assert shown_path("/s/a\nb.py") == "/s/a\\nb.py"


def test_a_table_keeps_one_line_per_row_and_no_escape_sequence() -> None:
    out = io.StringIO()
    print_table(["SCRIPT", "ERROR"], [[HOSTILE, "ValueError: \x1b[2J"]], out=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and "\x1b" not in out.getvalue() and "FAKE ROW" in lines[1]


def test_an_error_naming_a_hostile_file_is_printed_escaped(capsys) -> None:  # type: ignore[no-untyped-def]
    print_error(NotFoundError("no script \x1b[31mred\x07", hint="look \x1b[5m"))
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 2 and "\x1b" not in err and "\x07" not in err
    print_error(NotFoundError("two problems:\n  first\n  second"))  # its own lines stay
    assert capsys.readouterr().err == "error: two problems:\n  first\n  second\n"
