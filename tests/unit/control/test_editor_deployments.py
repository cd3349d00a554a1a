"""Editor deployments and domains (§6.3): only its own (foreign ids are 404), only what the master allows."""

from __future__ import annotations

from typing import Any

import pytest

from aimanager.errors import Forbidden
from aimanager.services.authorize import authorize_widget
from tests.unit.aws import DEMO_KEY, OTHER_KEY
from tests.unit.control.conftest import Cast
from tests.unit.control.world import call


def new_deployment(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "agent_id": "agt_expert_btp",
        "name": "Expert BTP - EBP Bâtiment",
        "deployment_mode": "dedicated",
        "branding": {"chat_title": "Assistant EBP Bâtiment", "primary_color": "#0055A4"},
        "domains": [{"domain": "batiment.ebp.fr"}, {"domain": "*.ebp-cloud.fr"}],
    }
    body.update(overrides)
    return body


def test_an_editor_lists_only_its_own_deployments(cast: Cast) -> None:
    # When EBP lists its deployments
    reply = call(cast.ebp, "GET", "/api/editor/deployments")
    # Then it sees its own and never SAGE's
    assert reply.status == 200
    assert [d["deployment_key"] for d in reply.data["items"]] == [DEMO_KEY]
    assert {d["domain"] for d in reply.data["items"][0]["domains"]} == {"app.ebp.fr", "*.ebp.fr"}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"/api/editor/deployments/{OTHER_KEY}", None),
        ("PUT", f"/api/editor/deployments/{OTHER_KEY}", {"branding": {"chat_title": "pwned"}}),
        ("GET", f"/api/editor/deployments/{OTHER_KEY}/domains", None),
        ("POST", f"/api/editor/deployments/{OTHER_KEY}/domains", {"domain": "evil.example"}),
        ("DELETE", f"/api/editor/deployments/{OTHER_KEY}/domains/www.sage.fr", None),
        ("GET", "/api/editor/deployments/dpl_does_not_exist", None),
    ],
)
def test_another_editors_deployment_is_a_404_never_a_403(cast: Cast, method: str, path: str, body: Any) -> None:
    # When EBP touches SAGE's deployment (or an unknown one)
    reply = call(cast.ebp, method, path, body)
    # Then it does not exist for EBP, and SAGE's deployment is unchanged
    assert (reply.status, reply.code) == (404, "deployment_not_found")
    sage = call(cast.sage, "GET", f"/api/editor/deployments/{OTHER_KEY}").data
    assert sage["branding"]["chat_title"] == "Assistant EBP"  # the seed's value, untouched
    assert [d["domain"] for d in sage["domains"]] == ["www.sage.fr"]


def test_an_editor_updates_branding_and_the_allowed_config(cast: Cast) -> None:
    # When EBP changes its branding and appends to the prompt (allowed: dedicated + allow_prompt_override)
    reply = call(
        cast.ebp,
        "PUT",
        f"/api/editor/deployments/{DEMO_KEY}",
        {
            "branding": {"chat_title": "Assistant travaux EBP", "primary_color": "#112233"},
            "config_overlay": {"system_prompt_append": "Réponds pour EBP.", "welcome_message": "Bonjour !"},
        },
    )
    # Then the deployment shows it
    assert reply.status == 200, reply.body
    assert reply.data["branding"] == {"chat_title": "Assistant travaux EBP", "primary_color": "#112233"}
    assert reply.data["config_overlay"]["system_prompt_append"] == "Réponds pour EBP."


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"config_overlay": {"temperature": 0.9}}, "config_overlay.temperature", "override_not_allowed"),
        ({"config_overlay": {"model": "llama3:70b"}}, "config_overlay.model", "override_not_allowed"),
        ({"branding": {"powered_by": False}}, "branding.powered_by", "branding_required"),
        ({"rate_limit_per_ip": 10}, "rate_limit_per_ip", "invalid_value"),
    ],
)
def test_what_the_master_does_not_allow_is_refused_with_the_field_named(
    cast: Cast, body: Any, field: str, code: str
) -> None:
    reply = call(cast.ebp, "PUT", f"/api/editor/deployments/{DEMO_KEY}", body)
    assert (reply.status, reply.code) == (422, code)
    assert f"'{field}'" in reply.message
    # And nothing changed
    assert call(cast.ebp, "GET", f"/api/editor/deployments/{DEMO_KEY}").data["config_overlay"] == {}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"deployment_mode": "shared"}, "deployment_mode"),  # editors cannot change the mode
        ({"dedicated_collection": "x"}, "dedicated_collection"),
        ({"editor_id": "usr_sage"}, "editor_id"),
        ({"branding": {"primary_color": "blue"}}, "branding.primary_color"),
        ({"config_overlay": {"temperature": 3}}, "config_overlay.temperature"),
    ],
)
def test_fields_an_editor_may_not_set_or_bad_values_are_422(cast: Cast, body: Any, field: str) -> None:
    reply = call(cast.ebp, "PUT", f"/api/editor/deployments/{DEMO_KEY}", body)
    assert (reply.status, reply.code) == (422, "validation_error")
    assert f"'{field}'" in reply.message


def test_malformed_json_is_a_400(cast: Cast) -> None:
    reply = call(cast.ebp, "PUT", f"/api/editor/deployments/{DEMO_KEY}", raw_body="{not json")
    assert (reply.status, reply.code) == (400, "malformed_json")


