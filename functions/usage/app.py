"""GET /api/editor/usage and GET /api/admin/editors/{editor_id}/usage: the month against the plan, 30-day series."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from aimanager.dal.tables import bind_tables
from aimanager.http.api import resolve, rest_resolver
from aimanager.http.auth import api_caller
from aimanager.http.envelope import ok
from aimanager.http.openapi import responses
from aimanager.models.usage import UsageOut
from aimanager.observability import logger, metrics
from aimanager.services import usage
from aimanager.settings import get_settings

settings = get_settings()
bind_tables(settings)
app = rest_resolver()
# The permission each route needs (§17.4), checked before anything else; a route not listed is refused.
PERMISSIONS = {
    ("GET", "/api/editor/usage"): "stats.view",
    ("GET", "/api/admin/editors/{editor_id}/usage"): "admin.editors",
}


@app.get(
    "/api/editor/usage",
    summary="The editor's usage: the month against its plan, 30 days per deployment",
    tags=["Editor"],
    responses=responses(200, UsageOut, "Usage", e401="Missing or invalid API key", e403="Not an editor"),
)
def own_usage() -> Response[str]:
    caller = api_caller(app.current_event.raw_event, "editeur")
    return ok(usage.editor_usage(caller.user_id, datetime.now(UTC)))


@app.get(
    "/api/admin/editors/<editor_id>/usage",
    summary="An editor's usage (admin)",
    tags=["Admin"],
    responses=responses(
        200, UsageOut, "Usage", e401="Missing or invalid API key", e403="Not an admin", e404="Unknown editor"
    ),
)
def editor_usage(editor_id: str) -> Response[str]:
    api_caller(app.current_event.raw_event, "admin")
    return ok(usage.editor_usage(editor_id, datetime.now(UTC)))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context, permissions=PERMISSIONS)
