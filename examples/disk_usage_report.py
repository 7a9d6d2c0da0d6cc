"""List the largest files under a folder and the space used per file extension.

Walks the folder recursively (default: this examples folder), skipping hidden
folders such as ".git" and "__pycache__" folders, and not following symbolic
links. Prints the total, the N largest files and a table of totals per
extension, all with human-readable sizes (1 KiB = 1024 bytes). Files that
cannot be read are counted and skipped.

Usage:
    python disk_usage_report.py                          # report on the examples folder
    python disk_usage_report.py ~/Downloads --top 20
"""

import argparse
import os
from collections import Counter
from pathlib import Path

DEFAULT_FOLDER = Path(__file__).resolve().parent
SKIPPED_DIRS = {"__pycache__"}


def human_size(size: int) -> str:
    """Format a byte count, e.g. 1536 -> '1.5 KiB'."""
    if size < 1024:
        return f"{size} B"
    value = size / 1024
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} PiB"


def scan(folder: Path) -> tuple[list[tuple[int, str]], int]:
    """Return ([(size, relative path), ...], number of unreadable entries)."""
    files: list[tuple[int, str]] = []
    errors = 0

    def on_error(_exc: OSError) -> None:
        nonlocal errors
        errors += 1

    for dirpath, dirnames, filenames in os.walk(folder, onerror=on_error):
        # Editing dirnames in place tells os.walk not to descend into those folders.
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in SKIPPED_DIRS)
        for filename in filenames:
            path = Path(dirpath, filename)
            if path.is_symlink():
                continue
            try:
                size = path.stat().st_size
            except OSError:
                errors += 1
                continue
            files.append((size, path.relative_to(folder).as_posix()))
    return files, errors


def extension_of(relative_path: str) -> str:
    return Path(relative_path).suffix.lower() or "(none)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="List the largest files and the space used per extension.",
    )
    parser.add_argument(
        "folder",
        nargs="?",
        type=Path,
        default=DEFAULT_FOLDER,
        help="folder to scan (default: the examples folder)",
    )
    parser.add_argument(
        "--top", type=int, default=10, help="how many of the largest files to list (default: 10)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        parser.error(f"not a folder: {args.folder}")
    if args.top < 0:
        parser.error("--top must be 0 or more")

    files, errors = scan(args.folder)
    total = sum(size for size, _ in files)
    print(f"Folder: {args.folder}")
    print(f"{len(files)} file(s), {human_size(total)} in total")
    if errors:
        print(f"({errors} unreadable entr{'y' if errors == 1 else 'ies'} skipped)")
    if not files:
        return 0

    # Largest first; equal sizes in path order so the report is stable.
    largest = sorted(files, key=lambda item: (-item[0], item[1]))[: args.top]
    if largest:
        print(f"\nLargest {len(largest)} file(s):")
        for size, path in largest:
            print(f"  {human_size(size):>10}  {path}")

    bytes_by_ext: Counter[str] = Counter()
    files_by_ext: Counter[str] = Counter()
    for size, path in files:
        ext = extension_of(path)
        bytes_by_ext[ext] += size
        files_by_ext[ext] += 1

    print("\nBy extension:")
    for ext, size in sorted(bytes_by_ext.items(), key=lambda item: (-item[1], item[0])):
        share = size / total * 100 if total else 0.0
        count = files_by_ext[ext]
        print(f"  {ext:<10} {human_size(size):>10}  {share:5.1f}%  {count:>5} file(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
