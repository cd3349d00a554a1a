"""GET /widget/v1/frame (the chat app in the editor's iframe) and GET /s/{token} (a share link, full screen)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from aimanager.dal.tables import bind_tables
from aimanager.http.api import resolve, rest_resolver
from aimanager.http.auth import source_ip
from aimanager.http.envelope import error
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


def _html(page: Page) -> Response[str]:
    return Response(status_code=page.status, body=page.html, headers=page.headers)


@app.get("/widget/v1/frame")
def frame() -> Response[str]:
    event = app.current_event
    return _html(
        frame_page(
            page_settings,
            deployment_key=event.get_query_string_value("k"),
            host_origin=event.get_query_string_value("o"),
            referer=event.headers.get("referer") or event.headers.get("Referer"),
            locale=event.get_query_string_value("l"),
            theme=event.get_query_string_value("t"),
            mode=event.get_query_string_value("m"),
            source_ip=source_ip(event.raw_event),
        )
    )


@app.get("/s/<token>")
def share(token: str) -> Response[str]:
    event = app.current_event
    page = share_page(page_settings, token=token, locale=event.get_query_string_value("l"))
    accept = event.headers.get("accept") or event.headers.get("Accept") or ""
    if page.status == 401 and "application/json" in accept and "text/html" not in accept:
        return error(401, "invalid_share_token", "This link is invalid or has expired.")  # a script's view
    return _html(page)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
