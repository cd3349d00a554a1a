"""Share links (§15.2B, §16.5): signed, expiring, revocable, purpose-bound; the session records who it is for."""

from __future__ import annotations

import time
from typing import Any

import pytest

from aimanager.adapters.secrets import signing_secret
from aimanager.dal.tables import SessionItem
from aimanager.domain.tokens import sign
from aimanager.errors import Unauthorized
from aimanager.services.share_links import check_session_token, verify_share_token
from tests.unit.aws import DEMO_KEY, OTHER_KEY
from tests.unit.control.conftest import Cast
from tests.unit.control.test_artisans import create_durant
from tests.unit.control.world import call

CONTEXT = {"project_type": "renovation_sdb", "source": "contact_form"}


def create_link(cast: Cast, **overrides: Any) -> Any:
    body = {"deployment_key": DEMO_KEY, "artisan_external_id": "DUR-001", "context": CONTEXT, "expires_in": 604800}
    body.update(overrides)
    return call(cast.ebp, "POST", "/api/editor/sessions/create-link", body)


def test_create_link_opens_a_session_for_the_artisan(cast: Cast) -> None:
    # Given EBP's artisan Durant
    durant = create_durant(cast)
    before = int(time.time())
    # When EBP creates a share link
    reply = create_link(cast)
    # Then it gets a token, a URL on /s/{token} and an expiry 7 days away
    assert reply.status == 201, reply.body
    data = reply.data
    assert data["url"] == f"https://abc123.execute-api.eu-west-3.amazonaws.com/prod/s/{data['session_token']}"
    assert data["expires_at"] >= time.strftime("%Y-%m-%dT%H:%M", time.gmtime(before + 604800 - 60))
    # And the session records the artisan, the editor link and the context
    session = SessionItem.get(data["session_id"])
    assert (session.deployment_key, session.editor_id, session.artisan_id) == (
        DEMO_KEY,
        "usr_ebp",
        durant["artisan_id"],
    )
    assert session.link_id == durant["link_id"]
    assert session.context is not None and dict(session.context.attribute_values) == CONTEXT
    # And the token verifies to that session
    opened = verify_share_token(data["session_token"], signing_secret())
    assert (opened.session_id, opened.deployment_key, opened.artisan_id) == (
        data["session_id"],
        DEMO_KEY,
        durant["artisan_id"],
    )
    # And the artisan sees the session
    from tests.unit.control.test_artisans import bearer_for

    artisan = bearer_for(cast, cast.ebp, durant["artisan_id"])
    sessions = call(artisan, "GET", "/api/artisan/sessions").data["items"]
    assert [(s["session_id"], s["context"]) for s in sessions] == [(data["session_id"], CONTEXT)]


def test_tampered_expired_revoked_and_wrong_purpose_tokens_are_401(cast: Cast) -> None:
    create_durant(cast)
    data = create_link(cast, expires_in=120).data
    token, secret = data["session_token"], signing_secret()
    payload = token.split(".")[1]
    tampered = token.replace(payload, payload[:-3] + ("AAA" if not payload.endswith("AAA") else "BBB"))
    artisan_token = sign(
        secret,
        "artisan",
        {"jti": data["link_id"], "session_id": data["session_id"], "deployment_key": DEMO_KEY},
        600,
        int(time.time()),
    )
    unknown_jti = sign(
        secret,
        "share_link",
        {"jti": "nope", "session_id": data["session_id"], "deployment_key": DEMO_KEY},
        600,
        int(time.time()),
    )
    for bad in (tampered, artisan_token, unknown_jti, "", "v1.x.y", None):
        with pytest.raises(Unauthorized):
            verify_share_token(bad, secret)
    with pytest.raises(Unauthorized):  # expired: two minutes later
        verify_share_token(token, secret, now=int(time.time()) + 121)
    assert verify_share_token(token, secret).jti == data["link_id"]
    # When EBP revokes it, the very next verification refuses it
    assert call(cast.ebp, "DELETE", f"/api/editor/sessions/links/{data['link_id']}").status == 200
    with pytest.raises(Unauthorized) as refused:
        verify_share_token(token, secret)
    assert refused.value.code == "invalid_share_token"


