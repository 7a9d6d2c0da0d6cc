from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from AppCode.core.domain.errors import ConfigurationError, DatabaseError
from AppCode.core.domain.models import Script
from AppCode.infrastructure.data.database import (
    create_database_engine,
    sqlite_damage,
    sqlite_url,
)
from AppCode.infrastructure.data.migrations import SCHEMA_HEAD, VERSION_TABLE, Migrator
from AppCode.infrastructure.data.orm import Base
from AppCode.infrastructure.data.unit_of_work import SqlUnitOfWork, unit_of_work_factory
from AppCode.utils.resources import bundled_path

TABLES = {
    "scripts",
    "script_tags",
    "batches",
    "executions",
    "execution_attempts",
    "performance_metrics",
    "backup_records",
    "users",
    "audit_log",
    "plugin_state",
}


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = create_database_engine(sqlite_url(tmp_path / "test.db"))
    yield engine
    engine.dispose()


def test_empty_database_upgrades_to_head_and_downgrades_to_base(engine) -> None:  # type: ignore[no-untyped-def]
    migrator = Migrator(engine)
    assert migrator.current() is None
    assert migrator.ensure_current() is True
    assert migrator.current() == SCHEMA_HEAD
    assert set(inspect(engine).get_table_names()) >= TABLES
    migrator.downgrade("base")
    assert migrator.current() is None
    assert set(inspect(engine).get_table_names()) <= {VERSION_TABLE}
    migrator.upgrade()
    assert migrator.current() == SCHEMA_HEAD
    assert migrator.ensure_current() is False


def test_orm_metadata_matches_the_migrated_schema(engine) -> None:  # type: ignore[no-untyped-def]
    Migrator(engine).upgrade()
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_schema_head_constant_is_alembics_head_and_ids_follow_app_versions() -> None:
    scripts = ScriptDirectory(str(bundled_path("migrations")))
    assert scripts.get_current_head() == SCHEMA_HEAD
    for revision in scripts.walk_revisions():
        assert revision.revision.startswith("v") and revision.revision.count("_") >= 3


def test_indexes_serve_the_ui_queries(engine) -> None:  # type: ignore[no-untyped-def]
    Migrator(engine).upgrade()
    indexes = {tuple(i["column_names"]) for i in inspect(engine).get_indexes("executions")}
    assert ("script_path", "created_at") in indexes
    assert ("batch_id", "sequence") in indexes
    assert ("status", "created_at") in indexes


def test_sqlite_runs_in_wal_mode_with_foreign_keys(engine) -> None:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL


def test_a_database_from_a_newer_version_is_refused(engine) -> None:  # type: ignore[no-untyped-def]
    migrator = Migrator(engine)
    migrator.upgrade()
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = 'v9_9_9_future'"))
    with pytest.raises(DatabaseError, match="newer version"):
        migrator.ensure_current()


def test_a_corrupt_database_file_is_named_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "scriptbatch.db"
    path.write_bytes(b"this is not a database" * 100)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    engine = create_database_engine(sqlite_url(path))
    with pytest.raises(DatabaseError) as caught:
        Migrator(engine).ensure_current()
    engine.dispose()
    assert str(path) in caught.value.message
    assert "backup" in (caught.value.hint or "")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_an_invalid_database_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="not a valid database URL") as caught:
        create_database_engine("not a url")
    assert "[database] url" in caught.value.message and caught.value.hint


