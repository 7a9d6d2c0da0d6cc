"""Integration tests for the bundled example scripts in examples/.

Every script is run as a real subprocess against a temporary copy of the
examples folder, so the checkout is never modified. The scripts are parsed
with ``ast`` but never imported.
"""

import ast
import csv
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
TIMEOUT = 60  # seconds per script run; generous for slow CI machines

SCRIPTS = [
    "always_fails.py",
    "csv_summary.py",
    "disk_usage_report.py",
    "find_duplicates.py",
    "greet_with_args.py",
    "port_check.py",
    "rename_files_dry_run.py",
    "slow_progress.py",
    "validate_json.py",
    "word_frequency.py",
]

# Scripts that succeed when run without arguments. slow_progress.py is left out
# because its defaults take five seconds; it is run with --delay 0 below.
DEFAULT_RUN_OK = [s for s in SCRIPTS if s not in {"always_fails.py", "slow_progress.py"}]

PHOTO_NAMES = {
    "Beach Sunset.PNG",
    "Family  Dinner 2023.jpeg",
    "Holiday Photo (2).jpeg",
    "IMG 0001.JPG",
    "IMG 0002.JPG",
}


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """A private copy of the examples folder."""
    copy = tmp_path / "examples"
    shutil.copytree(EXAMPLES_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An unrelated working directory, proving scripts do not rely on the cwd."""
    path = tmp_path / "elsewhere"
    path.mkdir()
    return path


def run(script: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONUTF8="1", PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        [sys.executable, str(script), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
        check=False,
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --------------------------------------------------------------------------- structure


def test_examples_folder_holds_exactly_the_demo_scripts() -> None:
    # The app registers every *.py under examples/, so no helper modules may hide in it.
    found = sorted(p.relative_to(EXAMPLES_DIR).as_posix() for p in EXAMPLES_DIR.rglob("*.py"))
    assert found == SCRIPTS
    assert (EXAMPLES_DIR / "README.md").is_file()


def test_readme_mentions_every_script() -> None:
    readme = (EXAMPLES_DIR / "README.md").read_text(encoding="utf-8")
    for name in SCRIPTS:
        assert f"python {name}" in readme, f"README has no example invocation of {name}"


@pytest.mark.parametrize("name", SCRIPTS)
def test_docstring_first_line_is_a_sentence(name: str) -> None:
    tree = ast.parse((EXAMPLES_DIR / name).read_text(encoding="utf-8"), filename=name)
    docstring = ast.get_docstring(tree)
    assert docstring, f"{name} has no module docstring"
    lines = docstring.splitlines()
    first = lines[0].strip()
    assert first, "first docstring line is empty"
    assert first[0].isupper() and first.endswith("."), f"not a sentence: {first!r}"
    assert len(lines) > 2 and lines[1].strip() == "", "summary must be followed by a blank line"


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_structure_and_stdlib_only(name: str) -> None:
    source = (EXAMPLES_DIR / name).read_text(encoding="utf-8")
    tree = ast.parse(source, filename=name)

    mains = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main"]
    assert len(mains) == 1, "expected one top-level main()"
    assert [a.arg for a in mains[0].args.args] == ["argv"]
    assert 'if __name__ == "__main__":\n    raise SystemExit(main())' in source

    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative imports are not allowed"
            imported.add((node.module or "").split(".")[0])
    assert "argparse" in imported
    non_stdlib = imported - set(sys.stdlib_module_names) - {"__future__"}
    assert not non_stdlib, f"third-party imports: {non_stdlib}"


@pytest.mark.parametrize("name", SCRIPTS)
def test_help(name: str, examples: Path, workdir: Path) -> None:
    result = run(examples / name, "--help", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout


@pytest.mark.parametrize("name", DEFAULT_RUN_OK)
def test_runs_with_defaults(name: str, examples: Path, workdir: Path) -> None:
    before = snapshot(examples)
    result = run(examples / name, cwd=workdir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip()
    assert snapshot(examples) == before, "running with defaults must not change any file"


# --------------------------------------------------------------------------- always_fails


def test_always_fails_with_value_error(examples: Path, workdir: Path) -> None:
    result = run(examples / "always_fails.py", cwd=workdir)
    assert result.returncode != 0
    assert "Checking invoice" in result.stdout
    assert "Traceback" in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "ValueError: invoice total does not match line items: 120.00 != 118.50"
    )


# --------------------------------------------------------------------------- slow_progress


def test_slow_progress_prints_each_step(examples: Path, workdir: Path) -> None:
    result = run(examples / "slow_progress.py", "--steps", "3", "--delay", "0", cwd=workdir)
    assert result.returncode == 0, result.stderr
    steps = [line for line in result.stdout.splitlines() if line.startswith("step ")]
    assert steps == ["step 1/3 ... 33%", "step 2/3 ... 66%", "step 3/3 ... 100%"]


@pytest.mark.parametrize("args", [["--steps", "0"], ["--delay", "-1"], ["--steps", "x"]])
def test_slow_progress_rejects_bad_arguments(
    args: list[str], examples: Path, workdir: Path
) -> None:
    result = run(examples / "slow_progress.py", *args, cwd=workdir)
    assert result.returncode == 2
    assert "error:" in result.stderr


# --------------------------------------------------------------------------- greet_with_args


def test_greet_defaults(examples: Path, workdir: Path) -> None:
    result = run(examples / "greet_with_args.py", cwd=workdir)
    assert result.returncode == 0
    assert "Hello, world!" in result.stdout
    assert "[]" in result.stdout


def test_greet_with_options_echoes_arguments(examples: Path, workdir: Path) -> None:
    args = ["Ada", "Mary Ann", "--greeting", "Hi", "--times", "2", "--shout"]
    result = run(examples / "greet_with_args.py", *args, cwd=workdir)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines.count("HI, ADA!") == 2
    assert lines.count("HI, MARY ANN!") == 2
    assert repr(args) in result.stdout


# --------------------------------------------------------------------------- rename_files_dry_run


def test_rename_dry_run_changes_nothing(examples: Path, workdir: Path) -> None:
    photos = examples / "data" / "photos-to-rename"
    before = snapshot(photos)
    assert set(before) == PHOTO_NAMES

    result = run(examples / "rename_files_dry_run.py", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "IMG 0001.JPG -> img-0001.jpg" in result.stdout
    assert "Holiday Photo (2).jpeg -> holiday-photo-2.jpg" in result.stdout
    assert "Family  Dinner 2023.jpeg -> family-dinner-2023.jpg" in result.stdout
    assert "--apply" in result.stdout
    assert snapshot(photos) == before


def test_rename_apply_renames_in_copy(examples: Path, workdir: Path) -> None:
    photos = examples / "data" / "photos-to-rename"
    before = snapshot(photos)
    args = [str(photos), "--prefix", "Trip", "--apply"]

    result = run(examples / "rename_files_dry_run.py", *args, cwd=workdir)
    assert result.returncode == 0, result.stderr
    after = snapshot(photos)
    assert set(after) == {
        "trip-beach-sunset.png",
        "trip-family-dinner-2023.jpg",
        "trip-holiday-photo-2.jpg",
        "trip-img-0001.jpg",
        "trip-img-0002.jpg",
    }
    assert after["trip-img-0002.jpg"] == before["IMG 0002.JPG"]

    # Normalizing is idempotent: a second run has nothing left to do.
    again = run(examples / "rename_files_dry_run.py", *args, cwd=workdir)
    assert again.returncode == 0
    assert "nothing to do" in again.stdout
    assert snapshot(photos) == after


def test_rename_refuses_collisions(tmp_path: Path, examples: Path, workdir: Path) -> None:
    folder = tmp_path / "clash"
    folder.mkdir()
    for name in ["Report Final.TXT", "report  final.txt", "Photo.jpeg", "photo.jpg"]:
        (folder / name).write_text(name, encoding="utf-8")
    before = snapshot(folder)

    result = run(examples / "rename_files_dry_run.py", str(folder), "--apply", cwd=workdir)
    assert result.returncode == 1
    assert "collision" in result.stderr
    assert "report-final.txt" in result.stderr
    assert "photo.jpg" in result.stderr
    assert snapshot(folder) == before


# --------------------------------------------------------------------------- csv_summary


def test_csv_summary_default(examples: Path, workdir: Path) -> None:
    with (examples / "data" / "sales.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    units = [int(row["units"]) for row in rows]

    result = run(examples / "csv_summary.py", cwd=workdir)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"Rows:    {len(rows)}" in out
    assert "Columns: 5 (date, region, product, units, unit_price)" in out
    assert "units (numeric, 40 values)" in out
    assert f"  sum   {sum(units):,}\n" in out
    assert f"  min   {min(units)}\n" in out
    assert f"  max   {max(units)}\n" in out
    assert "region (text, 40 values)" in out
    assert "  distinct  4" in out
    assert "unit_price (numeric" in out


def test_csv_summary_column_filter(examples: Path, workdir: Path) -> None:
    result = run(examples / "csv_summary.py", "--column", "region", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "region (text" in result.stdout
    assert "units (" not in result.stdout

    bad = run(examples / "csv_summary.py", "--column", "nope", cwd=workdir)
    assert bad.returncode == 2
    assert "unknown column" in bad.stderr


def test_csv_summary_mixed_and_empty_cells(tmp_path: Path, examples: Path, workdir: Path) -> None:
    data = tmp_path / "mixed.csv"
    data.write_text("name,score\nann,1.5\nbob,\ncid,2\nann,n/a\n", encoding="utf-8")
    result = run(examples / "csv_summary.py", str(data), cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "name (text, 4 values)" in result.stdout
    assert "ann (2)" in result.stdout
    assert "score (text, 3 values, 1 empty)" in result.stdout  # "n/a" makes it text


# --------------------------------------------------------------------------- validate_json


def test_validate_json_default_is_valid(examples: Path, workdir: Path) -> None:
    result = run(examples / "validate_json.py", "--require", "version", cwd=workdir)
    assert result.returncode == 0, result.stdout
    ok_lines = [line for line in result.stdout.splitlines() if line.startswith("OK")]
    assert len(ok_lines) == 3
    assert "0 invalid" in result.stdout


def test_validate_json_reports_broken_file(tmp_path: Path, examples: Path, workdir: Path) -> None:
    folder = tmp_path / "json"
    folder.mkdir()
    (folder / "good.json").write_text('{"name": "ok", "version": 1}', encoding="utf-8")
    (folder / "broken.json").write_text(
        '{\n  "name": "demo",\n  "version": 1\n  "debug": true\n}\n', encoding="utf-8"
    )
    result = run(examples / "validate_json.py", str(folder), cwd=workdir)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    broken = [line for line in lines if "broken.json" in line]
    assert len(broken) == 1
    assert broken[0].startswith("INVALID")
    assert "line 4, column 3" in broken[0]
    assert any(line.startswith("OK") and "good.json" in line for line in lines)


def test_validate_json_required_keys(tmp_path: Path, examples: Path, workdir: Path) -> None:
    folder = tmp_path / "json"
    folder.mkdir()
    (folder / "a.json").write_text('{"name": "a"}', encoding="utf-8")
    (folder / "b.json").write_text("[1, 2]", encoding="utf-8")
    args = [str(folder), "--require", "name", "--require", "version"]
    result = run(examples / "validate_json.py", *args, cwd=workdir)
    assert result.returncode == 1
    assert "a.json: missing required key(s): version" in result.stdout
    assert "b.json: top-level value is an array" in result.stdout


# --------------------------------------------------------------------------- port_check


def test_port_check_reports_open_port(examples: Path, workdir: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        args = ["--host", "127.0.0.1", "--port", str(port), "--require-open", "--timeout", "5"]
        result = run(examples / "port_check.py", *args, cwd=workdir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(rf"^\s*{port}\s+open\s+[\d.]+ ms$", result.stdout, re.MULTILINE)


def test_port_check_closed_port(examples: Path, workdir: Path) -> None:
    # A bound but non-listening socket reserves a port nobody accepts connections on.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as reserved:
        reserved.bind(("127.0.0.1", 0))
        port = str(reserved.getsockname()[1])
        base = ["--host", "127.0.0.1", "--port", port, "--timeout", "5"]
        report = run(examples / "port_check.py", *base, cwd=workdir)
        required = run(examples / "port_check.py", *base, "--require-open", cwd=workdir)

    assert report.returncode == 0, report.stderr
    assert re.search(rf"^\s*{port}\s+closed\s", report.stdout, re.MULTILINE)
    assert required.returncode == 1
    assert port in required.stderr


def test_port_check_rejects_invalid_port(examples: Path, workdir: Path) -> None:
    result = run(examples / "port_check.py", "--port", "70000", cwd=workdir)
    assert result.returncode == 2
    assert "65535" in result.stderr


# --------------------------------------------------------------------------- disk_usage_report


def test_disk_usage_report(tmp_path: Path, examples: Path, workdir: Path) -> None:
    folder = tmp_path / "disk"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "big.bin").write_bytes(b"x" * 3072)
    (folder / "small.txt").write_bytes(b"y" * 100)
    (folder / "notes.TXT").write_bytes(b"z" * 50)
    for skipped in (".git", "__pycache__"):
        (folder / skipped).mkdir()
        (folder / skipped / "huge.dat").write_bytes(b"0" * 10_000)

    result = run(examples / "disk_usage_report.py", str(folder), "--top", "2", cwd=workdir)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "3 file(s)" in out
    assert re.search(r"3\.0 KiB\s+sub/big\.bin", out)
    assert re.search(r"100 B\s+small\.txt", out)
    assert "notes.TXT" not in out  # only the top 2 files are listed
    assert re.search(r"^\s+\.txt\s+150 B\s.*\s2 file\(s\)$", out, re.MULTILINE)
    assert "huge.dat" not in out and ".dat" not in out


def test_disk_usage_report_default_lists_examples(examples: Path, workdir: Path) -> None:
    result = run(examples / "disk_usage_report.py", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert ".py" in result.stdout
    assert "__pycache__" not in result.stdout


# --------------------------------------------------------------------------- word_frequency


def test_word_frequency_counts_case_folded_without_stop_words(
    tmp_path: Path, examples: Path, workdir: Path
) -> None:
    text = tmp_path / "text.txt"
    text.write_text("The cat and the hat. Cat, CAT! A hat; one dog in 2024.", encoding="utf-8")
    result = run(examples / "word_frequency.py", str(text), "--top", "3", cwd=workdir)
    assert result.returncode == 0, result.stderr
    ranked = re.findall(r"^\s+\d+\. (\S+)\s+(\d+)$", result.stdout, re.MULTILINE)
    assert ranked == [("cat", "3"), ("hat", "2"), ("dog", "1")]


def test_word_frequency_default_sample(examples: Path, workdir: Path) -> None:
    result = run(examples / "word_frequency.py", "--top", "5", cwd=workdir)
    assert result.returncode == 0, result.stderr
    ranked = re.findall(r"^\s+\d+\. (\S+)\s+(\d+)$", result.stdout, re.MULTILINE)
    assert len(ranked) == 5
    assert "the" not in {word for word, _ in ranked}
    counts = [int(count) for _, count in ranked]
    assert counts == sorted(counts, reverse=True)


# --------------------------------------------------------------------------- find_duplicates


def test_find_duplicates_groups_identical_files(
    tmp_path: Path, examples: Path, workdir: Path
) -> None:
    folder = tmp_path / "dupes"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("same content", encoding="utf-8")
    (folder / "sub" / "b.txt").write_text("same content", encoding="utf-8")
    (folder / "c.txt").write_text("diff content", encoding="utf-8")  # same size, other hash
    (folder / "empty1").touch()
    (folder / "empty2").touch()

    result = run(examples / "find_duplicates.py", str(folder), cwd=workdir)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.count("Group ") == 1
    assert "  a.txt\n  sub/b.txt\n" in out
    assert "c.txt" not in out and "empty" not in out
    assert "1 group(s), 1 redundant file(s)" in out


def test_find_duplicates_default_data(examples: Path, workdir: Path) -> None:
    result = run(examples / "find_duplicates.py", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "photos-to-rename/Holiday Photo (2).jpeg" in result.stdout
    assert "photos-to-rename/IMG 0001.JPG" in result.stdout


def test_find_duplicates_none(tmp_path: Path, examples: Path, workdir: Path) -> None:
    folder = tmp_path / "unique"
    folder.mkdir()
    (folder / "one.txt").write_text("one", encoding="utf-8")
    (folder / "two.txt").write_text("two", encoding="utf-8")
    result = run(examples / "find_duplicates.py", str(folder), cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "No duplicate files found." in result.stdout