def test_an_editor_cannot_revoke_another_editors_link(cast: Cast) -> None:
    create_durant(cast)
    data = create_link(cast).data
    reply = call(cast.sage, "DELETE", f"/api/editor/sessions/links/{data['link_id']}")
    assert (reply.status, reply.code) == (404, "share_link_not_found")
    assert verify_share_token(data["session_token"], signing_secret()).jti == data["link_id"]


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"deployment_key": OTHER_KEY}, 404, "deployment_not_found"),  # SAGE's deployment
        ({"deployment_key": "dpl_unknown"}, 404, "deployment_not_found"),
        ({"artisan_external_id": "DUR-404"}, 404, "artisan_not_found"),
        ({"expires_in": 10}, 422, "validation_error"),
        ({"expires_in": 10**9}, 422, "validation_error"),
        ({"context": {"notes": "x" * 5000}}, 413, "context_too_large"),
    ],
)
def test_create_link_refusals(cast: Cast, overrides: dict[str, Any], status: int, code: str) -> None:
    create_durant(cast)
    reply = create_link(cast, **overrides)
    assert (reply.status, reply.code) == (status, code)


def test_another_editors_artisan_is_unknown(cast: Cast) -> None:
    create_durant(cast)  # linked to EBP only
    reply = call(
        cast.sage,
        "POST",
        "/api/editor/sessions/create-link",
        {"deployment_key": OTHER_KEY, "artisan_external_id": "DUR-001"},
    )
    assert (reply.status, reply.code) == (404, "artisan_not_found")


def test_an_artisan_without_can_create_sessions_gets_403(cast: Cast) -> None:
    reply = call(
        cast.ebp,
        "POST",
        "/api/editor/artisans/create-and-link",
        {
            "name": "Martin Plomberie",
            "email": "m@plomberie.example",
            "external_id": "MAR-1",
            "permissions": {"can_create_sessions": False},
        },
    )
    assert reply.status == 201
    refused = create_link(cast, artisan_external_id="MAR-1")
    assert (refused.status, refused.code) == (403, "sessions_not_allowed")


def test_the_widget_check_binds_a_share_session_to_its_own_token(cast: Cast) -> None:
    create_durant(cast)
    first, second = create_link(cast).data, create_link(cast).data
    secret = signing_secret()
    session = SessionItem.get(first["session_id"])
    check_session_token(session.session_id, session.deployment_key, session.share_jti, first["session_token"], secret)
    for token in (second["session_token"], None, "garbage"):  # another link's token, none, junk
        with pytest.raises(Unauthorized):
            check_session_token(session.session_id, session.deployment_key, session.share_jti, token, secret)
    # A widget session (no share link) needs no token
    check_session_token("sess_widget", DEMO_KEY, None, None, secret)


def test_a_share_session_stops_working_once_its_link_is_revoked_or_expired(cast: Cast) -> None:
    from aimanager.services.share_links import assert_share_link_active

    create_durant(cast)
    data = create_link(cast, expires_in=600).data
    jti = SessionItem.get(data["session_id"]).share_jti
    assert_share_link_active(jti)
    assert_share_link_active(None)  # a widget session: nothing to check
    with pytest.raises(Unauthorized):
        assert_share_link_active(jti, now=int(time.time()) + 601)
    assert call(cast.ebp, "DELETE", f"/api/editor/sessions/links/{data['link_id']}").status == 200
    with pytest.raises(Unauthorized):
        assert_share_link_active(jti)
    with pytest.raises(Unauthorized):
        assert_share_link_active("unknown-jti")


@pytest.mark.parametrize("number", [5e-324, 1e-131, 1e130, 10**40])
def test_a_context_number_the_session_table_cannot_store_is_a_422(cast: Cast, number: float) -> None:
    # DynamoDB refuses such numbers (and moto's Query trips over them later): refused at the door, field named
    create_durant(cast)
    reply = create_link(cast, context={"surface": number})
    assert (reply.status, reply.code) == (422, "validation_error")
    assert "'context'" in reply.message


def test_share_link_sessions_count_against_the_links_own_monthly_cap(cast: Cast) -> None:
    # Given Durant's link at EBP capped at 2 sessions a month (§15.2A permissions.max_sessions_month)
    from datetime import UTC, datetime

    from aimanager.dal.tables import UsageItem, UserEditorLinkItem
    from aimanager.services.limits import editor_month_key, link_month_key

    durant = create_durant(cast)
    UserEditorLinkItem(durant["link_id"]).update(
        actions=[UserEditorLinkItem.permissions.set({"can_create_sessions": True, "max_sessions_month": 2})]
    )
    # When EBP creates three links for him
    replies = [create_link(cast) for _ in range(3)]
    # Then two open sessions and the third is refused by the link's quota, writing nothing
    assert [r.status for r in replies] == [201, 201, 429], [r.body for r in replies]
    assert replies[2].code == "link_monthly_quota"
    month = datetime.now(UTC).strftime("%Y-%m")
    assert UsageItem.get(link_month_key(durant["link_id"], month)).sessions == 2
    # And the editor's monthly counter (billing) saw the same two sessions
    assert UsageItem.get(editor_month_key("usr_ebp", month)).sessions == 2
    assert sum(1 for s in SessionItem.scan() if s.link_id == durant["link_id"]) == 2
