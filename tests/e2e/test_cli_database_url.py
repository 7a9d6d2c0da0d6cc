"""``[database] url``: a URL that cannot be used is a configuration error (exit 2); a server
that does not answer is a database error (exit 1). Neither message shows the password."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CliRunner


@pytest.mark.parametrize(
    "url", ["garbage", "nonsense://", "postgresql://scott:tiger-secret@db:notaport/app"]
)
def test_a_database_url_that_cannot_be_used_exits_2(
    cli: CliRunner, tmp_path: Path, url: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    result = cli("--config", str(config), "history")
    assert result.returncode == 2, result.stderr
    assert "[database] url" in result.stderr and "tiger-secret" not in result.stderr


def test_a_database_server_that_does_not_answer_exits_1(cli: CliRunner) -> None:
    url = "postgresql+psycopg://scott:tiger-secret@127.0.0.1:1/app"
    result = cli("history", env={"SCRIPTBATCH_DATABASE__URL": url})
    assert result.returncode == 1, result.stderr
    assert "127.0.0.1" in result.stderr and "tiger-secret" not in result.stderr
