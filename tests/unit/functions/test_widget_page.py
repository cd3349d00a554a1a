"""The chat app's page and static assets in-process (moto): who gets the app, who gets a refusal, and the CSP."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from aimanager.adapters.secrets import signing_secret
from aimanager.dal.tables import ShareLinkItem
from aimanager.domain.tokens import sign, verify
from aimanager.ids import utc_now
from aimanager.models.agent import AllowedDomain
from aimanager.services.authorize import FRAME_TOKEN_PURPOSE
from tests.conftest import load_event
from tests.unit.aws import DEMO_KEY, OTHER_KEY, World, aws_world, load_handler, seed_agent, seed_deployment
from tests.unit.functions.test_widget_flow import Ctx, body, header, init_session


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with aws_world(monkeypatch) as w:
        seed_agent()
        seed_deployment()
        seed_deployment(OTHER_KEY, [AllowedDomain("www.other.fr")], editor_id="usr_sage")
        yield w


def get_frame(**query: str | None) -> dict[str, Any]:
    event = load_event("widget_page/frame.json")
    referer = query.pop("referer", "https://app.ebp.fr/devis/42")
    event["queryStringParameters"] = {**event["queryStringParameters"], **query}
    event["queryStringParameters"] = {k: v for k, v in event["queryStringParameters"].items() if v is not None}
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in event["queryStringParameters"].items()}
    if referer is None:
        event["headers"].pop("Referer")
        event["multiValueHeaders"].pop("Referer")
    else:
        event["headers"]["Referer"] = referer
        event["multiValueHeaders"]["Referer"] = [referer]
    return load_handler("widget_page").handler(event, Ctx())  # type: ignore[no-any-return]


def get_share(token: str) -> dict[str, Any]:
    event = load_event("widget_page/share.json")
    event["path"] = f"/s/{token}"
    event["pathParameters"] = {"token": token}
    return load_handler("widget_page").handler(event, Ctx())  # type: ignore[no-any-return]


def page_config(resp: dict[str, Any]) -> dict[str, Any]:
    match = re.search(r'<script id="aim-config" type="application/json">(.*?)</script>', resp["body"], re.S)
    assert match, resp["body"][:300]
    return json.loads(match.group(1))  # type: ignore[no-any-return]


def csp(resp: dict[str, Any]) -> dict[str, str]:
    value = header(resp, "Content-Security-Policy") or ""
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] if " " in d else "" for d in value.split("; ")}


def test_an_allowed_site_gets_the_chat_app_framed_only_by_its_allowlist(world: World) -> None:
    # When the loader on an allowed site asks for the chat app
    resp = get_frame()
    # Then it is served, with frame-ancestors naming exactly the deployment's sites, never cached
    assert resp["statusCode"] == 200
    assert header(resp, "Content-Type") == "text/html; charset=utf-8"
    policy = csp(resp)
    assert policy["frame-ancestors"] == "https://app.ebp.fr:* https://*.ebp.fr:*"
    assert policy["script-src"] == "'self'" and policy["default-src"] == "'none'"
    assert header(resp, "Cache-Control") == "no-store"
    # And it carries a token naming that site, for this deployment, valid for hours
    config = page_config(resp)
    assert config["o"] == "https://app.ebp.fr" and config["k"] == DEMO_KEY and "err" not in config
    claims = verify(signing_secret(), FRAME_TOKEN_PURPOSE, config["tok"], int(time.time()))
    assert claims["deployment_key"] == DEMO_KEY and claims["origin"] == "https://app.ebp.fr"


@pytest.mark.parametrize(
    ("query", "status", "err"),
    [
        ({"o": "https://evil.example"}, 403, "origin_not_allowed"),
        ({"o": "https://www.other.fr"}, 403, "origin_not_allowed"),  # another deployment's site
        ({"o": "https://app.ebp.fr", "referer": "https://evil.example/page"}, 403, "origin_not_allowed"),
        ({"o": "javascript:alert(1)"}, 403, "origin_not_allowed"),
        ({"o": None}, 403, "origin_not_allowed"),
        ({"k": "dpl_unknown"}, 404, "unavailable"),
        ({"k": None}, 404, "unavailable"),
    ],
)
def test_a_refused_site_gets_a_refusal_page_and_no_token(
    world: World, query: dict[str, str | None], status: int, err: str
) -> None:
    resp = get_frame(**query)
    assert resp["statusCode"] == status
    config = page_config(resp)
    assert config["err"] == err and "tok" not in config
    # The refusal page may be framed anywhere: it holds nothing but the message
    assert "frame-ancestors" not in csp(resp)


def test_without_a_referer_the_claimed_site_is_enforced_by_frame_ancestors(world: World) -> None:
    # Given a host page that sends no Referer: the server trusts the parameter, the browser checks it (CSP)
    resp = get_frame(referer=None, o="https://shop.ebp.fr")
    assert resp["statusCode"] == 200
    assert csp(resp)["frame-ancestors"] == "https://app.ebp.fr:* https://*.ebp.fr:*"


def test_page_parameters_cannot_break_out_of_the_config_block(world: World) -> None:
    resp = get_frame(k="</script><script>alert(1)</script>", l="</html>", t="x", m="y")
    assert "<script>alert(1)" not in resp["body"]
    config = page_config(resp)
    assert config["k"] == "</script><script>alert(1)</script>"[:64] and config["l"] == "fr"
    assert config["t"] == "auto" and config["m"] == "float"


# ------------------------------------------------------------------ share links (/s/{token})


def share_token(
    session_id: str, *, purpose: str = "share_link", ttl_s: int = 3600, key: str = DEMO_KEY, age_s: int = 0
) -> str:
    claims = {"jti": "j1", "deployment_key": key, "session_id": session_id}
    issued = int(time.time()) - age_s
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(issued + ttl_s))
    ShareLinkItem(  # the record the editor API writes with every link (issue 5): checked on every use
        "j1",
        session_id=session_id,
        deployment_key=key,
        editor_id="usr_ebp",
        artisan_id="usr_durant",
        link_id="lnk_1",
        expires_at=expires,
        expires_ttl=issued + ttl_s,
        created_at=utc_now(),
    ).save()
    from pynamodb.exceptions import UpdateError

    from aimanager.dal.tables import SessionItem

    try:  # and the session names its link, as create-link writes it
        SessionItem(session_id).update(
            actions=[SessionItem.share_jti.set("j1")], condition=SessionItem.session_id.exists()
        )
    except UpdateError:
        pass  # no such session: the page must refuse the link
    return sign(signing_secret(), purpose, claims, ttl_s, issued)


def test_a_share_link_opens_its_session_full_screen_and_never_framed(world: World) -> None:
    session_id = body(init_session())["data"]["session_id"]
    resp = get_share(share_token(session_id))
    assert resp["statusCode"] == 200
    config = page_config(resp)
    assert config["m"] == "standalone" and config["sid"] == session_id
    assert csp(resp)["frame-ancestors"] == "'none'"
    assert 'name="viewport"' in resp["body"]
    claims = verify(signing_secret(), FRAME_TOKEN_PURPOSE, config["tok"], int(time.time()))
    assert claims == {"deployment_key": DEMO_KEY, "session_id": session_id, "share_jti": "j1", "exp": claims["exp"]}


def test_a_bad_share_link_gets_a_401_page(world: World) -> None:
    session_id = body(init_session())["data"]["session_id"]
    good = share_token(session_id)
    for bad in (
        good[:-3] + "xyz",  # tampered
        share_token(session_id, ttl_s=60, age_s=61),  # expired
        share_token(session_id, purpose="artisan"),  # another purpose
        share_token("sess_unknown"),  # no such session
        share_token(session_id, key=OTHER_KEY),  # the session is another deployment's
        "garbage",
    ):
        resp = get_share(bad)
        assert resp["statusCode"] == 401, bad
        config = page_config(resp)
        assert config["err"] == "invalid_share_token" and "tok" not in config


def test_a_bad_share_link_asked_as_json_gets_the_error_envelope(world: World) -> None:
    event = load_event("widget_page/share.json")
    event["path"] = "/s/v1.bad.token"
    event["pathParameters"] = {"token": "v1.bad.token"}
    event["headers"]["Accept"] = "application/json"
    event["multiValueHeaders"]["Accept"] = ["application/json"]
    resp = load_handler("widget_page").handler(event, Ctx())
    assert resp["statusCode"] == 401
    assert body(resp) == {
        "success": False,
        "error": {"code": "invalid_share_token", "message": "This link is invalid or has expired."},
    }


# ------------------------------------------------------------------ static assets


def test_assets_are_served_by_name_from_a_closed_list(world: World) -> None:
    handler = load_handler("widget_assets").handler
    event = load_event("widget_assets/loader.json")
    resp = handler(event, Ctx())
    assert resp["statusCode"] == 200 and (header(resp, "Content-Type") or "").startswith("text/javascript")
    assert "AiManagerWidget" in resp["body"] and header(resp, "X-Content-Type-Options") == "nosniff"
    for name in ("../app.py", "app.py", "chat.html", ""):
        event["pathParameters"] = {"name": name}
        event["path"] = f"/widget/v1/assets/{name}"
        assert handler(event, Ctx())["statusCode"] == 404, name


def test_a_revoked_share_link_gets_a_401_page_at_once(world: World) -> None:
    session_id = body(init_session())["data"]["session_id"]
    token = share_token(session_id)
    assert get_share(token)["statusCode"] == 200
    ShareLinkItem("j1").update(actions=[ShareLinkItem.revoked_at.set(utc_now())])  # DELETE .../links/{link_id}
    resp = get_share(token)
    assert resp["statusCode"] == 401
    assert page_config(resp)["err"] == "invalid_share_token"


def test_a_revoked_share_link_stops_the_open_page_on_its_next_widget_call(world: World) -> None:
    # Given a share-link page already open, whose chat app calls the widget API with its page token
    from tests.unit.functions.test_widget_token_auth import API_HOST, authorize, effect

    session_id = body(init_session())["data"]["session_id"]
    page_token = page_config(get_share(share_token(session_id)))["tok"]
    assert effect(authorize(page_token, origin=f"https://{API_HOST}")) == "Allow"
    # When the editor revokes the link
    ShareLinkItem("j1").update(actions=[ShareLinkItem.revoked_at.set(utc_now())])
    # Then the page's next call is refused (401), though its page token has hours left
    assert authorize(page_token, origin=f"https://{API_HOST}") == "Unauthorized"
