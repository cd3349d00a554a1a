"""The worker's use case: answer one queued turn through the model, exactly once in effect."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from aimanager.adapters.knowledge import Retriever
from aimanager.adapters.llm import ChatModel, ModelUnavailable
from aimanager.dal import repositories as repo
from aimanager.domain.config import resolve_config
from aimanager.domain.conversation import Turn, build_chat
from aimanager.models.agent import AgentConfig
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


def _previous_turns(session_id: str, before: str, window: int) -> list[Turn]:
    """Answered turns before this one, as the user/assistant messages the model saw (enough for the window)."""
    if window <= 0:
        return []
    turns: list[Turn] = []
    for m in repo.session_messages(session_id, limit=window // 2 + 2):
        if m.message_id >= before:
            break
        if m.status == "completed" and m.reply_content is not None:
            turns += [Turn(role="user", content=m.content), Turn(role="assistant", content=m.reply_content)]
    return turns


CONFIG_TTL_S = 30.0
_config_cache: dict[str, tuple[float, repo.DeploymentRecord | None, AgentConfig | None]] = {}


def _load(deployment_key: str) -> tuple[repo.DeploymentRecord | None, AgentConfig | None]:
    """Deployment and agent, cached per container for CONFIG_TTL_S: a busy session costs no config reads,
    and an edit of the agent or the deployment reaches every worker within that delay."""
    now = time.monotonic()
    hit = _config_cache.get(deployment_key)
    if hit is not None and hit[0] > now:
        return hit[1], hit[2]
    deployment = repo.get_deployment(deployment_key)
    agent = repo.get_agent(deployment.view.agent_id) if deployment else None
    if deployment is not None and agent is not None:
        _config_cache[deployment_key] = (now + CONFIG_TTL_S, deployment, agent)
    return deployment, agent


def clear_config_cache() -> None:
    _config_cache.clear()


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
                    delivery.session_id,
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
        user_msg = repo.start_processing(delivery.session_id, delivery.message_id)
    except repo.AlreadyAnswered:
        logger.info("turn already answered: redelivery ignored", extra={"message_id": delivery.message_id})
        return "duplicate"
    # start_processing's update returned the whole item (ALL_NEW): no second read needed.
    marks = [("start", time.perf_counter())]
    deployment, agent = _load(user_msg.deployment_key)
    if deployment is None or agent is None:
        repo.mark_failed(
            delivery.session_id,
            user_msg.message_id,
            "agent_unavailable",
            "This assistant is no longer available.",
            final=True,
        )
        return "failed"
    config = resolve_config(agent, deployment.view)
    marks.append(("config_ms", time.perf_counter()))
    snippets = _retrieve(retriever, config.collections, user_msg.content)
    marks.append(("retrieval_ms", time.perf_counter()))
    previous = _previous_turns(delivery.session_id, user_msg.message_id, config.context_window_size)
    marks.append(("history_ms", time.perf_counter()))
    chat = build_chat(config.system_prompt, snippets, previous, user_msg.content, config.context_window_size)
    try:
        result = model.chat(config.model, chat, temperature=config.temperature, max_tokens=config.max_tokens)
    except ModelUnavailable as exc:
        final = (not exc.retryable) or delivery.receive_count >= delivery.max_receive_count
        repo.mark_failed(
            delivery.session_id,
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
    marks.append(("model_ms", time.perf_counter()))
    reply = repo.Reply(result.content, result.model, result.tokens, result.generation_time_ms)
    if not repo.complete_turn(delivery.session_id, user_msg.message_id, reply):
        logger.info("turn answered by another delivery", extra={"message_id": user_msg.message_id})
        return "duplicate"
    marks.append(("store_ms", time.perf_counter()))
    timings = {name: round((t - marks[i][1]) * 1000, 1) for i, (name, t) in enumerate(marks[1:])}
    logger.info("turn answered", extra={"message_id": user_msg.message_id, **timings})
    return "completed"
