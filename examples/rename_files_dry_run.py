"""Plan tidy, normalized file names for a folder and rename only when asked.

Every regular (non-hidden) file directly inside the folder gets a normalized
name: lowercase, runs of spaces turned into single dashes, characters other
than letters, digits, ".", "-" and "_" dropped, and ".jpeg" shortened to
".jpg". An optional --prefix is prepended (once) to every name.

By default this is a dry run: it prints one "old -> new" line per file and
touches nothing. Pass --apply to perform the renames. If two files would end up
with the same name, or a new name is already taken by another file, the script
lists the collisions, renames nothing and exits with status 1.

Usage:
    python rename_files_dry_run.py                      # dry run on the bundled sample folder
    python rename_files_dry_run.py ~/Pictures/trip --prefix "2024 trip"
    python rename_files_dry_run.py ~/Pictures/trip --apply
"""

import argparse
import re
import sys
from pathlib import Path

DEFAULT_FOLDER = Path(__file__).resolve().parent / "data" / "photos-to-rename"

# Extensions that have a shorter, more common spelling.
EXTENSION_ALIASES = {".jpeg": ".jpg", ".tiff": ".tif"}

_UNSAFE_CHARS = re.compile(r"[^\w.-]")  # \w is Unicode-aware: accented letters survive
_DASH_RUNS = re.compile(r"-{2,}")


def normalize_stem(text: str) -> str:
    """Lowercase *text*, turn whitespace into dashes and drop unsafe characters."""
    text = "-".join(text.lower().split())
    text = _UNSAFE_CHARS.sub("", text)
    return _DASH_RUNS.sub("-", text).strip("-.")


def normalized_name(name: str, prefix: str = "") -> str:
    """Return the normalized form of the file name *name*."""
    path = Path(name)
    suffix = path.suffix.lower()
    suffix = EXTENSION_ALIASES.get(suffix, suffix)
    stem = normalize_stem(path.stem) or "unnamed"
    prefix = normalize_stem(prefix)
    if prefix and not stem.startswith(f"{prefix}-"):
        stem = f"{prefix}-{stem}"
    return stem + suffix


def plan_renames(folder: Path, prefix: str = "") -> list[tuple[Path, Path]]:
    """Return (old, new) pairs for the files in *folder* whose name would change."""
    plan = []
    for path in sorted(folder.iterdir(), key=lambda p: (p.name.casefold(), p.name)):
        if not path.is_file() or path.name.startswith("."):
            continue
        new_name = normalized_name(path.name, prefix)
        if new_name != path.name:
            plan.append((path, path.with_name(new_name)))
    return plan


def find_collisions(plan: list[tuple[Path, Path]]) -> list[str]:
    """Describe every planned rename that would overwrite or clash with another file."""
    problems = []
    # Compare case-insensitively: on Windows and macOS "A.jpg" and "a.jpg" are the same file.
    claimed: dict[str, Path] = {}
    for old, new in plan:
        key = new.name.casefold()
        if key in claimed:
            problems.append(
                f"{old.name!r} and {claimed[key].name!r} would both become {new.name!r}"
            )
        else:
            claimed[key] = old
        # A target that already exists is only fine if it is the same file
        # (a case-only rename on a case-insensitive file system).
        if new.exists() and not new.samefile(old):
            problems.append(f"{old.name!r} -> {new.name!r}: a file with that name already exists")
    return problems


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Plan (and optionally apply) normalized file names for a folder.",
    )
    parser.add_argument(
        "folder",
        nargs="?",
        type=Path,
        default=DEFAULT_FOLDER,
        help="folder whose files should be renamed (default: the bundled sample photos)",
    )
    parser.add_argument("--prefix", default="", help="text to put in front of every new name")
    parser.add_argument(
        "--apply",
        action="store_true",
        help="actually rename the files (without it, nothing on disk changes)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    folder: Path = args.folder
    if not folder.is_dir():
        parser.error(f"not a folder: {folder}")

    plan = plan_renames(folder, args.prefix)
    print(f"Folder: {folder}")
    if not plan:
        print("All file names are already normalized; nothing to do.")
        return 0

    for old, new in plan:
        print(f"{old.name} -> {new.name}")

    problems = find_collisions(plan)
    if problems:
        print(f"\nRefusing to rename: {len(problems)} collision(s) found.", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1

    if not args.apply:
        print(f"\nDry run: {len(plan)} file(s) would be renamed. Re-run with --apply to do it.")
        return 0

    for old, new in plan:
        old.rename(new)
    print(f"\nRenamed {len(plan)} file(s).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
