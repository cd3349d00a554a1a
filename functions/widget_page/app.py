"""GET /widget/v1/frame (the chat app in the editor's iframe) and GET /s/{token} (a share link, full screen)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from aimanager.dal.tables import bind_tables
from aimanager.http.api import resolve, rest_resolver
from aimanager.http.auth import source_ip
from aimanager.http.envelope import error
from aimanager.models.envelope import ErrorEnvelope
from aimanager.observability import logger
from aimanager.services.widget_page import Page, PageSettings, frame_page, share_page, storage_origins
from aimanager.settings import get_settings

settings = get_settings()
bind_tables(settings)
# widget/chat.html, copied here by `make widget` (a test keeps the copy identical).
page_settings = PageSettings(
    template=(Path(__file__).parent / "chat.html").read_text(encoding="utf-8"),
    storage_origins=storage_origins(
        settings.uploads_bucket, os.environ.get("AWS_REGION", ""), os.environ.get("AWS_ENDPOINT_URL", "")
    ),
)
app = rest_resolver()
HTML: OpenAPIResponse = {"description": "", "content": {"text/html": {"schema": {"type": "string"}}}}


def _html_response(description: str) -> OpenAPIResponse:
    return {**HTML, "description": description}


def _html(page: Page) -> Response[str]:
    return Response(status_code=page.status, body=page.html, headers=page.headers)


@app.get(
    "/widget/v1/frame",
    summary="The chat app's page, for the iframe the loader adds",
    description="Served only for a host site (`o`) on the deployment's allowlist, with CSP `frame-ancestors` naming "
    "exactly those sites; any other site gets a page saying the assistant is not authorised there, and no session.",
    tags=["Widget"],
    responses={
        200: _html_response("The chat app"),
        403: _html_response("This site is not authorised: the refusal page"),
        404: _html_response("Unknown or inactive deployment: the refusal page"),
    },
)
def frame(
    k: Annotated[str | None, Query(description="Deployment key", max_length=256)] = None,
    o: Annotated[str | None, Query(description="The host page's origin", max_length=2048)] = None,
    l: Annotated[str | None, Query(description="fr | en", max_length=8)] = None,  # noqa: E741 (the loader's name)
    t: Annotated[str | None, Query(description="auto | light | dark", max_length=8)] = None,
    m: Annotated[str | None, Query(description="float | inline", max_length=8)] = None,
) -> Response[str]:
    event = app.current_event
    return _html(
        frame_page(
            page_settings,
            deployment_key=k,
            host_origin=o,
            referer=event.headers.get("referer") or event.headers.get("Referer"),
            locale=l,
            theme=t,
            mode=m,
            source_ip=source_ip(event.raw_event),
            fetch_dest=event.headers.get("sec-fetch-dest") or event.headers.get("Sec-Fetch-Dest"),
        )
    )


@app.get(
    "/s/<token>",
    summary="A share link's full-screen chat",
    description="The chat app for the link's session only, never framed. A tampered, expired or foreign link gets a "
    "401 page (or the error envelope when asked for JSON).",
    tags=["Widget"],
    responses={
        200: _html_response("The chat app, full screen"),
        401: {
            "description": "Invalid or expired link",
            "content": {"text/html": {"schema": {"type": "string"}}, "application/json": {"model": ErrorEnvelope}},
        },
    },
)
def share(
    token: str,
    l: Annotated[str | None, Query(description="fr | en", max_length=8)] = None,  # noqa: E741
) -> Response[str]:
    page = share_page(page_settings, token=token, locale=l)
    accept = app.current_event.headers.get("accept") or app.current_event.headers.get("Accept") or ""
    if page.status == 401 and "application/json" in accept and "text/html" not in accept:
        return error(401, "invalid_share_token", "This link is invalid or has expired.")  # a script's view
    return _html(page)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
