"""Users, passwords, log-in rate limiting and API tokens, on a real database."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from AppCode.core.domain.errors import (
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
)
from AppCode.core.domain.models import User
from AppCode.infrastructure.data.orm import ApiTokenRow
from AppCode.services.access import local_user_name
from AppCode.services.user_service import hash_password, verify_password

ADMIN = User(name="ada", role="admin")


@pytest.fixture
def multi(data_home: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("SCRIPTBATCH_AUTH__MODE", "multi")
    from AppCode.container import build

    built = build(data_home)
    yield built
    built.shutdown_resources()


def _db_text(data_home: Path) -> str:
    with sqlite3.connect(data_home / "scriptbatch.db") as db:
        return "\n".join(
            str(row)
            for t in ("users", "api_tokens", "audit_log")
            for row in db.execute(f"SELECT * FROM {t}")
        )


def test_password_hash_is_salted_scrypt() -> None:
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first != second and first.startswith("scrypt$")
    assert verify_password("correct horse", first)
    assert not verify_password("wrong horse", first)
    assert not verify_password("x", None) and not verify_password("x", "garbage$")


def test_add_log_in_and_roles(multi: Any, data_home: Path) -> None:
    users = multi.user_service()
    with multi.access().acting_as(ADMIN):
        users.add("bob", "operator", "s3cret-pass")
        with pytest.raises(ConfigurationError, match="already exists"):
            users.add("bob", "viewer", "another-pass")
        with pytest.raises(ConfigurationError, match="role 'boss' does not exist"):
            users.add("carl", "boss", "s3cret-pass")
        with pytest.raises(ConfigurationError, match="too short"):
            users.add("carl", "viewer", "short")
        with pytest.raises(ConfigurationError, match="not allowed"):
            users.add("bad name!", "viewer", "s3cret-pass")
        assert [(u.name, u.role) for u in users.users()] == [("bob", "operator")]
        assert all(u.password_hash is None for u in users.users())  # never leaves the service
    assert "s3cret-pass" not in _db_text(data_home)

    with pytest.raises(AuthenticationError, match="wrong user name or password"):
        users.log_in("bob", "not-the-password")
    user = users.log_in("bob", "s3cret-pass")
    assert user.role == "operator" and multi.access().user().name == "bob"
    with pytest.raises(PermissionDeniedError, match="list users"):
        users.users()

    with multi.access().acting_as(ADMIN):
        users.set_role("bob", "viewer")
        users.disable("bob")
    with pytest.raises(AuthenticationError):
        users.log_in("bob", "s3cret-pass")
    with multi.access().acting_as(ADMIN):
        users.enable("bob")
        with pytest.raises(NotFoundError, match="no user 'nobody'"):
            users.set_role("nobody", "viewer")
    assert users.log_in("bob", "s3cret-pass").role == "viewer"


def test_five_failed_logins_lock_the_name(multi: Any) -> None:
    users = multi.user_service()
    with multi.access().acting_as(ADMIN):
        users.add("eve", "viewer", "right-password")
    for _ in range(5):
        with pytest.raises(AuthenticationError, match="wrong"):
            users.log_in("eve", "guess")
    with pytest.raises(AuthenticationError, match="too many failed logins"):
        users.log_in("eve", "right-password")  # even the right one, for the window
    with multi.access().acting_as(ADMIN):
        failures = users.audit(action="log in")
    assert sum(e.outcome == "failed" for e in failures) == 5


def test_own_password_and_other_peoples(multi: Any) -> None:
    users = multi.user_service()
    access = multi.access()
    with access.acting_as(ADMIN):
        users.add("bob", "viewer", "first-password")
        users.add("cy", "viewer", "cy-password")
    with access.acting_as(User(name="bob", role="viewer")):
        users.set_password("bob", "second-password")
        with pytest.raises(PermissionDeniedError, match="change password"):
            users.set_password("cy", "hijacked-pass")
    assert users.log_in("bob", "second-password").name == "bob"
    assert users.log_in("cy", "cy-password").name == "cy"


def test_tokens_are_shown_once_stored_hashed_and_can_be_revoked(
    multi: Any, data_home: Path
) -> None:
    users = multi.user_service()
    access = multi.access()
    with access.acting_as(ADMIN):
        users.add("bob", "operator")
        token, secret = users.create_token("bob", label="ci", expires_in=timedelta(days=30))
    assert secret.startswith("sbt_") and secret not in _db_text(data_home)
    assert users.authenticate_token(secret).name == "bob"
    with pytest.raises(AuthenticationError, match="unknown API token"):
        users.authenticate_token(secret + "x")

    with access.acting_as(User(name="bob", role="operator")):
        assert [t.id for t in users.tokens()] == [token.id]
        with pytest.raises(PermissionDeniedError):
            users.create_token("ada")  # someone else's token needs admin
        users.revoke_token(token.id)
    with pytest.raises(AuthenticationError, match="revoked"):
        users.authenticate_token(secret)

    with access.acting_as(ADMIN):
        with pytest.raises(ConfigurationError, match="lifetime"):
            users.create_token("bob", expires_in=timedelta(seconds=-1))
        with pytest.raises(ConfigurationError, match="lifetime"):
            users.create_token("bob", expires_in=timedelta(days=10**6))
        soon, expired = users.create_token("bob", expires_in=timedelta(days=1))
        _, live = users.create_token("bob")
    with multi.database().begin() as db:  # a day later
        db.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.id == soon.id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    with pytest.raises(AuthenticationError, match="expired"):
        users.authenticate_token(expired)
    with access.acting_as(ADMIN):
        users.disable("bob")
    with pytest.raises(AuthenticationError, match="disabled"):
        users.authenticate_token(live)


def test_single_mode_local_admin_gets_a_token_without_being_added(container: Any) -> None:
    users = container.user_service()
    _, secret = users.create_token()
    user = users.authenticate_token(secret)
    assert user.name == local_user_name() and user.role == "admin"


def test_first_admin_is_made_only_while_nobody_can_log_in_as_one(multi: Any) -> None:
    users = multi.user_service()
    with multi.access().acting_as(ADMIN):
        users.add("bot", "admin")  # tokens only: cannot log in, so it does not count
    assert not users.has_admin()
    first = users.add_first_admin("ada", "ada-password")
    assert (first.name, first.role) == ("ada", "admin") and users.has_admin()
    with pytest.raises(ConfigurationError, match="an administrator already exists"):
        users.add_first_admin("mallory", "mallory-password")
    with multi.access().acting_as(ADMIN):
        made = users.audit(action="add first administrator")
        assert [u.name for u in users.users()] == ["ada", "bot"]
    assert [(e.user, e.outcome, e.target) for e in made] == [("ada", "succeeded", "ada")]


def test_the_last_admin_who_can_log_in_can_be_neither_demoted_nor_disabled(multi: Any) -> None:
    users = multi.user_service()
    users.add_first_admin("ada", "ada-password")
    with multi.access().acting_as(ADMIN):
        users.add("bot", "admin")  # an API-only admin cannot log in to manage users
        with pytest.raises(ConfigurationError, match="'ada' is the last administrator"):
            users.set_role("ada", "manager")
        with pytest.raises(ConfigurationError, match="'ada' is the last administrator"):
            users.disable("ada")
        assert users.set_role("bot", "viewer").role == "viewer"  # not the last one
        assert {(u.name, u.role, u.disabled) for u in users.users()} == {
            ("ada", "admin", False),
            ("bot", "viewer", False),
        }
        refused = users.audit(action="change user role")
        assert ("ada", "failed") in {(e.target, e.outcome) for e in refused}

        users.add("bea", "admin", "bea-password")
        users.disable("ada")  # bea can still log in as an administrator
        with pytest.raises(ConfigurationError, match="'bea' is the last administrator"):
            users.set_role("bea", "viewer")
        users.enable("ada")
        assert users.set_role("bea", "viewer").role == "viewer"
    assert users.has_admin()


def test_the_last_admin_rule_holds_in_single_user_mode_too(container: Any) -> None:
    users = container.user_service()
    users.add("ada", "admin", "ada-password")
    with pytest.raises(ConfigurationError, match="last administrator"):
        users.set_role("ada", "viewer")


def test_tokens_of_an_unknown_user_is_not_found(multi: Any) -> None:
    users = multi.user_service()
    with multi.access().acting_as(ADMIN):
        users.add("bob", "viewer")
        assert users.tokens("bob") == []
        with pytest.raises(NotFoundError, match="no user 'nobody'"):
            users.tokens("nobody")
    with multi.access().acting_as(User(name="bob", role="viewer")):
        assert users.tokens() == []  # a non-admin always sees their own


def test_a_non_admin_asking_for_someone_elses_tokens_is_refused(multi: Any) -> None:
    users = multi.user_service()
    with multi.access().acting_as(ADMIN):
        users.add("ada", "admin")
        users.add("bob", "operator")
        users.create_token("ada")
    with multi.access().acting_as(User(name="bob", role="operator")):
        for name in ("ada", "nobody"):
            with pytest.raises(PermissionDeniedError, match="list API tokens"):
                users.tokens(name)
        assert users.tokens("bob") == []
    with multi.access().acting_as(ADMIN):
        denied = users.audit(user="bob", action="list API tokens")
    assert [e.outcome for e in denied] == ["denied", "denied"]


def test_revoking_a_token_twice_keeps_the_first_revocation(multi: Any) -> None:
    users = multi.user_service()
    with multi.access().acting_as(ADMIN):
        users.add("ada", "admin")
        token, _ = users.create_token("ada")
        first = users.revoke_token(token.id)
        again = users.revoke_token(token.id)
        audit = users.audit(action="revoke API token")
    assert first.revoked_at is not None and again == first
    with multi.access().acting_as(ADMIN):
        assert [t.revoked_at for t in users.tokens("ada")] == [first.revoked_at]
    assert [e.outcome for e in audit] == ["succeeded"]
