"""Config resolution (spec §8, §12): shared keeps the master's config, dedicated applies only allowed overrides."""

from __future__ import annotations

from typing import Any

import pytest

from aimanager.domain.config import resolve_config
from aimanager.models.agent import AgentConfig, DeploymentView

ALLOW_ALL = {
    "allow_prompt_override": True,
    "allow_model_override": True,
    "allow_rag_override": True,
    "required_branding": False,
}


def agent(**kw: Any) -> AgentConfig:
    base: dict[str, Any] = {
        "agent_id": "a",
        "name": "Expert BTP",
        "system_prompt": "MASTER",
        "model": "mistral:7b",
        "temperature": 0.4,
        "max_tokens": 800,
        "context_window_size": 6,
        "qdrant_collection": "btp",
    }
    base.update(kw)
    return AgentConfig(**base)


def deployment(mode: str = "dedicated", **kw: Any) -> DeploymentView:
    return DeploymentView(deployment_key="dpl_x", agent_id="a", editor_id="e", name="n", deployment_mode=mode, **kw)


def test_shared_mode_ignores_the_overlay_and_keeps_master_rules() -> None:
    # Given a shared deployment that tries to replace the prompt and the model
    d = deployment("shared", config_overlay={"system_prompt_replace": "EVIL", "model": "x", "temperature": 9})
    # When resolved, Then the master's prompt, model and temperature stand
    r = resolve_config(agent(whitelabel_config=ALLOW_ALL), d)
    assert (r.system_prompt, r.model, r.temperature) == ("MASTER", "mistral:7b", 0.4)


@pytest.mark.parametrize(
    ("overlay", "rules", "prompt"),
    [
        ({"system_prompt_append": "EBP"}, ALLOW_ALL, "MASTER\n\nEBP"),
        ({"system_prompt_replace": "ONLY", "system_prompt_append": "EBP"}, ALLOW_ALL, "ONLY"),
        ({"system_prompt_append": "EBP"}, {}, "MASTER"),  # not allowed: deny by default
        ({}, ALLOW_ALL, "MASTER"),
    ],
)
def test_dedicated_prompt(overlay: dict[str, Any], rules: dict[str, Any], prompt: str) -> None:
    assert resolve_config(agent(whitelabel_config=rules), deployment(config_overlay=overlay)).system_prompt == prompt


@pytest.mark.parametrize(("asked", "got"), [(0.0, 0.1), (2.0, 1.5), (0.9, 0.9)])
def test_temperature_is_clamped_to_master_limits(asked: float, got: float) -> None:
    r = resolve_config(agent(whitelabel_config=ALLOW_ALL), deployment(config_overlay={"temperature": asked}))
    assert r.temperature == got


def test_context_window_never_exceeds_20_and_collections_add_the_dedicated_one() -> None:
    r = resolve_config(
        agent(context_window_size=50, whitelabel_config=ALLOW_ALL),
        deployment(dedicated_collection="ebp-docs"),
    )
    assert r.context_window_size == 20
    assert r.collections == ("btp", "ebp-docs")
    # And without allow_rag_override the dedicated collection is not searched
    assert resolve_config(agent(), deployment(dedicated_collection="ebp-docs")).collections == ("btp",)


def test_required_branding_forces_powered_by() -> None:
    r = resolve_config(
        agent(whitelabel_config={"required_branding": True}),
        deployment(branding={"powered_by": False, "chat_title": "Assistant EBP"}),
    )
    assert r.branding["powered_by"] is True and r.branding["chat_title"] == "Assistant EBP"
