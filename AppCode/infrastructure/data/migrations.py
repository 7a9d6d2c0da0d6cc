"""Schema migrations: Alembic driven from code, so start-up and ``scriptbatch db`` share one path.

The app never runs on an older schema: ``ensure_current()`` upgrades at start-up, and refuses a
database written by a newer ScriptBatch (whose revision it does not know). ``plan()`` says what
an upgrade would do without doing it, so that the caller can take a pre-migration backup only
when a migration will really run (``container.upgrade_schema``). Alembic is imported
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

from AppCode.core.domain.errors import ConfigurationError, DatabaseError
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

    def is_known(self, revision: str) -> bool:
        """Whether ``revision`` is one of this version's migrations (else a newer one wrote it)."""
        if revision == SCHEMA_HEAD:
            return True
        return revision in {script.revision for script in self._script_directory().walk_revisions()}

    def plan(self, target: str = "head") -> tuple[str | None, str]:
        """Where an upgrade to ``target`` goes: ``(current revision, target revision)``, equal
        when there is nothing to do. Nothing is changed. Raises ``DatabaseError`` for a database
        written by a newer ScriptBatch and ``ConfigurationError`` for a target that is unknown
        or older than the database (downgrades are not supported)."""
        current = self.current()
        if current == SCHEMA_HEAD and target in ("head", SCHEMA_HEAD):
            return current, SCHEMA_HEAD  # the common case, without importing Alembic
        self._check_known(current)
        goal = self._resolve(target)
        if current is not None and goal != current and goal in self._ancestors(current):
            raise ConfigurationError(
                f"the {describe(self._engine)} is at schema revision {current}, which is newer "
                f"than {goal}: downgrading a database is not supported",
                hint="To go back to an older state, restore a backup made before the upgrade "
                "('scriptbatch backup list', then 'scriptbatch backup restore ID').",
            )
        return current, goal

    def upgrade(self, target: str = "head") -> tuple[str | None, str | None]:
        """Upgrade to ``target`` (see ``plan``); returns the revisions before and after.

        An empty database upgraded to head gets the current schema in one step
        (``create_all`` and a stamp of the head revision, Alembic's own recipe for new
        databases): no migration scripts to replay and no Alembic import, which a first
        start would otherwise pay.
        """
        before, goal = self.plan(target)
        if before == goal:
            return before, before
        if before is None and goal == SCHEMA_HEAD and self._create_fresh():
            return None, SCHEMA_HEAD
        try:
            self._run("upgrade", goal, doing=f"upgrading the schema to {goal}")
        except DatabaseError:
            # Another process may have migrated the same database at the same moment.
            if self.current() != goal:
                raise
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
        """Upgrade to head if needed; returns True when the database was empty until now."""
        before, after = self.upgrade()
        return before is None and after is not None

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
        if revision is not None and not self.is_known(revision):
            raise DatabaseError(
                f"the {describe(self._engine)} has schema revision {revision!r}, which this "
                "version of ScriptBatch does not know: it was written by a newer version",
                hint="Upgrade ScriptBatch to open it. To use this version's data instead, "
                "move the file aside, then restore a backup ('scriptbatch backup list', "
                "'scriptbatch backup restore ID').",
            )

    def _resolve(self, target: str) -> str:
        """``head`` or a revision ``db history`` lists (or a unique start of one)."""
        if target in ("head", "heads"):
            return SCHEMA_HEAD
        from alembic.script.revision import RevisionError
        from alembic.util import CommandError

        try:
            script = self._script_directory().get_revision(target)
        except (CommandError, RevisionError):
            script = None
        if script is None:
            raise ConfigurationError(
                f"schema revision {target!r} does not exist",
                hint="Give 'head' or a revision that 'scriptbatch db history' lists.",
            )
        return str(script.revision)

    def _ancestors(self, revision: str) -> set[str]:
        """The revisions ``revision`` was migrated from (the migrations form one line)."""
        scripts = self._script_directory()
        found: set[str] = set()
        parent = _single(scripts.get_revision(revision).down_revision)
        while parent is not None and parent not in found:
            found.add(parent)
            parent = _single(scripts.get_revision(parent).down_revision)
        return found

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