def test_an_editor_creates_deployments_up_to_its_plans_max(cast: Cast) -> None:
    # Given SAGE on the Starter plan (1 deployment), which already has one
    # When it creates another
    reply = call(cast.sage, "POST", "/api/editor/deployments", new_deployment(deployment_mode="shared"))
    # Then the plan refuses
    assert (reply.status, reply.code) == (403, "max_deployments_reached")
    # Given EBP on Pro (5): four more are fine, the sixth is refused
    for i in range(4):
        created = call(cast.ebp, "POST", "/api/editor/deployments", new_deployment(name=f"D{i}", domains=[]))
        assert created.status == 201, created.body
        assert created.data["deployment_key"].startswith("dpl_")
        assert created.data["rate_limit_per_ip"] == 60
    sixth = call(cast.ebp, "POST", "/api/editor/deployments", new_deployment(name="D5"))
    assert (sixth.status, sixth.code) == (403, "max_deployments_reached")
    assert len(call(cast.ebp, "GET", "/api/editor/deployments").data["items"]) == 5


def test_a_new_deployment_serves_its_domains_at_once(cast: Cast) -> None:
    created = call(cast.ebp, "POST", "/api/editor/deployments", new_deployment())
    assert created.status == 201, created.body
    key = created.data["deployment_key"]
    caller = authorize_widget(key, {"Origin": "https://x.ebp-cloud.fr"}, "203.0.113.9")
    assert caller.editor_id == "usr_ebp"
    with pytest.raises(Forbidden):
        authorize_widget(key, {"Origin": "https://ebp-cloud.fr"}, "203.0.113.9")


def test_the_same_name_for_the_same_agent_is_a_409(cast: Cast) -> None:
    assert call(cast.ebp, "POST", "/api/editor/deployments", new_deployment()).status == 201
    again = call(cast.ebp, "POST", "/api/editor/deployments", new_deployment(domains=[]))
    assert (again.status, again.code) == (409, "deployment_name_taken")
    # And the refused attempt used no deployment slot (all or nothing)
    assert len(call(cast.ebp, "GET", "/api/editor/deployments").data["items"]) == 2


def test_unknown_agent_and_a_shared_only_master_are_refused(cast: Cast) -> None:
    unknown = call(cast.ebp, "POST", "/api/editor/deployments", new_deployment(agent_id="agt_nope"))
    assert (unknown.status, unknown.code) == (422, "agent_not_found")
    prompt_in_shared = call(
        cast.ebp,
        "POST",
        "/api/editor/deployments",
        new_deployment(deployment_mode="shared", config_overlay={"system_prompt_replace": "Tu es un pirate."}),
    )
    assert (prompt_in_shared.status, prompt_in_shared.code) == (422, "override_not_allowed")
    assert "'config_overlay.system_prompt_replace'" in prompt_in_shared.message


def test_domains_are_added_once_and_removal_takes_effect_for_the_widget(cast: Cast) -> None:
    path = f"/api/editor/deployments/{DEMO_KEY}/domains"
    added = call(cast.ebp, "POST", path, {"domain": "Devis.EBP-Batiment.fr.", "environment": "staging"})
    assert added.status == 201, added.body
    assert "devis.ebp-batiment.fr" in [d["domain"] for d in added.data["items"]]
    again = call(cast.ebp, "POST", path, {"domain": "devis.ebp-batiment.fr"})
    assert (again.status, again.code) == (409, "domain_exists")
    bad = call(cast.ebp, "POST", path, {"domain": "https://x y"})
    assert (bad.status, bad.code) == (422, "validation_error")
    assert "'domain'" in bad.message
    assert authorize_widget(DEMO_KEY, {"Origin": "https://app.ebp.fr"}, "1.2.3.4").deployment_key == DEMO_KEY
    removed = call(cast.ebp, "DELETE", f"{path}/app.ebp.fr")
    assert removed.status == 200
    assert call(cast.ebp, "DELETE", f"{path}/*.ebp.fr").status == 200  # which also allowed app.ebp.fr
    with pytest.raises(Forbidden):
        authorize_widget(DEMO_KEY, {"Origin": "https://app.ebp.fr"}, "1.2.3.4")
    missing = call(cast.ebp, "DELETE", f"{path}/app.ebp.fr")
    assert (missing.status, missing.code) == (404, "domain_not_found")


def test_pausing_a_deployment_stops_the_widget(cast: Cast) -> None:
    from aimanager.errors import Unauthorized

    assert call(cast.ebp, "PUT", f"/api/editor/deployments/{DEMO_KEY}", {"is_active": False}).status == 200
    with pytest.raises(Unauthorized):
        authorize_widget(DEMO_KEY, {"Origin": "https://app.ebp.fr"}, "1.2.3.4")


def test_an_internal_master_cannot_be_deployed(cast: Cast) -> None:
    internal = call(
        cast.admin,
        "POST",
        "/api/admin/agents",
        {"name": "Interne", "slug": "interne", "system_prompt": "x", "model": "m", "deployment_mode": "internal"},
    )
    assert internal.status == 201, internal.body
    reply = call(cast.ebp, "POST", "/api/editor/deployments", new_deployment(agent_id=internal.data["agent_id"]))
    assert (reply.status, reply.code) == (422, "agent_not_deployable")
    assert "'agent_id'" in reply.message
