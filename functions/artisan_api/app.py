"""Artisan API (bearer token, §17.6): within the editor that minted the bearer - its sessions, that editor, its
branding there; and the artisan's consent: redeeming a link code, answering editors' invitations."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from aimanager.dal.tables import bind_tables
from aimanager.http.api import resolve, rest_resolver
from aimanager.http.auth import artisan_scope
from aimanager.http.envelope import ok
from aimanager.http.openapi import responses
from aimanager.models.artisans import (
    ArtisanBrandingOut,
    ArtisanSessionList,
    EditorOfArtisan,
    EditorOfArtisanList,
    InvitationList,
    InvitationOut,
    RedeemCodeIn,
)
from aimanager.models.caller import ApiCaller
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
    ("GET", "/api/artisan/invitations"): "links.view_own",
    ("POST", "/api/artisan/invitations/{link_id}/accept"): "links.redeem",
    ("POST", "/api/artisan/invitations/{link_id}/decline"): "links.redeem",
}


def _artisan() -> str:
    return artisan_scope(app.current_event.raw_event).user_id


def _scope() -> ApiCaller:
    """The artisan and the editor whose bearer it is: every read and write stays within that editor."""
    return artisan_scope(app.current_event.raw_event)


@app.get(
    "/api/artisan/sessions",
    summary="Your sessions at this editor",
    description="The sessions opened through the editor that minted your bearer (its share links).",
    tags=["Artisan"],
    responses=responses(200, ArtisanSessionList, "Your sessions"),
)
def my_sessions() -> Response[str]:
    return ok(artisans.sessions_of(_scope()))


@app.get(
    "/api/artisan/editors",
    summary="The editor this bearer comes from",
    description="Your link to the editor that minted your bearer; your other editors are not shown to it.",
    tags=["Artisan"],
    responses=responses(200, EditorOfArtisanList, "Your editor"),
)
def my_editors() -> Response[str]:
    return ok(artisans.editors_of(_scope()))


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
    summary="Your branding at this editor",
    description="The branding this editor's customers see for you (its link's override, §15.2A).",
    tags=["Artisan"],
    responses=responses(200, ArtisanBrandingOut, "Your branding"),
)
def my_branding() -> Response[str]:
    return ok(artisans.branding_of(_scope()))


@app.put(
    "/api/artisan/branding",
    summary="Set your branding at this editor",
    description="Replaces the branding this editor's customers see for you; other editors' are untouched.",
    tags=["Artisan"],
    responses=responses(200, ArtisanBrandingOut, "Your branding as saved"),
)
def set_branding(body: Annotated[UserBrandingIn, Body()]) -> Response[str]:
    return ok(artisans.set_branding(_scope(), body))


@app.get(
    "/api/artisan/invitations",
    summary="Editors asking to link you",
    description="Invitations (an editor linked your email): they give that editor nothing until you accept.",
    tags=["Artisan"],
    responses=responses(200, InvitationList, "Unanswered, unexpired invitations"),
)
def my_invitations() -> Response[str]:
    return ok(artisans.invitations_of(_artisan()))


@app.post(
    "/api/artisan/invitations/<link_id>/accept",
    summary="Accept an editor's invitation",
    tags=["Artisan"],
    responses=responses(
        200, InvitationOut, "Accepted: the link is active", e404="Unknown, expired or answered", e409="Already linked"
    ),
)
def accept_invitation(link_id: str) -> Response[str]:
    return ok(artisans.answer_invitation(_artisan(), link_id, accept=True))


@app.post(
    "/api/artisan/invitations/<link_id>/decline",
    summary="Decline an editor's invitation",
    tags=["Artisan"],
    responses=responses(200, InvitationOut, "Declined", e404="Unknown, expired or answered"),
)
def decline_invitation(link_id: str) -> Response[str]:
    return ok(artisans.answer_invitation(_artisan(), link_id, accept=False))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context, permissions=PERMISSIONS)
