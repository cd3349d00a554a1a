"""GET /api/widget/v1/session/{id}/messages: the history of one of the caller's sessions."""

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
from aimanager.models.widget import HistoryOut
from aimanager.observability import logger
from aimanager.services import widget
from aimanager.settings import get_settings

bind_tables(get_settings())
app = rest_resolver()


@app.get(
    "/api/widget/v1/session/<session_id>/messages",
    summary="A session's messages, oldest first",
    tags=["Widget"],
    responses=responses(200, HistoryOut, "The history", e404="Unknown session"),
)
def get_history(session_id: str) -> Response[str]:
    caller = widget_caller(app.current_event.raw_event)
    return ok(widget.session_history(caller, session_id), headers=cors_headers(caller.origin))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
