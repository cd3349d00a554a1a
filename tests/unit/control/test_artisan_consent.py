"""Issue 9 item 1, attacked as a rival editor: an artisan another editor knows is never taken without its consent.

SAGE (the rival) tries to take over EBP's artisan Durant: link him by email, mint a bearer for him, read EBP's
share-link sessions (with their customer context) and rewrite the branding EBP's customers see. And SAGE tries
to learn which emails are registered from the link route's answers.
"""

from __future__ import annotations

from typing import Any

from aimanager.dal.tables import UserItem
from tests.unit.aws import DEMO_KEY, OTHER_KEY
from tests.unit.control.conftest import Cast
from tests.unit.control.test_artisans import DURANT, bearer_for, create_durant
from tests.unit.control.world import Actor, call, make_user
from tests.unit.widget_client import share_page, widget_call

DURANT_EMAIL = "contact@durant-peinture.example"


def sage_links_durant(cast: Cast, external_id: str = "A-7834") -> Any:
    return call(cast.sage, "POST", "/api/editor/artisans/link", {"email": DURANT_EMAIL, "external_id": external_id})


def durant_accepts_sage(cast: Cast, durant: dict[str, Any]) -> Actor:
    """Durant, in EBP's software (a bearer EBP minted), sees SAGE's invitation and accepts it."""
    at_ebp = bearer_for(cast, cast.ebp, durant["artisan_id"])
    invitations = call(at_ebp, "GET", "/api/artisan/invitations")
    assert invitations.status == 200, invitations.body
    (invitation,) = invitations.data["items"]
    accepted = call(at_ebp, "POST", f"/api/artisan/invitations/{invitation['invitation_id']}/accept")
    assert accepted.status == 200, accepted.body
    return at_ebp


def test_a_rival_linking_an_artisan_by_email_gets_a_pending_link_that_gives_nothing(cast: Cast) -> None:
    # Given EBP's artisan Durant
    durant = create_durant(cast)
    # When SAGE links him by email, without his consent
    linked = sage_links_durant(cast)
    # Then the link is pending and names nobody
    assert linked.status == 201, linked.body
    assert linked.data["status"] == "pending"
    assert linked.data.get("artisan_id") is None and linked.data.get("name") is None
    # And it gives SAGE nothing: no bearer for Durant, no share link for him, no name in its list
    token = call(cast.sage, "POST", f"/api/editor/artisans/{durant['artisan_id']}/token", {})
    assert (token.status, token.code) == (404, "artisan_not_found")
    share = call(
        cast.sage,
        "POST",
        "/api/editor/sessions/create-link",
        {"deployment_key": OTHER_KEY, "artisan_external_id": "A-7834"},
    )
    assert (share.status, share.code) == (409, "link_pending")
    (listed,) = call(cast.sage, "GET", "/api/editor/artisans").data["items"]
    assert (listed["status"], listed.get("artisan_id"), listed.get("name"), listed.get("phone")) == (
        "pending",
        None,
        None,
        None,
    )


def test_the_link_route_answers_alike_for_artisans_unknown_emails_and_other_accounts(cast: Cast) -> None:
    # Given a registered artisan, an unknown email and an account that is not an artisan's
    create_durant(cast)
    replies = [
        call(cast.sage, "POST", "/api/editor/artisans/link", {"email": email, "external_id": f"X-{i}"})
        for i, email in enumerate((DURANT_EMAIL, "nobody@nowhere.example", "usr_ebp@example.fr"))
    ]
    # Then the status and the body's shape and values are the same (nothing tells them apart)
    assert [r.status for r in replies] == [201, 201, 201], [r.body for r in replies]
    shapes = [
        {k: v for k, v in r.data.items() if k not in ("link_id", "email", "external_id", "linked_at", "expires_at")}
        for r in replies
    ]
    assert shapes[0] == shapes[1] == shapes[2]
    assert all(sorted(r.data) == sorted(replies[0].data) for r in replies)
    # And SAGE's list shows three pending links, equally anonymous
    listed = call(cast.sage, "GET", "/api/editor/artisans").data["items"]
    assert sorted((a["status"], a.get("artisan_id"), a.get("name")) for a in listed) == [("pending", None, None)] * 3


def test_the_artisan_accepts_an_invitation_and_only_then_the_link_works(cast: Cast) -> None:
    durant = create_durant(cast)
    sage_links_durant(cast)
    # When Durant accepts SAGE's invitation through the artisan API
    durant_accepts_sage(cast, durant)
    # Then SAGE's link is active: it names Durant, mints a bearer and opens share links
    (listed,) = call(cast.sage, "GET", "/api/editor/artisans").data["items"]
    assert (listed["status"], listed["artisan_id"], listed["name"]) == ("active", durant["artisan_id"], DURANT["name"])
    assert call(cast.sage, "POST", f"/api/editor/artisans/{durant['artisan_id']}/token", {}).status == 201
    share = call(
        cast.sage,
        "POST",
        "/api/editor/sessions/create-link",
        {"deployment_key": OTHER_KEY, "artisan_external_id": "A-7834"},
    )
    assert share.status == 201, share.body


def test_an_invitation_to_an_unknown_email_can_never_be_accepted_by_someone_else(cast: Cast) -> None:
    durant = create_durant(cast)
    call(cast.sage, "POST", "/api/editor/artisans/link", {"email": "nobody@nowhere.example", "external_id": "N-1"})
    at_ebp = bearer_for(cast, cast.ebp, durant["artisan_id"])
    assert call(at_ebp, "GET", "/api/artisan/invitations").data == {"items": []}
    (pending,) = call(cast.sage, "GET", "/api/editor/artisans").data["items"]
    refused = call(at_ebp, "POST", f"/api/artisan/invitations/{pending['link_id']}/accept")
    assert (refused.status, refused.code) == (404, "invitation_not_found")


