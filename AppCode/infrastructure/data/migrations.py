"""Schema migrations: Alembic driven from code, so start-up and ``scriptbatch db`` share one path.

The app never runs on an older schema: ``ensure_current()`` upgrades at start-up, and refuses a
database written by a newer ScriptBatch (whose revision it does not know). Alembic is imported
only when there is migration work to do: importing it costs ~150 ms on every CLI start otherwise.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    inspect,
    text,
)

from AppCode.core.domain.errors import DatabaseError
from AppCode.infrastructure.data.database import describe, translate_errors
from AppCode.utils.resources import bundled_path

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

log = logging.getLogger(__name__)

VERSION_TABLE = "schema_version"
# The newest revision in migrations/versions; a test checks it against Alembic's own view.
SCHEMA_HEAD = "v1_2_0_users_and_tokens"


@dataclass(frozen=True)
class Revision:
    """One migration, as ``scriptbatch db history`` shows it."""

    revision: str
    down_revision: str | None
    message: str
    is_current: bool
    is_head: bool


class Migrator:
    """Applies and reports the Alembic migrations in ``migrations/`` to one database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._scripts: ScriptDirectory | None = None

    def head(self) -> str:
        return SCHEMA_HEAD

    def current(self) -> str | None:
        """The revision the database is at; ``None`` for an empty database."""
        with (
            translate_errors(self._engine, "reading the schema version"),
            self._engine.connect() as conn,
        ):
            if not inspect(conn).has_table(VERSION_TABLE):
                return None
            rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
        return ", ".join(sorted(rows)) if rows else None

    def is_empty(self) -> bool:
        return self.current() is None

    def upgrade(self, target: str = "head") -> tuple[str | None, str | None]:
        """Upgrade to ``target``; returns the revisions before and after."""
        before = self.current()
        self._check_known(before)
        self._run("upgrade", target, doing=f"upgrading the schema to {target}")
        after = self.current()
        if before != after:
            log.info("database schema upgraded from %s to %s", before, after)
        return before, after

    def downgrade(self, target: str) -> tuple[str | None, str | None]:
        """Downgrade to ``target`` ("base" empties the database); for developers and tests."""
        before = self.current()
        self._run("downgrade", target, doing=f"downgrading the schema to {target}")
        return before, self.current()

    def ensure_current(self) -> bool:
        """Upgrade to head if needed; returns True when the database was created just now.

        An empty database gets the current schema in one step (``create_all`` and a stamp of
        the head revision, Alembic's own recipe for new databases): no migration scripts to
        replay and no Alembic import, which a first start would otherwise pay.
        """
        before = self.current()
        if before == self.head():
            return False
        if before is None and self._create_fresh():
            return True
        try:
            self.upgrade()
        except DatabaseError:
            # Another process may have migrated the same database at the same moment.
            if self.current() != self.head():
                raise
        return before is None

    def _create_fresh(self) -> bool:
        from AppCode.infrastructure.data.orm import Base

        with translate_errors(self._engine, "creating the database"), self._engine.begin() as conn:
            if inspect(conn).get_table_names():
                return False  # not empty: something else is here, let Alembic decide
            Base.metadata.create_all(conn)
            version = _version_table()
            version.create(conn)
            conn.execute(version.insert().values(version_num=self.head()))
        log.info("new database created at schema %s", self.head())
        return True

    def history(self) -> list[Revision]:
        current = self.current()
        head = self.head()
        return [
            Revision(
                revision=script.revision,
                down_revision=_single(script.down_revision),
                message=(script.doc or "").strip(),
                is_current=script.revision == current,
                is_head=script.revision == head,
            )
            for script in self._script_directory().walk_revisions()
        ]

    def _check_known(self, revision: str | None) -> None:
        if revision is None:
            return
        known = {script.revision for script in self._script_directory().walk_revisions()}
        if revision not in known:
            raise DatabaseError(
                f"the {describe(self._engine)} has schema revision {revision!r}, which this "
                "version of ScriptBatch does not know: it was written by a newer version",
                hint="Upgrade ScriptBatch, or restore a backup made by this version.",
            )

    def _script_directory(self) -> ScriptDirectory:
        if self._scripts is None:
            from alembic.script import ScriptDirectory

            self._scripts = ScriptDirectory(str(bundled_path("migrations")))
        return self._scripts

    def _run(self, command_name: str, target: str, *, doing: str) -> None:
        from alembic import command
        from alembic.config import Config

        action = getattr(command, command_name)
        config = Config()
        config.set_main_option("script_location", str(bundled_path("migrations")))
        with translate_errors(self._engine, doing), self._engine.begin() as conn:
            config.attributes["connection"] = conn
            action(config, target)


def _version_table() -> Table:
    """The version table exactly as Alembic creates it."""
    return Table(
        VERSION_TABLE,
        MetaData(),
        Column("version_num", String(32), nullable=False),
        PrimaryKeyConstraint("version_num", name=f"{VERSION_TABLE}_pkc"),
    )


def _single(value: str | tuple[str, ...] | None) -> str | None:
    if isinstance(value, tuple):
        return ", ".join(value)
    return value
