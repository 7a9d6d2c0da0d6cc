"""Users, their roles, passwords and API tokens; logging in; the audit log.

Passwords are hashed with scrypt (memory-hard, in the standard library) and never stored or
logged in clear. A token is shown once when it is made; only its SHA-256 is stored. Failed
logins are counted in the audit log, so five within 15 minutes lock a name for the rest of that
window, whatever process (GUI, CLI, API) they came from.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from AppCode.core.domain.errors import AuthenticationError, ConfigurationError, NotFoundError
from AppCode.core.domain.models import ApiToken, AuditEntry, User
from AppCode.core.domain.ports import UnitOfWorkFactory
from AppCode.core.security.permissions import Level, Role, requires
from AppCode.services.access import SessionAccess

__all__ = ["UserService", "hash_password", "verify_password"]

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD = 8
TOKEN_PREFIX = "sbt_"
MAX_TOKEN_LIFETIME = timedelta(days=36500)
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    encoded = [base64.b64encode(part).decode() for part in (salt, digest)]
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${encoded[0]}${encoded[1]}"


def verify_password(password: str, stored: str | None) -> bool:
    if not stored or not stored.startswith("scrypt$"):
        return False
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class UserService:
    def __init__(self, uow: UnitOfWorkFactory, access: SessionAccess) -> None:
        self._uow = uow
        self._access = access

    # -- users --------------------------------------------------------------------------------

    @requires(Level.ADMIN, "add user", audit=True)
    def add(self, name: str, role: str, password: str | None = None) -> User:
        """A new user (a password is needed to log in; API-only users may have none)."""
        _check_name(name)
        role = _check_role(role)
        if password is not None:
            _check_password(password)
        with self._uow() as uow:
            if uow.users.get(name) is not None:
                raise ConfigurationError(
                    f"user {name!r} already exists",
                    hint="Choose another name, or change this user's role.",
                )
            user = uow.users.add(
                User(
                    name=name,
                    role=role,
                    password_hash=hash_password(password) if password else None,
                )
            )
            uow.commit()
        return _public(user)

    def has_admin(self) -> bool:
        """Whether an enabled administrator with a password exists (someone can log in to
        manage users). Until one does, multi-user mode lets anyone make the first one
        (``add_first_admin``); once one does, the last of them cannot be demoted or disabled."""
        with self._uow() as uow:
            return _admin_can_log_in(uow.users.all())

    def add_first_admin(self, name: str, password: str) -> User:
        """In multi-user mode before anyone can log in: the first administrator (the GUI's
        first-start dialog, ``scriptbatch users add NAME --role admin``). An existing user of
        that name becomes it, with this password. Refused once an administrator exists (then
        an administrator adds users)."""
        _check_name(name)
        _check_password(password)
        with self._uow() as uow:
            if _admin_can_log_in(uow.users.all()):
                raise ConfigurationError(
                    "an administrator already exists",
                    hint="Log in as an administrator to add users (--user NAME on the command "
                    "line).",
                )
            existing = uow.users.get(name)
            admin = User(name=name, role=Role.ADMIN.value, password_hash=hash_password(password))
            if existing is None:
                user = uow.users.add(admin)
            else:
                user = replace(
                    existing, role=admin.role, password_hash=admin.password_hash, disabled=False
                )
                uow.users.update(user)
            uow.commit()
        self._audit(name, "add first administrator", "succeeded", target=name)
        return _public(user)

    @requires(Level.ADMIN, "list users")
    def users(self) -> list[User]:
        with self._uow() as uow:
            return [_public(u) for u in uow.users.all()]

    @requires(Level.ADMIN, "change user role", audit=True)
    def set_role(self, name: str, role: str) -> User:
        role = _check_role(role)
        return self._change(name, lambda u: replace(u, role=role))

    @requires(Level.ADMIN, "disable user", audit=True)
    def disable(self, name: str) -> User:
        """The user can no longer log in, and their tokens stop working."""
        return self._change(name, lambda u: replace(u, disabled=True))

    @requires(Level.ADMIN, "enable user", audit=True)
    def enable(self, name: str) -> User:
        return self._change(name, lambda u: replace(u, disabled=False))

    def set_password(self, name: str, password: str) -> None:
        """Anyone may change their own password; an admin may change anyone's."""
        acting = self._access.user()
        own = acting is not None and acting.name == name
        self._access.check("change password", Level.VIEW if own else Level.ADMIN)
        _check_password(password)
        self._change(name, lambda u: replace(u, password_hash=hash_password(password)))
        self._access.record("change password", "succeeded", name)

    def _change(self, name: str, change: Callable[[User], User]) -> User:
        """Apply ``change`` to user ``name``; refused when it would leave nobody who can log in
        as an administrator (the GUI, the CLI and the API all come through here)."""
        with self._uow() as uow:
            everyone = uow.users.all()
            user = next((u for u in everyone if u.name == name), None)
            if user is None:
                raise NotFoundError(
                    f"no user {name!r}", hint="See the users with 'scriptbatch users list'."
                )
            changed = change(user)
            after = [changed if u.name == name else u for u in everyone]
            if _admin_can_log_in(everyone) and not _admin_can_log_in(after):
                raise ConfigurationError(
                    f"{name!r} is the last administrator who can log in; without them nobody "
                    "could manage users",
                    hint="Make another user an administrator first (users set-role NAME admin), "
                    "then change this one.",
                )
            uow.users.update(changed)
            uow.commit()
        return _public(changed)

    # -- logging in ---------------------------------------------------------------------------

    def log_in(self, name: str, password: str) -> User:
        """Check a password; the process then acts as that user. Five failures within 15
        minutes lock the name until the window has passed."""
        now = datetime.now(UTC)
        with self._uow() as uow:
            recent = uow.audit.query(
                action="log in",
                outcome="failed",
                user=name,
                since=now - LOCKOUT,
                limit=MAX_FAILED_LOGINS,
            )
            user = uow.users.get(name)
        if len(recent) >= MAX_FAILED_LOGINS:
            wait = LOCKOUT - (now - recent[-1].at)
            minutes = max(1, int(wait.total_seconds() // 60) + 1)
            raise AuthenticationError(
                f"too many failed logins for {name!r}: try again in {minutes} minutes",
                hint="Ask an administrator to set a new password if you forgot yours.",
            )
        if user is None or user.disabled or not verify_password(password, user.password_hash):
            self._audit(name, "log in", "failed")
            raise AuthenticationError(
                "wrong user name or password", hint="Check the user name and the password."
            )
        user = replace(user, last_login_at=now)
        with self._uow() as uow:
            uow.users.update(user)
            uow.commit()
        self._access.log_in(_public(user))
        self._audit(name, "log in", "succeeded")
        return _public(user)

    # -- tokens -------------------------------------------------------------------------------

    def create_token(
        self, name: str | None = None, *, label: str = "", expires_in: timedelta | None = None
    ) -> tuple[ApiToken, str]:
        """A new API token for ``name`` (default: the acting user; in single-user mode the
        local administrator, who gets a user record for it). Returns the record and the
        secret, which is shown this once."""
        acting = self._access.user()
        target = name or (acting.name if acting else None)
        own = acting is not None and acting.name == target
        self._access.check("create API token", Level.VIEW if own else Level.ADMIN)
        if not target:
            raise AuthenticationError("log in first to make a token for yourself")
        if expires_in is not None and not timedelta(0) < expires_in <= MAX_TOKEN_LIFETIME:
            raise ConfigurationError(
                "a token's lifetime must be more than nothing and at most 100 years",
                hint="For a token that never expires, give no expiry.",
            )
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with self._uow() as uow:
            if uow.users.get(target) is None:
                if not (own and not self._access.multi_user):
                    raise NotFoundError(
                        f"no user {target!r}", hint="Add the user first: scriptbatch users add NAME"
                    )
                uow.users.add(User(name=target, role=Role.ADMIN.value))
            token = uow.users.add_token(
                ApiToken(
                    id=None,
                    user_name=target,
                    label=label,
                    token_hash=_token_hash(secret),
                    created_at=now,
                    expires_at=now + expires_in if expires_in else None,
                )
            )
            uow.commit()
        self._access.record("create API token", "succeeded", target, {"token_id": token.id})
        return token, secret

    @requires(Level.VIEW, "list API tokens")
    def tokens(self, name: str | None = None) -> list[ApiToken]:
        """Tokens of ``name`` (admins: anyone's, all with None; others: their own only)."""
        acting = self._access.user()
        if name is not None and (acting is None or acting.name != name):
            self._access.check("list API tokens", Level.ADMIN)  # someone else's
        admin = self._access.may(Level.ADMIN)
        if not admin:
            name = acting.name if acting else ""
        with self._uow() as uow:
            if admin and name is not None and uow.users.get(name) is None:
                raise NotFoundError(
                    f"no user {name!r}", hint="See the users with 'scriptbatch users list'."
                )
            return uow.users.tokens(name)

    def revoke_token(self, token_id: int) -> ApiToken:
        """Revoke a token: one's own at any level, anyone's as an admin. Revoking a revoked
        token changes nothing: it is returned as it is, with the time it was first revoked."""
        with self._uow() as uow:
            token = next((t for t in uow.users.tokens() if t.id == token_id), None)
        if token is None:
            raise NotFoundError(f"no API token {token_id}")
        acting = self._access.user()
        own = acting is not None and acting.name == token.user_name
        self._access.check("revoke API token", Level.VIEW if own else Level.ADMIN)
        if token.revoked_at is not None:
            return token
        token = replace(token, revoked_at=datetime.now(UTC))
        with self._uow() as uow:
            uow.users.update_token(token)
            uow.commit()
        self._access.record(
            "revoke API token", "succeeded", token.user_name, {"token_id": token_id}
        )
        return token

    def authenticate_token(self, secret: str) -> User:
        """The user a bearer token belongs to; AuthenticationError for anything else."""
        now = datetime.now(UTC)
        with self._uow() as uow:
            token = uow.users.token_by_hash(_token_hash(secret))
            user = uow.users.get(token.user_name) if token else None
            if token is None or user is None:
                raise AuthenticationError("unknown API token")
            if token.revoked_at is not None:
                raise AuthenticationError("this API token was revoked")
            if token.expires_at is not None and token.expires_at <= now:
                raise AuthenticationError(
                    "this API token has expired", hint="Make a new one: scriptbatch users token"
                )
            if user.disabled:
                raise AuthenticationError(f"user {user.name!r} is disabled")
            if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
                uow.users.update_token(replace(token, last_used_at=now))
                uow.commit()
        return _public(user)

    # -- audit --------------------------------------------------------------------------------

    @requires(Level.ADMIN, "read audit log")
    def audit(
        self,
        *,
        user: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        with self._uow() as uow:
            return uow.audit.query(user=user, action=action, since=since, limit=limit)

    def _audit(self, user: str, action: str, outcome: str, target: str | None = None) -> None:
        with self._uow() as uow:
            uow.audit.add(
                AuditEntry(
                    at=datetime.now(UTC), user=user, action=action, outcome=outcome, target=target
                )
            )
            uow.commit()


def _admin_can_log_in(users: Iterable[User]) -> bool:
    """Someone can log in (with a password) as an enabled administrator."""
    return any(u.role == Role.ADMIN.value and not u.disabled and u.password_hash for u in users)


def _public(user: User) -> User:
    """Users leave the service without their password hash."""
    return replace(user, password_hash=None)


def _check_name(name: str) -> None:
    if not _NAME.match(name or ""):
        raise ConfigurationError(
            f"user name {name!r} is not allowed",
            hint="Use 1 to 64 letters, digits, '.', '_', '-' or '@'.",
        )


def _check_role(role: str) -> str:
    try:
        return Role(role).value
    except ValueError:
        raise ConfigurationError(
            f"role {role!r} does not exist",
            hint="Roles: " + ", ".join(r.value for r in Role),
        ) from None


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ConfigurationError(f"the password is too short (at least {MIN_PASSWORD} characters)")