@pytest.mark.parametrize(
    "url",
    [
        "garbage",
        "postgresql://scott:tiger-secret@db:notaport/app",  # cannot be parsed
        "nonsense://",  # no such database
        "postgresql+nodriver://scott:tiger-secret@db/app",  # no such driver
        "sqlite:///x.db?timeout=soon",  # a parameter the driver cannot read
    ],
)
def test_a_database_url_that_cannot_be_used_is_a_configuration_error_without_its_password(
    url: str,
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        create_database_engine(url)
    error = caught.value
    assert "[database] url" in error.message and "tiger-secret" not in error.message
    assert error.hint and "[database] url" in error.hint


def test_a_server_that_cannot_be_reached_is_a_database_error_without_the_password() -> None:
    engine = create_database_engine("postgresql+psycopg://scott:tiger-secret@127.0.0.1:1/app")
    with pytest.raises(DatabaseError) as caught:
        Migrator(engine).ensure_current()
    engine.dispose()
    assert "127.0.0.1" in caught.value.message and "tiger-secret" not in caught.value.message


def make_uow(engine):  # type: ignore[no-untyped-def]
    Migrator(engine).upgrade()
    factory = unit_of_work_factory(engine)
    return lambda: SqlUnitOfWork(engine, factory)


def script(path: str, **extra) -> Script:  # type: ignore[no-untyped-def]
    return Script(
        path=path, name=Path(path).stem, description="", size=1, mtime=1.0, sha256="0" * 64, **extra
    )


def test_repository_round_trips_scripts_with_tags(engine) -> None:  # type: ignore[no-untyped-def]
    uow = make_uow(engine)
    with uow() as work:
        added = work.scripts.add(script("/x/数据/a b.py", tags=("b", "a")))
        work.commit()
    with uow() as work:
        loaded = work.scripts.get(added.id)
        assert loaded is not None
        assert loaded.path == "/x/数据/a b.py" and loaded.tags == ("a", "b")
        assert loaded.created_at is not None and loaded.created_at.tzinfo is not None
        assert work.scripts.list(tag="a") == [loaded]
        assert work.scripts.list(search="数据") == [loaded]
        assert work.scripts.list(search="100%") == []


def test_searches_ignore_the_case_of_every_letter_not_only_ascii(engine) -> None:  # type: ignore[no-untyped-def]
    from AppCode.core.domain.ids import new_id
    from AppCode.core.domain.models import Batch, Execution, RunOptions
    from AppCode.core.domain.ports import ExecutionFilter

    uow = make_uow(engine)
    batch = Batch(new_id(), RunOptions(jobs=1))
    with uow() as work:
        added = work.scripts.add(script("/x/Ünï.py"))
        greek = work.scripts.add(script("/x/ΣΟΦΙΑ.py"))
        work.batches.add(batch, [Execution(new_id(), batch.id, 0, "/x/Ünï.py")])
        work.commit()
    with uow() as work:
        assert [s.id for s in work.scripts.list(search="Ünï")] == [added.id]
        assert [s.id for s in work.scripts.list(search="üNÏ.PY")] == [added.id]
        assert [s.id for s in work.scripts.list(search="σοφια")] == [greek.id]
        found = work.executions.query(ExecutionFilter(script_contains="ÜNÏ"), limit=10)
        assert [e.script_path for e in found] == ["/x/Ünï.py"]
        assert [b.id for b in work.batches.find(batch.id[:8].upper())] == [batch.id]


def test_leaving_without_commit_rolls_back(engine) -> None:  # type: ignore[no-untyped-def]
    uow = make_uow(engine)
    with uow() as work:
        work.scripts.add(script("/x/a.py"))
    with uow() as work:
        assert work.scripts.list() == []


def test_removing_a_script_keeps_no_orphan_tags(engine) -> None:  # type: ignore[no-untyped-def]
    uow = make_uow(engine)
    with uow() as work:
        added = work.scripts.add(script("/x/a.py", tags=("t",)))
        work.commit()
    with uow() as work:
        work.scripts.remove(added.id)
        work.commit()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM script_tags")).scalar() == 0


def test_a_duplicate_path_is_a_database_error_not_a_crash(engine) -> None:  # type: ignore[no-untyped-def]
    uow = make_uow(engine)
    with pytest.raises(DatabaseError), uow() as work:
        work.scripts.add(script("/x/a.py"))
        work.scripts.add(script("/x/a.py"))


def test_history_pages_by_cursor_newest_first(engine) -> None:  # type: ignore[no-untyped-def]
    from AppCode.core.domain.ids import new_id
    from AppCode.core.domain.models import Batch, Execution, RunOptions
    from AppCode.core.domain.ports import ExecutionFilter

    uow = make_uow(engine)
    batches = []
    for b in range(3):
        batch = Batch(new_id(), RunOptions(jobs=1))
        executions = [Execution(new_id(), batch.id, i, f"/s/{b}/{i}_x.py") for i in range(40)]
        with uow() as work:
            work.batches.add(batch, executions)
            work.commit()
        batches.append(executions)
    expected = [e.id for executions in reversed(batches) for e in reversed(executions)]
    seen: list[str] = []
    after = None
    with uow() as work:
        while True:
            page = work.executions.query(ExecutionFilter(), limit=25, after=after)
            if not page:
                break
            seen.extend(e.id for e in page)
            after = page[-1].id
        assert seen == expected
        only = work.executions.query(ExecutionFilter(script_contains="/1/3_"), limit=100)
        assert [e.script_path for e in only] == ["/s/1/3_x.py"]
        assert work.executions.count(ExecutionFilter(script_contains="_x")) == 120


def test_a_new_database_made_in_one_step_equals_the_migrated_one(tmp_path: Path) -> None:
    fresh = create_database_engine(sqlite_url(tmp_path / "fresh.db"))
    migrated = create_database_engine(sqlite_url(tmp_path / "migrated.db"))
    assert Migrator(fresh).ensure_current() is True  # create_all + stamp
    Migrator(migrated).upgrade()  # every migration script

    def schema(engine):  # type: ignore[no-untyped-def]
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT type, name, sql FROM sqlite_master ORDER BY name"))
            return {(t, n): " ".join((s or "").split()) for t, n, s in rows}

    assert set(schema(fresh)) == set(schema(migrated))
    with fresh.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        assert compare_metadata(context, Base.metadata) == []
    Migrator(fresh).downgrade("base")  # the migration scripts work on it too
    assert Migrator(fresh).current() is None
    fresh.dispose()
    migrated.dispose()


def test_a_batch_stores_each_executions_own_results(engine) -> None:  # type: ignore[no-untyped-def]
    """Result columns that are None for every row are left out of the insert: a batch that
    mixes finished and pending executions keeps every value of each."""
    from datetime import UTC, datetime

    from AppCode.core.domain.ids import new_id
    from AppCode.core.domain.models import Batch, Execution, ExecutionStatus, RunOptions

    uow = make_uow(engine)
    batch = Batch(new_id(), RunOptions(jobs=1))
    done = Execution(
        new_id(),
        batch.id,
        0,
        "/s/done.py",
        status=ExecutionStatus.FAILED,
        exit_code=3,
        started_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        error_type="SystemExit",
        error_message="exit code 3",
        pid=1234,
    )
    pending = Execution(new_id(), batch.id, 1, "/s/pending.py")
    with uow() as work:
        work.batches.add(batch, [done, pending])
        work.commit()
    with uow() as work:
        stored = {e.script_path: e for e in work.executions.of_batch(batch.id)}
    first, second = stored["/s/done.py"], stored["/s/pending.py"]
    assert (first.status, first.exit_code, first.error_message, first.pid) == (
        ExecutionStatus.FAILED,
        3,
        "exit code 3",
        1234,
    )
    assert first.started_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert first.finished_at is None and first.cpu_s is None
    assert (second.status, second.exit_code, second.started_at, second.pid) == (
        ExecutionStatus.PENDING,
        None,
        None,
        None,
    )
    assert second.sandbox is None and second.args == () and second.attempts == 0


def test_plan_says_what_an_upgrade_would_do_and_refuses_what_it_cannot(engine) -> None:  # type: ignore[no-untyped-def]
    migrator = Migrator(engine)
    assert migrator.plan() == (None, SCHEMA_HEAD)
    migrator.upgrade("v1_0_0_initial")
    assert migrator.plan() == ("v1_0_0_initial", SCHEMA_HEAD)
    assert migrator.current() == "v1_0_0_initial"  # planning changed nothing
    migrator.upgrade()
    assert migrator.plan() == (SCHEMA_HEAD, SCHEMA_HEAD)
    assert migrator.upgrade(SCHEMA_HEAD) == (SCHEMA_HEAD, SCHEMA_HEAD)

    for target in ("bogus", "-1", "+1"):
        with pytest.raises(ConfigurationError, match=f"'{re.escape(target)}' does not exist"):
            migrator.plan(target)
    with pytest.raises(ConfigurationError, match="downgrading a database is not supported"):
        migrator.upgrade("v1_0_0_initial")
    assert migrator.current() == SCHEMA_HEAD

    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = 'v9_9_9_future'"))
    assert not migrator.is_known("v9_9_9_future")
    with pytest.raises(DatabaseError, match="newer version"):
        migrator.plan()


def test_sqlite_damage_names_what_is_wrong_and_leaves_the_file_alone(tmp_path: Path) -> None:
    good = tmp_path / "good.db"
    engine = create_database_engine(sqlite_url(good))
    Migrator(engine).ensure_current()
    assert sqlite_damage(engine) is None
    engine.dispose()

    for name, content in (
        ("text.db", b"notsqlite\n"),
        ("truncated.db", good.read_bytes()[: good.stat().st_size // 2]),
    ):
        path = tmp_path / name
        path.write_bytes(content)
        damaged = create_database_engine(sqlite_url(path))
        try:
            problem = sqlite_damage(damaged)
        finally:
            damaged.dispose()
        assert problem, name
        assert path.read_bytes() == content
        assert sorted(p.name for p in tmp_path.glob(name + "*")) == [name]

    missing = create_database_engine(sqlite_url(tmp_path / "missing.db"))
    assert sqlite_damage(missing) is None
    missing.dispose()
