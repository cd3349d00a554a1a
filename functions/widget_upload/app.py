"""POST /api/widget/v1/upload: checks the declared file and the session's count, returns a presigned POST."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from aimanager.adapters.storage import UploadsBucket
from aimanager.dal.tables import bind_tables
from aimanager.http.api import resolve, rest_resolver
from aimanager.http.auth import widget_caller
from aimanager.http.cors import cors_headers
from aimanager.http.envelope import ok
from aimanager.http.openapi import responses
from aimanager.models.widget import UploadIn, UploadOut
from aimanager.observability import logger
from aimanager.services import uploads
from aimanager.settings import get_settings

settings = get_settings()
bind_tables(settings)
bucket = UploadsBucket(settings.uploads_bucket)
app = rest_resolver()


@app.post(
    "/api/widget/v1/upload",
    summary="Ask to upload a file (photo or PDF)",
    description="Checks the declared name, type (jpg/png/webp/pdf) and size (at most 10 MB) and the session's count "
    "(at most 10 files); returns a presigned S3 POST: send the form fields, then `file`, straight to `upload.url`, "
    "then call `/upload/{id}/complete`.",
    tags=["Widget"],
    responses=responses(
        201,
        UploadOut,
        "Where to POST the file",
        e404="Unknown session",
        e409="The session already holds 10 files",
        e413="Over 10 MB",
    ),
)
def request_upload(body: Annotated[UploadIn, Body()]) -> Response[str]:
    caller = widget_caller(app.current_event.raw_event)
    session_id = app.current_event.headers.get("x-session-id") or app.current_event.headers.get("X-Session-ID")
    target = uploads.request_upload(caller, session_id, body, bucket)
    return ok(target, status=201, headers=cors_headers(caller.origin))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
