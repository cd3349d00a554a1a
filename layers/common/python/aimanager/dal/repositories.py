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
    SessionItem,
)
from aimanager.ids import utc_now
from aimanager.models.agent import AgentConfig, AllowedDomain, DeploymentView


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
        is_active=bool(item.is_active),
    )
    return DeploymentRecord(view=view, domains=domains)


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


def idempotency_marker_id(session_id: str, client_message_id: str) -> str:
    return f"idem#{session_id}#{client_message_id}"


def put_user_message(item: MessageItem) -> MessageItem:
    """Store the user's message; with a client_message_id, a retry returns the first one instead of a copy."""
    if not item.client_message_id:
        item.save(condition=MessageItem.message_id.does_not_exist())
        return item
    marker_id = idempotency_marker_id(item.session_id, item.client_message_id)
    # The marker has no session_id attribute, so the sparse session index never lists it.
    marker = MessageItem(
        marker_id,
        session_id=None,
        deployment_key=item.deployment_key,
        role="marker",
        content=item.message_id,
        status="completed",
        created_at=item.created_at,
        updated_at=item.created_at,
    )
    try:
        with TransactWrite(connection=Connection()) as tx:
            tx.save(marker, condition=MessageItem.message_id.does_not_exist())
            tx.save(item, condition=MessageItem.message_id.does_not_exist())
    except TransactWriteError:
        existing = MessageItem.get(marker_id, consistent_read=True)
        return MessageItem.get(existing.content, consistent_read=True)
    return item


def get_message(message_id: str) -> MessageItem | None:
    try:
        return MessageItem.get(message_id, consistent_read=True)
    except DoesNotExist:
        return None


def session_messages(session_id: str, limit: int = 200) -> list[MessageItem]:
    """The session's messages, oldest first (the most recent `limit`)."""
    items = list(MessageItem.by_session.query(session_id, scan_index_forward=False, limit=limit))
    return list(reversed(items))


class AlreadyAnswered(Exception):
    """The turn is completed (or failed for good): a redelivery must do nothing."""


def start_processing(message_id: str) -> MessageItem:
    """queued|processing -> processing, counting attempts; a completed or failed turn raises AlreadyAnswered."""
    item = MessageItem(message_id)
    try:
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


def complete_turn(user_message: MessageItem, reply: MessageItem, session_id: str) -> bool:
    """Store the reply and close the turn atomically; False when another delivery already answered it."""
    now = utc_now()
    try:
        with TransactWrite(connection=Connection()) as tx:
            tx.save(reply, condition=MessageItem.message_id.does_not_exist())
            tx.update(
                MessageItem(user_message.message_id),
                actions=[
                    MessageItem.status.set("completed"),
                    MessageItem.reply_id.set(reply.message_id),
                    MessageItem.updated_at.set(now),
                    MessageItem.error_code.remove(),
                    MessageItem.error_message.remove(),
                ],
                condition=MessageItem.status == "processing",
            )
            tx.update(
                SessionItem(session_id),
                actions=[SessionItem.messages_count.add(2), SessionItem.last_activity_at.set(now)],
                condition=SessionItem.session_id.exists(),
            )
    except TransactWriteError as exc:
        if "ConditionalCheckFailed" in str(exc.cancellation_reasons or exc):
            return False
        raise
    return True


def mark_failed(message_id: str, code: str, message: str, *, final: bool) -> None:
    """Record the error; `final` moves the turn to failed, otherwise it stays processing for the next try."""
    actions: list[Action] = [
        MessageItem.error_code.set(code),
        MessageItem.error_message.set(message),
        MessageItem.updated_at.set(utc_now()),
    ]
    if final:
        actions.append(MessageItem.status.set("failed"))
    try:
        MessageItem(message_id).update(actions=actions, condition=MessageItem.status.is_in("queued", "processing"))
    except UpdateError as exc:
        if not _conditional_failed(exc):
            raise


def mark_queue_failure(message_id: str, message: str) -> None:
    try:
        MessageItem(message_id).update(
            actions=[
                MessageItem.status.set("failed"),
                MessageItem.error_code.set("queue_unavailable"),
                MessageItem.error_message.set(message),
                MessageItem.updated_at.set(utc_now()),
            ],
            condition=MessageItem.status == "queued",
        )
    except UpdateError as exc:
        if not _conditional_failed(exc):
            raise


__all__ = [
    "AlreadyAnswered",
    "DeploymentRecord",
    "PutError",
    "any_active_origin",
    "complete_turn",
    "create_session",
    "get_agent",
    "get_deployment",
    "get_message",
    "get_session",
    "mark_failed",
    "mark_queue_failure",
    "put_user_message",
    "session_messages",
    "start_processing",
]
