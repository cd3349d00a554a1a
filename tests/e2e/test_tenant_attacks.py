"""Issue 9 over HTTP, as a rival editor and as an outsider with curl would attack `make run` (items 1, 2, 3, 13)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import pytest
import requests

from tests.e2e.conftest import RunningStack
from tests.e2e.test_control_plane import api

pytestmark = pytest.mark.xdist_group("local_stack")


def rival_editor(stack: RunningStack) -> tuple[str, str]:
    """A new editor created by the admin: (its user id, its API key)."""
    suffix = uuid.uuid4().hex[:8]
    created = api(
        stack,
        "POST",
        "/api/admin/editors",
        key=stack.demo["admin_api_key"],
        json={"email": f"rival-{suffix}@sage.example", "name": "SAGE", "company_name": "SAGE", "plan": "pro"},
    )
    assert created.status_code == 201, created.text
    return created.json()["data"]["user_id"], created.json()["data"]["api_key"]


def payload_of(share_url: str) -> dict[str, Any]:
    token = share_url.rsplit("/s/", 1)[1]
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # type: ignore[no-any-return]


def test_a_rival_editor_cannot_take_over_ebps_artisan(local_stack: RunningStack) -> None:
    _, sage = rival_editor(local_stack)
    # SAGE links Durant (EBP's artisan) by email, and a made-up email: the answers cannot be told apart
    durant = api(
        local_stack,
        "POST",
        "/api/editor/artisans/link",
        key=sage,
        json={"email": "contact@durant-peinture.example", "external_id": "A-1"},
    )
    nobody = api(
        local_stack,
        "POST",
        "/api/editor/artisans/link",
        key=sage,
        json={"email": f"nobody-{uuid.uuid4().hex[:6]}@nowhere.example", "external_id": "A-2"},
    )
    assert durant.status_code == nobody.status_code == 201, (durant.text, nobody.text)
    assert durant.json()["data"]["status"] == nobody.json()["data"]["status"] == "pending"
    assert sorted(durant.json()["data"]) == sorted(nobody.json()["data"])
    # No bearer for Durant: SAGE holds no active link to him
    token = api(local_stack, "POST", f"/api/editor/artisans/{local_stack.demo['artisan_id']}/token", key=sage, json={})
    assert token.status_code == 404
    # And EBP's own bearer for Durant sees EBP's data only; SAGE's invitation waits for his answer
    invitations = api(local_stack, "GET", "/api/artisan/invitations", bearer=local_stack.demo["artisan_token"])
    assert invitations.status_code == 200, invitations.text
    assert [i["company_name"] for i in invitations.json()["data"]["items"]] == ["SAGE"]


def test_a_share_link_session_is_closed_to_whoever_reads_its_url(local_stack: RunningStack) -> None:
    # Given the seeded share link's URL, whose payload names the session and the deployment
    leaked = payload_of(local_stack.demo["share_link_url"])
    session_id, key = leaked["session_id"], leaked["deployment_key"]
    # When an outsider calls the widget API with them from an allowed Origin (curl can claim any)
    history = local_stack.call("GET", f"/api/widget/v1/session/{session_id}/messages", key=key)
    message = local_stack.call(
        "POST", "/api/widget/v1/message", key=key, headers={"X-Session-ID": session_id}, json={"content": "x"}
    )
    resumed = local_stack.call("POST", "/api/widget/v1/init", key=key, json={"session_id": session_id})
    # Then the session does not exist for them
    assert history.status_code == 404, history.text
    assert message.status_code == 404, message.text
    assert resumed.status_code == 201 and resumed.json()["data"]["session_id"] != session_id, resumed.text


def test_the_chat_app_refuses_a_top_level_navigation(local_stack: RunningStack) -> None:
    key = local_stack.demo["deployment_key"]
    url = f"{local_stack.url}/widget/v1/frame?k={key}&o=http%3A%2F%2Flocalhost"
    top = requests.get(url, headers={"Sec-Fetch-Dest": "document"}, timeout=30)
    framed = requests.get(url, headers={"Sec-Fetch-Dest": "iframe"}, timeout=30)
    assert top.status_code == 403 and '"tok"' not in top.text
    assert framed.status_code == 200 and '"tok"' in framed.text


def test_a_deactivated_editor_stops_at_once(local_stack: RunningStack) -> None:
    # Given a new editor with a deployment in use and a linked artisan with a bearer
    editor_id, key = rival_editor(local_stack)
    deployed = api(
        local_stack,
        "POST",
        "/api/editor/deployments",
        key=key,
        json={
            "agent_id": "agt_expert_btp",
            "name": "Expert BTP - rival",
            "domains": [{"domain": "localhost", "environment": "localhost"}],
        },
    )
    assert deployed.status_code == 201, deployed.text
    dpl = deployed.json()["data"]["deployment_key"]
    artisan = api(
        local_stack,
        "POST",
        "/api/editor/artisans/create-and-link",
        key=key,
        json={"name": "Artisan", "email": f"a-{uuid.uuid4().hex[:8]}@x.example", "external_id": "R-1"},
    ).json()["data"]
    bearer = api(local_stack, "POST", f"/api/editor/artisans/{artisan['artisan_id']}/token", key=key, json={})
    bearer_token = bearer.json()["data"]["access_token"]
    sid = local_stack.call("POST", "/api/widget/v1/init", key=dpl, json={}).json()["data"]["session_id"]
    # When the admin deactivates the editor
    admin = local_stack.demo["admin_api_key"]
    assert api(local_stack, "DELETE", f"/api/admin/editors/{editor_id}", key=admin).status_code == 200
    # Then the bearers it minted are refused by the next request (nothing cached on that path)
    assert api(local_stack, "GET", "/api/artisan/sessions", bearer=bearer_token).status_code == 401
    # And its widgets as soon as a warm container's copy of the deployment expires (AUTHORIZER_CACHE_SECONDS = 5)
    deadline = time.monotonic() + 5 + 5
    while True:
        init = local_stack.call("POST", "/api/widget/v1/init", key=dpl, json={})
        history = local_stack.call("GET", f"/api/widget/v1/session/{sid}/messages", key=dpl)
        if (init.status_code, history.status_code) == (401, 401) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert (init.status_code, history.status_code) == (401, 401), (init.text, history.text)
