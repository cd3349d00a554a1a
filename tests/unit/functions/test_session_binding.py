"""Issue 9 items 3, 7, 13 and the message's `session_id`: a session belongs to the site and the page that opened it.

Attacked as an outsider: a chat-app URL with `#s=<attacker's session>` opened top level (session fixation), a
session resumed from another site of the same deployment, an `Idempotency-Key` replayed by another client, and
a deactivated editor whose deployments and links should stop at once.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aimanager.models.agent import AllowedDomain
from tests.unit.aws import DEMO_KEY, OTHER_KEY, World, aws_world, seed_agent, seed_deployment
from tests.unit.control.world import call, make_user
from tests.unit.widget_client import frame_page, widget_call

SITE_A, SITE_B = "https://app.ebp.fr", "https://shop.ebp.fr"  # both on the deployment's allowlist


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with aws_world(monkeypatch) as w:
        seed_agent()
        seed_deployment()
        seed_deployment(OTHER_KEY, [AllowedDomain("www.other.fr")], editor_id="usr_sage")
        yield w


def opened(origin: str = SITE_A, ip: str = "203.0.113.9", **headers: str) -> str:
    reply = widget_call("POST", "/api/widget/v1/init", key=DEMO_KEY, origin=origin, ip=ip, headers=headers, body={})
    assert reply.status == 201, reply.body
    return str(reply.data["session_id"])


def page_token_for(origin: str) -> str:
    status, config = frame_page(DEMO_KEY, origin, headers={"Sec-Fetch-Dest": "iframe"})
    assert status == 200, config
    return str(config["tok"])


# ------------------------------------------------------------------ item 3: session fixation


@pytest.mark.parametrize("dest", ["document", "empty", "script", "image"])
def test_the_chat_app_is_never_served_as_a_top_level_page(world: World, dest: str) -> None:
    # When the frame URL is opened as a page of its own (a link in an email, window.open), not in an iframe
    status, config = frame_page(DEMO_KEY, SITE_A, headers={"Sec-Fetch-Dest": dest})
    # Then it is refused: no token, so no session can be resumed or opened from it
    assert status == 403 and config["err"] == "framed_only" and "tok" not in config


@pytest.mark.parametrize("dest", ["iframe", "frame", None])
def test_the_chat_app_is_served_in_a_frame(world: World, dest: str | None) -> None:
    status, config = frame_page(DEMO_KEY, SITE_A, headers={"Sec-Fetch-Dest": dest} if dest else {})
    assert status == 200 and "tok" in config  # no Sec-Fetch-Dest: an older browser; frame-ancestors still holds


def test_a_session_is_bound_to_the_site_that_opened_it(world: World) -> None:
    # Given a session an attacker opened (from site A, or forging it with curl)
    session_id = opened(SITE_A)
    # When a page of site B (same deployment) is handed that session id
    token_b = page_token_for(SITE_B)
    resumed = widget_call(
        "POST", "/api/widget/v1/init", key=DEMO_KEY, page_token=token_b, body={"session_id": session_id}
    )
    history = widget_call("GET", f"/api/widget/v1/session/{session_id}/messages", key=DEMO_KEY, page_token=token_b)
    sent = widget_call(
        "POST", "/api/widget/v1/message", key=DEMO_KEY, origin=SITE_B, session_id=session_id, body={"content": "x"}
    )
    # Then it is not resumed (a new session opens) and the id does not exist there
    assert resumed.status == 201 and resumed.data["session_id"] != session_id, resumed.body
    assert (history.status, history.code) == (404, "session_not_found"), history.body
    assert (sent.status, sent.code) == (404, "session_not_found"), sent.body
    # While site A's own pages keep it
    token_a = page_token_for(SITE_A)
    again = widget_call(
        "POST", "/api/widget/v1/init", key=DEMO_KEY, page_token=token_a, body={"session_id": session_id}
    )
    assert again.status == 200 and again.data["session_id"] == session_id, again.body


# ------------------------------------------------------------------ item 7: Idempotency-Key bound to the caller


def test_an_idempotency_key_replayed_by_another_client_does_not_get_the_first_session(world: World) -> None:
    # Given a session opened with an Idempotency-Key
    first = opened(SITE_A, "203.0.113.9", **{"Idempotency-Key": "retry-key-0001"})
    # When another client (another IP, or another site) sends the same key
    other_ip = opened(SITE_A, "198.51.100.7", **{"Idempotency-Key": "retry-key-0001"})
    other_site = opened(SITE_B, "203.0.113.9", **{"Idempotency-Key": "retry-key-0001"})
    # Then each gets its own session, and the first client's retry still gets the first one
    assert len({first, other_ip, other_site}) == 3
    assert opened(SITE_A, "203.0.113.9", **{"Idempotency-Key": "retry-key-0001"}) == first


# ------------------------------------------------------------------ item 13: a deactivated editor stops at once


def test_deactivating_an_editor_stops_its_widgets_at_once(world: World) -> None:
    admin = make_user("usr_admin", "admin")
    session_id = opened(SITE_A)
    token = page_token_for(SITE_A)
    # When the admin deactivates EBP (DELETE /api/admin/editors/{id})
    assert call(admin, "DELETE", "/api/admin/editors/usr_ebp").status == 200
    # Then the very next widget calls of its deployments are refused, the chat page too
    init = widget_call("POST", "/api/widget/v1/init", key=DEMO_KEY, origin=SITE_A, body={})
    history = widget_call("GET", f"/api/widget/v1/session/{session_id}/messages", key=DEMO_KEY, page_token=token)
    sent = widget_call(
        "POST", "/api/widget/v1/message", key=DEMO_KEY, origin=SITE_A, session_id=session_id, body={"content": "x"}
    )
    assert [init.status, history.status, sent.status] == [401, 401, 401], [init.body, history.body, sent.body]
    assert frame_page(DEMO_KEY, SITE_A, headers={"Sec-Fetch-Dest": "iframe"})[0] == 404
    # While another editor's deployment works
    other = widget_call("POST", "/api/widget/v1/init", key=OTHER_KEY, origin="https://www.other.fr", body={})
    assert other.status == 201
    # And reactivating EBP brings its widgets back
    assert call(admin, "PUT", "/api/admin/editors/usr_ebp", {"is_active": True}).status == 200
    assert widget_call("POST", "/api/widget/v1/init", key=DEMO_KEY, origin=SITE_A, body={}).status == 201


# ------------------------------------------------------------------ §16.4 (5.2): session_id in the message body


def test_the_message_takes_session_id_in_its_body(world: World) -> None:
    session_id = opened(SITE_A)
    in_body = widget_call(
        "POST", "/api/widget/v1/message", key=DEMO_KEY, origin=SITE_A, body={"content": "a", "session_id": session_id}
    )
    both = widget_call(
        "POST",
        "/api/widget/v1/message",
        key=DEMO_KEY,
        origin=SITE_A,
        session_id=session_id,
        body={"content": "b", "session_id": session_id},
    )
    assert (in_body.status, both.status) == (202, 202), (in_body.body, both.body)
    assert in_body.data["session_id"] == session_id
    # Two different sessions in one request: refused, the field named
    other = opened(SITE_A)
    clash = widget_call(
        "POST",
        "/api/widget/v1/message",
        key=DEMO_KEY,
        origin=SITE_A,
        session_id=session_id,
        body={"content": "c", "session_id": other},
    )
    assert (clash.status, clash.code) == (422, "validation_error") and "session_id" in clash.body["error"]["message"]
