"""Artisans and editor links (§15.2A, §17.3): link by email, create-and-link, link codes, lists, bearer tokens."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Any

from aimanager.adapters.events import EventPublisher
from aimanager.dal import accounts
from aimanager.dal.tables import LinkCodeItem, UserEditorLinkItem, UserItem
from aimanager.domain import events
from aimanager.domain.link_codes import RANDOM_BYTES, new_link_code, normalize_link_code
from aimanager.domain.links import INVITATION_TTL_S, LinkStatus, is_usable, link_status, names_an_artisan, nobody
from aimanager.domain.roles import parse_roles
from aimanager.errors import Conflict, NotFound, Unavailable
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
    InvitationList,
    InvitationOut,
    LinkArtisanIn,
    LinkCodeIn,
    LinkCodeOut,
    LinkFields,
    LinkPermissions,
    RedeemCodeIn,
)
from aimanager.models.caller import ApiCaller
from aimanager.models.users import UserBrandingIn
from aimanager.observability import logger

ARTISAN_PURPOSE = "artisan"
INVITED_EVENT = "artisan.invited"
NOBODY_USER = "usr_nobody"  # never a user id (ours are random): read so that an unknown email costs a known one's
_CONFLICTS = {
    "already_linked": ("This artisan is already linked to you.", "already_linked"),
    "already_invited": ("You already invited this email.", "already_invited"),
    "external_id_taken": ("This external_id is already used by another of your artisans.", "external_id_taken"),
    "email_taken": ("A user with this email already exists: link it with /api/editor/artisans/link.", "email_taken"),
}


def _map(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    return dict(value.as_dict() if hasattr(value, "as_dict") else value)


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _status(link: UserEditorLinkItem) -> LinkStatus:
    return link_status(
        is_active=bool(link.is_active), status=link.status, invite_expires_at=link.invite_expires_at, now=utc_now()
    )


def link_out(link: UserEditorLinkItem, artisan: UserItem | None) -> ArtisanLinkOut:
    """A link as its editor sees it: until the artisan consents, it names nobody (decision 0029)."""
    status = _status(link)
    consented = status in ("active", "inactive")
    who = artisan if consented else None
    return ArtisanLinkOut(
        link_id=link.link_id,
        artisan_id=link.artisan_id if consented else None,
        editor_id=link.editor_id,
        external_id=link.external_id,
        status=status,
        name=who.name if who else None,
        company_name=who.company_name if who else None,
        email=who.email if who else link.invited_email,
        phone=who.phone if who else None,
        branding=_map(link.branding),
        permissions=_map(link.permissions),
        is_active=bool(link.is_active),
        linked_at=link.linked_at,
        expires_at=link.invite_expires_at if status in ("pending", "expired") else None,
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
    """Scenario 1, with the artisan's consent (decision 0029): an invitation, i.e. a pending link that gives the
    editor nothing until the artisan accepts it. The answer is the same whether the email is an artisan's, another
    kind of account's or nobody's (no enumeration): the same status, the same fields, the same work."""
    email = body.email.strip().lower()
    user = accounts.find_user_by_email(email)
    if user is None:
        accounts.get_user(NOBODY_USER)  # the read a registered email costs: the same work for every email
    artisan = user if user is not None and user.is_active and "artisan" in parse_roles(user.roles) else None
    link = _new_link(editor_id, "", body)
    link.artisan_id = artisan.user_id if artisan is not None else nobody(link.link_id)
    link.status, link.invited_email = "pending", email
    link.invite_expires_at = _iso(time.time() + INVITATION_TTL_S)
    try:
        accounts.create_invitation(link)
    except accounts.Duplicate as exc:
        raise _conflict(exc) from exc
    return link_out(link, None)


def _replayed_creation(editor_id: str, body: CreateAndLinkIn) -> tuple[UserEditorLinkItem, UserItem] | None:
    """A retried create-and-link (same email, same external_id, the caller's own consented link): its first result."""
    user = accounts.find_user_by_email(body.email)
    link = accounts.link_by_external_id(editor_id, body.external_id)
    if user is None or link is None or link.artisan_id != user.user_id or link.status not in (None, "active"):
        return None
    return link, user


def _send_invitation(bus: EventPublisher | None, link: UserEditorLinkItem, artisan: UserItem) -> None:
    """§15.2A scenario 2's invitation as an `artisan.invited` event: the editor's webhooks deliver it (no mail
    server here). Its id is the link's, so a retried request re-sends the same event (consumers deduplicate)."""
    detail = events.envelope(
        INVITED_EVENT,
        subject=(link.link_id,),
        created_at=utc_now(),
        editor_id=link.editor_id,
        artisan={"id": artisan.user_id, "external_id": link.external_id, "name": artisan.name},
        data={"email": artisan.email, "company_name": artisan.company_name, "link_id": link.link_id},
    )
    try:
        if bus is None:
            raise RuntimeError("no event bus")
        bus.publish(events.event_type(INVITED_EVENT).detail_type, detail)
    except Exception as exc:
        logger.warning("invitation not sent", extra={"link_id": link.link_id, "error": str(exc)})
        raise Unavailable(
            "The artisan is created and linked, but the invitation could not be sent: send the same request again.",
            code="invitation_not_sent",
        ) from exc


def create_and_link(editor_id: str, body: CreateAndLinkIn, *, bus: EventPublisher | None = None) -> ArtisanLinkOut:
    """Scenario 2: a new user with role artisan and its link, in one transaction (no half-created artisan). The
    editor created the account, so the link is active at once; `send_invitation` puts an `artisan.invited` event
    on the bus. The same request again returns the same link (and re-sends the same event)."""
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
        replay = _replayed_creation(editor_id, body) if exc.rule in ("email_taken", "external_id_taken") else None
        if replay is None:
            raise _conflict(exc) from exc
        link, artisan = replay
    if body.send_invitation:
        _send_invitation(bus, link, artisan)
    return link_out(link, artisan)


def list_linked(editor_id: str) -> ArtisanList:
    items = []
    for link in accounts.links_of_editor(editor_id):
        consented = link.status in (None, "active") and names_an_artisan(link.artisan_id)
        items.append(link_out(link, accounts.get_user(link.artisan_id) if consented else None))
    return ArtisanList(items=items)


def own_link(editor_id: str, artisan_id: str) -> UserEditorLinkItem:
    """The editor's link to this artisan, active and consented; another editor's artisan (or one that has not
    accepted the invitation) is a 404."""
    for link in accounts.links_of_artisan(artisan_id):
        if link.editor_id == editor_id and is_usable(is_active=bool(link.is_active), status=link.status):
            fresh = accounts.get_link(link.link_id)
            if fresh is not None and is_usable(is_active=bool(fresh.is_active), status=fresh.status):
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


# ------------------------------------------------------------------ the artisan's own API (scoped to one editor)


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


def _scope_link(caller: ApiCaller) -> UserEditorLinkItem:
    """The link the caller's bearer acts through (its editor's); the authorizer checked it a moment ago."""
    link = accounts.get_link(caller.link_id or "")
    if link is None or link.artisan_id != caller.user_id or link.editor_id != caller.editor_id:
        raise NotFound("Unknown link.", code="link_not_found")
    return link


def editors_of(caller: ApiCaller) -> EditorOfArtisanList:
    """The editor the bearer came from: another editor's link to the artisan is that editor's business."""
    return EditorOfArtisanList(items=[_editor_of(_scope_link(caller))])


def sessions_of(caller: ApiCaller) -> ArtisanSessionList:
    """The artisan's sessions opened through the bearer's editor (its share links): never another editor's."""
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
            for s in accounts.sessions_of_artisan(caller.user_id)
            if s.editor_id == caller.editor_id
        ]
    )


