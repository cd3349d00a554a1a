"""Configuration resolution (spec §8, §12.2-12.3): the master's config plus what the deployment may change."""

from __future__ import annotations

from typing import Any

from aimanager.models.agent import AgentConfig, DeploymentView, ResolvedConfig

TEMPERATURE_RANGE = (0.1, 1.5)
MAX_CONTEXT_WINDOW = 20
DEFAULT_WELCOME = "Bonjour ! Comment puis-je vous aider ?"
DEFAULT_PLACEHOLDER = "Posez votre question..."
DEFAULT_BRANDING: dict[str, Any] = {"powered_by": True}


def clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def _prompt(agent: AgentConfig, overlay: dict[str, Any], dedicated: bool, allow_override: bool) -> str:
    if not (dedicated and allow_override):
        return agent.system_prompt
    replace = (overlay.get("system_prompt_replace") or "").strip()
    if replace:
        return replace
    append = (overlay.get("system_prompt_append") or "").strip()
    return f"{agent.system_prompt}\n\n{append}" if append else agent.system_prompt


def resolve_config(agent: AgentConfig, deployment: DeploymentView) -> ResolvedConfig:
    """Shared mode: the master's config. Dedicated mode: the overlay, where whitelabel_config allows it."""
    overlay = deployment.config_overlay or {}
    rules = agent.whitelabel_config or {}
    dedicated = deployment.deployment_mode == "dedicated"
    allow_model = dedicated and bool(rules.get("allow_model_override"))
    temperature = overlay.get("temperature") if allow_model else None
    max_tokens = overlay.get("max_tokens") if allow_model else None
    collections = tuple(c for c in (agent.qdrant_collection,) if c)
    if dedicated and rules.get("allow_rag_override") and deployment.dedicated_collection:
        collections += (deployment.dedicated_collection,)
    branding = {**DEFAULT_BRANDING, **(agent.default_branding or {}), **(deployment.branding or {})}
    if rules.get("required_branding", True):
        branding["powered_by"] = True
    return ResolvedConfig(
        model=str(overlay.get("model") or agent.model) if allow_model else agent.model,
        fallback_model=agent.fallback_model,
        temperature=clamp(float(temperature if temperature is not None else agent.temperature), *TEMPERATURE_RANGE),
        max_tokens=max(1, int(max_tokens if max_tokens is not None else agent.max_tokens)),
        context_window_size=max(0, min(MAX_CONTEXT_WINDOW, agent.context_window_size)),
        system_prompt=_prompt(agent, overlay, dedicated, bool(rules.get("allow_prompt_override"))),
        collections=collections,
        welcome_message=str(overlay.get("welcome_message") or DEFAULT_WELCOME),
        placeholder=str(overlay.get("placeholder") or DEFAULT_PLACEHOLDER),
        branding=branding,
    )
