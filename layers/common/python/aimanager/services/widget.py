"""Widget use cases (spec §6.1): open a session, queue a message, poll a turn, read the history."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aimanager.adapters.events import EventPublisher
from aimanager.dal import repositories as repo
from aimanager.dal import usage
from aimanager.dal.tables import MessageItem, SessionItem, UsageItem
from aimanager.domain import session_access
from aimanager.errors import NotFound, PayloadTooLarge, Unavailable, ValidationFailed
from aimanager.ids import new_message_id, new_session_id, session_of, utc_now
from aimanager.models.caller import RequestMeta, WidgetCaller
from aimanager.models.widget import (
    AgentOut,
    BrandingOut,
    ErrorDetail,
    HistoryMessage,
    HistoryOut,
    InitIn,
    InitOut,
    MessageIn,
    MessageMetadata,
    QueuedOut,
    StatusOut,
)
from aimanager.observability import logger
from aimanager.services import limits
from aimanager.services.branding import session_branding
from aimanager.settings import MAX_CONTEXT_BYTES, MAX_MESSAGE_CHARS

_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_MARKER_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class Metering:
    """How a function meters its widget requests: where alerts go, how long it reuses resolved limits."""

    bus: EventPublisher | None
    limits_ttl_s: float = 0.0


def _check_context(context: dict[str, Any] | None) -> None:
    if context is not None and len(json.dumps(context, ensure_ascii=False).encode()) > MAX_CONTEXT_BYTES:
        raise PayloadTooLarge(f"The context exceeds {MAX_CONTEXT_BYTES} bytes.", code="context_too_large")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _branding_out(branding: dict[str, Any], agent_name: str) -> BrandingOut:
    return BrandingOut(
        title=_text(branding.get("chat_title")) or _text(branding.get("title")) or agent_name,
        primary_color=_text(branding.get("primary_color")),
        logo_url=_text(branding.get("logo_url")),
        powered_by=branding.get("powered_by") is not False,
        custom_css=_text(branding.get("custom_css")),
    )


def _iso(now: datetime) -> str:
    return now.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _token(request: RequestMeta, purpose: str) -> str | None:
    """ClientRequestToken for the counting transaction: an SDK retry of the same call is not counted twice."""
    if not request.request_id:
        return None
    return hashlib.sha256(f"{purpose}:{request.request_id}".encode()).hexdigest()[:36]


def _marker_pk(caller: WidgetCaller, request: RequestMeta) -> str:
    """The Idempotency-Key as this client sent it: bound to the deployment, the source IP and the site (or the
    share link), so another client replaying the same key never gets the first one's session (issue 9 item 7)."""
    scope = "\x1f".join(
        (request.source_ip, caller.origin_host or "", caller.share_jti or "", request.idempotency_key or "")
    )
    return f"req#{caller.deployment_key}#{hashlib.sha256(scope.encode()).hexdigest()[:40]}"


def _init_marker(caller: WidgetCaller, request: RequestMeta, session_id: str, now: datetime) -> usage.Write | None:
    key = request.idempotency_key
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY.match(key):
        raise ValidationFailed("Header 'Idempotency-Key' must be 8-64 characters [A-Za-z0-9_-].")
    marker = UsageItem(
        _marker_pk(caller, request), session_id=session_id, expires_at=int((now + _MARKER_TTL).timestamp())
    )
    return usage.Write(marker, UsageItem.pk.does_not_exist())


def _new_session(
    caller: WidgetCaller,
    body: InitIn,
    agent_id: str,
    request: RequestMeta,
    metering: Metering,
    link: limits.LinkQuota | None,
) -> SessionItem:
    """Create the session and count it in every window, in one transaction; an Idempotency-Key retry gets the
    session the first request created, counted once."""
    now = datetime.now(UTC)
    stamp = _iso(now)
    session = SessionItem(
        new_session_id(),
        deployment_key=caller.deployment_key,
        agent_id=agent_id,
        editor_id=caller.editor_id,
        origin=caller.origin,
        origin_host=caller.origin_host,
        context=body.context,
        locale=body.locale,
        link_id=link.link_id if link else None,
        created_at=stamp,
        last_activity_at=stamp,
    )
    writes = [usage.Write(session, SessionItem.session_id.does_not_exist())]
    marker = _init_marker(caller, request, session.session_id, now)
    if marker is not None:
        writes.append(marker)
    lim = limits.limits_for(caller.deployment_key, caller.editor_id, agent_id, ttl_s=metering.limits_ttl_s)
    try:
        limits.admit(
            "sessions",
            deployment_key=caller.deployment_key,
            ip=request.source_ip,
            lim=lim,
            writes=writes,
            now=now,
            token=_token(request, f"init:{session.session_id}"),
            link=link,
            bus=metering.bus,
        )
    except usage.WriteConflict:
        first_id = usage.marker_session(_marker_pk(caller, request)) if marker is not None else None
        first = repo.get_session(first_id, caller.deployment_key) if first_id else None
        if first is None or session_access.refusal(binding_of(first), caller) is not None:
            raise
        return first
    return session


