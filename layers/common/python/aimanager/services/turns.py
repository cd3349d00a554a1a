"""The worker's use case: answer one queued turn through the model, exactly once in effect."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from aimanager.adapters.knowledge import Retriever
from aimanager.adapters.llm import ChatModel, ModelUnavailable
from aimanager.dal import repositories as repo
from aimanager.dal.tables import MessageItem
from aimanager.domain.config import resolve_config
from aimanager.domain.conversation import Turn, build_chat
from aimanager.ids import utc_now
from aimanager.observability import logger

RETRIEVAL_LIMIT = 3


class RetryTurn(Exception):
    """Raised so the queue redelivers the turn (the record is reported as a batch item failure)."""


@dataclass(frozen=True)
class Delivery:
    message_id: str
    session_id: str
    receive_count: int  # SQS ApproximateReceiveCount of this delivery
    max_receive_count: int  # the queue's redrive maxReceiveCount


def reply_id_for(message_id: str) -> str:
    """Deterministic: a redelivered turn can only ever write the same reply item (conditional put)."""
    return f"{message_id}-r"


def _previous_turns(session_id: str, before: str) -> list[Turn]:
    turns = []
    for m in repo.session_messages(session_id, limit=60):
        if m.message_id >= before:
            break
        if m.role == "assistant" or (m.role == "user" and m.status == "completed"):
            turns.append(Turn(role=m.role, content=m.content))
    return turns


def _retrieve(retriever: Retriever, collections: tuple[str, ...], query: str) -> list[str]:
    """Knowledge helps but is not essential: a retrieval failure answers without context rather than failing."""
    if not collections:
        return []
    try:
        return retriever.search(collections, query, RETRIEVAL_LIMIT)
    except Exception as exc:
        logger.warning("retrieval failed: answering without knowledge context", extra={"error": str(exc)})
        return []


def process_delivery(
    delivery: Delivery, model: ChatModel, retriever: Retriever, retry_later: Callable[[int], None], backoff_s: int
) -> str:
    """One SQS delivery: answer it, or back off and raise so the queue redelivers (then the DLQ)."""
    delay = backoff_s * 2 ** max(0, delivery.receive_count - 1)
    try:
        return answer_turn(delivery, model, retriever)
    except RetryTurn:
        retry_later(delay)
        raise
    except Exception:
        logger.exception(
            "turn failed unexpectedly",
            extra={"message_id": delivery.message_id, "receive_count": delivery.receive_count},
        )
        if delivery.receive_count >= delivery.max_receive_count:
            # Last delivery: the record goes to the DLQ for inspection, the user sees a clear failure.
            with contextlib.suppress(Exception):
                repo.mark_failed(
                    delivery.message_id,
                    "internal_error",
                    "The assistant could not answer this message. Please send it again.",
                    final=True,
                )
        else:
            with contextlib.suppress(Exception):
                retry_later(delay)
        raise


def answer_turn(delivery: Delivery, model: ChatModel, retriever: Retriever) -> str:
    """queued -> processing -> completed; a model failure retries, and fails the turn on the last delivery."""
    try:
        user_msg = repo.start_processing(delivery.message_id)
    except repo.AlreadyAnswered:
        logger.info("turn already answered: redelivery ignored", extra={"message_id": delivery.message_id})
        return "duplicate"
    user_msg.refresh(consistent_read=True)
    deployment = repo.get_deployment(user_msg.deployment_key)
    agent = repo.get_agent(deployment.view.agent_id) if deployment else None
    if deployment is None or agent is None:
        repo.mark_failed(user_msg.message_id, "agent_unavailable", "This assistant is no longer available.", final=True)
        return "failed"
    config = resolve_config(agent, deployment.view)
    snippets = _retrieve(retriever, config.collections, user_msg.content)
    chat = build_chat(
        config.system_prompt,
        snippets,
        _previous_turns(delivery.session_id, user_msg.message_id),
        user_msg.content,
        config.context_window_size,
    )
    try:
        result = model.chat(config.model, chat, temperature=config.temperature, max_tokens=config.max_tokens)
    except ModelUnavailable as exc:
        final = (not exc.retryable) or delivery.receive_count >= delivery.max_receive_count
        repo.mark_failed(
            user_msg.message_id,
            "model_unavailable",
            "The assistant could not answer right now. Please try again in a moment."
            if final
            else "The assistant is slow to answer; retrying.",
            final=final,
        )
        logger.warning(
            "model call failed",
            extra={
                "message_id": user_msg.message_id,
                "final": final,
                "receive_count": delivery.receive_count,
                "error": str(exc),
            },
        )
        if final:
            return "failed"
        raise RetryTurn(str(exc)) from exc
    now = utc_now()
    reply = MessageItem(
        reply_id_for(user_msg.message_id),
        session_id=delivery.session_id,
        deployment_key=user_msg.deployment_key,
        role="assistant",
        content=result.content,
        status="completed",
        reply_to=user_msg.message_id,
        model=result.model,
        tokens=result.tokens,
        generation_time_ms=result.generation_time_ms,
        created_at=now,
        updated_at=now,
    )
    if not repo.complete_turn(user_msg, reply, delivery.session_id):
        logger.info("turn answered by another delivery", extra={"message_id": user_msg.message_id})
        return "duplicate"
    return "completed"