def branding_of(caller: ApiCaller) -> ArtisanBrandingOut:
    link = _scope_link(caller)
    return ArtisanBrandingOut(
        user_id=caller.user_id, editor_id=link.editor_id, link_id=link.link_id, branding=_map(link.branding)
    )


def set_branding(caller: ApiCaller, body: UserBrandingIn) -> ArtisanBrandingOut:
    """The artisan's branding at this editor (the link's override, for this editor's customers only)."""
    link = _scope_link(caller)
    branding = body.model_dump(exclude_none=True)
    try:
        accounts.set_link_branding(link.link_id, caller.user_id, link.editor_id, branding or None)
    except accounts.Stale as exc:
        raise NotFound("Unknown link.", code="link_not_found") from exc
    return ArtisanBrandingOut(user_id=caller.user_id, editor_id=link.editor_id, link_id=link.link_id, branding=branding)


def _invitation(link: UserEditorLinkItem) -> InvitationOut:
    editor = accounts.get_user(link.editor_id)
    status = "active" if link.status in (None, "active") else str(link.status)
    return InvitationOut(
        invitation_id=link.link_id,
        editor_name=editor.name if editor else None,
        company_name=editor.company_name if editor else None,
        status=status,
        invited_at=link.linked_at,
        expires_at=link.invite_expires_at,
    )


def invitations_of(artisan_id: str) -> InvitationList:
    """The editors asking to link this artisan (unanswered, unexpired): who they are, nothing of their data."""
    pending = [link for link in accounts.links_of_artisan(artisan_id) if _status(link) == "pending"]
    return InvitationList(items=[_invitation(link) for link in pending])


def answer_invitation(artisan_id: str, invitation_id: str, *, accept: bool) -> InvitationOut:
    """Accept (the link becomes active: the editor may now mint bearers and share links) or decline."""
    link = accounts.get_link(invitation_id) if len(invitation_id) <= 64 else None
    if link is None or link.artisan_id != artisan_id or _status(link) != "pending":
        raise NotFound("Unknown, expired or answered invitation.", code="invitation_not_found")
    try:
        accounts.answer_invitation(link, artisan_id, accept=accept, now=utc_now())
    except accounts.Duplicate as exc:
        if exc.rule == "invitation_invalid":
            raise NotFound("Unknown, expired or answered invitation.", code="invitation_not_found") from exc
        raise _conflict(exc) from exc
    answered = accounts.get_link(invitation_id)
    assert answered is not None
    return _invitation(answered)


# ------------------------------------------------------------------ bearer tokens


def issue_bearer(editor_id: str, artisan_id: str, ttl_s: int, secret: bytes) -> BearerOut:
    """A bearer token for one of the editor's artisans (its software opens the artisan's AI-Manager space)."""
    from aimanager.domain.tokens import sign

    artisan = accounts.get_user(artisan_id)
    if artisan is None or not artisan.is_active:
        raise NotFound("Unknown artisan.", code="artisan_not_found")
    link = own_link(editor_id, artisan_id)
    now = int(time.time())
    claims = {"sub": artisan_id, "iss_by": editor_id, "lnk": link.link_id}
    token = sign(secret, ARTISAN_PURPOSE, claims, ttl_s, now)
    return BearerOut(access_token=token, artisan_id=artisan_id, expires_at=_iso(now + ttl_s))
