"""Editor API: its statistics (§6.3); usage against the plan is the usage function's (issue 6)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from aimanager.dal.tables import bind_tables
from aimanager.http.api import resolve, rest_resolver
from aimanager.http.auth import api_caller
from aimanager.http.envelope import ok
from aimanager.http.openapi import responses
from aimanager.models.stats import EditorStats
from aimanager.observability import logger
from aimanager.services import stats
from aimanager.settings import get_settings

bind_tables(get_settings())
app = rest_resolver()
# The permission each route needs (§17.4), checked before anything else; a route not listed is refused.
PERMISSIONS = {
    ("GET", "/api/editor/stats"): "stats.view",
}


@app.get(
    "/api/editor/stats",
    summary="Your statistics",
    tags=["Editor"],
    responses=responses(200, EditorStats, "Your statistics"),
)
def editor_stats() -> Response[str]:
    return ok(stats.editor_stats(api_caller(app.current_event.raw_event).user_id))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context, permissions=PERMISSIONS)
