"""The schema and repositories on PostgreSQL: nothing in them may be SQLite-only.

Runs when TEST_POSTGRES_URL names a scratch database (``.ci/run`` starts a throwaway server and
sets it); skipped otherwise.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, text

from AppCode.core.domain.ids import new_id
from AppCode.core.domain.models import Batch, Execution, RunOptions, Script
from AppCode.core.domain.ports import ExecutionFilter
from AppCode.infrastructure.data.database import create_database_engine
from AppCode.infrastructure.data.migrations import SCHEMA_HEAD, VERSION_TABLE, Migrator
from AppCode.infrastructure.data.orm import Base
from AppCode.infrastructure.data.unit_of_work import SqlUnitOfWork, unit_of_work_factory

SERVER_URL = os.environ.get("TEST_POSTGRES_URL")

pytestmark = pytest.mark.skipif(not SERVER_URL, reason="TEST_POSTGRES_URL is not set")


@pytest.fixture
def engine() -> Iterator[Engine]:
    assert SERVER_URL
    name = f"sb_{uuid.uuid4().hex[:12]}"
    admin = create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    engine = create_database_engine(SERVER_URL.rsplit("/", 1)[0] + f"/{name}")
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {name}"))
    admin.dispose()


def test_migrations_round_trip_and_match_the_orm_on_postgres(engine: Engine) -> None:
    migrator = Migrator(engine)
    assert migrator.ensure_current() is True
    assert migrator.current() == SCHEMA_HEAD
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        assert compare_metadata(context, Base.metadata) == []
    migrator.downgrade("base")
    assert migrator.current() is None


def test_scripts_round_trip_on_postgres(engine: Engine) -> None:
    Migrator(engine).upgrade()
    factory = unit_of_work_factory(engine)
    with SqlUnitOfWork(engine, factory) as uow:
        uow.scripts.add(
            Script(
                path="/数据/a b.py",
                name="a b",
                description="x",
                size=1,
                mtime=1.5,
                sha256="0" * 64,
                tags=("t",),
            )
        )
        uow.commit()
    with SqlUnitOfWork(engine, factory) as uow:
        (found,) = uow.scripts.list(tag="t", search="数据")
        assert found.path == "/数据/a b.py" and found.created_at is not None


def test_searches_ignore_the_case_of_every_letter_on_postgres(engine: Engine) -> None:
    """As on SQLite (tests/integration/test_database.py): the same queries, the same rows."""
    Migrator(engine).upgrade()
    factory = unit_of_work_factory(engine)
    batch = Batch(new_id(), RunOptions(jobs=1))
    with SqlUnitOfWork(engine, factory) as uow:
        uow.scripts.add(
            Script(path="/x/Ünï.py", name="Ünï", description="", size=1, mtime=1.0, sha256="0")
        )
        uow.batches.add(batch, [Execution(new_id(), batch.id, 0, "/x/Ünï.py")])
        uow.commit()
    with SqlUnitOfWork(engine, factory) as uow:
        assert [s.path for s in uow.scripts.list(search="üNÏ.PY")] == ["/x/Ünï.py"]
        found = uow.executions.query(ExecutionFilter(script_contains="ÜNÏ"), limit=10)
        assert [e.script_path for e in found] == ["/x/Ünï.py"]
        assert [b.id for b in uow.batches.find(batch.id[:8].upper())] == [batch.id]
