"""POST /api/widget/v1/message: stores the user's message and queues the turn for the worker."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from aimanager.adapters.events import EventBusPublisher
from aimanager.adapters.queue import SqsTurnQueue
from aimanager.dal.tables import bind_tables
from aimanager.http.api import resolve, rest_resolver
from aimanager.http.auth import request_meta, widget_caller
from aimanager.http.cors import cors_headers
from aimanager.http.envelope import ok
from aimanager.http.openapi import responses
from aimanager.models.widget import MessageIn, QueuedOut
from aimanager.observability import logger, metrics
from aimanager.services import widget
from aimanager.settings import get_settings

settings = get_settings()
bind_tables(settings)
queue = SqsTurnQueue(settings.message_queue_url)
app = rest_resolver()
metering = widget.Metering(
    EventBusPublisher(settings.event_bus_name) if settings.event_bus_name else None, settings.limits_cache_seconds
)


@app.post(
    "/api/widget/v1/message",
    summary="Send a message (queued for the agent)",
    description="Needs `X-Session-ID` (from init). Stores the message, queues the turn and returns its position.",
    tags=["Widget"],
    responses=responses(
        202,
        QueuedOut,
        "Queued",
        e400="Malformed JSON",
        e404="Unknown session",
        e413="Message or context too large",
        e429="A limit is reached (rate_limited, deployment_daily_quota, editor_monthly_quota); Retry-After, "
        "RateLimit-Policy and RateLimit say which and until when",
        e503="The queue is unavailable (the message is marked failed; send it again)",
    ),
)
def post_message(body: Annotated[MessageIn, Body()]) -> Response[str]:
    caller = widget_caller(app.current_event.raw_event)
    session_id = app.current_event.headers.get("x-session-id") or app.current_event.headers.get("X-Session-ID")
    queued = widget.queue_message(
        caller, session_id, body, queue, request=request_meta(app.current_event.raw_event), metering=metering
    )
    metrics.add_metric(name="MessagesQueued", unit=MetricUnit.Count, value=1)
    return ok(queued, status=202, headers=cors_headers(caller.origin))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
