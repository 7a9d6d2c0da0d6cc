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
