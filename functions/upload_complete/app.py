"""POST /api/widget/v1/upload/{id}/complete: our checks on the stored object (size, type by its bytes),
the SessionFile kept exactly once, the thumbnail of an image."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from aimanager.adapters.storage import UploadsBucket
from aimanager.dal.tables import bind_tables
from aimanager.http.api import resolve, rest_resolver
from aimanager.http.auth import widget_caller
from aimanager.http.cors import cors_headers
from aimanager.http.envelope import ok
from aimanager.http.openapi import responses
from aimanager.models.widget import FileOut
from aimanager.observability import logger, metrics
from aimanager.services import uploads
from aimanager.settings import get_settings

settings = get_settings()
bind_tables(settings)
bucket = UploadsBucket(settings.uploads_bucket)
app = rest_resolver()


@app.post(
    "/api/widget/v1/upload/<file_id>/complete",
    summary="Complete an upload: the stored file is checked and kept",
    description="Measures the stored object and recognises its type by its bytes; anything else is deleted and "
    "refused. Keeps the file once (a retry returns it again), makes a thumbnail of an image. `url` and "
    "`thumbnail_url` are relative to `/api/widget/v1/` and expire after an hour.",
    tags=["Widget"],
    responses=responses(
        200,
        FileOut,
        "The file, kept",
        e400="Not uploaded yet",
        e404="Unknown file",
        e409="The session already holds 10 files",
        e413="Over 10 MB",
    ),
)
def complete(file_id: str) -> Response[str]:
    caller = widget_caller(app.current_event.raw_event)
    out = uploads.complete_upload(caller, file_id, bucket)
    metrics.add_metric(name="FilesUploaded", unit=MetricUnit.Count, value=1)
    return ok(out, headers=cors_headers(caller.origin))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
