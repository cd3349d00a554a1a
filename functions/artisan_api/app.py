"""Artisan API (bearer token, §17.6): its sessions, its editors, redeeming a link code, its own branding."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from aimanager.dal.tables import bind_tables
from aimanager.http.api import resolve, rest_resolver
from aimanager.http.auth import api_caller
from aimanager.http.envelope import ok
from aimanager.http.openapi import responses
from aimanager.models.artisans import (
    ArtisanBrandingOut,
    ArtisanSessionList,
    EditorOfArtisan,
    EditorOfArtisanList,
    RedeemCodeIn,
)
from aimanager.models.users import UserBrandingIn
from aimanager.observability import logger
from aimanager.services import artisans
from aimanager.settings import get_settings

bind_tables(get_settings())
app = rest_resolver()
# The permission each route needs (§17.4), checked before anything else; a route not listed is refused.
PERMISSIONS = {
    ("GET", "/api/artisan/sessions"): "ai-sessions.view_own",
    ("GET", "/api/artisan/editors"): "links.view_own",
    ("POST", "/api/artisan/editors/link"): "links.redeem",
    ("GET", "/api/artisan/branding"): "branding.manage_own",
    ("PUT", "/api/artisan/branding"): "branding.manage_own",
}


def _artisan() -> str:
    return api_caller(app.current_event.raw_event).user_id


@app.get(
    "/api/artisan/sessions",
    summary="Your sessions",
    tags=["Artisan"],
    responses=responses(200, ArtisanSessionList, "Your sessions"),
)
def my_sessions() -> Response[str]:
    return ok(artisans.sessions_of(_artisan()))


@app.get(
    "/api/artisan/editors",
    summary="The editors you are linked to",
    tags=["Artisan"],
    responses=responses(200, EditorOfArtisanList, "Your editors"),
)
def my_editors() -> Response[str]:
    return ok(artisans.editors_of(_artisan()))


@app.post(
    "/api/artisan/editors/link",
    summary="Redeem an editor's link code",
    tags=["Artisan"],
    responses=responses(
        201, EditorOfArtisan, "The new link", e404="Unknown, expired or used code", e409="Already linked to this editor"
    ),
)
def redeem_code(body: Annotated[RedeemCodeIn, Body()]) -> Response[str]:
    return ok(artisans.redeem_link_code(_artisan(), body), status=201)


@app.get(
    "/api/artisan/branding",
    summary="Your default branding",
    tags=["Artisan"],
    responses=responses(200, ArtisanBrandingOut, "Your branding"),
)
def my_branding() -> Response[str]:
    return ok(artisans.branding_of(_artisan()))


@app.put(
    "/api/artisan/branding",
    summary="Set your default branding",
    tags=["Artisan"],
    responses=responses(200, ArtisanBrandingOut, "Your branding as saved"),
)
def set_branding(body: Annotated[UserBrandingIn, Body()]) -> Response[str]:
    return ok(artisans.set_branding(_artisan(), body))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context, permissions=PERMISSIONS)
