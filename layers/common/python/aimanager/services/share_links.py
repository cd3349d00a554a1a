"""Share links (§15.2B, §16.5): signed, purpose-bound, expiring and revocable chat links for an artisan's customer.

A link is a token (purpose `share_link`, claims jti, deployment_key, session_id) plus a ShareLinksTable record
keyed by its jti: verification checks the signature, the purpose, the expiry, then the record (present, not
revoked, same session and deployment). Creating a link opens the session it names, recording the artisan, the
editor link and the context.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aimanager.adapters.events import EventPublisher
from aimanager.dal import accounts, deployment_store, usage
from aimanager.dal.tables import SessionItem, ShareLinkItem
from aimanager.domain.links import is_usable
from aimanager.errors import Conflict, Forbidden, NotFound, PayloadTooLarge, Unauthorized
from aimanager.ids import new_session_id, utc_now
from aimanager.models.share_links import CreateLinkIn, RevokedOut, ShareLinkOut
from aimanager.observability import logger
from aimanager.services import limits
from aimanager.settings import MAX_CONTEXT_BYTES

PURPOSE = "share_link"
RECORD_GRACE_S = 7 * 86400  # the record outlives the token a week (DynamoDB TTL), for audits


@dataclass(frozen=True)
class ShareSession:
    """What a valid share token opens: the session and who it belongs to."""

    jti: str
    session_id: str
    deployment_key: str
    editor_id: str
    artisan_id: str
    link_id: str
    expires_at: str


def _map(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    return dict(value.as_dict() if hasattr(value, "as_dict") else value)


def _iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def create_link(
    editor_id: str, body: CreateLinkIn, secret: bytes, base_url: str, *, bus: EventPublisher | None = None
) -> ShareLinkOut:
    """§15.2B: the editor's deployment, the editor's artisan (by external id), a new session and its token.

    The session is counted like a widget session (deployment day, editor month, and the artisan link's own
    `max_sessions_month`), in the same transaction that writes it: a refused link writes nothing (429)."""
    from aimanager.domain.tokens import sign

    if body.context is not None and len(json.dumps(body.context, ensure_ascii=False).encode()) > MAX_CONTEXT_BYTES:
        raise PayloadTooLarge(f"The context exceeds {MAX_CONTEXT_BYTES} bytes.", code="context_too_large")
    deployment = deployment_store.get(body.deployment_key) if len(body.deployment_key) <= 64 else None
    if deployment is None or deployment.editor_id != editor_id:
        raise NotFound("Unknown deployment.", code="deployment_not_found")
    if not deployment.is_active:
        raise Conflict("This deployment is paused.", code="deployment_inactive")
    link = accounts.link_by_external_id(editor_id, body.artisan_external_id)
    if link is None or not link.is_active:
        raise NotFound("Unknown artisan.", code="artisan_not_found")
    if not is_usable(is_active=bool(link.is_active), status=link.status):
        raise Conflict("This artisan has not accepted your link yet.", code="link_pending")
    permissions = _map(link.permissions)
    if permissions.get("can_create_sessions") is False:
        raise Forbidden("This artisan may not create sessions.", code="sessions_not_allowed")
    now = int(time.time())
    jti = secrets.token_urlsafe(16)
    expires_at = _iso(now + body.expires_in)
    session_id = new_session_id()
    token = sign(
        secret,
        PURPOSE,
        {"jti": jti, "deployment_key": deployment.deployment_key, "session_id": session_id},
        body.expires_in,
        now,
    )
    created = utc_now()
    session = SessionItem(
        session_id,
        deployment_key=deployment.deployment_key,
        agent_id=deployment.agent_id,
        editor_id=editor_id,
        artisan_id=link.artisan_id,
        link_id=link.link_id,
        context=body.context,
        share_jti=jti,
        share_expires_at=expires_at,
        created_at=created,
        last_activity_at=created,
    )
    record = ShareLinkItem(
        jti,
        session_id=session_id,
        deployment_key=deployment.deployment_key,
        editor_id=editor_id,
        artisan_id=link.artisan_id,
        link_id=link.link_id,
        expires_at=expires_at,
        expires_ttl=now + body.expires_in + RECORD_GRACE_S,
        created_at=created,
    )
    lim = limits.limits_for(deployment.deployment_key, editor_id, deployment.agent_id)
    limits.admit(
        "sessions",
        deployment_key=deployment.deployment_key,
        ip=None,
        lim=lim,
        writes=[
            usage.Write(session, SessionItem.session_id.does_not_exist()),
            usage.Write(record, ShareLinkItem.jti.does_not_exist()),
        ],
        now=datetime.fromtimestamp(now, UTC),
        link=limits.link_quota_for(link.link_id),
        bus=bus,
    )
    return ShareLinkOut(
        link_id=jti,
        session_id=session_id,
        session_token=token,
        url=f"{base_url.rstrip('/')}/s/{token}",
        expires_at=expires_at,
    )


def revoke(editor_id: str, link_id: str) -> RevokedOut:
    """Revoked links are refused by the next request (the record is read consistently on every use)."""
    try:
        accounts.revoke_share_link(link_id, editor_id, utc_now())
    except accounts.Stale as exc:
        raise NotFound("Unknown share link.", code="share_link_not_found") from exc
    return RevokedOut(link_id=link_id)


def _refuse(reason: str, **extra: str) -> Unauthorized:
    logger.warning("share token refused", extra={"reason": reason, **extra})
    return Unauthorized("This link is invalid, expired or revoked.", code="invalid_share_token")


def verify_share_token(token: str | None, secret: bytes, *, now: int | None = None) -> ShareSession:
    """The session a share token opens, or Unauthorized (tampered, expired, revoked, wrong purpose, unknown)."""
    from aimanager.domain.tokens import InvalidToken, verify

    try:
        claims = verify(secret, PURPOSE, (token or "").strip(), int(time.time()) if now is None else now)
    except InvalidToken as exc:
        raise _refuse(exc.reason) from None
    jti = str(claims.get("jti") or "")
    record = accounts.get_share_link(jti) if jti else None
    if record is None:
        raise _refuse("unknown")
    if record.revoked_at is not None:
        raise _refuse("revoked", jti=jti)
    if record.session_id != claims.get("session_id") or record.deployment_key != claims.get("deployment_key"):
        raise _refuse("mismatch", jti=jti)
    return ShareSession(
        jti=jti,
        session_id=record.session_id,
        deployment_key=record.deployment_key,
        editor_id=record.editor_id,
        artisan_id=record.artisan_id,
        link_id=record.link_id,
        expires_at=record.expires_at,
    )


def assert_share_link_active(share_jti: str | None, *, now: int | None = None) -> None:
    """For widget calls on a session a share link opened (SessionItem.share_jti), whatever token the page carries
    (e.g. a frame token derived from the share token): refused once the link is revoked or expired."""
    if not share_jti:
        return
    record = accounts.get_share_link(share_jti)
    at = _iso(time.time() if now is None else now)
    if record is None or record.revoked_at is not None or record.expires_at <= at:
        raise _refuse("revoked_or_expired", jti=share_jti)


def check_session_token(
    session_id: str, deployment_key: str, share_jti: str | None, token: str | None, secret: bytes
) -> None:
    """For the widget API: a share-link session (share_jti set) is usable only with its own valid token.

    Sessions opened by the embedded widget (no share_jti) need none. Call with the session's fields and the
    request's `X-Session-Token` header.
    """
    if not share_jti:
        return
    opened = verify_share_token(token, secret)
    if opened.jti != share_jti or opened.session_id != session_id or opened.deployment_key != deployment_key:
        raise _refuse("other_session", jti=opened.jti)
