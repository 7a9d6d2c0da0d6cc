from __future__ import annotations

import os
from pathlib import Path

import pytest

from AppCode.core.domain.errors import ConfigurationError, NotFoundError
from AppCode.core.managers.script_manager import ScriptManager
from AppCode.services.script_service import ScriptService
from tests.unit.fakes import FakeCache, FakeUnitOfWork


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def cache() -> FakeCache:
    return FakeCache()


@pytest.fixture
def service(uow: FakeUnitOfWork, cache: FakeCache) -> ScriptService:
    return ScriptService(uow, cache, ScriptManager())


def write(path: Path, text: str = "print('hi')\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_adding_a_folder_registers_each_script_once(
    tmp_path: Path, service: ScriptService, uow: FakeUnitOfWork
) -> None:
    write(tmp_path / "a.py", '"""Alpha."""\n')
    write(tmp_path / "sub" / "b.py")
    report = service.add([tmp_path])
    assert [s.name for s in report.added] == ["a", "b"]
    assert uow.commits == 1
    again = service.add([tmp_path])
    assert again.added == [] and len(again.unchanged) == 2
    assert [s.description for s in service.list()] == ["Alpha.", ""]


def test_changed_files_are_updated_when_added_again(tmp_path: Path, service: ScriptService) -> None:
    path = write(tmp_path / "a.py", '"""Old."""\n')
    service.add([path])
    write(path, '"""New text."""\nprint(1)\n')
    report = service.add([path])
    assert [s.description for s in report.updated] == ["New text."]


def test_rejected_paths_are_reported_and_the_rest_is_stored(
    tmp_path: Path, service: ScriptService
) -> None:
    good = write(tmp_path / "good.py")
    binary = tmp_path / "bin.py"
    binary.write_bytes(b"\x00\x01\x02")
    report = service.add([good, binary, tmp_path / "missing.py"])
    assert [s.path for s in report.added] == [str(good)]
    assert {r.path for r in report.rejected} == {str(binary), str(tmp_path / "missing.py")}


def test_list_is_cached_and_writes_invalidate_it(
    tmp_path: Path, service: ScriptService, cache: FakeCache
) -> None:
    service.add([write(tmp_path / "a.py")])
    assert len(service.list()) == 1
    assert len(service.list()) == 1
    assert (cache.hits, cache.misses) == (1, 1)
    service.add([write(tmp_path / "b.py")])
    assert len(service.list()) == 2


def test_tags_filter_and_search(tmp_path: Path, service: ScriptService) -> None:
    service.add([write(tmp_path / "report.py", '"""Monthly sales."""\n')], tags=["monthly"])
    service.add([write(tmp_path / "clean.py")])
    assert [s.name for s in service.list(tag="monthly")] == ["report"]
    assert [s.name for s in service.list(search="SALES")] == ["report"]
    assert [s.name for s in service.list(search="clean")] == ["clean"]
    tagged = service.tag("2", ["nightly", "monthly"])
    assert tagged.tags == ("monthly", "nightly")
    assert service.tags() == ["monthly", "nightly"]
    assert service.tag(str(tmp_path / "clean.py"), ["monthly"], remove=True).tags == ("nightly",)


def test_invalid_tags_are_refused(tmp_path: Path, service: ScriptService) -> None:
    service.add([write(tmp_path / "a.py")])
    with pytest.raises(ConfigurationError, match="tag 'two words'"):
        service.tag("1", ["two words"])
    with pytest.raises(ConfigurationError):
        service.tag("1", [])
    for hostile in ("\x1b[31mred", "a\u202eb", "bell\x07"):  # terminal controls
        with pytest.raises(ConfigurationError, match="is not allowed"):
            service.tag("1", [hostile])


def test_scripts_are_found_by_id_or_path_and_unknown_refs_say_so(
    tmp_path: Path, service: ScriptService
) -> None:
    path = write(tmp_path / "a.py")
    service.add([path])
    assert service.get("1").path == str(path)
    assert service.get(str(path)).id == 1
    with pytest.raises(NotFoundError, match="'42'"):
        service.get("42")
    with pytest.raises(NotFoundError):
        service.remove(str(tmp_path / "other.py"))


def test_remove_takes_a_script_out_of_the_library(tmp_path: Path, service: ScriptService) -> None:
    service.add([write(tmp_path / "a.py"), write(tmp_path / "b.py")])
    removed = service.remove("1")
    assert removed.name == "a"
    assert [s.name for s in service.list()] == ["b"]


def test_rescan_marks_vanished_files_missing_and_restores_them(
    tmp_path: Path, service: ScriptService
) -> None:
    a = write(tmp_path / "a.py")
    b = write(tmp_path / "b.py")
    service.add([tmp_path])
    a.unlink()
    write(b, "print('changed, and longer')\n")
    report = service.rescan()
    assert [s.name for s in report.missing] == ["a"]
    assert [s.name for s in report.updated] == ["b"]
    assert {s.name: s.missing for s in service.list()} == {"a": True, "b": False}
    write(a)
    report = service.rescan()
    assert [s.name for s in report.restored] == ["a"]
    assert report.unchanged == 1
    assert not any(s.missing for s in service.list())


def test_rescan_detects_a_change_by_mtime_and_size(tmp_path: Path, service: ScriptService) -> None:
    a = write(tmp_path / "a.py", "x = 1\n")
    service.add([a])
    a.write_text("x = 2\n", encoding="utf-8")  # same size
    os.utime(a, (1_000_000_000, 1_000_000_000))
    report = service.rescan()
    assert [s.sha256 for s in report.updated] != []
    assert service.list()[0].mtime == 1_000_000_000


def test_an_id_beyond_any_stored_one_is_just_unknown(
    tmp_path: Path, service: ScriptService
) -> None:
    service.add([write(tmp_path / "a.py")])
    for ref in ("99999999999999999999999", "²"):
        with pytest.raises(NotFoundError):
            service.get(ref)


def test_remove_all_removes_none_if_one_is_unknown(tmp_path: Path, service: ScriptService) -> None:
    service.add([write(tmp_path / "a.py"), write(tmp_path / "b.py")])
    with pytest.raises(NotFoundError, match=r"'999'.*nothing was removed"):
        service.remove_all(["1", "999"])
    assert len(service.list()) == 2
    assert [s.name for s in service.remove_all(["1", str(tmp_path / "b.py")])] == ["a", "b"]
    assert service.list() == []


def test_an_empty_path_to_add_is_refused(service: ScriptService) -> None:
    with pytest.raises(ConfigurationError, match="empty"):
        service.add([""])


def test_a_file_whose_name_is_not_utf8_is_rejected_and_the_rest_added(
    tmp_path: Path, service: ScriptService
) -> None:
    write(tmp_path / "lib" / "good.py")
    bad = os.fsdecode(bytes(tmp_path / "lib") + b"/bad\xffname.py")
    Path(bad).write_text("print(1)\n", encoding="utf-8")
    report = service.add([tmp_path / "lib"])
    assert [s.name for s in report.added] == ["good"]
    assert [r.path for r in report.rejected] == [bad]
