"""GET /api/widget/v1/files/{id}?v=file|thumb&t=...: a file URL we issued, checked here (expiry included),
then a redirect to a one-minute S3 URL. Public route: an <img> cannot send the widget's headers."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from aimanager.adapters.storage import UploadsBucket
from aimanager.dal.tables import bind_tables
from aimanager.http.api import resolve, rest_resolver
from aimanager.observability import logger
from aimanager.services import uploads
from aimanager.settings import get_settings

settings = get_settings()
bind_tables(settings)
bucket = UploadsBucket(settings.uploads_bucket)
app = rest_resolver(origin=lambda _: None)


@app.get("/api/widget/v1/files/<file_id>")
def download(file_id: str) -> Response[str]:
    event = app.current_event
    location = uploads.file_location(
        file_id, event.get_query_string_value("v"), event.get_query_string_value("t"), bucket
    )
    return Response(status_code=302, body="", headers={"Location": location, "Cache-Control": "private, no-store"})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
