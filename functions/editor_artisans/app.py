"""Editor API on artisans (§15.2A, §17.6): link by email, create-and-link, list, link codes, bearer tokens."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from aimanager.adapters.events import EventBusPublisher
from aimanager.dal.tables import bind_tables
from aimanager.http.api import resolve, rest_resolver
from aimanager.http.auth import api_caller
from aimanager.http.envelope import ok
from aimanager.http.openapi import responses
from aimanager.models.artisans import (
    ArtisanLinkOut,
    ArtisanList,
    BearerIn,
    BearerOut,
    CreateAndLinkIn,
    LinkArtisanIn,
    LinkCodeIn,
    LinkCodeOut,
)
from aimanager.observability import logger
from aimanager.services import artisans
from aimanager.settings import get_settings

settings = get_settings()
bind_tables(settings)
app = rest_resolver()
# create-and-link's `send_invitation`: an artisan.invited event for the editor's webhooks.
bus = EventBusPublisher(settings.event_bus_name) if settings.event_bus_name else None
# The permission each route needs (§17.4), checked before anything else; a route not listed is refused.
PERMISSIONS = {
    ("GET", "/api/editor/artisans"): "artisans.view",
    ("POST", "/api/editor/artisans/link"): "artisans.link",
    ("POST", "/api/editor/artisans/create-and-link"): "artisans.link",
    ("POST", "/api/editor/artisans/link-codes"): "artisans.link",
    ("POST", "/api/editor/artisans/{artisan_id}/token"): "artisans.link",
}


def _editor() -> str:
    return api_caller(app.current_event.raw_event).user_id


@app.get(
    "/api/editor/artisans",
    summary="Your linked artisans",
    tags=["Editor"],
    responses=responses(200, ArtisanList, "Your linked artisans"),
)
def list_artisans() -> Response[str]:
    return ok(artisans.list_linked(_editor()))


@app.post(
    "/api/editor/artisans/link",
    summary="Invite an artisan by email",
    description="Creates a `pending` link: it gives you nothing (no bearer, no share link, no branding) until the "
    "artisan accepts it from its artisan API. The answer is the same whether or not the email has an account.",
    tags=["Editor"],
    responses=responses(
        201, ArtisanLinkOut, "The pending link", e409="Already linked or invited, or external_id taken"
    ),
)
def link_artisan(body: Annotated[LinkArtisanIn, Body()]) -> Response[str]:
    return ok(artisans.link_existing(_editor(), body), status=201)


@app.post(
    "/api/editor/artisans/create-and-link",
    summary="Create an artisan and link it",
    tags=["Editor"],
    responses=responses(
        201,
        ArtisanLinkOut,
        "The new artisan's link (the same request again returns it again)",
        e409="Email or external_id taken",
        e503="Created, but the invitation could not be sent: send the same request again",
    ),
)
def create_and_link(body: Annotated[CreateAndLinkIn, Body()]) -> Response[str]:
    return ok(artisans.create_and_link(_editor(), body, bus=bus), status=201)


@app.post(
    "/api/editor/artisans/link-codes",
    summary="Issue a link code for an artisan to redeem",
    tags=["Editor"],
    responses=responses(201, LinkCodeOut, "The code to give the artisan", e409="external_id taken"),
)
def issue_link_code(body: Annotated[LinkCodeIn, Body()]) -> Response[str]:
    return ok(artisans.issue_link_code(_editor(), body), status=201)


@app.post(
    "/api/editor/artisans/<artisan_id>/token",
    summary="A bearer token for one of your artisans",
    tags=["Editor"],
    responses=responses(201, BearerOut, "A bearer token for the artisan", e404="Not one of your artisans"),
)
def issue_bearer(artisan_id: str, body: Annotated[BearerIn, Body()]) -> Response[str]:
    from aimanager.adapters.secrets import signing_secret

    return ok(artisans.issue_bearer(_editor(), artisan_id, body.expires_in, signing_secret()), status=201)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context, permissions=PERMISSIONS)
