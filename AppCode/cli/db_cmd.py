"""``scriptbatch db upgrade|current|history``: schema migrations (Alembic)."""

from __future__ import annotations

import argparse

from AppCode.cli.output import print_table
from AppCode.container import Container, upgrade_schema
from AppCode.core.domain.errors import DatabaseError


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    db = commands.add_parser(
        "db",
        help="database schema migrations",
        description="Inspect and apply schema migrations. ScriptBatch also upgrades the "
        "database automatically whenever it starts.",
    )
    sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = sub.add_parser(
        "upgrade",
        parents=[common],
        help="upgrade the schema to the newest",
        description="Upgrade the schema, after a pre-migration backup of the database (as at "
        "start-up). Downgrades are not supported: restore a backup instead.",
    )
    up.add_argument(
        "revision",
        nargs="?",
        default="head",
        help="target revision, one that 'db history' lists (default: head)",
    )
    up.set_defaults(handler=_upgrade, migrate=False)
    cur = sub.add_parser("current", parents=[common], help="show the schema revision")
    cur.set_defaults(handler=_current, migrate=False)
    hist = sub.add_parser("history", parents=[common], help="list the schema revisions")
    hist.set_defaults(handler=_history, migrate=False)


def _upgrade(container: Container, args: argparse.Namespace) -> int:
    before, after = upgrade_schema(container, args.revision)
    if before == after:
        print(f"already at {after}")
    else:
        print(f"upgraded from {before or '(empty database)'} to {after}")
    return 0


def _current(container: Container, args: argparse.Namespace) -> int:
    migrator = container.migrator()
    current = migrator.current()
    if current is None:
        print("(empty database: no schema yet; run 'scriptbatch db upgrade')")
    elif current == migrator.head():
        print(f"{current} (head)")
    elif migrator.is_known(current):
        print(f"{current} (upgrade available: {migrator.head()})")
    else:
        raise DatabaseError(
            f"the database is at schema revision {current}, which was written by a newer "
            f"version of ScriptBatch (this version knows up to {migrator.head()})",
            hint="Upgrade ScriptBatch to open it. To use this version's data instead, move "
            "the file aside, then restore a backup ('scriptbatch backup restore ID').",
        )
    return 0


def _history(container: Container, args: argparse.Namespace) -> int:
    print_table(
        ["REVISION", "PARENT", "", "DESCRIPTION"],
        [
            [
                r.revision,
                r.down_revision or "-",
                ",".join(x for x, on in (("current", r.is_current), ("head", r.is_head)) if on),
                r.message.splitlines()[0] if r.message else "",
            ]
            for r in container.migrator().history()
        ],
    )
    return 0
