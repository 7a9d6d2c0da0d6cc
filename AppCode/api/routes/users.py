"""Users, API tokens and the audit log (``scriptbatch users ...``, ``scriptbatch audit``).

Managing users is for admins; anyone may list, make and revoke their own tokens. The service
decides who may do what; these endpoints only pass the request on.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field, field_validator

from AppCode.api.auth import ApiRoute, CallerDep, calls
from AppCode.api.bodies import STRICT, unicode_text
from AppCode.api.errors import DOCUMENTED_ERRORS
from AppCode.api.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, offset_of, page
from AppCode.api.params import duration, point_in_time
from AppCode.core.security.permissions import Role
from AppCode.services.json_shapes import audit_json, token_json, user_json
from AppCode.services.user_service import UserService

router = APIRouter(route_class=ApiRoute, tags=["users"], responses=DOCUMENTED_ERRORS)

UserName = Annotated[str, Path(min_length=1, max_length=64, description="user name")]


class NewUser(BaseModel):
    model_config = STRICT
    _text = field_validator("*")(unicode_text)

    name: str = Field(min_length=1, max_length=64)
    role: Role = Field(strict=False)  # strict would want a Role object, not its name
    password: str | None = Field(
        default=None,
        max_length=1024,
        description="at least 8 characters; leave out for a user who uses API tokens only",
    )


class RoleChange(BaseModel):
    model_config = STRICT
    _text = field_validator("*")(unicode_text)

    role: Role = Field(strict=False)  # strict would want a Role object, not its name


class NewToken(BaseModel):
    model_config = STRICT
    _text = field_validator("*")(unicode_text)

    user: str | None = Field(
        default=None, max_length=64, description="whose token (default: yours; others: admins)"
    )
    label: str = Field(default="", max_length=200, description="what the token is for")
    expires_in: str | None = Field(
        default=None, max_length=32, description="e.g. 30d, 12h (default: never)"
    )


@router.get("/users", summary="Users (admins)")
def list_users(caller: CallerDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> Page:
    offset = offset_of("users", cursor)
    return Page(**page("users", caller.users.users(), offset, limit, user_json))


@router.post("/users", status_code=201, summary="Add a user (admins)")
@calls(UserService.add)
def add_user(body: NewUser, caller: CallerDep) -> dict[str, Any]:
    return user_json(caller.users.add(body.name, body.role.value, body.password))


@router.post("/users/{name}/role", summary="Change a user's role (admins)")
@calls(UserService.set_role)
def set_role(name: UserName, body: RoleChange, caller: CallerDep) -> dict[str, Any]:
    return user_json(caller.users.set_role(name, body.role.value))


@router.post("/users/{name}/disable", summary="Stop a user and their tokens (admins)")
def disable_user(name: UserName, caller: CallerDep) -> dict[str, Any]:
    return user_json(caller.users.disable(name))


@router.post("/users/{name}/enable", summary="Let a disabled user in again (admins)")
def enable_user(name: UserName, caller: CallerDep) -> dict[str, Any]:
    return user_json(caller.users.enable(name))


@router.get("/tokens", summary="API tokens (admins: anyone's; others: their own)")
def list_tokens(
    caller: CallerDep,
    user: Annotated[str | None, Query(max_length=64, description="only this user's")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page:
    offset = offset_of("tokens", cursor)
    return Page(**page("tokens", caller.users.tokens(user), offset, limit, token_json))


@router.post(
    "/tokens",
    status_code=201,
    summary="Make an API token; its secret is in this answer only (only a hash is kept)",
)
def create_token(body: NewToken, caller: CallerDep) -> dict[str, Any]:
    expires = duration("expires_in", body.expires_in) if body.expires_in is not None else None
    token, secret = caller.users.create_token(body.user, label=body.label, expires_in=expires)
    return {**token_json(token), "secret": secret}


@router.post("/tokens/{token_id}/revoke", summary="Revoke a token (yours, or anyone's as admin)")
def revoke_token(
    token_id: Annotated[int, Path(ge=1, le=2**62)], caller: CallerDep
) -> dict[str, Any]:
    return token_json(caller.users.revoke_token(token_id))


@router.get("/audit", summary="The audit log, newest first (admins)")
def list_audit(
    caller: CallerDep,
    user: Annotated[str | None, Query(max_length=64, description="only what they did")] = None,
    action: Annotated[
        str | None, Query(max_length=100, description="only this action, e.g. 'run batch'")
    ] = None,
    since: Annotated[
        str | None, Query(max_length=64, description="from then on: 10m, 12h, 7d or a date")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page:
    offset = offset_of("audit", cursor)
    entries = caller.users.audit(
        user=user, action=action, since=point_in_time("since", since), limit=offset + limit + 1
    )
    return Page(**page("audit", entries, offset, limit, audit_json))
