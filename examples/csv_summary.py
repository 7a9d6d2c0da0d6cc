"""Summarise the rows and columns of a CSV file.

Prints the number of rows and columns, then one block per column. A column is
numeric when every non-empty cell is a number; it gets min, max, mean and sum.
Any other column is treated as text and gets its number of distinct values and
its three most common values. Empty cells are counted separately. The first
row must be a header. Numbers are handled as decimals, so sums of prices come
out exact.

Usage:
    python csv_summary.py                               # summarise the bundled data/sales.csv
    python csv_summary.py orders.csv --column units --column region
    python csv_summary.py export.csv --delimiter ";"
"""

import argparse
import csv
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

DEFAULT_CSV = Path(__file__).resolve().parent / "data" / "sales.csv"
TOP_VALUES = 3


@dataclass
class ColumnStats:
    name: str
    values: list[str] = field(default_factory=list)  # non-empty cells, stripped
    empty: int = 0


def parse_number(text: str) -> Decimal | None:
    """Return *text* as a finite Decimal, or None if it is not a plain number."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def decimal_places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def read_columns(path: Path, delimiter: str) -> tuple[int, list[ColumnStats]]:
    """Read *path* and return (row count, per-column cell values)."""
    # utf-8-sig transparently drops the byte-order mark that Excel likes to add.
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        if not reader.fieldnames:
            raise ValueError("the file is empty (no header row)")
        columns = {name: ColumnStats(name) for name in reader.fieldnames}
        rows = 0
        for row in reader:
            rows += 1
            for name, stats in columns.items():
                cell = (row.get(name) or "").strip()  # short rows yield None
                if cell:
                    stats.values.append(cell)
                else:
                    stats.empty += 1
    return rows, list(columns.values())


def describe_numeric(numbers: list[Decimal]) -> list[str]:
    # Show results with as many decimals as the input uses (capped at 6).
    places = min(max(decimal_places(n) for n in numbers), 6)
    total = sum(numbers, Decimal(0))
    mean = total / len(numbers)

    def fmt(value: Decimal, minimum_places: int = 0) -> str:
        return f"{value:,.{max(places, minimum_places)}f}"

    return [
        f"  min   {fmt(min(numbers))}",
        f"  max   {fmt(max(numbers))}",
        f"  mean  {fmt(mean, minimum_places=2)}",
        f"  sum   {fmt(total)}",
    ]


def describe_text(values: list[str]) -> list[str]:
    counts = Counter(values)
    # Most common first; ties broken alphabetically so the output is stable.
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP_VALUES]
    return [
        f"  distinct  {len(counts)}",
        "  top       " + ", ".join(f"{value} ({count})" for value, count in top),
    ]


def describe_column(stats: ColumnStats) -> list[str]:
    numbers = [n for n in map(parse_number, stats.values) if n is not None]
    is_numeric = bool(numbers) and len(numbers) == len(stats.values)
    kind = "numeric" if is_numeric else "text"
    header = f"{stats.name} ({kind}, {len(stats.values)} values"
    header += f", {stats.empty} empty)" if stats.empty else ")"
    if not stats.values:
        return [header, "  (no values)"]
    if is_numeric:
        return [header, *describe_numeric(numbers)]
    return [header, *describe_text(stats.values)]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Summarise the rows and columns of a CSV file.")
    parser.add_argument(
        "csv_file",
        nargs="?",
        type=Path,
        default=DEFAULT_CSV,
        help="CSV file with a header row (default: the bundled data/sales.csv)",
    )
    parser.add_argument(
        "--column",
        action="append",
        metavar="NAME",
        help="only summarise this column (repeat for several)",
    )
    parser.add_argument("--delimiter", default=",", help="field separator (default: ',')")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if len(args.delimiter) != 1:
        parser.error("--delimiter must be a single character")
    if not args.csv_file.is_file():
        parser.error(f"no such file: {args.csv_file}")

    try:
        rows, columns = read_columns(args.csv_file, args.delimiter)
    except (ValueError, UnicodeDecodeError, csv.Error) as exc:
        parser.error(f"cannot read {args.csv_file}: {exc}")

    selected = columns
    if args.column:
        by_name = {c.name: c for c in columns}
        unknown = [name for name in args.column if name not in by_name]
        if unknown:
            parser.error(
                f"unknown column(s): {', '.join(unknown)}; available: {', '.join(by_name)}"
            )
        selected = [by_name[name] for name in dict.fromkeys(args.column)]  # keep order, dedupe

    print(f"File:    {args.csv_file}")
    print(f"Rows:    {rows}")
    print(f"Columns: {len(columns)} ({', '.join(c.name for c in columns)})")
    for stats in selected:
        print()
        print("\n".join(describe_column(stats)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
