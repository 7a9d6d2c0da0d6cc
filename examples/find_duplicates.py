"""Find files with identical content under a folder, grouped by SHA-256 hash.

Files are first grouped by size, which is cheap; only files that share a size
are read and hashed with SHA-256, in chunks so large files do not fill memory.
Each group of identical files is printed with the space that deleting all but
one copy would free. Empty files and symbolic links are ignored, as are hidden
folders and "__pycache__". Nothing is deleted: this is a report and always
exits 0.

Usage:
    python find_duplicates.py                            # scan the bundled data folder
    python find_duplicates.py ~/Pictures
    python find_duplicates.py ~/Downloads --min-size 1048576
"""

import argparse
import hashlib
import os
from collections import defaultdict
from pathlib import Path

DEFAULT_FOLDER = Path(__file__).resolve().parent / "data"
CHUNK_SIZE = 1024 * 1024


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


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def files_by_size(folder: Path, min_size: int) -> dict[int, list[Path]]:
    groups: dict[int, list[Path]] = defaultdict(list)
    for dirpath, dirnames, filenames in os.walk(folder):
        # Prune hidden folders and bytecode caches; os.walk honours the edited list.
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d != "__pycache__"]
        for filename in filenames:
            path = Path(dirpath, filename)
            try:
                if path.is_symlink() or not path.is_file():
                    continue
                size = path.stat().st_size
            except OSError:
                continue
            if size >= min_size:
                groups[size].append(path)
    return groups


def find_duplicates(folder: Path, min_size: int = 1) -> list[tuple[int, str, list[Path]]]:
    """Return [(size, sha256, paths), ...] for every set of two or more identical files."""
    duplicates = []
    for size, paths in files_by_size(folder, min_size).items():
        if len(paths) < 2:
            continue  # a unique size cannot have a duplicate: no need to read the file
        by_hash: dict[str, list[Path]] = defaultdict(list)
        for path in paths:
            try:
                by_hash[sha256_of(path)].append(path)
            except OSError:
                continue
        for digest, same in by_hash.items():
            if len(same) > 1:
                duplicates.append((size, digest, sorted(same)))
    # Biggest waste first, then by path for a stable order.
    duplicates.sort(key=lambda group: (-group[0] * (len(group[2]) - 1), group[2]))
    return duplicates


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Find files with identical content.")
    parser.add_argument(
        "folder",
        nargs="?",
        type=Path,
        default=DEFAULT_FOLDER,
        help="folder to scan recursively (default: the bundled data folder)",
    )
    parser.add_argument(
        "--min-size",
        type=int,
        default=1,
        metavar="BYTES",
        help="ignore files smaller than this (default: 1, i.e. skip empty files)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    folder: Path = args.folder
    if not folder.is_dir():
        parser.error(f"not a folder: {folder}")

    groups = find_duplicates(folder, max(args.min_size, 1))
    print(f"Folder: {folder}")
    if not groups:
        print("No duplicate files found.")
        return 0

    wasted = 0
    for number, (size, digest, paths) in enumerate(groups, start=1):
        wasted += size * (len(paths) - 1)
        print(
            f"\nGroup {number}: {len(paths)} files, {human_size(size)} each, sha256 {digest[:12]}"
        )
        for path in paths:
            print(f"  {path.relative_to(folder).as_posix()}")

    redundant = sum(len(paths) - 1 for _, _, paths in groups)
    print(
        f"\n{len(groups)} group(s), {redundant} redundant file(s), "
        f"{human_size(wasted)} could be freed."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
