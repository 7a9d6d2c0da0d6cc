"""``scriptbatch users ...``, ``--user`` and ``audit`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import CliRunner

MULTI = {"SCRIPTBATCH_AUTH__MODE": "multi"}


def test_users_tokens_and_audit_from_the_command_line(cli: CliRunner, data_home: Path) -> None:
    added = cli(
        "users", "add", "bob", "--role", "operator", env={"SCRIPTBATCH_PASSWORD": "bobs-password"}
    )
    assert added.returncode == 0, added.stderr
    listed = json.loads(cli("users", "list", "--json").stdout)
    assert [(u["name"], u["role"], u["disabled"]) for u in listed] == [("bob", "operator", False)]
    assert "password" not in json.dumps(listed)

    made = cli("users", "token", "bob", "--expires", "30d", "--label", "ci")
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip().splitlines()[-1]
    assert secret.startswith("sbt_") and len(secret) > 40
    tokens = json.loads(cli("users", "tokens", "--json").stdout)
    assert [(t["user"], t["label"], t["revoked_at"]) for t in tokens] == [("bob", "ci", None)]
    assert secret not in json.dumps(tokens)

    bad = cli("users", "token", "bob", "--expires", "soon")
    assert bad.returncode == 2 and "--expires" in bad.stderr and "30m" in bad.stderr

    # Multi-user mode: nobody logged in, a wrong password, a role too low, the right one.
    nobody = cli("scripts", "list", env=MULTI)
    assert nobody.returncode == 1 and "nobody is logged in" in nobody.stderr
    assert "--user" in nobody.stderr
    wrong = cli("--user", "bob", "scripts", "list", env={**MULTI, "SCRIPTBATCH_PASSWORD": "nope"})
    assert wrong.returncode == 1 and "wrong user name or password" in wrong.stderr
    low = cli(
        "users", "list", "--user", "bob", env={**MULTI, "SCRIPTBATCH_PASSWORD": "bobs-password"}
    )
    assert low.returncode == 1
    assert "'list users' needs the 'admin' level" in low.stderr and "operator" in low.stderr
    ok = cli(
        "scripts", "list", "--user", "bob", env={**MULTI, "SCRIPTBATCH_PASSWORD": "bobs-password"}
    )
    assert ok.returncode == 0, ok.stderr

    revoked = cli("users", "revoke", str(tokens[0]["id"]))
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert cli("users", "disable", "bob").returncode == 0
    assert json.loads(cli("users", "list", "--json").stdout)[0]["disabled"] is True

    audit = json.loads(cli("audit", "--json").stdout)
    actions = {(e["user"], e["action"], e["outcome"]) for e in audit}
    assert ("bob", "list users", "denied") in actions
    assert ("bob", "log in", "failed") in actions
    assert any(a == "add user" and o == "succeeded" for _, a, o in actions)
    assert any(a == "revoke API token" for _, a, _o in actions)
    only_bob = json.loads(cli("audit", "--by", "bob", "--json").stdout)
    assert only_bob and {e["user"] for e in only_bob} == {"bob"}

    log_text = (data_home / "logs" / "scriptbatch.log").read_text(encoding="utf-8")
    assert "bobs-password" not in log_text and secret not in log_text


def test_first_admin_and_password_prompts_need_a_terminal(cli: CliRunner) -> None:
    missing = cli("users", "add", "carl", "--role", "viewer")
    assert missing.returncode == 2
    assert "no terminal" in missing.stderr and "SCRIPTBATCH_NEW_PASSWORD" in missing.stderr
    short = cli("users", "add", "carl", "--role", "viewer", env={"SCRIPTBATCH_PASSWORD": "short"})
    assert short.returncode == 2 and "too short" in short.stderr
    role = cli("users", "add", "carl", "--role", "boss")
    assert role.returncode == 2 and "invalid choice" in role.stderr


def test_first_admin_is_added_from_the_command_line_on_a_new_multi_user_data_dir(
    cli: CliRunner,
) -> None:
    first_pw = {**MULTI, "SCRIPTBATCH_PASSWORD": "pw123456"}
    viewer = cli("users", "add", "v1", "--role", "viewer", env=first_pw)
    assert viewer.returncode == 2 and "no administrator yet" in viewer.stderr
    assert "--role admin" in viewer.stderr
    no_pw = cli("users", "add", "a1", "--role", "admin", "--no-password", env=first_pw)
    assert no_pw.returncode == 2 and "needs a password" in no_pw.stderr

    first = cli("users", "add", "a1", "--role", "admin", env=first_pw)
    assert first.returncode == 0, first.stderr
    assert "added a1 (admin)" in first.stdout and "first administrator" in first.stdout

    # Now that an administrator exists, adding users needs one to log in.
    again = cli("users", "add", "a2", "--role", "admin", env=first_pw)
    assert again.returncode == 1 and "nobody is logged in" in again.stderr
    as_admin = {**first_pw, "SCRIPTBATCH_NEW_PASSWORD": "bobs-password"}
    bob = cli("--user", "a1", "users", "add", "bob", "--role", "operator", env=as_admin)
    assert bob.returncode == 0, bob.stderr
    listed = json.loads(cli("--user", "a1", "users", "list", "--json", env=first_pw).stdout)
    assert [(u["name"], u["role"]) for u in listed] == [("a1", "admin"), ("bob", "operator")]
    audit = json.loads(cli("--user", "a1", "audit", "--json", env=first_pw).stdout)
    made = [e for e in audit if e["action"] == "add first administrator"]
    assert [(e["user"], e["outcome"], e["target"]) for e in made] == [("a1", "succeeded", "a1")]


def test_the_last_admin_can_be_neither_demoted_nor_disabled(cli: CliRunner) -> None:
    env = {**MULTI, "SCRIPTBATCH_PASSWORD": "adm-password"}
    assert cli("users", "add", "adm", "--role", "admin", env=env).returncode == 0
    demoted = cli("--user", "adm", "users", "set-role", "adm", "viewer", env=env)
    assert demoted.returncode == 2, demoted.stderr
    assert "'adm' is the last administrator" in demoted.stderr
    assert "Make another user an administrator first" in demoted.stderr
    disabled = cli("--user", "adm", "users", "disable", "adm", env=env)
    assert disabled.returncode == 2 and "last administrator" in disabled.stderr
    listed = json.loads(cli("--user", "adm", "users", "list", "--json", env=env).stdout)
    assert [(u["name"], u["role"], u["disabled"]) for u in listed] == [("adm", "admin", False)]

    # With a second administrator the first may step down.
    added = cli(
        "--user",
        "adm",
        "users",
        "add",
        "eva",
        "--role",
        "admin",
        env={**env, "SCRIPTBATCH_NEW_PASSWORD": "eva-password"},
    )
    assert added.returncode == 0, added.stderr
    ok = cli("--user", "adm", "users", "set-role", "adm", "viewer", env=env)
    assert ok.returncode == 0 and "adm is now viewer" in ok.stdout


def test_tokens_of_an_unknown_user_and_an_empty_expiry_are_refused(cli: CliRunner) -> None:
    assert cli("users", "add", "bob", "--role", "viewer", "--no-password").returncode == 0
    unknown = cli("users", "tokens", "nobody")
    assert unknown.returncode == 2 and "no user 'nobody'" in unknown.stderr
    assert cli("users", "tokens", "nobody", "--json").returncode == 2
    empty = cli("users", "token", "bob", "--expires", "")
    assert empty.returncode == 2 and "--expires" in empty.stderr
    assert "30m, 12h, 90d" in empty.stderr and "leave out --expires" in empty.stderr
    assert json.loads(cli("users", "tokens", "bob", "--json").stdout) == []
