from __future__ import annotations

import hashlib
from pathlib import Path

from AppCode.core.managers.script_manager import Rejected, ScriptFile, ScriptManager


def write(path: Path, text: str = "print('hi')\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_folders_are_searched_recursively_for_py_files_only(tmp_path: Path) -> None:
    a = write(tmp_path / "a.py")
    b = write(tmp_path / "sub" / "deeper" / "b.py")
    write(tmp_path / "notes.txt")
    write(tmp_path / "data.pyc")
    found = ScriptManager().discover([tmp_path])
    assert found.files == [str(a), str(b)]
    assert found.rejected == []


def test_caches_hidden_folders_and_virtualenvs_are_skipped(tmp_path: Path) -> None:
    keep = write(tmp_path / "keep.py")
    write(tmp_path / "__pycache__" / "x.py")
    write(tmp_path / ".git" / "hook.py")
    write(tmp_path / ".hidden.py")
    venv = tmp_path / "env-anything"
    write(venv / "lib" / "site.py")
    write(venv / "pyvenv.cfg", "home = /usr/bin\n")
    write(tmp_path / "lib" / "site-packages" / "pkg.py")
    assert ScriptManager().discover([tmp_path]).files == [str(keep)]


def test_missing_paths_empty_folders_and_other_files_are_rejected_with_reasons(
    tmp_path: Path,
) -> None:
    (tmp_path / "empty").mkdir()
    write(tmp_path / "readme.md")
    found = ScriptManager().discover(
        [tmp_path / "nope.py", tmp_path / "empty", tmp_path / "readme.md"]
    )
    assert found.files == []
    assert found.rejected == [
        Rejected(str(tmp_path / "nope.py"), "no such file or folder"),
        Rejected(str(tmp_path / "empty"), "no Python scripts (*.py) in this folder"),
        Rejected(str(tmp_path / "readme.md"), "not a Python script (*.py)"),
    ]


def test_a_file_named_twice_is_found_once(tmp_path: Path) -> None:
    a = write(tmp_path / "a.py")
    assert ScriptManager().discover([a, tmp_path, a]).files == [str(a)]


def test_relative_paths_become_absolute(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    a = write(tmp_path / "a.py")
    monkeypatch.chdir(tmp_path)
    assert ScriptManager().discover(["a.py"]).files == [str(a)]


def test_inspect_reads_docstring_size_and_hash_without_running(tmp_path: Path) -> None:
    source = '"""Clean the CSV exports.\n\nLonger text."""\nraise SystemExit("ran!")\n'
    path = write(tmp_path / "clean.py", source)
    info = ScriptManager().inspect(str(path))
    assert isinstance(info, ScriptFile)
    assert info.name == "clean"
    assert info.description == "Clean the CSV exports."
    assert info.size == len(source.encode())
    assert info.sha256 == hashlib.sha256(source.encode()).hexdigest()


def test_syntax_errors_and_empty_files_still_register_without_description(tmp_path: Path) -> None:
    manager = ScriptManager()
    broken = manager.inspect(str(write(tmp_path / "broken.py", "def (:\n")))
    empty = manager.inspect(str(write(tmp_path / "empty.py", "")))
    assert isinstance(broken, ScriptFile) and broken.description == ""
    assert isinstance(empty, ScriptFile) and empty.size == 0


def test_binary_file_named_py_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "image.py"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    result = ScriptManager().inspect(str(path))
    assert isinstance(result, Rejected) and "binary" in result.reason


def test_pep263_encodings_are_honoured(tmp_path: Path) -> None:
    path = tmp_path / "latin.py"
    path.write_bytes('# -*- coding: latin-1 -*-\n"""Caf\xe9 report."""\n'.encode("latin-1"))
    info = ScriptManager().inspect(str(path))
    assert isinstance(info, ScriptFile) and info.description == "Café report."


def test_chinese_folder_names_and_spaces_work(tmp_path: Path) -> None:
    path = write(tmp_path / "数据 清理" / "每日 报表.py", '"""生成每日报表。"""\n')
    manager = ScriptManager()
    assert manager.discover([tmp_path]).files == [str(path)]
    info = manager.inspect(str(path))
    assert isinstance(info, ScriptFile)
    assert info.name == "每日 报表" and info.description == "生成每日报表。"