def open_session(
    caller: WidgetCaller,
    body: InitIn,
    *,
    request: RequestMeta,
    metering: Metering,
    link: limits.LinkQuota | None = None,
) -> InitOut:
    """A new session for this deployment (counted against every limit), or the caller's own one when it asks to
    resume it (not counted)."""
    _check_context(body.context)
    record = repo.get_deployment(caller.deployment_key)
    agent = repo.get_agent(caller.agent_id)
    if record is None or agent is None:
        raise Unavailable("This assistant is not available right now.", code="agent_unavailable")
    wanted = caller.session_id or body.session_id  # a share-link page only ever has its own session
    existing = usable_session(caller, wanted) if wanted else None
    if existing is None and caller.session_id:
        raise NotFound("Unknown session.", code="session_not_found")
    session = existing or _new_session(caller, body, agent.agent_id, request, metering, link)
    branding = session_branding(agent, record.view, artisan_id=session.artisan_id, link_id=session.link_id)
    return InitOut(
        session_id=session.session_id,
        agent=AgentOut(name=agent.name, avatar=agent.avatar_url),
        branding=_branding_out(branding, agent.name),
        welcome_message=str(branding["welcome_message"]),
        placeholder=str(branding["placeholder"]),
        resumed=existing is not None,
    )


def binding_of(session: SessionItem) -> session_access.SessionBinding:
    return session_access.SessionBinding(
        session_id=session.session_id,
        deployment_key=session.deployment_key,
        share_jti=session.share_jti,
        origin_host=session.origin_host,
    )


def usable_session(caller: WidgetCaller, session_id: str) -> SessionItem | None:
    """The session if this caller may use it (domain/session_access), else None; refusals are logged."""
    if caller.session_id and session_id != caller.session_id:
        return None  # a share-link page reaches its own session only: no read needed
    session = repo.get_session(session_id, caller.deployment_key)
    if session is None:
        return None
    reason = session_access.refusal(binding_of(session), caller)
    if reason is not None:
        logger.warning(
            "widget session refused", extra={"reason": reason, "session_id": session_id, "origin": caller.origin_host}
        )
        return None
    return session


def own_session(caller: WidgetCaller, session_id: str | None) -> SessionItem:
    """The caller's session; another deployment's, another site's, or a share link's without that link's page
    token does not exist for it (404, as an unknown id)."""
    session = usable_session(caller, session_id) if session_id else None
    if session is None:
        raise NotFound("Unknown session.", code="session_not_found")
    return session


def message_session_id(header: str | None, body: MessageIn) -> str | None:
    """§16.4 (5.2): the session in `X-Session-ID` or in the body's `session_id`; both, they must agree."""
    if header and body.session_id and header.strip() != body.session_id:
        raise ValidationFailed("Field 'session_id' must be the session of the X-Session-ID header.")
    return header or body.session_id


def _store_turn(
    caller: WidgetCaller, session: SessionItem, item: MessageItem, request: RequestMeta, metering: Metering
) -> tuple[MessageItem, limits.Admission | None]:
    """Write the turn and count the message in one transaction: (turn, admission), admission None for a retry."""
    now = datetime.now(UTC)
    lim = limits.limits_for(caller.deployment_key, session.editor_id, session.agent_id, ttl_s=metering.limits_ttl_s)
    writes = [*repo.user_message_writes(item), repo.session_touch(item.session_id, item.created_at)]
    for _ in range(2):
        try:
            admission = limits.admit(
                "messages",
                deployment_key=caller.deployment_key,
                ip=request.source_ip,
                lim=lim,
                writes=writes,
                now=now,
                token=_token(request, f"message:{item.message_id}"),
                bus=metering.bus,
            )
            return item, admission
        except usage.WriteConflict as conflict:
            if conflict.write is writes[-1]:  # the session's own update: it no longer exists
                raise NotFound("Unknown session.", code="session_not_found") from conflict
            if not item.client_message_id:
                raise
            first, named = repo.retried_turn(item.session_id, item.client_message_id)
            if first is not None:
                return first, None  # an idempotent retry: not counted again
            if named is None:
                raise
            item.message_id = named  # an old marker without its turn: write the turn it names
            writes = [usage.Write(item, MessageItem.message_id.does_not_exist()), writes[-1]]
    raise Unavailable("The message could not be stored; please send it again.", code="busy")


