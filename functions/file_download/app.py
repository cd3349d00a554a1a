"""GET /api/widget/v1/files/{id}?v=file|thumb&t=...: a file URL we issued, checked here (expiry included),
then a redirect to a one-minute S3 URL. Public route: an <img> cannot send the widget's headers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from aimanager.adapters.storage import UploadsBucket
from aimanager.dal.tables import bind_tables
from aimanager.http.api import resolve, rest_resolver
from aimanager.http.envelope import ok
from aimanager.models.envelope import ErrorEnvelope
from aimanager.observability import logger
from aimanager.services import uploads
from aimanager.settings import get_settings

settings = get_settings()
bind_tables(settings)
bucket = UploadsBucket(settings.uploads_bucket)
app = rest_resolver(origin=lambda _: None)


@app.get(
    "/api/widget/v1/files/<file_id>",
    summary="A session file, through the expiring URL `/upload/{id}/complete` gave",
    description="The token `t` is checked here (signature, file, variant, expiry), then the answer redirects to a "
    "one-minute S3 URL.",
    tags=["Widget"],
    responses={
        302: {"description": "Redirect to the file", "headers": {"Location": {"schema": {"type": "string"}}}},
        401: {"description": "Invalid or expired link", "content": {"application/json": {"model": ErrorEnvelope}}},
    },
)
def download(
    file_id: str,
    v: Annotated[Literal["file", "thumb"], Query(description="The file or its thumbnail")] = "file",
    t: Annotated[str, Query(description="The link's signed, expiring token", max_length=2048)] = "",
) -> Response[str]:
    location = uploads.file_location(file_id, v, t, bucket)
    return ok({"url": location}, status=302, headers={"Location": location, "Cache-Control": "private, no-store"})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
