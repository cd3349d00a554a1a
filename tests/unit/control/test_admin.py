"""Admin API (§6.2): editors with plan and quotas, users and keys, agents, any editor's deployments, stats."""

from __future__ import annotations

import copy

from aimanager.services.api_auth import authorize_api_key
from tests.unit.aws import DEMO_KEY, OTHER_KEY
from tests.unit.control.conftest import Cast
from tests.unit.control.world import call

SAGE_BATIMENT = {
    "email": "api@sage-batiment.example",
    "name": "SAGE Bâtiment",
    "company_name": "SAGE",
    "plan": "business",
}
AGENT = {
    "name": "Support Client",
    "slug": "support-client",
    "system_prompt": "Tu es le support client.",
    "model": "mistral:7b",
    "deployment_mode": "shared",
    "whitelabel_config": {"required_branding": False, "min_rate_limit": 20},
    "output_schemas": {"ticket": {"type": "object", "properties": {"subject": {"type": "string"}}}},
    "default_branding": {"chat_title": "Support", "primary_color": "#333333"},
}


def test_an_editor_is_created_with_a_key_shown_once(cast: Cast) -> None:
    created = call(cast.admin, "POST", "/api/admin/editors", SAGE_BATIMENT)
    assert created.status == 201, created.body
    editor = created.data
    assert editor["roles"] == ["editeur"]
    assert editor["limits"] == {"max_deployments": 20, "max_sessions_month": 50000, "max_messages_month": 500000}
    key = editor["api_key"]
    assert key.startswith("edk_live_") and editor["api_key_prefix"] == key[: len(editor["api_key_prefix"])]
    assert authorize_api_key(key).user_id == editor["user_id"]
    # Read back: the key is never shown again, only its prefix
    again = call(cast.admin, "GET", f"/api/admin/editors/{editor['user_id']}").data
    assert "api_key" not in again and again["api_key_prefix"] == editor["api_key_prefix"]
    from aimanager.dal.tables import UserItem

    assert key not in str(UserItem.get(editor["user_id"]).attribute_values)  # only the hash is stored


def test_duplicate_email_is_409_whatever_the_case(cast: Cast) -> None:
    assert call(cast.admin, "POST", "/api/admin/editors", SAGE_BATIMENT).status == 201
    again = call(cast.admin, "POST", "/api/admin/editors", {**SAGE_BATIMENT, "email": "API@Sage-Batiment.example"})
    assert (again.status, again.code) == (409, "email_taken")


def test_plan_and_quota_overrides(cast: Cast) -> None:
    reply = call(cast.admin, "PUT", "/api/admin/editors/usr_sage", {"plan": "pro", "max_deployments": 2})
    assert reply.status == 200, reply.body
    assert reply.data["limits"] == {"max_deployments": 2, "max_sessions_month": 10000, "max_messages_month": 100000}
    back_to_plan = call(cast.admin, "PUT", "/api/admin/editors/usr_sage", {"max_deployments": None}).data
    assert back_to_plan["limits"]["max_deployments"] == 5
    bad = call(cast.admin, "PUT", "/api/admin/editors/usr_sage", {"plan": "gold"})
    assert (bad.status, bad.code) == (422, "validation_error")
    assert "'plan'" in bad.message


def test_editors_list_and_not_found(cast: Cast) -> None:
    listed = call(cast.admin, "GET", "/api/admin/editors").data["items"]
    assert {e["user_id"] for e in listed} == {"usr_ebp", "usr_sage"}
    assert call(cast.admin, "GET", "/api/admin/editors/usr_weber").code == "user_not_found"  # a fabricant
    assert call(cast.admin, "GET", "/api/admin/editors/usr_nope").status == 404


def test_other_roles_and_their_keys(cast: Cast) -> None:
    weber = call(
        cast.admin,
        "POST",
        "/api/admin/users",
        {"email": "api@weber.example", "name": "Weber", "roles": ["fabricant"], "marketplace_enabled": True},
    )
    assert weber.status == 201, weber.body
    assert weber.data["api_key"].startswith("fbk_live_")
    metreur = call(cast.admin, "POST", "/api/admin/users", {"email": "m@x.example", "name": "M", "roles": ["metreur"]})
    assert metreur.status == 201 and "api_key" not in metreur.data  # no key for a role that holds none
    no_key = call(cast.admin, "POST", f"/api/admin/users/{metreur.data['user_id']}/api-key")
    assert (no_key.status, no_key.code) == (409, "no_api_key_role")
    bad_role = call(cast.admin, "POST", "/api/admin/users", {"email": "r@x.example", "name": "R", "roles": ["root"]})
    assert (bad_role.status, bad_role.code) == (422, "validation_error")
    fabricants = call(cast.admin, "GET", "/api/admin/users", query={"role": "fabricant"}).data["items"]
    assert {u["name"] for u in fabricants} == {"usr_weber", "Weber"}


