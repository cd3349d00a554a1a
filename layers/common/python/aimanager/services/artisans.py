"""Artisans and editor links (§15.2A, §17.3): link by email, create-and-link, link codes, lists, bearer tokens."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Any

from aimanager.dal import accounts
from aimanager.dal.tables import LinkCodeItem, UserEditorLinkItem, UserItem
from aimanager.domain.link_codes import RANDOM_BYTES, new_link_code, normalize_link_code
from aimanager.domain.roles import parse_roles
from aimanager.errors import Conflict, NotFound, ValidationFailed
from aimanager.ids import random_id, utc_now
from aimanager.models.artisans import (
    ArtisanBrandingOut,
    ArtisanLinkOut,
    ArtisanList,
    ArtisanSessionList,
    ArtisanSessionOut,
    BearerOut,
    CreateAndLinkIn,
    EditorOfArtisan,
    EditorOfArtisanList,
    LinkArtisanIn,
    LinkCodeIn,
    LinkCodeOut,
    LinkFields,
    LinkPermissions,
    RedeemCodeIn,
)
from aimanager.models.users import UserBrandingIn

ARTISAN_PURPOSE = "artisan"
_CONFLICTS = {
    "already_linked": ("This artisan is already linked to you.", "already_linked"),
    "external_id_taken": ("This external_id is already used by another of your artisans.", "external_id_taken"),
    "email_taken": ("A user with this email already exists: link it with /api/editor/artisans/link.", "email_taken"),
}


def _map(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    return dict(value.as_dict() if hasattr(value, "as_dict") else value)


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def link_out(link: UserEditorLinkItem, artisan: UserItem | None) -> ArtisanLinkOut:
    return ArtisanLinkOut(
        link_id=link.link_id,
        artisan_id=link.artisan_id,
        editor_id=link.editor_id,
        external_id=link.external_id,
        name=artisan.name if artisan else None,
        company_name=artisan.company_name if artisan else None,
        email=artisan.email if artisan else None,
        phone=artisan.phone if artisan else None,
        branding=_map(link.branding),
        permissions=_map(link.permissions),
        is_active=bool(link.is_active),
        linked_at=link.linked_at,
    )


def _new_link(editor_id: str, artisan_id: str, fields: LinkFields) -> UserEditorLinkItem:
    permissions = fields.permissions or LinkPermissions()
    return UserEditorLinkItem(
        random_id("lnk", 12),
        artisan_id=artisan_id,
        editor_id=editor_id,
        external_id=fields.external_id,
        branding=fields.branding.model_dump(exclude_none=True) if fields.branding else None,
        permissions=permissions.model_dump(),
        is_active=True,
        linked_at=utc_now(),
    )


def _conflict(exc: accounts.Duplicate) -> Conflict:
    message, code = _CONFLICTS.get(exc.rule, ("This link already exists.", "conflict"))
    return Conflict(message, code=code)


def link_existing(editor_id: str, body: LinkArtisanIn) -> ArtisanLinkOut:
    """Scenario 1: the artisan already has an account (found by email, and it must be an artisan's)."""
    artisan = accounts.find_user_by_email(body.email)
    if artisan is None or not artisan.is_active:
        raise NotFound("No AI-Manager account has this email: use create-and-link.", code="user_not_found")
    if "artisan" not in parse_roles(artisan.roles):
        raise ValidationFailed("Field 'email': this account is not an artisan's.", code="not_an_artisan")
    link = _new_link(editor_id, artisan.user_id, body)
    try:
        accounts.create_link(link)
    except accounts.Duplicate as exc:
        raise _conflict(exc) from exc
    return link_out(link, artisan)


def create_and_link(editor_id: str, body: CreateAndLinkIn) -> ArtisanLinkOut:
    """Scenario 2: a new user with role artisan and its link, in one transaction (no half-created artisan)."""
    artisan = UserItem(
        random_id("usr", 12),
        email=body.email.strip().lower(),
        name=body.name,
        roles="artisan",
        company_name=body.company_name,
        company_info=body.company_info.model_dump(exclude_none=True) if body.company_info else None,
        phone=body.phone,
        branding=body.artisan_branding.model_dump(exclude_none=True) if body.artisan_branding else None,
        marketplace_enabled=False,
        is_active=True,
        created_at=utc_now(),
    )
    link = _new_link(editor_id, artisan.user_id, body)
    try:
        accounts.create_user(artisan, also=accounts.link_ops(link))
    except accounts.Duplicate as exc:
        raise _conflict(exc) from exc
    return link_out(link, artisan)


def list_linked(editor_id: str) -> ArtisanList:
    items = []
    for link in accounts.links_of_editor(editor_id):
        items.append(link_out(link, accounts.get_user(link.artisan_id)))
    return ArtisanList(items=items)


def own_link(editor_id: str, artisan_id: str) -> UserEditorLinkItem:
    """The editor's active link to this artisan; another editor's artisan is a 404."""
    for link in accounts.links_of_artisan(artisan_id):
        if link.editor_id == editor_id and link.is_active:
            fresh = accounts.get_link(link.link_id)
            if fresh is not None and fresh.is_active:
                return fresh
    raise NotFound("Unknown artisan.", code="artisan_not_found")


# ------------------------------------------------------------------ link codes (scenario 3)


def issue_link_code(editor_id: str, body: LinkCodeIn) -> LinkCodeOut:
    if accounts.link_by_external_id(editor_id, body.external_id) is not None:
        raise Conflict("This external_id is already used by another of your artisans.", code="external_id_taken")
    now = time.time()
    item = LinkCodeItem(
        new_link_code(secrets.token_bytes(RANDOM_BYTES)),
        editor_id=editor_id,
        external_id=body.external_id,
        branding=body.branding.model_dump(exclude_none=True) if body.branding else None,
        permissions=(body.permissions or LinkPermissions()).model_dump(),
        expires_at=_iso(now + body.expires_in),
        expires_ttl=int(now + body.expires_in + 86400),
        created_at=utc_now(),
    )
    accounts.put_link_code(item)
    return LinkCodeOut(code=item.code, external_id=item.external_id, expires_at=item.expires_at)


def redeem_link_code(artisan_id: str, body: RedeemCodeIn) -> EditorOfArtisan:
    """The artisan enters the code: unused and unexpired, it becomes a link (single use, atomically)."""
    code = normalize_link_code(body.code)
    item = accounts.get_link_code(code) if code else None
    now = _iso(time.time())
    if item is None or item.redeemed_by is not None or item.expires_at <= now:
        raise NotFound("Unknown, expired or already used link code.", code="link_code_invalid")
    fields = LinkFields(
        external_id=item.external_id,
        branding=UserBrandingIn(**_map(item.branding)) if item.branding else None,
        permissions=LinkPermissions(**_map(item.permissions)) if item.permissions else None,
    )
    link = _new_link(item.editor_id, artisan_id, fields)
    try:
        accounts.redeem_link_code(item.code, artisan_id, link, now)
    except accounts.Duplicate as exc:
        if exc.rule == "code_invalid":
            raise NotFound("Unknown, expired or already used link code.", code="link_code_invalid") from exc
        raise _conflict(exc) from exc
    return _editor_of(link)


# ------------------------------------------------------------------ the artisan's own API


def _editor_of(link: UserEditorLinkItem) -> EditorOfArtisan:
    editor = accounts.get_user(link.editor_id)
    return EditorOfArtisan(
        link_id=link.link_id,
        editor_id=link.editor_id,
        editor_name=editor.name if editor else None,
        company_name=editor.company_name if editor else None,
        external_id=link.external_id,
        branding=_map(link.branding),
        permissions=_map(link.permissions),
        is_active=bool(link.is_active),
        linked_at=link.linked_at,
    )


def editors_of(artisan_id: str) -> EditorOfArtisanList:
    return EditorOfArtisanList(items=[_editor_of(link) for link in accounts.links_of_artisan(artisan_id)])


def sessions_of(artisan_id: str) -> ArtisanSessionList:
    return ArtisanSessionList(
        items=[
            ArtisanSessionOut(
                session_id=s.session_id,
                deployment_key=s.deployment_key,
                editor_id=s.editor_id,
                link_id=s.link_id,
                context=_map(s.context) or None,
                messages_count=int(s.messages_count or 0),
                created_at=s.created_at,
                last_activity_at=s.last_activity_at,
                share_expires_at=s.share_expires_at,
            )
            for s in accounts.sessions_of_artisan(artisan_id)
        ]
    )


def branding_of(artisan_id: str) -> ArtisanBrandingOut:
    user = accounts.get_user(artisan_id)
    if user is None:
        raise NotFound("Unknown user.", code="user_not_found")
    return ArtisanBrandingOut(user_id=artisan_id, branding=_map(user.branding))


def set_branding(artisan_id: str, body: UserBrandingIn) -> ArtisanBrandingOut:
    branding = body.model_dump(exclude_none=True)
    action = UserItem.branding.set(branding) if branding else UserItem.branding.remove()
    user = accounts.update_user(artisan_id, [action])
    return ArtisanBrandingOut(user_id=artisan_id, branding=_map(user.branding))


# ------------------------------------------------------------------ bearer tokens


def issue_bearer(editor_id: str, artisan_id: str, ttl_s: int, secret: bytes) -> BearerOut:
    """A bearer token for one of the editor's artisans (its software opens the artisan's AI-Manager space)."""
    from aimanager.domain.tokens import sign

    own_link(editor_id, artisan_id)
    artisan = accounts.get_user(artisan_id)
    if artisan is None or not artisan.is_active:
        raise NotFound("Unknown artisan.", code="artisan_not_found")
    now = int(time.time())
    token = sign(secret, ARTISAN_PURPOSE, {"sub": artisan_id, "iss_by": editor_id}, ttl_s, now)
    return BearerOut(access_token=token, artisan_id=artisan_id, expires_at=_iso(now + ttl_s))
