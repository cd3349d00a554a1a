"""Artisans (§15.2A): the three ways to link, uniqueness (§17.3), scoping, and the artisan's own bearer API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.control.conftest import Cast
from tests.unit.control.world import Actor, call, make_user

DURANT = {
    "name": "Durant Peinture",
    "email": "Contact@Durant-Peinture.example",
    "external_id": "DUR-001",
    "phone": "06 12 34 56 78",
    "branding": {"welcome_message": "Assistant EBP - {artisan.name}"},
}


def create_durant(cast: Cast) -> dict[str, Any]:
    reply = call(cast.ebp, "POST", "/api/editor/artisans/create-and-link", DURANT)
    assert reply.status == 201, reply.body
    return reply.data  # type: ignore[no-any-return]


def bearer_for(cast: Cast, editor: Actor, artisan_id: str) -> Actor:
    reply = call(editor, "POST", f"/api/editor/artisans/{artisan_id}/token", {"expires_in": 600})
    assert reply.status == 201, reply.body
    assert reply.data["token_type"] == "Bearer"
    return Actor(artisan_id, "artisan", reply.data["access_token"], auth="bearer")


def test_create_and_link_makes_an_artisan_and_its_link(cast: Cast) -> None:
    link = create_durant(cast)
    assert link["external_id"] == "DUR-001"
    assert link["email"] == "contact@durant-peinture.example"  # emails are compared lower-cased
    assert link["branding"] == {"welcome_message": "Assistant EBP - {artisan.name}"}
    assert link["permissions"] == {"can_create_sessions": True, "can_view_analytics": False, "max_sessions_month": None}
    listed = call(cast.ebp, "GET", "/api/editor/artisans").data["items"]
    assert [(a["artisan_id"], a["name"]) for a in listed] == [(link["artisan_id"], "Durant Peinture")]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"email": "autre@durant.example"}, "external_id_taken"),  # (editor, external_id) unique
        ({"external_id": "DUR-002"}, "email_taken"),  # the email is an existing account: use /link
    ],
)
def test_create_and_link_duplicates_are_409_and_write_nothing(cast: Cast, change: dict[str, str], code: str) -> None:
    create_durant(cast)
    reply = call(cast.ebp, "POST", "/api/editor/artisans/create-and-link", {**DURANT, **change})
    assert (reply.status, reply.code) == (409, code)
    # Nothing half written: still one artisan, and the refused email was not reserved
    assert len(call(cast.ebp, "GET", "/api/editor/artisans").data["items"]) == 1
    if code == "external_id_taken":
        from aimanager.dal import accounts

        assert accounts.find_user_by_email("autre@durant.example") is None


def test_link_an_existing_artisan_by_email_once_per_editor(cast: Cast) -> None:
    link = create_durant(cast)
    # SAGE invites the same artisan under its own external id: pending until he accepts
    reply = call(
        cast.sage,
        "POST",
        "/api/editor/artisans/link",
        {"email": "contact@durant-peinture.example", "external_id": "A-7834"},
    )
    assert reply.status == 201, reply.body
    assert reply.data["status"] == "pending" and "artisan_id" not in reply.data
    # Twice is a 409
    again = call(cast.sage, "POST", "/api/editor/artisans/link", {"email": DURANT["email"], "external_id": "A-9999"})
    assert (again.status, again.code) == (409, "already_invited")
    # Once accepted, SAGE's link names him; EBP inviting its own artisan is told it is already linked
    at_ebp = bearer_for(cast, cast.ebp, link["artisan_id"])
    (invitation,) = call(at_ebp, "GET", "/api/artisan/invitations").data["items"]
    assert invitation["company_name"] == "SAGE" and invitation["status"] == "pending"
    assert call(at_ebp, "POST", f"/api/artisan/invitations/{invitation['invitation_id']}/accept").status == 200
    assert call(at_ebp, "GET", "/api/artisan/invitations").data == {"items": []}
    (sage_link,) = call(cast.sage, "GET", "/api/editor/artisans").data["items"]
    assert (sage_link["artisan_id"], sage_link["status"]) == (link["artisan_id"], "active")
    own = call(cast.ebp, "POST", "/api/editor/artisans/link", {"email": DURANT["email"], "external_id": "DUR-2"})
    assert (own.status, own.code) == (409, "already_linked")
    # Each editor sees only its own link
    assert [a["external_id"] for a in call(cast.sage, "GET", "/api/editor/artisans").data["items"]] == ["A-7834"]
    assert [a["external_id"] for a in call(cast.ebp, "GET", "/api/editor/artisans").data["items"]] == ["DUR-001"]


def test_an_invitation_can_be_declined_and_an_expired_one_is_gone(cast: Cast) -> None:
    from aimanager.dal.tables import UserEditorLinkItem

    durant = create_durant(cast)
    at_ebp = bearer_for(cast, cast.ebp, durant["artisan_id"])
    sage = call(cast.sage, "POST", "/api/editor/artisans/link", {"email": DURANT["email"], "external_id": "A-1"})
    declined = call(at_ebp, "POST", f"/api/artisan/invitations/{sage.data['link_id']}/decline")
    assert (declined.status, declined.data["status"]) == (200, "declined")
    assert call(cast.sage, "GET", "/api/editor/artisans").data["items"][0]["status"] == "declined"
    again = call(at_ebp, "POST", f"/api/artisan/invitations/{sage.data['link_id']}/accept")
    assert (again.status, again.code) == (404, "invitation_not_found")
    # An invitation left unanswered past its expiry can no longer be accepted
    make_user("usr_other_editor", "editeur", company_name="Other")
    other = call(
        Actor("usr_other_editor", "editeur"),
        "POST",
        "/api/editor/artisans/link",
        {"email": DURANT["email"], "external_id": "O-1"},
    )
    UserEditorLinkItem(other.data["link_id"]).update(
        actions=[UserEditorLinkItem.invite_expires_at.set("2000-01-01T00:00:00Z")]
    )
    assert call(at_ebp, "GET", "/api/artisan/invitations").data == {"items": []}
    late = call(at_ebp, "POST", f"/api/artisan/invitations/{other.data['link_id']}/accept")
    assert (late.status, late.code) == (404, "invitation_not_found")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "external_id": "X"}, "email"),
        ({"email": "a@b.fr", "external_id": ""}, "external_id"),
        ({"email": "a@b.fr", "external_id": "has space"}, "external_id"),
        ({"email": "a@b.fr"}, "external_id"),
        ({"email": "a@b.fr", "external_id": "X", "role": "admin"}, "role"),
    ],
)
def test_bad_link_bodies_name_the_field(cast: Cast, body: dict[str, str], field: str) -> None:
    reply = call(cast.ebp, "POST", "/api/editor/artisans/link", body)
    assert (reply.status, reply.code) == (422, "validation_error")
    assert f"'{field}'" in reply.message


def test_a_bearer_is_issued_only_for_the_editors_own_artisans(cast: Cast) -> None:
    durant = create_durant(cast)
    foreign = call(cast.sage, "POST", f"/api/editor/artisans/{durant['artisan_id']}/token", {})
    assert (foreign.status, foreign.code) == (404, "artisan_not_found")
    artisan = bearer_for(cast, cast.ebp, durant["artisan_id"])
    editors = call(artisan, "GET", "/api/artisan/editors")
    assert editors.status == 200
    assert [(e["editor_id"], e["external_id"], e["company_name"]) for e in editors.data["items"]] == [
        ("usr_ebp", "DUR-001", "EBP")
    ]


def test_link_code_scenario_3(cast: Cast) -> None:
    # Given an artisan with its own account, not linked to SAGE
    durant = create_durant(cast)
    artisan = bearer_for(cast, cast.ebp, durant["artisan_id"])
    # When SAGE issues a code and Durant redeems it
    issued = call(cast.sage, "POST", "/api/editor/artisans/link-codes", {"external_id": "A-7834"})
    assert issued.status == 201, issued.body
    code = issued.data["code"]
    assert code.startswith("LINK-")
    redeemed = call(artisan, "POST", "/api/artisan/editors/link", {"code": code.lower()})
    # Then Durant is linked to SAGE under SAGE's external id
    assert redeemed.status == 201, redeemed.body
    assert (redeemed.data["editor_id"], redeemed.data["external_id"]) == ("usr_sage", "A-7834")
    assert [a["artisan_id"] for a in call(cast.sage, "GET", "/api/editor/artisans").data["items"]] == [
        durant["artisan_id"]
    ]
    # And the code is single use
    again = call(artisan, "POST", "/api/artisan/editors/link", {"code": code})
    assert (again.status, again.code) == (404, "link_code_invalid")


def test_expired_unknown_or_duplicate_link_codes_are_refused(cast: Cast) -> None:
    from aimanager.dal.tables import LinkCodeItem

    durant = create_durant(cast)
    artisan = bearer_for(cast, cast.ebp, durant["artisan_id"])
    assert call(artisan, "POST", "/api/artisan/editors/link", {"code": "LINK-AAAAAAAAAA"}).status == 404
    assert call(artisan, "POST", "/api/artisan/editors/link", {"code": "garbage"}).status == 404
    code = call(cast.sage, "POST", "/api/editor/artisans/link-codes", {"external_id": "A-1"}).data["code"]
    LinkCodeItem(code).update(actions=[LinkCodeItem.expires_at.set("2000-01-01T00:00:00Z")])
    assert call(artisan, "POST", "/api/artisan/editors/link", {"code": code}).code == "link_code_invalid"
    # An artisan already linked to EBP cannot be linked twice through a code
    code = call(cast.ebp, "POST", "/api/editor/artisans/link-codes", {"external_id": "DUR-XYZ"}).data["code"]
    twice = call(artisan, "POST", "/api/artisan/editors/link", {"code": code})
    assert (twice.status, twice.code) == (409, "already_linked")
    # And a code for an external id already taken is refused at issue time
    taken = call(cast.ebp, "POST", "/api/editor/artisans/link-codes", {"external_id": "DUR-001"})
    assert (taken.status, taken.code) == (409, "external_id_taken")


def test_an_artisan_manages_its_branding_at_the_editor_whose_bearer_it_uses(cast: Cast) -> None:
    durant = create_durant(cast)
    artisan = bearer_for(cast, cast.ebp, durant["artisan_id"])
    mine = call(artisan, "GET", "/api/artisan/branding").data
    assert (mine["user_id"], mine["editor_id"], mine["link_id"]) == (durant["artisan_id"], "usr_ebp", durant["link_id"])
    assert mine["branding"] == {"welcome_message": "Assistant EBP - {artisan.name}"}  # EBP's link branding
    put = call(artisan, "PUT", "/api/artisan/branding", {"primary_color": "#E53935", "signature": "L'équipe Durant"})
    assert put.status == 200
    assert put.data["branding"] == {"primary_color": "#E53935", "signature": "L'équipe Durant"}
    # EBP sees it on its link
    (listed,) = call(cast.ebp, "GET", "/api/editor/artisans").data["items"]
    assert listed["branding"] == put.data["branding"]
    bad = call(artisan, "PUT", "/api/artisan/branding", {"primary_color": "red"})
    assert (bad.status, bad.code) == (422, "validation_error")


def test_a_bearer_context_without_an_editor_scope_is_refused(cast: Cast) -> None:
    # A bearer always names the editor that minted it: a context without one never reaches the artisan's data
    make_user("usr_solo", "artisan")
    solo = Actor("usr_solo", "artisan", auth="bearer")
    assert call(solo, "GET", "/api/artisan/editors").status == 401
    assert call(solo, "GET", "/api/artisan/sessions").status == 401
    assert call(solo, "GET", "/api/artisan/invitations").status == 401
