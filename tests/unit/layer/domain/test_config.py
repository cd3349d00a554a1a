"""Config resolution (spec §8, §12.2-12.3, §12.5): every mode, every clamp, every allowed and forbidden override."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aimanager.domain.config import (
    check_branding,
    check_overlay,
    check_rate_limit,
    overlay_refusals,
    resolve_config,
)
from aimanager.errors import ValidationFailed
from aimanager.models.agent import AgentConfig, DeploymentView
from aimanager.models.config import BrandingIn, ConfigOverlay

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


# ------------------------------------------------------------------ prompt: inherit / append / replace


@pytest.mark.parametrize(
    ("mode", "rules", "overlay", "prompt", "prompt_mode"),
    [
        # shared mode: the overlay never touches the prompt, whatever the agent allows
        ("shared", ALLOW_ALL, {"system_prompt_replace": "EVIL"}, "MASTER", "inherit"),
        ("shared", ALLOW_ALL, {"system_prompt_append": "EBP"}, "MASTER", "inherit"),
        # an unknown mode is shared (deny by default)
        ("weird", ALLOW_ALL, {"system_prompt_append": "EBP"}, "MASTER", "inherit"),
        # dedicated + allowed
        ("dedicated", ALLOW_ALL, {}, "MASTER", "inherit"),
        ("dedicated", ALLOW_ALL, {"system_prompt_append": "EBP"}, "MASTER\n\nEBP", "append"),
        ("dedicated", ALLOW_ALL, {"system_prompt_append": "  EBP  "}, "MASTER\n\nEBP", "append"),
        ("dedicated", ALLOW_ALL, {"system_prompt_append": "   "}, "MASTER", "inherit"),
        ("dedicated", ALLOW_ALL, {"system_prompt_replace": "ONLY", "system_prompt_append": "EBP"}, "ONLY", "replace"),
        (
            "dedicated",
            ALLOW_ALL,
            {"system_prompt_replace": "", "system_prompt_append": "EBP"},
            "MASTER\n\nEBP",
            "append",
        ),
        # replace keeps the master's rules first when the agent declares them
        (
            "dedicated",
            {**ALLOW_ALL, "master_rules": "RULES"},
            {"system_prompt_replace": "ONLY"},
            "RULES\n\nONLY",
            "replace",
        ),
        # dedicated but not allowed: deny by default (absent, false, truthy-but-not-true)
        ("dedicated", {}, {"system_prompt_append": "EBP"}, "MASTER", "inherit"),
        ("dedicated", {"allow_prompt_override": False}, {"system_prompt_replace": "X"}, "MASTER", "inherit"),
        ("dedicated", {"allow_prompt_override": "yes"}, {"system_prompt_replace": "X"}, "MASTER", "inherit"),
        # over-long overlays are never used (and refused at write time)
        ("dedicated", ALLOW_ALL, {"system_prompt_append": "x" * 2001}, "MASTER", "inherit"),
        ("dedicated", ALLOW_ALL, {"system_prompt_replace": "x" * 8001}, "MASTER", "inherit"),
        ("dedicated", ALLOW_ALL, {"system_prompt_append": 42}, "MASTER", "inherit"),
    ],
)
def test_prompt_modes(mode: str, rules: dict[str, Any], overlay: dict[str, Any], prompt: str, prompt_mode: str) -> None:
    # Given an agent's whitelabel rules and a deployment's overlay, When resolved
    r = resolve_config(agent(whitelabel_config=rules), deployment(mode, config_overlay=overlay))
    # Then the prompt follows §12.3 only where allowed, and the master's text is never after the editor's
    assert (r.system_prompt, r.prompt_mode) == (prompt, prompt_mode)


@given(st.text(min_size=1, max_size=2000).filter(lambda t: t.strip()))
def test_an_append_always_comes_after_the_whole_master_prompt(append: str) -> None:
    r = resolve_config(agent(whitelabel_config=ALLOW_ALL), deployment(config_overlay={"system_prompt_append": append}))
    assert r.system_prompt.startswith("MASTER\n\n")


# ------------------------------------------------------------------ model settings: allowed overrides, clamps


@pytest.mark.parametrize(
    ("mode", "rules", "overlay", "expected"),
    [
        # shared: the master's model settings, whatever the overlay says
        ("shared", ALLOW_ALL, {"model": "x", "temperature": 0.9, "max_tokens": 100}, ("mistral:7b", 0.4, 800)),
        # dedicated without allow_model_override: ignored
        ("dedicated", {}, {"model": "x", "temperature": 0.9, "max_tokens": 100}, ("mistral:7b", 0.4, 800)),
        ("dedicated", {"allow_prompt_override": True}, {"temperature": 0.9}, ("mistral:7b", 0.4, 800)),
        # dedicated with it: applied
        (
            "dedicated",
            ALLOW_ALL,
            {"model": "llama3:8b", "temperature": 0.9, "max_tokens": 100},
            ("llama3:8b", 0.9, 100),
        ),
        ("dedicated", ALLOW_ALL, {}, ("mistral:7b", 0.4, 800)),
        # clamps: temperature 0.1-1.5, max_tokens 1..master
        ("dedicated", ALLOW_ALL, {"temperature": 0.0}, ("mistral:7b", 0.1, 800)),
        ("dedicated", ALLOW_ALL, {"temperature": -3}, ("mistral:7b", 0.1, 800)),
        ("dedicated", ALLOW_ALL, {"temperature": 2.0}, ("mistral:7b", 1.5, 800)),
        ("dedicated", ALLOW_ALL, {"temperature": 1.5}, ("mistral:7b", 1.5, 800)),
        ("dedicated", ALLOW_ALL, {"temperature": 0.1}, ("mistral:7b", 0.1, 800)),
        ("dedicated", ALLOW_ALL, {"temperature": "0.8"}, ("mistral:7b", 0.8, 800)),
        ("dedicated", ALLOW_ALL, {"temperature": "hot"}, ("mistral:7b", 0.4, 800)),
        ("dedicated", ALLOW_ALL, {"temperature": float("nan")}, ("mistral:7b", 0.4, 800)),
        ("dedicated", ALLOW_ALL, {"temperature": True}, ("mistral:7b", 0.4, 800)),
        ("dedicated", ALLOW_ALL, {"max_tokens": 5000}, ("mistral:7b", 0.4, 800)),
        ("dedicated", ALLOW_ALL, {"max_tokens": 0}, ("mistral:7b", 0.4, 1)),
        ("dedicated", ALLOW_ALL, {"model": ""}, ("mistral:7b", 0.4, 800)),
        # an allowed_models list is the only choice an override has
        ("dedicated", {**ALLOW_ALL, "allowed_models": ["a:1"]}, {"model": "a:1"}, ("a:1", 0.4, 800)),
        ("dedicated", {**ALLOW_ALL, "allowed_models": ["a:1"]}, {"model": "b:2"}, ("mistral:7b", 0.4, 800)),
    ],
)
def test_model_overrides(
    mode: str, rules: dict[str, Any], overlay: dict[str, Any], expected: tuple[str, float, int]
) -> None:
    r = resolve_config(agent(whitelabel_config=rules), deployment(mode, config_overlay=overlay))
    assert (r.model, r.temperature, r.max_tokens) == expected


@pytest.mark.parametrize(("master", "got"), [(0.05, 0.1), (3.0, 1.5), (0.7, 0.7)])
def test_the_masters_own_temperature_is_clamped_too(master: float, got: float) -> None:
    assert resolve_config(agent(temperature=master), deployment("shared")).temperature == got


@pytest.mark.parametrize(("size", "got"), [(50, 20), (20, 20), (6, 6), (0, 0), (-1, 0)])
def test_context_window_never_exceeds_20(size: int, got: int) -> None:
    assert resolve_config(agent(context_window_size=size), deployment()).context_window_size == got


@pytest.mark.parametrize(
    ("rules", "asked", "got"),
    [
        ({}, 60, 60),
        ({}, 10, 30),  # default master minimum 30/min
        ({"min_rate_limit": 45}, 40, 45),
        ({"min_rate_limit": 45}, 45, 45),
        ({"min_rate_limit": 45}, 120, 120),
        ({"min_rate_limit": "nonsense"}, 10, 30),
        ({"min_rate_limit": 0}, 10, 30),
    ],
)
def test_rate_limit_is_never_below_the_masters_minimum(rules: dict[str, Any], asked: int, got: int) -> None:
    assert resolve_config(agent(whitelabel_config=rules), deployment(rate_limit_per_ip=asked)).rate_limit_per_ip == got


@pytest.mark.parametrize(
    ("mode", "rules", "master", "dedicated", "collections"),
    [
        ("dedicated", ALLOW_ALL, "btp", "ebp-docs", ("btp", "ebp-docs")),
        ("dedicated", ALLOW_ALL, "btp", None, ("btp",)),
        ("dedicated", ALLOW_ALL, None, "ebp-docs", ("ebp-docs",)),
        ("dedicated", ALLOW_ALL, "btp", "btp", ("btp",)),
        ("dedicated", {}, "btp", "ebp-docs", ("btp",)),  # allow_rag_override off
        ("shared", ALLOW_ALL, "btp", "ebp-docs", ("btp",)),  # shared: the master's only
        ("shared", ALLOW_ALL, None, "ebp-docs", ()),
    ],
)
def test_collections_are_master_plus_own_in_dedicated_mode(
    mode: str, rules: dict[str, Any], master: str | None, dedicated: str | None, collections: tuple[str, ...]
) -> None:
    r = resolve_config(
        agent(qdrant_collection=master, whitelabel_config=rules), deployment(mode, dedicated_collection=dedicated)
    )
    assert r.collections == collections


def test_fallback_model_is_the_masters() -> None:
    assert resolve_config(agent(fallback_model="tiny"), deployment()).fallback_model == "tiny"


# ------------------------------------------------------------------ what an editor may write


@pytest.mark.parametrize(
    ("mode", "rules", "overlay", "refused"),
    [
        # presentation texts: always allowed, even in shared mode
        ("shared", {}, {"welcome_message": "Bonjour", "placeholder": "Votre projet"}, []),
        # clearing any field is allowed
        ("shared", {}, {"system_prompt_append": None, "model": None}, []),
        # prompt overrides need dedicated + allow_prompt_override
        ("shared", ALLOW_ALL, {"system_prompt_append": "x"}, [("system_prompt_append", "override_not_allowed")]),
        ("dedicated", {}, {"system_prompt_replace": "x"}, [("system_prompt_replace", "override_not_allowed")]),
        ("dedicated", {"allow_prompt_override": True}, {"system_prompt_append": "x"}, []),
        # model overrides need dedicated + allow_model_override
        ("dedicated", {"allow_prompt_override": True}, {"temperature": 0.5}, [("temperature", "override_not_allowed")]),
        ("dedicated", {}, {"model": "x"}, [("model", "override_not_allowed")]),
        ("dedicated", {}, {"max_tokens": 10}, [("max_tokens", "override_not_allowed")]),
        ("dedicated", ALLOW_ALL, {"model": "x", "temperature": 0.5, "max_tokens": 10}, []),
        # over-long overlays
        ("dedicated", ALLOW_ALL, {"system_prompt_append": "x" * 2001}, [("system_prompt_append", "overlay_too_long")]),
        ("dedicated", ALLOW_ALL, {"system_prompt_append": "x" * 2000}, []),
        (
            "dedicated",
            ALLOW_ALL,
            {"system_prompt_replace": "x" * 8001},
            [("system_prompt_replace", "overlay_too_long")],
        ),
        ("shared", {}, {"welcome_message": "x" * 501}, [("welcome_message", "overlay_too_long")]),
        ("shared", {}, {"placeholder": "x" * 121}, [("placeholder", "overlay_too_long")]),
        ("shared", {}, {"placeholder": 12}, [("placeholder", "overlay_too_long")]),
        # outside the master limits
        ("dedicated", ALLOW_ALL, {"temperature": 1.6}, [("temperature", "invalid_value")]),
        ("dedicated", ALLOW_ALL, {"temperature": 0.05}, [("temperature", "invalid_value")]),
        ("dedicated", ALLOW_ALL, {"temperature": "hot"}, [("temperature", "invalid_value")]),
        ("dedicated", ALLOW_ALL, {"max_tokens": 801}, [("max_tokens", "invalid_value")]),
        ("dedicated", ALLOW_ALL, {"max_tokens": 0}, [("max_tokens", "invalid_value")]),
        ("dedicated", ALLOW_ALL, {"max_tokens": 10.5}, [("max_tokens", "invalid_value")]),
        ("dedicated", {**ALLOW_ALL, "allowed_models": ["a"]}, {"model": "b"}, [("model", "override_not_allowed")]),
        # unknown fields: refused
        ("dedicated", ALLOW_ALL, {"ollama_host": "evil"}, [("ollama_host", "unknown_field")]),
        # several problems: all reported, in field order
        (
            "shared",
            {},
            {"model": "x", "welcome_message": "x" * 600},
            [("model", "override_not_allowed"), ("welcome_message", "overlay_too_long")],
        ),
    ],
)
def test_overlay_refusals(
    mode: str, rules: dict[str, Any], overlay: dict[str, Any], refused: list[tuple[str, str]]
) -> None:
    got = overlay_refusals(agent(whitelabel_config=rules), mode, overlay)
    assert [(r.field, r.code) for r in got] == refused


def test_check_overlay_is_a_422_naming_the_field() -> None:
    # Given an agent that does not allow model overrides
    # When an editor tries one, Then a 422 names the field and the reason
    with pytest.raises(ValidationFailed) as caught:
        check_overlay(agent(), "dedicated", {"temperature": 0.9})
    assert caught.value.status == 422
    assert caught.value.code == "override_not_allowed"
    assert "config_overlay.temperature" in caught.value.message
    # And an allowed overlay passes silently
    check_overlay(agent(whitelabel_config=ALLOW_ALL), "dedicated", {"temperature": 0.9})


@pytest.mark.parametrize(
    ("rules", "asked", "ok"), [({}, 30, True), ({}, 29, False), ({"min_rate_limit": 60}, 59, False)]
)
def test_check_rate_limit(rules: dict[str, Any], asked: int, ok: bool) -> None:
    if ok:
        check_rate_limit(agent(whitelabel_config=rules), asked)
    else:
        with pytest.raises(ValidationFailed, match="rate_limit_per_ip"):
            check_rate_limit(agent(whitelabel_config=rules), asked)


def test_the_overlay_model_and_the_rule_agree_on_limits() -> None:
    # The pydantic body the editor route validates refuses what the rule refuses (one set of limits).
    with pytest.raises(ValueError, match="system_prompt_append"):
        ConfigOverlay(system_prompt_append="x" * 2001)
    with pytest.raises(ValueError, match="extra"):
        ConfigOverlay.model_validate({"ollama_host": "x"})
    assert ConfigOverlay(system_prompt_append="x" * 2000).system_prompt_append == "x" * 2000


@pytest.mark.parametrize(
    ("rules", "branding", "refused"),
    [
        ({}, {"powered_by": False}, True),  # required by default
        ({"required_branding": True}, {"powered_by": False}, True),
        ({"required_branding": False}, {"powered_by": False}, False),
        ({}, {"powered_by": True, "chat_title": "EBP"}, False),
        ({}, {"chat_title": "EBP"}, False),
    ],
)
def test_check_branding(rules: dict[str, Any], branding: dict[str, Any], refused: bool) -> None:
    if refused:
        with pytest.raises(ValidationFailed, match="branding.powered_by") as caught:
            check_branding(agent(whitelabel_config=rules), branding)
        assert caught.value.code == "branding_required"
    else:
        check_branding(agent(whitelabel_config=rules), branding)


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("primary_color", "#0055A4", True),
        ("primary_color", "red", False),
        ("logo_url", "https://cdn.ebp.fr/logo.png", True),
        ("logo_url", "javascript:alert(1)", False),
        ("logo_url", "http://insecure.example/logo.png", False),
        ("custom_css", ".x { color: red }", True),
        ("custom_css", "</style><script>alert(1)</script>", False),
        ("chat_title", "x" * 81, False),
        ("welcome_message", "Bonjour, je suis l'assistant de {artisan.name}.", True),
        ("unknown", "x", False),
    ],
)
def test_branding_body(field: str, value: str, ok: bool) -> None:
    if ok:
        assert getattr(BrandingIn.model_validate({field: value}), field) == value
    else:
        with pytest.raises(ValueError):
            BrandingIn.model_validate({field: value})
