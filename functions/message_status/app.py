"""GET /api/widget/v1/message/{id}/status: one turn's status, and the reply once completed."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from aimanager.dal.tables import bind_tables
from aimanager.http.api import resolve, rest_resolver
from aimanager.http.auth import widget_caller
from aimanager.http.cors import cors_headers
from aimanager.http.envelope import ok
from aimanager.http.openapi import responses
from aimanager.models.widget import StatusOut
from aimanager.observability import logger
from aimanager.services import widget
from aimanager.settings import get_settings

bind_tables(get_settings())
app = rest_resolver()


@app.get(
    "/api/widget/v1/message/<message_id>/status",
    summary="A message's status, and the reply once completed",
    tags=["Widget"],
    responses=responses(200, StatusOut, "The turn as it stands", e404="Unknown message"),
)
def get_status(message_id: str) -> Response[str]:
    caller = widget_caller(app.current_event.raw_event)
    return ok(widget.message_status(caller, message_id), headers=cors_headers(caller.origin))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
