"""Alembic environment for ScriptBatch.

The app passes an open connection in ``config.attributes["connection"]``; a developer running the
``alembic`` command in a checkout passes the database with ``-x url=...``. Versions are recorded in
the ``schema_version`` table; revision ids are named after the app version (``v1_0_0_initial``).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from AppCode.infrastructure.data.orm import Base

VERSION_TABLE = "schema_version"
target_metadata = Base.metadata


def _configure_and_run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("pass the database with: alembic -x url=sqlite:///path/to/scriptbatch.db")
    engine = create_engine(url)
    with engine.connect() as conn:
        _configure_and_run(conn)


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run()
