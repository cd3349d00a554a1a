"""End to end over HTTP: the editor's integration through the API (§17.5 setup and steps 0-1), on the local stack."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.xdist_group("local_stack")


def api(
    stack: RunningStack, method: str, path: str, *, key: str | None = None, bearer: str | None = None, **kwargs: Any
) -> requests.Response:
    headers = dict(kwargs.pop("headers", {}) or {})
    if key:
        headers["X-API-Key"] = key
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    return requests.request(method, f"{stack.url}{path}", headers=headers, timeout=30, **kwargs)


def test_the_seeded_journey_is_ready(local_stack: RunningStack) -> None:
    # Given the demo data, Then EBP's key sees its deployment and Durant Peinture (DUR-001)
    ebp = local_stack.demo["editor_api_key"]
    deployments = api(local_stack, "GET", "/api/editor/deployments", key=ebp)
    assert deployments.status_code == 200, deployments.text
    keys = {d["deployment_key"] for d in deployments.json()["data"]["items"]}
    assert keys == {local_stack.demo["deployment_key"], local_stack.demo["limited_deployment_key"]}
    artisans = api(local_stack, "GET", "/api/editor/artisans", key=ebp).json()["data"]["items"]
    assert [(a["external_id"], a["name"]) for a in artisans] == [("DUR-001", "Durant Peinture")]
    # And the demo share link and artisan token work
    assert local_stack.demo["share_link_url"].startswith(f"{local_stack.url}/s/v1.")
    sessions = api(local_stack, "GET", "/api/artisan/sessions", bearer=local_stack.demo["artisan_token"])
    assert sessions.status_code == 200, sessions.text
    assert sessions.json()["data"]["items"], "the seeded share link opened a session for Durant"


def test_an_editor_runs_its_integration_through_the_api(local_stack: RunningStack) -> None:
    admin, suffix = local_stack.demo["admin_api_key"], uuid.uuid4().hex[:8]
    # The admin creates an editor (the key is shown once)
    created = api(
        local_stack,
        "POST",
        "/api/admin/editors",
        key=admin,
        json={"email": f"api-{suffix}@sage.example", "name": "SAGE", "company_name": "SAGE", "plan": "pro"},
    )
    assert created.status_code == 201, created.text
    sage = created.json()["data"]["api_key"]
    # SAGE deploys Expert BTP on its domains
    deployed = api(
        local_stack,
        "POST",
        "/api/editor/deployments",
        key=sage,
        json={
            "agent_id": "agt_expert_btp",
            "name": "Expert BTP - SAGE",
            "deployment_mode": "dedicated",
            "branding": {"chat_title": "Assistant SAGE", "primary_color": "#00A651"},
            "config_overlay": {"welcome_message": "Bienvenue chez SAGE !"},
            "domains": [{"domain": "localhost", "environment": "localhost"}],
        },
    )
    assert deployed.status_code == 201, deployed.text
    key = deployed.json()["data"]["deployment_key"]
    # ... which the widget can use at once from an allowed origin
    init = local_stack.call("POST", "/api/widget/v1/init", key=None, json={"deployment_key": key})
    assert init.status_code == 201, init.text
    # SAGE creates and links an artisan, then a share link for him
    linked = api(
        local_stack,
        "POST",
        "/api/editor/artisans/create-and-link",
        key=sage,
        json={
            "name": "Martin Carrelage",
            "email": f"martin-{suffix}@carrelage.example",
            "external_id": "A-7834",
        },
    )
    assert linked.status_code == 201, linked.text
    link = api(
        local_stack,
        "POST",
        "/api/editor/sessions/create-link",
        key=sage,
        json={
            "deployment_key": key,
            "artisan_external_id": "A-7834",
            "context": {"project_type": "renovation_sdb"},
            "expires_in": 3600,
        },
    )
    assert link.status_code == 201, link.text
    data = link.json()["data"]
    assert data["url"] == f"{local_stack.url}/s/{data['session_token']}"
    # SAGE never sees EBP's deployment: 404, not 403
    foreign = api(local_stack, "GET", f"/api/editor/deployments/{local_stack.demo['deployment_key']}", key=sage)
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "deployment_not_found"
    # Stats count SAGE's own activity: its two sessions (the widget's and the share link's)
    stats = api(local_stack, "GET", "/api/editor/stats", key=sage).json()["data"]
    assert (len(stats["deployments"]), stats["sessions_month"], stats["artisans_linked"]) == (1, 2, 1)
    # A bearer for its artisan opens the artisan API, which lists the share-link session
    token = api(
        local_stack, "POST", f"/api/editor/artisans/{linked.json()['data']['artisan_id']}/token", key=sage, json={}
    ).json()["data"]["access_token"]
    mine = api(local_stack, "GET", "/api/artisan/sessions", bearer=token).json()["data"]["items"]
    assert [s["session_id"] for s in mine] == [data["session_id"]]
    # The admin revokes SAGE's key: refused on the very next request
    sage_id = created.json()["data"]["user_id"]
    assert api(local_stack, "DELETE", f"/api/admin/users/{sage_id}/api-key", key=admin).status_code == 200
    refused = api(local_stack, "GET", "/api/editor/deployments", key=sage)
    assert refused.status_code == 401
    assert refused.json()["success"] is False


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/api/editor/deployments", {}, 401),  # no key: the gateway refuses before any function runs
        ("GET", "/api/editor/deployments", {"X-API-Key": "edk_live_garbage_000000"}, 401),
        ("GET", "/api/artisan/sessions", {"Authorization": "Bearer v1.forged.token"}, 401),
        ("GET", "/api/admin/editors", {"X-API-Key": "EDITOR"}, 403),  # an editor on an admin route
    ],
)
def test_refusals_over_http(
    local_stack: RunningStack, method: str, path: str, headers: dict[str, str], status: int
) -> None:
    if headers.get("X-API-Key") == "EDITOR":
        headers = {"X-API-Key": local_stack.demo["editor_api_key"]}
    resp = requests.request(method, f"{local_stack.url}{path}", headers=headers, timeout=30)
    assert resp.status_code == status, resp.text
    assert resp.json()["success"] is False


def test_a_share_link_opens_its_page_until_it_is_revoked(local_stack: RunningStack) -> None:
    ebp = local_stack.demo["editor_api_key"]
    # The seeded link of Durant Peinture opens its page
    assert requests.get(local_stack.demo["share_link_url"], timeout=30).status_code == 200
    # EBP creates a link, which opens; once revoked, the same URL is a 401 at once
    link = api(
        local_stack,
        "POST",
        "/api/editor/sessions/create-link",
        key=ebp,
        json={"deployment_key": local_stack.demo["deployment_key"], "artisan_external_id": "DUR-001"},
    )
    assert link.status_code == 201, link.text
    url, link_id = link.json()["data"]["url"], link.json()["data"]["link_id"]
    assert requests.get(url, timeout=30).status_code == 200
    assert api(local_stack, "DELETE", f"/api/editor/sessions/links/{link_id}", key=ebp).status_code == 200
    assert requests.get(url, timeout=30).status_code == 401
