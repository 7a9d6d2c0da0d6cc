"""``scriptbatch users ...`` (users and API tokens) and ``scriptbatch audit``.

New passwords come from ``$SCRIPTBATCH_NEW_PASSWORD``, else ``$SCRIPTBATCH_PASSWORD`` (unless
that one logged this command in with ``--user``), else they are asked twice on the terminal.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import timedelta

from AppCode.cli.output import MAX_LIMIT, print_json, print_table, require_range, require_value
from AppCode.container import Container
from AppCode.core.domain.errors import ConfigurationError
from AppCode.core.security.permissions import Role
from AppCode.services.json_shapes import audit_json, token_json, user_json
from AppCode.utils.timeparse import parse_duration, parse_since

ROLES = [r.value for r in Role]


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    users = commands.add_parser(
        "users",
        help="users, roles and API tokens",
        description="Roles: viewer (see), operator (+ run), manager (+ change settings, delete "
        "data, back up), admin (everything, users and restore included).",
    )
    sub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)

    add = sub.add_parser(
        "add",
        parents=[common],
        help="add a user",
        description="Add a user (administrators only). In multi-user mode, while nobody can "
        "log in as an administrator (a new data directory), the first 'add NAME --role admin' "
        "needs no --user: it makes the first administrator.",
    )
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument(
        "--no-password", action="store_true", help="no password: the user can use API tokens only"
    )
    add.set_defaults(handler=_add)

    lst = sub.add_parser("list", parents=[common], help="list the users")
    lst.add_argument("--json", action="store_true", help="print a JSON list")
    lst.set_defaults(handler=_list)

    role = sub.add_parser("set-role", parents=[common], help="change a user's role")
    role.add_argument("name", metavar="NAME")
    role.add_argument("role", choices=ROLES)
    role.set_defaults(handler=_set_role)

    disable = sub.add_parser(
        "disable", parents=[common], help="stop a user from logging in (their tokens too)"
    )
    disable.add_argument("name", metavar="NAME")
    disable.set_defaults(handler=_disable)
    enable = sub.add_parser("enable", parents=[common], help="let a disabled user in again")
    enable.add_argument("name", metavar="NAME")
    enable.set_defaults(handler=_enable)

    passwd = sub.add_parser("passwd", parents=[common], help="set a password")
    passwd.add_argument("name", metavar="NAME", nargs="?", help="default: you (--user)")
    passwd.set_defaults(handler=_passwd)

    token = sub.add_parser(
        "token",
        parents=[common],
        help="make an API token (printed once, as the last line)",
        description="Prints a new API token as the last line of standard output. Only its hash "
        "is kept: copy it now. Without NAME: a token for yourself (in single-user mode, the "
        "local administrator).",
    )
    token.add_argument("name", metavar="NAME", nargs="?")
    token.add_argument(
        "--expires",
        metavar="DURATION",
        help="a number and a unit (s, m, h, d, w), e.g. 30d, 12h (default: never expires)",
    )
    token.add_argument("--label", default="", help="what the token is for")
    token.set_defaults(handler=_token)

    tokens = sub.add_parser("tokens", parents=[common], help="list API tokens")
    tokens.add_argument("name", metavar="NAME", nargs="?", help="only this user's")
    tokens.add_argument("--json", action="store_true", help="print a JSON list")
    tokens.set_defaults(handler=_tokens)

    revoke = sub.add_parser("revoke", parents=[common], help="revoke an API token")
    revoke.add_argument("token_id", metavar="TOKEN_ID", type=int)
    revoke.set_defaults(handler=_revoke)

    audit = commands.add_parser(
        "audit", parents=[common], help="the audit log: who did what, when (admins)"
    )
    audit.add_argument("--by", dest="audit_user", metavar="NAME", help="only what this user did")
    audit.add_argument("--action", help="only this action, e.g. 'run batch'")
    audit.add_argument("--since", metavar="WHEN", help="e.g. 7d, 12h, 2026-11-01")
    audit.add_argument(
        "--limit", type=int, default=100, help=f"at most this many, 1-{MAX_LIMIT} (default 100)"
    )
    audit.add_argument("--json", action="store_true", help="print a JSON list")
    audit.set_defaults(handler=_audit)


def new_password(args: argparse.Namespace) -> str:
    """A new password from the environment or asked twice on the terminal."""
    from_env = os.environ.get("SCRIPTBATCH_NEW_PASSWORD")
    if from_env is None and not getattr(args, "user", None):
        from_env = os.environ.get("SCRIPTBATCH_PASSWORD")
    if from_env is not None:
        return from_env
    if not sys.stdin.isatty():
        raise ConfigurationError(
            "a password is needed, and there is no terminal to ask on",
            hint="Set SCRIPTBATCH_NEW_PASSWORD (or SCRIPTBATCH_PASSWORD) in the environment.",
        )
    first = getpass.getpass("New password: ")
    if getpass.getpass("Repeat it: ") != first:
        raise ConfigurationError("the two passwords differ", hint="Run the command again.")
    return first


def _add(container: Container, args: argparse.Namespace) -> int:
    users = container.user_service()
    if container.access().user() is None and not users.has_admin():
        return _add_first_admin(container, args)
    password = None if args.no_password else new_password(args)
    user = users.add(args.name, args.role, password)
    print(f"added {user.name} ({user.role})")
    return 0


def _add_first_admin(container: Container, args: argparse.Namespace) -> int:
    """Multi-user mode, nobody logged in and nobody who could log in as an administrator (a
    new data directory): the first administrator, as the GUI makes it at its first start."""
    hint = "Add the first administrator: scriptbatch users add NAME --role admin"
    if args.role != Role.ADMIN.value:
        raise ConfigurationError(
            f"there is no administrator yet, so the first user must be one, not {args.role}",
            hint=hint,
        )
    if args.no_password:
        raise ConfigurationError(
            "the first administrator needs a password to log in",
            hint="Leave out --no-password; the password comes from $SCRIPTBATCH_NEW_PASSWORD, "
            "$SCRIPTBATCH_PASSWORD or the terminal.",
        )
    user = container.user_service().add_first_admin(args.name, new_password(args))
    print(f"added {user.name} ({user.role}), the first administrator; log in with --user NAME")
    return 0


def _list(container: Container, args: argparse.Namespace) -> int:
    users = container.user_service().users()
    if args.json:
        print_json([user_json(u) for u in users])
        return 0
    if not users:
        print("no users yet: add one with 'scriptbatch users add NAME --role ROLE'")
        return 0
    print_table(
        ["NAME", "ROLE", "STATUS", "LAST LOGIN"],
        [
            [
                u.name,
                u.role,
                "disabled" if u.disabled else "active",
                f"{u.last_login_at.astimezone():%Y-%m-%d %H:%M}" if u.last_login_at else "-",
            ]
            for u in users
        ],
    )
    return 0


def _set_role(container: Container, args: argparse.Namespace) -> int:
    user = container.user_service().set_role(args.name, args.role)
    print(f"{user.name} is now {user.role}")
    return 0


def _disable(container: Container, args: argparse.Namespace) -> int:
    container.user_service().disable(args.name)
    print(f"disabled {args.name}")
    return 0


def _enable(container: Container, args: argparse.Namespace) -> int:
    container.user_service().enable(args.name)
    print(f"enabled {args.name}")
    return 0


def _passwd(container: Container, args: argparse.Namespace) -> int:
    acting = container.access().user()
    name = args.name or (acting.name if acting else None)
    if not name:
        raise ConfigurationError("whose password?", hint="Give a NAME, or log in with --user.")
    container.user_service().set_password(name, new_password(args))
    print(f"password of {name} changed")
    return 0


def _token(container: Container, args: argparse.Namespace) -> int:
    expires: timedelta | None = None
    if args.expires is not None:  # "" is a mistake, not "never"
        try:
            expires = parse_duration(args.expires)
        except ValueError as exc:
            raise ConfigurationError(
                f"--expires: {exc}",
                hint="Units: s, m, h, d, w. For a token that never expires, leave out --expires.",
            ) from None
    token, secret = container.user_service().create_token(
        args.name, label=args.label, expires_in=expires
    )
    until = f"until {token.expires_at.astimezone():%Y-%m-%d %H:%M}" if token.expires_at else ""
    print(f"API token {token.id} for {token.user_name} {until}".rstrip())
    print("It is shown only now; send it as 'Authorization: Bearer <token>'.")
    print(secret)
    return 0


def _tokens(container: Container, args: argparse.Namespace) -> int:
    tokens = container.user_service().tokens(args.name)
    if args.json:
        print_json([token_json(t) for t in tokens])
        return 0
    if not tokens:
        print("no API tokens")
        return 0

    def when(value):  # type: ignore[no-untyped-def]
        return f"{value.astimezone():%Y-%m-%d %H:%M}" if value else "-"

    print_table(
        ["ID", "USER", "LABEL", "CREATED", "EXPIRES", "LAST USED", "STATUS"],
        [
            [
                t.id,
                t.user_name,
                t.label,
                when(t.created_at),
                when(t.expires_at),
                when(t.last_used_at),
                "revoked" if t.revoked_at else "active",
            ]
            for t in tokens
        ],
        max_widths={2: 30},
    )
    return 0


def _revoke(container: Container, args: argparse.Namespace) -> int:
    token = container.user_service().revoke_token(args.token_id)
    print(f"revoked API token {token.id} of {token.user_name}")
    return 0


def _audit(container: Container, args: argparse.Namespace) -> int:
    require_value("--since", args.since, "Give a time (10m, 2d, 2026-01-31), or leave it out.")
    require_range("--limit", args.limit, 1, MAX_LIMIT)
    since = None
    if args.since:
        try:
            since = parse_since(args.since)
        except ValueError as exc:
            raise ConfigurationError(f"--since: {exc}") from None
    entries = container.user_service().audit(
        user=args.audit_user, action=args.action, since=since, limit=args.limit
    )
    if args.json:
        print_json([audit_json(e) for e in entries])
        return 0
    print_table(
        ["WHEN", "USER", "ACTION", "OUTCOME", "TARGET"],
        [
            [f"{e.at.astimezone():%Y-%m-%d %H:%M:%S}", e.user, e.action, e.outcome, e.target]
            for e in entries
        ],
        max_widths={4: 60},
    )
    return 0
