"""``scriptbatch scripts add|list|remove|tag|rescan``: the script library."""

from __future__ import annotations

import argparse
import sys

from AppCode.cli.output import print_json, print_table, require_value, shown_path
from AppCode.container import Container
from AppCode.services.json_shapes import script_json


def register(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    scripts = commands.add_parser(
        "scripts", help="the script library", description="Manage the library of scripts."
    )
    sub = scripts.add_subparsers(dest="scripts_command", metavar="ACTION", required=True)

    add = sub.add_parser(
        "add",
        parents=[common],
        help="register scripts (files or folders, recursively)",
        description="Register *.py files; folders are searched recursively, skipping "
        "__pycache__, hidden folders and virtual environments. Known scripts are re-read.",
    )
    add.add_argument("paths", nargs="+", metavar="PATH")
    add.add_argument("--tag", action="append", default=[], metavar="TAG", help="tag them all")
    add.add_argument("--json", action="store_true", help="print the registered scripts as JSON")
    add.set_defaults(handler=_add)

    lst = sub.add_parser("list", parents=[common], help="list registered scripts")
    lst.add_argument("--tag", metavar="T", help="only scripts with this tag")
    lst.add_argument(
        "--search",
        metavar="TEXT",
        help="only scripts whose name, path or description contains TEXT",
    )
    lst.add_argument("--json", action="store_true", help="print a JSON list")
    lst.set_defaults(handler=_list)

    rm = sub.add_parser(
        "remove",
        parents=[common],
        help="take scripts out of the library (their history is kept)",
        description="Take scripts out of the library; their history is kept. All or none: if "
        "any ID|PATH is unknown, nothing is removed (exit 2).",
    )
    rm.add_argument("refs", nargs="+", metavar="ID|PATH")
    rm.set_defaults(handler=_remove)

    tag = sub.add_parser("tag", parents=[common], help="add (or --remove) tags of a script")
    tag.add_argument("ref", metavar="ID|PATH")
    tag.add_argument("tags", nargs="+", metavar="TAG")
    tag.add_argument("--remove", action="store_true", help="take the tags away instead")
    tag.set_defaults(handler=_tag)

    policy = sub.add_parser(
        "policy",
        parents=[common],
        help="pin a sandbox policy to a script (or 'default' to follow the batch)",
        description="Pin a sandbox policy to a script: it then runs under that policy "
        "whatever policy its batch uses, --no-sandbox included. 'default' removes the pin.",
    )
    policy.add_argument("ref", metavar="ID|PATH")
    policy.add_argument(
        "policy",
        metavar="POLICY",
        help="off, standard, strict, a custom policy name or file, or 'default'",
    )
    policy.set_defaults(handler=_policy)

    rescan = sub.add_parser(
        "rescan",
        parents=[common],
        help="re-read changed scripts and mark vanished ones as missing",
    )
    rescan.add_argument("--json", action="store_true", help="print the report as JSON")
    rescan.set_defaults(handler=_rescan)


def _add(container: Container, args: argparse.Namespace) -> int:
    report = container.script_service().add(args.paths, tags=args.tag)
    for rejected in report.rejected:
        print(f"skipped {shown_path(rejected.path)}: {rejected.reason}", file=sys.stderr)
    if args.json:
        print_json([script_json(s) for s in (*report.added, *report.updated, *report.unchanged)])
    else:
        print(
            f"{len(report.added)} added, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged, {len(report.rejected)} skipped"
        )
    # Exit 1 when something the user named was not registered (nothing stored is lost).
    return 1 if report.rejected else 0


def _list(container: Container, args: argparse.Namespace) -> int:
    require_value("--tag", args.tag, "Give a tag, or leave --tag out to list every script.")
    scripts = container.script_service().list(tag=args.tag, search=args.search)
    if args.json:
        print_json([script_json(s) for s in scripts])
        return 0
    if not scripts:
        print(
            "no scripts match"
            if (args.tag or args.search)
            else "the library is empty: add scripts with 'scriptbatch scripts add PATH'"
        )
        return 0
    print_table(
        ["ID", "NAME", "TAGS", "DESCRIPTION", "PATH"],
        [
            [
                s.id,
                s.name + (" (missing)" if s.missing else ""),
                ",".join(s.tags),
                s.description,
                s.path,
            ]
            for s in scripts
        ],
        max_widths={1: 30, 2: 24, 3: 50},
    )
    return 0


def _remove(container: Container, args: argparse.Namespace) -> int:
    for script in container.script_service().remove_all(args.refs):
        print(f"removed {script.id} {shown_path(script.path)}")
    return 0


def _tag(container: Container, args: argparse.Namespace) -> int:
    script = container.script_service().tag(args.ref, args.tags, remove=args.remove)
    print(f"{script.id} {shown_path(script.path)}: tags {', '.join(script.tags) or '(none)'}")
    return 0


def _policy(container: Container, args: argparse.Namespace) -> int:
    name = None if args.policy == "default" else args.policy
    if name is not None:
        container.policy_resolver().resolve(name)  # a clear error for an unknown policy
    script = container.script_service().set_policy(args.ref, name)
    policy = script.sandbox_policy or "(the batch’s)"
    print(f"{script.id} {shown_path(script.path)}: sandbox policy {policy}")
    return 0


def _rescan(container: Container, args: argparse.Namespace) -> int:
    report = container.script_service().rescan()
    if args.json:
        print_json(
            {
                "updated": [script_json(s) for s in report.updated],
                "missing": [script_json(s) for s in report.missing],
                "restored": [script_json(s) for s in report.restored],
                "unchanged": report.unchanged,
            }
        )
        return 0
    for s in report.missing:
        print(f"missing   {shown_path(s.path)}")
    for s in report.restored:
        print(f"restored  {shown_path(s.path)}")
    for s in report.updated:
        print(f"updated   {shown_path(s.path)}")
    print(
        f"{len(report.updated)} updated, {len(report.missing)} missing, "
        f"{len(report.restored)} restored, {report.unchanged} unchanged"
    )
    return 0