def queue_message(
    caller: WidgetCaller,
    session_id: str | None,
    body: MessageIn,
    queue: Any,
    *,
    request: RequestMeta,
    metering: Metering,
) -> QueuedOut:
    """Store the user's message first (never lost) and count it, then queue the turn; a failed send marks it
    failed and gives the count back."""
    if len(body.content) > MAX_MESSAGE_CHARS:
        raise PayloadTooLarge(f"A message is at most {MAX_MESSAGE_CHARS} characters.", code="content_too_large")
    _check_context(body.context)
    session_id = message_session_id(session_id, body)
    session = own_session(caller, session_id)
    session_id = session.session_id
    now = utc_now()
    item = MessageItem(
        session_id,
        new_message_id(session_id),
        deployment_key=caller.deployment_key,
        content=body.content,
        status="queued",
        share_jti=session.share_jti,
        origin_host=session.origin_host,
        client_message_id=body.client_message_id,
        context=body.context,
        created_at=now,
        updated_at=now,
    )
    depth_of_queue = queue.depth_later()  # overlaps the write: one round trip less on the hot path
    turn, admission = _store_turn(caller, session, item, request, metering)
    if admission is None:  # an idempotent retry: report the first one as it stands
        return QueuedOut(message_id=turn.message_id, session_id=session_id, status=turn.status, position=1)
    try:
        depth = depth_of_queue()
        queue.send({"message_id": turn.message_id, "session_id": session_id})
    except Exception as exc:
        message = "The message could not be queued; please send it again."
        repo.mark_failed(session_id, turn.message_id, "queue_unavailable", message, final=True, only_if=("queued",))
        admission.refund()
        raise Unavailable(message, code="queue_unavailable") from exc
    return QueuedOut(message_id=turn.message_id, session_id=session_id, status="queued", position=depth + 1)


def _own_message(caller: WidgetCaller, message_id: str) -> MessageItem:
    """The caller's turn: the session rule applies to the binding the turn carries (no read of the session)."""
    session_id = session_of(message_id)
    if session_id is None or (caller.session_id and session_id != caller.session_id):
        raise NotFound("Unknown message.", code="message_not_found")
    item = repo.get_message(session_id, message_id)
    binding = session_access.SessionBinding(
        session_id=session_id,
        deployment_key=item.deployment_key if item else "",
        share_jti=item.share_jti if item else None,
        origin_host=item.origin_host if item else None,
    )
    if item is None or session_access.refusal(binding, caller) is not None:
        raise NotFound("Unknown message.", code="message_not_found")
    return item


def _error(item: MessageItem) -> ErrorDetail | None:
    if item.status == "failed" and item.error_code:
        return ErrorDetail(code=item.error_code, message=item.error_message or "")
    return None


def _int(value: float | None) -> int | None:
    return int(value) if value is not None else None


def _metadata(item: MessageItem) -> MessageMetadata:
    return MessageMetadata(
        model=item.reply_model, tokens=_int(item.reply_tokens), generation_time_ms=_int(item.reply_generation_time_ms)
    )


def message_status(caller: WidgetCaller, message_id: str) -> StatusOut:
    item = _own_message(caller, message_id)
    if item.status == "completed":
        return StatusOut(
            message_id=item.message_id,
            status="completed",
            content=item.reply_content,
            metadata=_metadata(item),
            completed_at=item.completed_at,
        )
    return StatusOut(message_id=item.message_id, status=item.status, error=_error(item))


def session_history(caller: WidgetCaller, session_id: str) -> HistoryOut:
    """Each turn as the user's message, then the assistant's reply once there is one."""
    own_session(caller, session_id)
    out: list[HistoryMessage] = []
    for turn in repo.session_messages(session_id):
        out.append(
            HistoryMessage(
                message_id=turn.message_id,
                role="user",
                content=turn.content,
                status=turn.status,
                created_at=turn.created_at,
                error=_error(turn),
            )
        )
        if turn.status == "completed" and turn.reply_content is not None:
            out.append(
                HistoryMessage(
                    message_id=f"{turn.message_id}-r",
                    role="assistant",
                    content=turn.reply_content,
                    status="completed",
                    created_at=turn.completed_at or turn.updated_at,
                    metadata=_metadata(turn),
                )
            )
    return HistoryOut(session_id=session_id, messages=out)