def durant_redeems_a_sage_code(cast: Cast, durant: dict[str, Any]) -> Actor:
    """Durant consents the other way (§15.2A scenario 3): SAGE's link code, entered in EBP's software."""
    at_ebp = bearer_for(cast, cast.ebp, durant["artisan_id"])
    code = call(cast.sage, "POST", "/api/editor/artisans/link-codes", {"external_id": "A-7834"}).data["code"]
    assert call(at_ebp, "POST", "/api/artisan/editors/link", {"code": code}).status == 201
    return at_ebp


def test_a_bearer_an_editor_minted_sees_only_that_editors_sessions_and_links(cast: Cast) -> None:
    # Given Durant linked to EBP and (with his consent) to SAGE, and a share link EBP made for his customer
    durant = create_durant(cast)
    durant_redeems_a_sage_code(cast, durant)
    ebp_link = call(
        cast.ebp,
        "POST",
        "/api/editor/sessions/create-link",
        {"deployment_key": DEMO_KEY, "artisan_external_id": "DUR-001", "context": {"client": "M. Martin"}},
    ).data
    # When SAGE mints a bearer for Durant and reads the artisan API with it
    at_sage = bearer_for(cast, cast.sage, durant["artisan_id"])
    sessions = call(at_sage, "GET", "/api/artisan/sessions")
    editors = call(at_sage, "GET", "/api/artisan/editors")
    # Then EBP's session (and its customer's context) is not there, nor EBP's link
    assert sessions.status == 200 and sessions.data["items"] == []
    assert [e["editor_id"] for e in editors.data["items"]] == ["usr_sage"]
    # While EBP's own bearer still sees its session
    at_ebp = bearer_for(cast, cast.ebp, durant["artisan_id"])
    assert [s["session_id"] for s in call(at_ebp, "GET", "/api/artisan/sessions").data["items"]] == [
        ebp_link["session_id"]
    ]


def test_a_rivals_bearer_cannot_rewrite_the_branding_another_editors_customers_see(cast: Cast) -> None:
    # Given Durant linked to EBP and SAGE, and EBP's share link for one of his customers
    durant = create_durant(cast)
    durant_redeems_a_sage_code(cast, durant)
    token = call(
        cast.ebp,
        "POST",
        "/api/editor/sessions/create-link",
        {"deployment_key": DEMO_KEY, "artisan_external_id": "DUR-001"},
    ).data["session_token"]
    # When SAGE, through a bearer it minted, puts its own colour on "Durant's branding"
    at_sage = bearer_for(cast, cast.sage, durant["artisan_id"])
    put = call(at_sage, "PUT", "/api/artisan/branding", {"primary_color": "#000000", "chat_title": "SAGE"})
    assert put.status == 200, put.body
    # Then the artisan's own branding is untouched, and EBP's customer sees EBP's colours
    assert UserItem.get(durant["artisan_id"]).branding is None
    status, config = share_page(token)
    assert status == 200
    init = widget_call("POST", "/api/widget/v1/init", key=DEMO_KEY, page_token=config["tok"], body={})
    assert init.status == 200, init.body
    assert (init.data["branding"]["primary_color"], init.data["branding"]["title"]) == ("#0055A4", "Assistant EBP")
    # And what SAGE set is SAGE's own override of Durant, for SAGE's customers
    assert put.data["branding"] == {"primary_color": "#000000", "chat_title": "SAGE"}
    assert call(at_sage, "GET", "/api/artisan/branding").data["branding"] == put.data["branding"]


def test_deactivating_an_editor_stops_the_bearers_it_minted_at_once(cast: Cast) -> None:
    # Given bearers for Durant minted by EBP and by SAGE
    durant = create_durant(cast)
    at_ebp = durant_redeems_a_sage_code(cast, durant)
    at_sage = bearer_for(cast, cast.sage, durant["artisan_id"])
    assert call(at_ebp, "GET", "/api/artisan/sessions").status == 200
    # When the admin deactivates EBP
    assert call(cast.admin, "DELETE", "/api/admin/editors/usr_ebp").status == 200
    # Then EBP's bearer is refused by the very next request, and SAGE's still works
    assert call(at_ebp, "GET", "/api/artisan/sessions").status == 401
    assert call(at_sage, "GET", "/api/artisan/sessions").status == 200


def test_create_and_link_sends_the_invitation_as_an_event(cast: Cast) -> None:
    from aimanager.domain import events
    from tests.unit.control.world import handler_of
    from tests.unit.functions.test_limits_flow import FakeBus

    bus = FakeBus()
    handler_of("editor_artisans").bus = bus  # type: ignore[attr-defined]
    # When EBP creates Durant and asks for the invitation (§15.2A scenario 2)
    reply = call(cast.ebp, "POST", "/api/editor/artisans/create-and-link", {**DURANT, "send_invitation": True})
    # Then the link is made, and one artisan.invited event is on the bus for EBP's webhooks
    assert reply.status == 201, reply.body
    assert [t for t, _ in bus.events] == ["artisan.invited.v1"]
    detail = bus.events[0][1]
    assert detail["event"] == "artisan.invited" and detail["editor_id"] == "usr_ebp"
    assert detail["artisan"] == {"id": reply.data["artisan_id"], "external_id": "DUR-001", "name": "Durant Peinture"}
    assert detail["data"]["email"] == DURANT_EMAIL
    assert detail["id"] == events.event_id("artisan.invited", reply.data["link_id"])
    # And without it, no event
    make_user("usr_x", "artisan")
    call(
        cast.ebp, "POST", "/api/editor/artisans/create-and-link", {**DURANT, "email": "b@c.example", "external_id": "B"}
    )
    assert len(bus.events) == 1
