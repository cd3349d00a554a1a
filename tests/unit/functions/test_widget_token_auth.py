"""The chat app's own calls: a signed page token names the host site, honoured only from our own origin."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from aimanager.adapters.secrets import signing_secret
from aimanager.domain.tokens import sign
from aimanager.models.agent import AllowedDomain
from aimanager.services.authorize import FRAME_TOKEN_PURPOSE
from tests.conftest import load_event
from tests.unit.aws import DEMO_KEY, OTHER_KEY, World, aws_world, load_handler, seed_agent, seed_deployment
from tests.unit.functions.test_widget_flow import Ctx, body, get_history, init_session, post_message

API_HOST = "abc123.execute-api.eu-west-3.amazonaws.com"


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with aws_world(monkeypatch) as w:
        seed_agent()
        seed_deployment()
        seed_deployment(OTHER_KEY, [AllowedDomain("www.other.fr")], editor_id="usr_sage")
        yield w


def page_token(origin: str | None = "https://app.ebp.fr", key: str = DEMO_KEY, **claims: Any) -> str:
    base: dict[str, Any] = {"deployment_key": key, **claims}
    if origin:
        base["origin"] = origin
    return sign(signing_secret(), FRAME_TOKEN_PURPOSE, base, 3600, int(time.time()))


def authorize(token: str | None, *, origin: str | None = f"https://{API_HOST}", key: str = DEMO_KEY) -> Any:
    event = load_event("domain_authorizer/request.json")
    headers = {k: v for k, v in event["headers"].items() if k != "Origin"}
    headers["X-Deployment-Key"] = key
    if origin:
        headers["Origin"] = origin
    if token:
        headers["X-Widget-Token"] = token
    event["headers"] = headers
    event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
    try:
        return load_handler("domain_authorizer").handler(event, Ctx())
    except Exception as exc:  # API Gateway's contract: raise "Unauthorized" for a 401
        return str(exc)


def effect(result: Any) -> str:
    return result if isinstance(result, str) else result["policyDocument"]["Statement"][0]["Effect"]


def test_the_chat_apps_calls_are_allowed_for_the_site_its_token_names(world: World) -> None:
    # Given the page token of an allowed site, on a call from our own origin (the iframe)
    result = authorize(page_token())
    assert effect(result) == "Allow"
    # Then CORS is not needed (same origin) and no session is pinned
    assert result["context"]["origin"] == "" and result["context"]["session_id"] == ""
    # Same-origin GETs carry no Origin at all: still allowed
    assert effect(authorize(page_token(), origin=None)) == "Allow"


@pytest.mark.parametrize(
    ("token", "origin", "key", "expected"),
    [
        # a token copied by a page elsewhere: its browser names that page's origin
        ("ok", "https://evil.example", DEMO_KEY, "Deny"),
        # a token for another deployment's key
        ("ok", f"https://{API_HOST}", OTHER_KEY, "Unauthorized"),
        # tampered, garbage
        ("tampered", f"https://{API_HOST}", DEMO_KEY, "Unauthorized"),
        ("garbage", f"https://{API_HOST}", DEMO_KEY, "Unauthorized"),
        # a site no longer (or never) on the allowlist
        ("evil-site", f"https://{API_HOST}", DEMO_KEY, "Deny"),
    ],
)
def test_bad_page_tokens_are_refused(world: World, token: str, origin: str, key: str, expected: str) -> None:
    tokens = {
        "ok": page_token(),
        "tampered": page_token()[:-4] + "AAAA",
        "garbage": "v1.abc.def",
        "evil-site": page_token(origin="https://evil.example"),
    }
    assert effect(authorize(tokens[token], origin=origin, key=key)) == expected


def _as_share_session(session_id: str, jti: str) -> None:
    """Make a session a share link's (its record, and the session naming it), as create-link writes them."""
    from aimanager.dal.tables import SessionItem, ShareLinkItem
    from aimanager.ids import utc_now

    ShareLinkItem(
        jti,
        session_id=session_id,
        deployment_key=DEMO_KEY,
        editor_id="usr_ebp",
        artisan_id="usr_durant",
        link_id="lnk_1",
        expires_at="2999-01-01T00:00:00Z",
        expires_ttl=int(time.time()) + 3600,
        created_at=utc_now(),
    ).save()
    SessionItem(session_id).update(actions=[SessionItem.share_jti.set(jti)])


def test_a_share_link_token_pins_its_session(world: World) -> None:
    # Given two share-link sessions, and the page token of the first one's link
    mine = body(init_session())["data"]["session_id"]
    other = body(init_session())["data"]["session_id"]
    _as_share_session(mine, "jti_mine")
    _as_share_session(other, "jti_other")
    result = authorize(page_token(origin=None, session_id=mine, share_jti="jti_mine"), origin=None)
    assert effect(result) == "Allow" and result["context"]["session_id"] == mine
    ctx = {**result["context"], "principalId": DEMO_KEY}
    # Then its own session works, and the other one does not exist for it
    event = load_event("session_history/valid.json")
    for session_id, status in ((mine, 200), (other, 404)):
        event["path"] = f"/api/widget/v1/session/{session_id}/messages"
        event["pathParameters"] = {"id": session_id}
        event["requestContext"]["authorizer"] = ctx
        assert load_handler("session_history").handler(event, Ctx())["statusCode"] == status
    # And without the link's token, neither exists (a share-link session needs its link's page token)
    assert get_history(other)["statusCode"] == 404
    assert post_message(mine, "ok")["statusCode"] == 404


def test_init_accepts_the_page_token_from_our_own_origin(world: World) -> None:
    event = load_event("widget_init/valid.json")
    event["headers"]["Origin"] = f"https://{API_HOST}"
    event["headers"]["X-Widget-Token"] = page_token()
    event["body"] = json.dumps({"deployment_key": DEMO_KEY, "locale": "en"})
    resp = load_handler("widget_init").handler(event, Ctx())
    assert resp["statusCode"] == 201, resp
    # And refuses a page token whose site was removed from the allowlist
    seed_deployment(domains=[AllowedDomain("www.ebp.com")])
    from aimanager.services import authorize as authorize_service

    authorize_service.clear_cache()
    assert load_handler("widget_init").handler(event, Ctx())["statusCode"] == 403
