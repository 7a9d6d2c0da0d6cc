from __future__ import annotations

from pathlib import Path

import pytest

from AppCode.container import EXAMPLE_TAG, build, install_examples
from AppCode.core.domain.errors import ConfigurationError
from AppCode.infrastructure.data.migrations import SCHEMA_HEAD
from tests.unit.fakes import FakeUnitOfWork


def test_build_creates_the_data_directory_database_and_log(tmp_path: Path) -> None:
    home = tmp_path / "new" / "home"
    container = build(home)
    try:
        assert (home / "scriptbatch.db").is_file()
        assert (home / "logs").is_dir() and (home / "runs").is_dir()
        assert container.migrator().current() == SCHEMA_HEAD
        assert container.script_service().list() == []
    finally:
        container.shutdown_resources()
    assert (home / "logs" / "scriptbatch.log").read_text(encoding="utf-8")


def test_scripthbatch_home_is_the_default_data_directory(data_home: Path) -> None:
    container = build()
    try:
        assert container.data_dir().root == data_home.resolve()
    finally:
        container.shutdown_resources()


def test_user_config_in_the_data_directory_is_read(data_home: Path) -> None:
    data_home.mkdir(parents=True)
    (data_home / "config.toml").write_text("[execution]\njobs = 5\n", encoding="utf-8")
    container = build(data_home)
    try:
        assert container.settings().execution.jobs == 5
    finally:
        container.shutdown_resources()


def test_a_data_directory_that_is_a_file_is_a_configuration_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="not a folder"):
        build(blocker)
    with pytest.raises(ConfigurationError, match="cannot be used"):
        build(blocker / "below")


def test_services_can_run_on_an_overridden_fake(container) -> None:  # type: ignore[no-untyped-def]
    fake = FakeUnitOfWork()
    container.script_service.reset()
    with container.uow.override(fake):
        service = container.script_service()
        assert service.list() == []
    assert fake.commits == 0


def test_examples_are_installed_once_and_tagged(container, data_home: Path) -> None:  # type: ignore[no-untyped-def]
    assert install_examples(container) is True
    scripts = container.script_service().list(tag=EXAMPLE_TAG)
    assert 8 <= len(scripts) <= 12
    assert all(Path(s.path).is_relative_to(data_home / "examples") for s in scripts)
    assert all(s.description for s in scripts)
    assert install_examples(container) is False
