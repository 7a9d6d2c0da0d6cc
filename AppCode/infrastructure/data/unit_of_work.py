"""The SQLAlchemy unit of work: one session, one transaction, explicit commit."""

from __future__ import annotations

import os
from types import TracebackType
from typing import Self

import sqlalchemy.exc
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from AppCode.infrastructure.data.database import database_error
from AppCode.infrastructure.data.repositories import (
    SqlAuditRepository,
    SqlBackupRepository,
    SqlBatchRepository,
    SqlExecutionRepository,
    SqlMetricsRepository,
    SqlPluginStateRepository,
    SqlScriptRepository,
    SqlUserRepository,
)


class SqlUnitOfWork:
    """``with uow: ...; uow.commit()``; leaving without commit rolls back.

    Driver errors leave the block as ``DatabaseError`` naming the database.
    """

    def __init__(
        self,
        engine: Engine,
        session_factory: sessionmaker[Session],
        runs_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        """``runs_dir``: the data directory's ``runs/``, where executions' logs are read."""
        self._engine = engine
        self._session_factory = session_factory
        self._runs_dir = os.fspath(runs_dir) if runs_dir is not None else None

    def __enter__(self) -> Self:
        self.session = self._session_factory()
        self.scripts = SqlScriptRepository(self.session)
        self.batches = SqlBatchRepository(self.session)
        self.executions = SqlExecutionRepository(self.session, self._runs_dir)
        self.metrics = SqlMetricsRepository(self.session)
        self.backups = SqlBackupRepository(self.session)
        self.users = SqlUserRepository(self.session)
        self.audit = SqlAuditRepository(self.session)
        self.plugin_states = SqlPluginStateRepository(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.session.rollback()
        finally:
            self.session.close()
        if isinstance(exc, sqlalchemy.exc.DatabaseError):
            raise database_error(self._engine, exc, "accessing the database") from None

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


def unit_of_work_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)
