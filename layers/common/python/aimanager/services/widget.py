"""Widget use cases (spec §6.1): open a session, queue a message, poll a turn, read the history."""

from __future__ import annotations

import json
from typing import Any

from aimanager.dal import repositories as repo
from aimanager.dal.tables import MessageItem, SessionItem
from aimanager.errors import NotFound, PayloadTooLarge, Unavailable
from aimanager.ids import new_message_id, new_session_id, session_of, utc_now
from aimanager.models.caller import WidgetCaller
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
from aimanager.services.branding import session_branding
from aimanager.settings import MAX_CONTEXT_BYTES, MAX_MESSAGE_CHARS


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


def open_session(caller: WidgetCaller, body: InitIn) -> InitOut:
    """A new session for this deployment, or the caller's own one when it asks to resume it."""
    _check_context(body.context)
    record = repo.get_deployment(caller.deployment_key)
    agent = repo.get_agent(caller.agent_id)
    if record is None or agent is None:
        raise Unavailable("This assistant is not available right now.", code="agent_unavailable")
    wanted = caller.session_id or body.session_id  # a share-link page only ever has its own session
    existing = repo.get_session(wanted, caller.deployment_key) if wanted else None
    if existing is None and caller.session_id:
        raise NotFound("Unknown session.", code="session_not_found")
    if existing is None:
        now = utc_now()
        session = SessionItem(
            new_session_id(),
            deployment_key=caller.deployment_key,
            agent_id=agent.agent_id,
            editor_id=caller.editor_id,
            origin=caller.origin,
            context=body.context,
            locale=body.locale,
            created_at=now,
            last_activity_at=now,
        )
        repo.create_session(session)
    else:
        session = existing
    branding = session_branding(agent, record.view, artisan_id=session.artisan_id, link_id=session.link_id)
    return InitOut(
        session_id=session.session_id,
        agent=AgentOut(name=agent.name, avatar=agent.avatar_url),
        branding=_branding_out(branding, agent.name),
        welcome_message=str(branding["welcome_message"]),
        placeholder=str(branding["placeholder"]),
        resumed=existing is not None,
    )


def own_session(caller: WidgetCaller, session_id: str | None) -> SessionItem:
    """The caller's session; another deployment's, or another one than a share link's, does not exist."""
    if not session_id or (caller.session_id and session_id != caller.session_id):
        raise NotFound("Unknown session.", code="session_not_found")
    session = repo.get_session(session_id, caller.deployment_key)
    if session is None:
        raise NotFound("Unknown session.", code="session_not_found")
    return session


def queue_message(caller: WidgetCaller, session_id: str | None, body: MessageIn, queue: Any) -> QueuedOut:
    """Store the user's message first (never lost), then queue the turn; a failed send marks it failed."""
    if len(body.content) > MAX_MESSAGE_CHARS:
        raise PayloadTooLarge(f"A message is at most {MAX_MESSAGE_CHARS} characters.", code="content_too_large")
    _check_context(body.context)
    own_session(caller, session_id)
    assert session_id is not None
    now = utc_now()
    item = MessageItem(
        session_id,
        new_message_id(session_id),
        deployment_key=caller.deployment_key,
        content=body.content,
        status="queued",
        client_message_id=body.client_message_id,
        context=body.context,
        created_at=now,
        updated_at=now,
    )
    depth_of_queue = queue.depth_later()  # overlaps the write: one round trip less on the hot path
    turn, created = repo.put_user_message(item)
    if not created:  # an idempotent retry: report the first one as it stands
        return QueuedOut(message_id=turn.message_id, session_id=session_id, status=turn.status, position=1)
    try:
        depth = depth_of_queue()
        queue.send({"message_id": turn.message_id, "session_id": session_id})
    except Exception as exc:
        message = "The message could not be queued; please send it again."
        repo.mark_failed(session_id, turn.message_id, "queue_unavailable", message, final=True, only_if=("queued",))
        raise Unavailable(message, code="queue_unavailable") from exc
    return QueuedOut(message_id=turn.message_id, session_id=session_id, status="queued", position=depth + 1)


def _own_message(caller: WidgetCaller, message_id: str) -> MessageItem:
    session_id = session_of(message_id)
    if caller.session_id and session_id != caller.session_id:
        raise NotFound("Unknown message.", code="message_not_found")
    item = repo.get_message(session_id, message_id) if session_id else None
    if item is None or item.deployment_key != caller.deployment_key:
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
