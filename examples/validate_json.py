"""Check that every JSON file under a folder parses and has the required keys.

Searches the folder recursively for "*.json" files (a single file may also be
given) and prints one line per file: "OK" or "INVALID" followed by the reason.
Syntax errors name the line and column where parsing failed. With --require,
each file must also be a JSON object containing the given top-level keys.

Exit status: 0 when every file is valid, 1 when at least one is not.

Usage:
    python validate_json.py                              # check the bundled data/json folder
    python validate_json.py ~/project/config --require name --require version
    python validate_json.py settings.json
"""

import argparse
import json
from pathlib import Path

DEFAULT_FOLDER = Path(__file__).resolve().parent / "data" / "json"

# How Python's json module maps JSON types, for friendlier error messages.
JSON_TYPE_NAMES = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


def check_file(path: Path, required_keys: list[str]) -> str | None:
    """Return a description of what is wrong with *path*, or None if it is valid."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return f"not valid UTF-8 (byte {exc.start})"
    except OSError as exc:
        return f"cannot read file: {exc.strerror or exc}"

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"line {exc.lineno}, column {exc.colno}: {exc.msg}"

    if required_keys:
        if not isinstance(data, dict):
            return f"top-level value is {JSON_TYPE_NAMES[type(data)]}, expected an object"
        missing = [key for key in required_keys if key not in data]
        if missing:
            return "missing required key(s): " + ", ".join(missing)
    return None


def find_json_files(target: Path) -> list[Path]:
    if target.is_file():
        return [target]
    return sorted(p for p in target.rglob("*.json") if p.is_file())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Check that JSON files parse and contain the required top-level keys.",
    )
    parser.add_argument(
        "target",
        nargs="?",
        type=Path,
        default=DEFAULT_FOLDER,
        help="folder to search recursively, or a single file (default: the bundled data/json)",
    )
    parser.add_argument(
        "--require",
        action="append",
        default=[],
        metavar="KEY",
        help="top-level key every file must contain (repeat for several)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    target: Path = args.target
    if not target.exists():
        parser.error(f"no such file or folder: {target}")

    files = find_json_files(target)
    if not files:
        print(f"No *.json files found under {target}")
        return 0

    base = target if target.is_dir() else target.parent
    invalid = 0
    for path in files:
        name = path.relative_to(base).as_posix()
        problem = check_file(path, args.require)
        if problem is None:
            print(f"OK       {name}")
        else:
            invalid += 1
            print(f"INVALID  {name}: {problem}")

    print(f"\n{len(files)} file(s) checked, {invalid} invalid.")
    return 1 if invalid else 0


if __name__ == "__main__":
    raise SystemExit(main())
