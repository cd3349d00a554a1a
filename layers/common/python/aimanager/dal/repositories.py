"""Repositories: every DynamoDB read and write the services need, each scoped by the caller's keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from aimanager.dal.tables import (
    AgentItem,
    AllowedOriginItem,
    DeploymentItem,
    MessageItem,
    SessionFileItem,
    SessionItem,
    UserEditorLinkItem,
    UserItem,
)
from aimanager.dal.usage import Write
from aimanager.domain.files import MAX_FILES_PER_SESSION
from aimanager.ids import utc_now
from aimanager.models.agent import AgentConfig, AllowedDomain, DeploymentView
from aimanager.models.branding import EditorLinkView, Party


def _map(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    return cast(dict[str, Any], value.as_dict() if hasattr(value, "as_dict") else dict(value))


def _conditional_failed(exc: Exception) -> bool:
    return "ConditionalCheckFailed" in str(getattr(exc, "cause_response_code", "")) or "ConditionalCheckFailed" in str(
        exc
    )


# ------------------------------------------------------------------ agents and deployments


def get_agent(agent_id: str) -> AgentConfig | None:
    try:
        item = AgentItem.get(agent_id)
    except DoesNotExist:
        return None
    if not item.is_active:
        return None
    return AgentConfig(
        agent_id=item.agent_id,
        name=item.name,
        system_prompt=item.system_prompt,
        model=item.model,
        fallback_model=item.fallback_model,
        temperature=float(item.temperature),
        max_tokens=int(item.max_tokens),
        context_window_size=int(item.context_window_size),
        qdrant_collection=item.qdrant_collection,
        deployment_mode=item.deployment_mode,
        whitelabel_config=_map(item.whitelabel_config),
        default_branding=_map(item.default_branding),
        avatar_url=item.avatar_url,
    )


@dataclass(frozen=True)
class DeploymentRecord:
    view: DeploymentView
    domains: tuple[AllowedDomain, ...]


def get_deployment(deployment_key: str) -> DeploymentRecord | None:
    """One strongly consistent GetItem: the deployment and its allowlist (the authorizer's hot path)."""
    try:
        item = DeploymentItem.get(deployment_key, consistent_read=True)
    except DoesNotExist:
        return None
    domains = tuple(
        AllowedDomain(
            domain=name,
            is_wildcard=bool(spec.get("is_wildcard", False)),
            environment=str(spec.get("environment", "production")),
            is_active=bool(spec.get("is_active", True)),
        )
        for name, spec in _map(item.allowed_domains).items()
    )
    view = DeploymentView(
        deployment_key=item.deployment_key,
        agent_id=item.agent_id,
        editor_id=item.editor_id,
        name=item.name,
        deployment_mode=item.deployment_mode,
        config_overlay=_map(item.config_overlay),
        branding=_map(item.branding),
        dedicated_collection=item.dedicated_collection,
        rate_limit_per_ip=int(item.rate_limit_per_ip),
        is_active=bool(item.is_active),
    )
    return DeploymentRecord(view=view, domains=domains)


def editor_is_active(editor_id: str) -> bool:
    """A deployment's editor is there and active (admin DELETE deactivates it): one consistent GetItem."""
    try:
        item = UserItem.get(editor_id, consistent_read=True, attributes_to_get=["user_id", "is_active"])
    except DoesNotExist:
        return False
    return bool(item.is_active)


# ------------------------------------------------------------------ branding sources


def get_parties(user_ids: list[str]) -> dict[str, Party]:
    """The users a session's branding names (its editor, its artisan), in one BatchGetItem; unknown ids absent."""
    wanted = sorted({u for u in user_ids if u})
    if not wanted:
        return {}
    return {
        item.user_id: Party(
            user_id=item.user_id,
            name=item.name,
            company_name=item.company_name,
            phone=item.phone,
            branding=_map(item.branding),
            is_active=bool(item.is_active),
        )
        for item in UserItem.batch_get(
            wanted, attributes_to_get=["user_id", "name", "company_name", "phone", "branding", "is_active"]
        )
    }


def get_editor_link(link_id: str) -> EditorLinkView | None:
    try:
        item = UserEditorLinkItem.get(link_id)
    except DoesNotExist:
        return None
    return EditorLinkView(
        link_id=item.link_id,
        artisan_id=item.artisan_id,
        editor_id=item.editor_id,
        branding=_map(item.branding),
        is_active=bool(item.is_active),
    )


def get_link_permissions(link_id: str) -> dict[str, Any] | None:
    """A link's permissions map (§15.2A: can_create_sessions, max_sessions_month, ...); None for an unknown link."""
    try:
        item = UserEditorLinkItem.get(link_id)
    except DoesNotExist:
        return None
    return _map(item.permissions)


def any_active_origin(index_keys: list[str]) -> bool:
    """True when some active deployment allows one of these domain patterns (reverse index, for preflights)."""
    for key in index_keys:
        for item in AllowedOriginItem.query(key, limit=5):
            if item.is_active:
                return True
    return False


def save_deployment(item: DeploymentItem, domains: list[AllowedDomain]) -> None:
    """Write a deployment with its allowlist and the reverse-index entries, all or nothing."""
    from aimanager.domain.origins import index_keys_for_entry

    item.allowed_domains = {
        d.domain: {"is_wildcard": d.is_wildcard, "environment": d.environment, "is_active": d.is_active}
        for d in domains
    }
    with TransactWrite(connection=Connection()) as tx:
        tx.save(item)
        for key in sorted({k for d in domains for k in index_keys_for_entry(d)}):
            tx.save(AllowedOriginItem(key, item.deployment_key, is_active=bool(item.is_active)))


# ------------------------------------------------------------------ sessions


def create_session(item: SessionItem) -> None:
    item.save(condition=SessionItem.session_id.does_not_exist())


def get_session(session_id: str, deployment_key: str) -> SessionItem | None:
    """A session of another deployment is as absent as an unknown one (tenants never meet)."""
    try:
        item = SessionItem.get(session_id)
    except DoesNotExist:
        return None
    return item if item.deployment_key == deployment_key else None


# ------------------------------------------------------------------ messages


def _marker_key(client_message_id: str) -> str:
    return f"idem#{client_message_id}"


def put_user_message(item: MessageItem) -> tuple[MessageItem, bool]:
    """Store a new turn; with a client_message_id, a retry gets the first turn back: (turn, created).

    The marker (same partition) is written first and names the turn's id; if a crash leaves a marker without
    its turn, the retry writes the turn under that id. Two conditional puts, no transaction.
    """
    if not item.client_message_id:
        item.save(condition=MessageItem.message_id.does_not_exist())
        return item, True
    marker = MessageItem(
        item.session_id,
        _marker_key(item.client_message_id),
        deployment_key=item.deployment_key,
        content=item.message_id,
        status="marker",
        created_at=item.created_at,
        updated_at=item.created_at,
    )
    try:
        marker.save(condition=MessageItem.message_id.does_not_exist())
    except PutError as exc:
        if not _conditional_failed(exc):
            raise
        existing = MessageItem.get(item.session_id, _marker_key(item.client_message_id), consistent_read=True)
        first = get_message(item.session_id, existing.content)
        if first is not None:
            return first, False
        item.message_id = existing.content  # the marker's turn was never written: write it now
    item.save(condition=MessageItem.message_id.does_not_exist())
    return item, True


def user_message_writes(item: MessageItem) -> list[Write]:
    """The turn (and its idempotency marker) as conditional puts for the counting transaction (decision 0024):
    the marker and the turn are written together, and the request is counted only if they are."""
    writes = [Write(item, MessageItem.message_id.does_not_exist())]
    if item.client_message_id:
        marker = MessageItem(
            item.session_id,
            _marker_key(item.client_message_id),
            deployment_key=item.deployment_key,
            content=item.message_id,
            status="marker",
            created_at=item.created_at,
            updated_at=item.created_at,
        )
        writes.insert(0, Write(marker, MessageItem.message_id.does_not_exist()))
    return writes


def session_touch(session_id: str, now: str) -> Write:
    """The session's own statistics move with its turn, in the same transaction."""
    return Write(
        SessionItem(session_id),
        SessionItem.session_id.exists(),
        [SessionItem.messages_count.add(1), SessionItem.last_activity_at.set(now)],
    )


def retried_turn(session_id: str, client_message_id: str) -> tuple[MessageItem | None, str | None]:
    """For a retried client_message_id: (the first turn, the id the marker names) - the turn may be missing
    only for markers written before turns and markers moved together."""
    try:
        marker = MessageItem.get(session_id, _marker_key(client_message_id), consistent_read=True)
    except DoesNotExist:
        return None, None
    return get_message(session_id, marker.content), marker.content


def get_message(session_id: str, message_id: str) -> MessageItem | None:
    try:
        return MessageItem.get(session_id, message_id, consistent_read=True)
    except DoesNotExist:
        return None


def session_messages(session_id: str, limit: int = 200) -> list[MessageItem]:
    """The session's turns, oldest first (the most recent `limit`), from one strongly consistent Query."""
    items = MessageItem.query(
        session_id,
        MessageItem.message_id.startswith("msg_"),
        scan_index_forward=False,
        limit=limit,
        consistent_read=True,
    )
    return list(reversed(list(items)))


class AlreadyAnswered(Exception):
    """The turn is completed (or failed for good): a redelivery must do nothing."""


def start_processing(session_id: str, message_id: str) -> MessageItem:
    """queued|processing -> processing, counting attempts; a completed or failed turn raises AlreadyAnswered."""
    item = MessageItem(session_id, message_id)
    try:
        # ReturnValues ALL_NEW: the item comes back whole, no second read.
        item.update(
            actions=[
                MessageItem.status.set("processing"),
                MessageItem.attempts.add(1),
                MessageItem.updated_at.set(utc_now()),
            ],
            condition=MessageItem.status.is_in("queued", "processing"),
        )
    except UpdateError as exc:
        if _conditional_failed(exc):
            raise AlreadyAnswered(message_id) from exc
        raise
    return item


@dataclass(frozen=True)
class Reply:
    content: str
    model: str
    tokens: int
    generation_time_ms: int


def complete_turn(session_id: str, message_id: str, reply: Reply) -> bool:
    """Write the reply onto the turn, only if it is still processing: False when another delivery won."""
    now = utc_now()
    try:
        MessageItem(session_id, message_id).update(
            actions=[
                MessageItem.status.set("completed"),
                MessageItem.reply_content.set(reply.content),
                MessageItem.reply_model.set(reply.model),
                MessageItem.reply_tokens.set(reply.tokens),
                MessageItem.reply_generation_time_ms.set(reply.generation_time_ms),
                MessageItem.updated_at.set(now),
                MessageItem.completed_at.set(now),
                MessageItem.error_code.remove(),
                MessageItem.error_message.remove(),
            ],
            condition=MessageItem.status == "processing",
        )
    except UpdateError as exc:
        if _conditional_failed(exc):
            return False
        raise
    return True


def mark_failed(
    session_id: str,
    message_id: str,
    code: str,
    message: str,
    *,
    final: bool,
    only_if: tuple[str, ...] = ("queued", "processing"),
) -> None:
    """Record the error; `final` moves the turn to failed, otherwise it stays as it is for the next try."""
    actions: list[Action] = [
        MessageItem.error_code.set(code),
        MessageItem.error_message.set(message),
        MessageItem.updated_at.set(utc_now()),
    ]
    if final:
        actions.append(MessageItem.status.set("failed"))
    try:
        MessageItem(session_id, message_id).update(actions=actions, condition=MessageItem.status.is_in(*only_if))
    except UpdateError as exc:
        if not _conditional_failed(exc):
            raise


# ------------------------------------------------------------------ session files


def files_count(session: SessionItem) -> int:
    return int(session.files_count or 0)


def create_file(item: SessionFileItem) -> None:
    item.save(condition=SessionFileItem.file_id.does_not_exist())


def get_file(session_id: str, file_id: str) -> SessionFileItem | None:
    try:
        return SessionFileItem.get(session_id, file_id, consistent_read=True)
    except DoesNotExist:
        return None


class FileLimitReached(Exception):
    """The session already holds its maximum of accepted files."""


def accept_file(item: SessionFileItem, content_type: str, size: int, thumbnail_key: str | None) -> bool:
    """pending -> uploaded and the session's count + 1, together, once: False when already accepted or refused.

    Raises FileLimitReached when the session is full (the file stays pending for the caller to refuse).
    """
    now = utc_now()
    try:
        with TransactWrite(connection=Connection()) as tx:
            tx.update(
                SessionItem(item.session_id),
                actions=[SessionItem.files_count.add(1)],
                condition=(
                    SessionItem.files_count.does_not_exist() | (SessionItem.files_count < MAX_FILES_PER_SESSION)
                ),
            )
            tx.update(
                SessionFileItem(item.session_id, item.file_id),
                actions=[
                    SessionFileItem.status.set("uploaded"),
                    SessionFileItem.content_type.set(content_type),
                    SessionFileItem.size.set(size),
                    SessionFileItem.uploaded_at.set(now),
                    *([SessionFileItem.thumbnail_key.set(thumbnail_key)] if thumbnail_key else []),
                ],
                condition=SessionFileItem.status == "pending",
            )
    except TransactWriteError as exc:
        if not any(r is not None and r.code == "ConditionalCheckFailed" for r in exc.cancellation_reasons):
            raise
        current = get_file(item.session_id, item.file_id)
        if current is not None and current.status == "pending":
            raise FileLimitReached(item.file_id) from exc
        return False
    return True


def reject_file(item: SessionFileItem, code: str) -> None:
    """pending -> rejected (a refused object is deleted by the caller); never touches an accepted file."""
    try:
        SessionFileItem(item.session_id, item.file_id).update(
            actions=[SessionFileItem.status.set("rejected"), SessionFileItem.error_code.set(code)],
            condition=SessionFileItem.status == "pending",
        )
    except UpdateError as exc:
        if not _conditional_failed(exc):
            raise


__all__ = [
    "AlreadyAnswered",
    "DeploymentRecord",
    "PutError",
    "any_active_origin",
    "Reply",
    "complete_turn",
    "create_session",
    "get_agent",
    "get_deployment",
    "get_message",
    "get_session",
    "mark_failed",
    "put_user_message",
    "retried_turn",
    "session_touch",
    "user_message_writes",
    "session_messages",
    "start_processing",
]