def test_agents_crud(cast: Cast) -> None:
    created = call(cast.admin, "POST", "/api/admin/agents", AGENT)
    assert created.status == 201, created.body
    agent_id = created.data["agent_id"]
    assert created.data["is_whitelabel_enabled"] is True
    assert created.data["output_schemas"] == AGENT["output_schemas"]
    dup = call(cast.admin, "POST", "/api/admin/agents", AGENT)
    assert (dup.status, dup.code) == (409, "slug_taken")
    updated = call(cast.admin, "PUT", f"/api/admin/agents/{agent_id}", {"temperature": 0.3, "description": "FAQ"})
    assert (updated.data["temperature"], updated.data["description"]) == (0.3, "FAQ")
    assert call(cast.admin, "PUT", f"/api/admin/agents/{agent_id}", {"temperature": 2}).status == 422
    assert call(cast.admin, "PUT", f"/api/admin/agents/{agent_id}", {"name": None}).status == 422
    assert {a["agent_id"] for a in call(cast.admin, "GET", "/api/admin/agents").data["items"]} == {
        "agt_expert_btp",
        agent_id,
    }
    assert call(cast.admin, "DELETE", f"/api/admin/agents/{agent_id}").data["is_active"] is False
    assert call(cast.admin, "GET", "/api/admin/agents/agt_nope").code == "agent_not_found"


def test_admin_manages_any_editors_deployments(cast: Cast) -> None:
    every = call(cast.admin, "GET", "/api/admin/deployments").data["items"]
    assert {d["deployment_key"] for d in every} == {DEMO_KEY, OTHER_KEY}
    only_sage = call(cast.admin, "GET", "/api/admin/deployments", query={"editor_id": "usr_sage"}).data["items"]
    assert [d["deployment_key"] for d in only_sage] == [OTHER_KEY]
    # A dedicated collection is the admin's to set
    changed = call(cast.admin, "PUT", f"/api/admin/deployments/{DEMO_KEY}", {"dedicated_collection": "btp_ebp"})
    assert changed.data["dedicated_collection"] == "btp_ebp"
    added = call(cast.admin, "POST", f"/api/admin/deployments/{OTHER_KEY}/domains", {"domain": "app.sage.fr"})
    assert added.status == 201
    # Creating for an editor counts against that editor's plan (SAGE: Starter, already 1)
    body = {"editor_id": "usr_sage", "agent_id": "agt_expert_btp", "name": "Second"}
    refused = call(cast.admin, "POST", "/api/admin/deployments", body)
    assert (refused.status, refused.code) == (403, "max_deployments_reached")
    # Deleting gives the slot back
    from aimanager.dal.tables import UserItem

    UserItem("usr_sage").update(actions=[UserItem.deployments_count.set(1)])
    assert call(cast.admin, "DELETE", f"/api/admin/deployments/{OTHER_KEY}").status == 200
    assert call(cast.admin, "GET", f"/api/admin/deployments/{OTHER_KEY}").status == 404
    assert call(cast.admin, "POST", "/api/admin/deployments", body).status == 201


def test_stats(cast: Cast) -> None:
    from tests.unit.control.test_artisans import create_durant
    from tests.unit.control.test_share_links import create_link

    create_durant(cast)
    for _ in range(3):
        assert create_link(cast).status == 201
    stats = call(cast.ebp, "GET", "/api/editor/stats").data
    assert (stats["sessions_total"], stats["sessions_month"], stats["artisans_linked"]) == (3, 3, 1)
    assert [d["deployment_key"] for d in stats["deployments"]] == [DEMO_KEY]
    sage = call(cast.sage, "GET", "/api/editor/stats").data
    assert sage["sessions_total"] == 0 and sage["artisans_linked"] == 0  # EBP's activity never shows at SAGE
    platform = call(cast.admin, "GET", "/api/admin/stats").data
    assert platform == {
        "editors": 2,
        "artisans": 1,
        "agents": 1,
        "deployments": 2,
        "active_deployments": 2,
        "sessions": 3,
    }


def test_an_unknown_route_of_a_function_is_refused(cast: Cast) -> None:
    from tests.conftest import load_event
    from tests.unit.control.world import Ctx, handler_of

    event = copy.deepcopy(load_event("admin_deployments/list.json"))
    event["resource"] = event["path"] = "/api/admin/secret"
    reply = handler_of("admin_deployments").handler(event, Ctx())
    assert reply["statusCode"] == 403
