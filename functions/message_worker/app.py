"""SQS consumer: answers each queued turn through Ollama; failed records are retried with backoff."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from aimanager.adapters.knowledge import NoRetrieval, QdrantRetriever, Retriever, ollama_embedder
from aimanager.adapters.llm import OllamaChat
from aimanager.adapters.queue import SqsTurnQueue
from aimanager.dal.tables import bind_tables
from aimanager.observability import logger, metrics
from aimanager.services.turns import Delivery, process_delivery
from aimanager.settings import get_settings
from aimanager.tracing import tracer

settings = get_settings()
bind_tables(settings)
processor = BatchProcessor(event_type=EventType.SQS)
model = OllamaChat(settings.ollama_host, settings.ollama_timeout_seconds)
queue = SqsTurnQueue(settings.message_queue_url)
_retriever: Retriever | None = None


def retriever() -> Retriever:
    """Built on first use: most turns of an agent without a collection never import qdrant-client."""
    global _retriever
    if _retriever is None:
        if settings.qdrant_url or settings.qdrant_path:
            embed = ollama_embedder(settings.ollama_host, settings.embed_model, settings.ollama_timeout_seconds)
            _retriever = QdrantRetriever(embed, url=settings.qdrant_url, path=settings.qdrant_path)
        else:
            _retriever = NoRetrieval()
    return _retriever


@tracer.capture_method
def record_handler(record: SQSRecord) -> str:
    body = json.loads(record.body)
    receive_count = int(record.attributes.approximate_receive_count or 1)
    delivery = Delivery(body["message_id"], body["session_id"], receive_count, settings.message_max_receive_count)
    try:
        outcome = process_delivery(
            delivery,
            model,
            retriever(),
            lambda delay: queue.retry_later(record.receipt_handle, delay),
            settings.retry_backoff_seconds,
        )
    except Exception:
        metrics.add_metric(name="Turns_retried", unit=MetricUnit.Count, value=1)
        raise
    metrics.add_metric(name=f"Turns_{outcome}", unit=MetricUnit.Count, value=1)
    return outcome


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(  # type: ignore[return-value]  # a TypedDict of the same shape
        event=event, record_handler=record_handler, processor=processor, context=context
    )
