"""``scriptbatch backup create|list|verify|restore|prune``.

``list``, ``verify`` and ``restore`` open the database themselves (``migrate=False``) so that
they work when it is damaged: that is when a backup is needed most.
"""

from __future__ import annotations

import argparse
import sys

from AppCode.cli.output import human_size, print_json, print_table
from AppCode.container import Container, open_database
from AppCode.core.domain.errors import BackupError, ConfigurationError
from AppCode.services.json_shapes import backup_json


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    backup = commands.add_parser(
        "backup",
        help="back up and restore the database, config and logs",
        description="Backups are zip archives in [backup] directory (default: <data-dir>/"
        "backups; a relative path is inside the data directory), each with a manifest of "
        "checksums.",
    )
    sub = backup.add_subparsers(dest="backup_command", metavar="ACTION", required=True)
    create = sub.add_parser("create", parents=[common], help="make a backup now")
    create.add_argument("--note", metavar="TEXT", help="a note stored with the backup")
    create.add_argument("--json", action="store_true", help="print the backup record as JSON")
    create.set_defaults(handler=_create)
    lst = sub.add_parser("list", parents=[common], help="list the backups, newest first")
    lst.add_argument("--json", action="store_true", help="print a JSON list")
    lst.set_defaults(handler=_list, migrate=False)
    verify = sub.add_parser(
        "verify", parents=[common], help="check a backup completely (exit 0 valid, 1 invalid)"
    )
    verify.add_argument("ref", metavar="ID|PATH")
    verify.set_defaults(handler=_verify, migrate=False)
    restore = sub.add_parser(
        "restore",
        parents=[common],
        help="replace the current data with a backup's",
        description="Verify the backup, take a pre-restore backup of the current state, then "
        "put the backup's database, config and logs in place. Refused while a batch runs. "
        "When the current database is damaged, it is kept beside the restored one (renamed "
        "scriptbatch.db.damaged-TIME) instead of being backed up.",
    )
    restore.add_argument("ref", metavar="ID|PATH")
    restore.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    restore.set_defaults(handler=_restore, migrate=False)
    prune = sub.add_parser(
        "prune", parents=[common], help="delete old backups beyond [backup] keep_last"
    )
    prune.set_defaults(handler=_prune)


def _create(container: Container, args: argparse.Namespace) -> int:
    record = container.backup_service().create(note=args.note)
    if args.json:
        print_json(backup_json(record))
    else:
        print(f"backup {record.id} written: {record.path} ({human_size(record.size_bytes)})")
    return 0


def _open(container: Container) -> str | None:
    """Open the database as start-up does; a damaged one is reported (on stderr) and left
    alone. Returns what is wrong with it, or None."""
    damage = open_database(container, allow_damaged=True)
    if damage is not None:
        print(
            f"warning: the database file {container.data_dir().database} is damaged "
            f"({damage}); only the backup folder is used",
            file=sys.stderr,
        )
    return damage


def _list(container: Container, args: argparse.Namespace) -> int:
    _open(container)
    records = container.backup_service().backups()
    if args.json:
        print_json([backup_json(r) for r in records])
        return 0
    if not records:
        print("no backups yet: make one with 'scriptbatch backup create'")
        return 0
    print_table(
        ["ID", "CREATED", "KIND", "SIZE", "VERIFIED", "NOTE"],
        [
            [
                r.id,
                r.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
                r.kind,
                human_size(r.size_bytes),
                {True: "ok", False: "FAILED", None: "-"}[r.verified_ok],
                r.note or "",
            ]
            for r in records
        ],
        max_widths={5: 50},
    )
    return 0


def _verify(container: Container, args: argparse.Namespace) -> int:
    _open(container)
    try:
        record = container.backup_service().verify(args.ref)
    except BackupError as exc:
        print(f"invalid: {exc.message}", file=sys.stderr)
        return 1
    print(f"valid: {record.path}")
    return 0


def _restore(container: Container, args: argparse.Namespace) -> int:
    damaged = _open(container) is not None
    service = container.backup_service()
    record = service.find(args.ref)
    if not args.yes:
        if not sys.stdin.isatty():
            raise ConfigurationError(
                "restore asks for confirmation, and there is no terminal to ask on",
                hint="Add --yes to restore without asking.",
            )
        what = "the damaged database (kept, renamed)" if damaged else "the current database"
        answer = input(
            f"Replace {what}, config and logs with backup {record.id} "
            f"({record.created_at.astimezone():%Y-%m-%d %H:%M}, {record.kind})? [y/N] "
        )
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing changed")
            return 1
    if damaged:
        aside = service.restore_over_damaged(args.ref)
        print(f"restored backup {record.id}; the damaged database file is kept as {aside}")
        return 0
    safety = service.restore(args.ref)
    print(f"restored backup {record.id}; the previous state is saved in {safety.path}")
    return 0


def _prune(container: Container, args: argparse.Namespace) -> int:
    removed = container.backup_service().prune()
    print(f"deleted {len(removed)} backups")
    return 0
