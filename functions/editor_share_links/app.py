"""Editor API on share links (§15.2B): create a signed chat link for one of its artisans, revoke it."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from aimanager.adapters.events import EventBusPublisher
from aimanager.adapters.secrets import signing_secret
from aimanager.dal.tables import bind_tables
from aimanager.http.api import resolve, rest_resolver
from aimanager.http.auth import api_caller
from aimanager.http.envelope import ok
from aimanager.http.openapi import responses
from aimanager.models.share_links import CreateLinkIn, RevokedOut, ShareLinkOut
from aimanager.observability import logger
from aimanager.services import share_links
from aimanager.settings import get_settings

settings = get_settings()
bind_tables(settings)
app = rest_resolver()
# Quota alerts of the sessions a share link opens (they count like widget sessions).
bus = EventBusPublisher(settings.event_bus_name) if settings.event_bus_name else None
# The permission each route needs (§17.4), checked before anything else; a route not listed is refused.
PERMISSIONS = {
    ("POST", "/api/editor/sessions/create-link"): "sessions.create_link",
    ("DELETE", "/api/editor/sessions/links/{link_id}"): "sessions.create_link",
}


def _editor() -> str:
    return api_caller(app.current_event.raw_event).user_id


def _base_url() -> str:
    """SHARE_BASE_URL when set (the editor's chat domain), else this API's own URL as the caller reached it."""
    if settings.share_base_url:
        return settings.share_base_url
    event = app.current_event
    host = event.headers.get("Host") or event.headers.get("host") or event.request_context.domain_name
    on_aws = bool(host and host.endswith(".amazonaws.com"))
    proto = event.headers.get("X-Forwarded-Proto") or event.headers.get("x-forwarded-proto")
    stage = event.request_context.stage
    prefix = f"/{stage}" if on_aws and stage else ""  # the default execute-api URL carries the stage
    return f"{proto or ('https' if on_aws else 'http')}://{host}{prefix}"


@app.post(
    "/api/editor/sessions/create-link",
    summary="Create a share link for an artisan's customer",
    tags=["Editor"],
    responses=responses(
        201,
        ShareLinkOut,
        "The share link",
        e403="This artisan may not create sessions",
        e404="Unknown deployment or artisan",
        e409="The deployment is paused",
        e413="Context over 4 KB",
        e429="A quota is reached (deployment_daily_quota, editor_monthly_quota, link_monthly_quota): the session a "
        "link opens counts like a widget session; Retry-After and RateLimit say until when",
    ),
)
def create_link(body: Annotated[CreateLinkIn, Body()]) -> Response[str]:
    return ok(share_links.create_link(_editor(), body, signing_secret(), _base_url(), bus=bus), status=201)


@app.delete(
    "/api/editor/sessions/links/<link_id>",
    summary="Revoke a share link",
    tags=["Editor"],
    responses=responses(200, RevokedOut, "Revoked", e404="Not one of your share links"),
)
def revoke_link(link_id: str) -> Response[str]:
    return ok(share_links.revoke(_editor(), link_id))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context, permissions=PERMISSIONS)
