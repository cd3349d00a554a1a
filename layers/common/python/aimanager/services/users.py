"""Admin use cases on users (§17.3): editors with plan and quotas, other actors, API keys (shown once)."""

from __future__ import annotations

import secrets
from typing import Any

from pynamodb.expressions.update import Action

from aimanager.dal import accounts
from aimanager.dal.tables import UserItem
from aimanager.domain.api_keys import new_api_key
from aimanager.domain.plans import effective_limits
from aimanager.domain.roles import api_key_kind, format_roles, parse_roles
from aimanager.errors import Conflict, NotFound, ValidationFailed
from aimanager.ids import random_id, utc_now
from aimanager.models.users import AdminUserIn, ApiKeyOut, Limits, UserIn, UserList, UserOut, UserUpdate


def _map(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    return dict(value.as_dict() if hasattr(value, "as_dict") else value)


def _int(value: Any) -> int | None:
    return int(value) if value is not None else None


def user_out(user: UserItem, *, api_key: str | None = None) -> UserOut:
    roles = parse_roles(user.roles)
    limits = None
    if "editeur" in roles:
        eff = effective_limits(
            user.plan,
            max_sessions_month=_int(user.max_sessions_month),
            max_messages_month=_int(user.max_messages_month),
            max_deployments=_int(user.max_deployments),
        )
        limits = Limits(
            max_deployments=eff.max_deployments,
            max_sessions_month=eff.max_sessions_month,
            max_messages_month=eff.max_messages_month,
        )
    return UserOut(
        user_id=user.user_id,
        email=user.email,
        name=user.name,
        roles=sorted(roles),
        company_name=user.company_name,
        company_info=_map(user.company_info),
        phone=user.phone,
        branding=_map(user.branding),
        marketplace_enabled=bool(user.marketplace_enabled),
        plan=user.plan,
        limits=limits,
        api_key_prefix=user.api_key_prefix,
        api_key=api_key,
        is_active=bool(user.is_active),
        created_at=user.created_at,
    )


def new_user_item(body: UserIn, roles: frozenset[str]) -> UserItem:
    return UserItem(
        random_id("usr", 12),
        email=body.email.strip().lower(),
        name=body.name,
        roles=format_roles(roles),
        company_name=body.company_name,
        company_info=body.company_info.model_dump(exclude_none=True) if body.company_info else None,
        phone=body.phone,
        branding=body.branding.model_dump(exclude_none=True) if body.branding else None,
        marketplace_enabled=body.marketplace_enabled,
        plan=(body.plan or "starter") if "editeur" in roles else body.plan,
        max_deployments=body.max_deployments,
        max_sessions_month=body.max_sessions_month,
        max_messages_month=body.max_messages_month,
        deployments_count=0,
        is_active=True,
        created_at=utc_now(),
    )


def _issue_key(user: UserItem) -> str | None:
    kind = api_key_kind(parse_roles(user.roles))
    if kind is None:
        return None
    key = new_api_key(kind, secrets.token_bytes(20))
    user.api_key_prefix, user.api_key_hash = key.prefix, key.key_hash
    return key.secret


def create_user(body: UserIn, roles: frozenset[str]) -> UserOut:
    """A new user; editors, fabricants and admins get an API key, returned in this response only."""
    user = new_user_item(body, roles)
    secret = _issue_key(user)
    try:
        accounts.create_user(user)
    except accounts.Duplicate as exc:
        raise Conflict("A user with this email already exists.", code="email_taken") from exc
    return user_out(user, api_key=secret)


def create_editor(body: UserIn) -> UserOut:
    return create_user(body, frozenset({"editeur"}))


def create_any(body: AdminUserIn) -> UserOut:
    fields = body.model_dump(exclude={"roles"})
    return create_user(UserIn(**fields), frozenset(body.roles))


def _user(user_id: str, role: str | None) -> UserItem:
    user = accounts.get_user(user_id)
    if user is None or (role is not None and role not in parse_roles(user.roles)):
        raise NotFound("Unknown user.", code="user_not_found")
    return user


def get_user(user_id: str, role: str | None = None) -> UserOut:
    return user_out(_user(user_id, role))


def list_users(role: str) -> UserList:
    return UserList(items=[user_out(u) for u in sorted(accounts.users_with_role(role), key=lambda u: u.created_at)])


def _update_actions(body: UserUpdate) -> list[Action]:
    fields = body.model_dump(exclude_unset=True)
    actions: list[Action] = []
    for name, value in fields.items():
        attr = getattr(UserItem, name)
        if value is None and name in (
            "plan",
            "max_deployments",
            "max_sessions_month",
            "max_messages_month",
            "company_name",
            "company_info",
            "phone",
            "branding",
        ):
            actions.append(attr.remove())  # null = back to the plan's default / no value
        elif value is None:
            raise ValidationFailed(f"Field '{name}' cannot be null.")
        else:
            actions.append(
                attr.set({k: v for k, v in value.items() if v is not None} if isinstance(value, dict) else value)
            )
    return actions


def update_user(user_id: str, body: UserUpdate, role: str | None = None) -> UserOut:
    user = _user(user_id, role)
    actions = _update_actions(body)
    if body.is_active is False:  # a deactivated user's key dies with it
        actions += [UserItem.api_key_prefix.remove(), UserItem.api_key_hash.remove()]
    if actions:
        try:
            user = accounts.update_user(user.user_id, actions)
        except accounts.Stale as exc:
            raise NotFound("Unknown user.", code="user_not_found") from exc
    return user_out(user)


def deactivate_user(user_id: str, role: str | None = None) -> UserOut:
    """DELETE keeps the row (sessions, links and billing refer to it) but the user can no longer act."""
    return update_user(user_id, UserUpdate(is_active=False), role)


def rotate_api_key(user_id: str) -> ApiKeyOut:
    """A new key replaces the old one at once: the old key is refused by the next request."""
    user = _user(user_id, None)
    if not user.is_active:
        raise NotFound("Unknown user.", code="user_not_found")
    secret = _issue_key(user)
    if secret is None:
        raise Conflict("This user's roles do not hold an API key.", code="no_api_key_role")
    accounts.update_user(
        user.user_id, [UserItem.api_key_prefix.set(user.api_key_prefix), UserItem.api_key_hash.set(user.api_key_hash)]
    )
    return ApiKeyOut(user_id=user.user_id, api_key=secret, api_key_prefix=str(user.api_key_prefix))


def revoke_api_key(user_id: str) -> UserOut:
    _user(user_id, None)
    return user_out(accounts.update_user(user_id, [UserItem.api_key_prefix.remove(), UserItem.api_key_hash.remove()]))
