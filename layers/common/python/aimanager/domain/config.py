"""Configuration resolution (spec §8, §12.2-12.3, §12.5): the master's config plus what the deployment may change.

One rule, pure: `resolve_config` for what a turn runs with, `check_overlay` / `check_rate_limit` for what an editor
may write (the same rules, refused at the door instead of silently ignored at run time).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aimanager.domain.branding import requires_branding
from aimanager.errors import ValidationFailed
from aimanager.models.agent import AgentConfig, DeploymentView, PromptMode, ResolvedConfig
from aimanager.models.config import (
    DEFAULT_MIN_RATE_LIMIT,
    MAX_CONTEXT_WINDOW,
    MAX_TOKENS_CEILING,
    OVERLAY_PERMISSION,
    OVERLAY_TEXT_LIMITS,
    TEMPERATURE_MAX,
    TEMPERATURE_MIN,
)

PROMPT_SEPARATOR = "\n\n"


# ------------------------------------------------------------------ small rules, each named


def is_dedicated(deployment: DeploymentView) -> bool:
    """Only an explicit "dedicated" deployment gets overrides; anything else is shared (deny by default)."""
    return deployment.deployment_mode == "dedicated"


def allows(agent: AgentConfig, flag: str) -> bool:
    """A whitelabel_config flag is on only when it is literally true: absent, null or "yes" mean no."""
    return (agent.whitelabel_config or {}).get(flag) is True


def min_rate_limit(agent: AgentConfig) -> int:
    value = _number((agent.whitelabel_config or {}).get("min_rate_limit"))
    return int(value) if value is not None and value >= 1 else DEFAULT_MIN_RATE_LIMIT


def clamp_temperature(value: float) -> float:
    return max(TEMPERATURE_MIN, min(TEMPERATURE_MAX, value))


def clamp_context_window(value: int) -> int:
    return max(0, min(MAX_CONTEXT_WINDOW, value))


def clamp_max_tokens(asked: int, master: int) -> int:
    """A deployment may answer shorter than the master, never longer (the master's value is the ceiling)."""
    ceiling = max(1, min(master, MAX_TOKENS_CEILING))
    return max(1, min(ceiling, asked))


def clamp_rate_limit(asked: int, minimum: int) -> int:
    """§12.5: a deployment's per-IP limit is never below the master's min_rate_limit."""
    return max(minimum, asked)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _text(overlay: Mapping[str, Any], name: str) -> str | None:
    """An overlay text, or None when absent, blank, not a string or over its limit (never used half-cut)."""
    value = overlay.get(name)
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    return value if len(value) <= OVERLAY_TEXT_LIMITS[name] else None


def overlay_text(overlay: Mapping[str, Any], name: str) -> str | None:
    """The public accessor of a usable overlay text (welcome_message, placeholder...) for other rules."""
    return _text(overlay, name)


def resolve_prompt(agent: AgentConfig, deployment: DeploymentView) -> tuple[str, PromptMode]:
    """§12.3 Inherit / Append / Replace. The master's text always comes first: an append goes after it, and a
    replace keeps the master's non-negotiable rules (whitelabel_config.master_rules) before the editor's prompt."""
    overlay = deployment.config_overlay or {}
    if not (is_dedicated(deployment) and allows(agent, "allow_prompt_override")):
        return agent.system_prompt, "inherit"
    replace = _text(overlay, "system_prompt_replace")
    if replace:
        rules = (agent.whitelabel_config or {}).get("master_rules")
        rules = rules.strip() if isinstance(rules, str) else ""
        return (f"{rules}{PROMPT_SEPARATOR}{replace}" if rules else replace), "replace"
    append = _text(overlay, "system_prompt_append")
    if append:
        return f"{agent.system_prompt}{PROMPT_SEPARATOR}{append}", "append"
    return agent.system_prompt, "inherit"


@dataclass(frozen=True)
class ModelSettings:
    model: str
    temperature: float
    max_tokens: int


def _allowed_model(agent: AgentConfig, asked: str | None) -> str | None:
    """An allowed_models list in whitelabel_config, when present, is the only choice an override has."""
    allowed = (agent.whitelabel_config or {}).get("allowed_models")
    if asked is None or (isinstance(allowed, list) and asked not in allowed):
        return None
    return asked


def resolve_model_settings(agent: AgentConfig, deployment: DeploymentView) -> ModelSettings:
    """model / temperature / max_tokens: the overlay's only in dedicated mode with allow_model_override; every value
    (the master's too) clamped to the master limits."""
    overlay = deployment.config_overlay or {}
    override = is_dedicated(deployment) and allows(agent, "allow_model_override")
    temperature = _number(overlay.get("temperature")) if override else None
    max_tokens = _number(overlay.get("max_tokens")) if override else None
    model = _allowed_model(agent, _text(overlay, "model")) if override else None
    return ModelSettings(
        model=model or agent.model,
        temperature=clamp_temperature(temperature if temperature is not None else float(agent.temperature)),
        max_tokens=clamp_max_tokens(int(max_tokens) if max_tokens is not None else agent.max_tokens, agent.max_tokens),
    )


def resolve_collections(agent: AgentConfig, deployment: DeploymentView) -> tuple[str, ...]:
    """The master collection, plus the deployment's own one in dedicated mode where allow_rag_override says so.
    Only this deployment's collection is ever added: collections never leak across deployments."""
    collections = tuple(c for c in (agent.qdrant_collection,) if c)
    own = deployment.dedicated_collection
    if is_dedicated(deployment) and allows(agent, "allow_rag_override") and own and own not in collections:
        collections += (own,)
    return collections


def resolve_config(agent: AgentConfig, deployment: DeploymentView) -> ResolvedConfig:
    """§8.1: shared mode = the master's config; dedicated mode = the overlay merged where whitelabel_config allows
    it. Limits of §12.5 level 1 hold in every mode."""
    prompt, mode = resolve_prompt(agent, deployment)
    settings = resolve_model_settings(agent, deployment)
    return ResolvedConfig(
        model=settings.model,
        fallback_model=agent.fallback_model,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
        context_window_size=clamp_context_window(agent.context_window_size),
        system_prompt=prompt,
        prompt_mode=mode,
        collections=resolve_collections(agent, deployment),
        rate_limit_per_ip=clamp_rate_limit(deployment.rate_limit_per_ip, min_rate_limit(agent)),
    )


# ------------------------------------------------------------------ what an editor may write


@dataclass(frozen=True)
class OverlayRefusal:
    field: str
    code: str  # override_not_allowed | overlay_too_long | unknown_field | invalid_value
    message: str


def _refusal_of(agent: AgentConfig, deployment_mode: str, name: str, value: Any) -> OverlayRefusal | None:
    if name not in OVERLAY_PERMISSION:
        return OverlayRefusal(name, "unknown_field", f"Unknown field 'config_overlay.{name}'.")
    if value is None:
        return None  # clearing a field is always allowed
    flag = OVERLAY_PERMISSION[name]
    if flag is not None and not (deployment_mode == "dedicated" and allows(agent, flag)):
        why = "in shared mode" if deployment_mode != "dedicated" else f"without {flag}"
        return OverlayRefusal(
            name, "override_not_allowed", f"Field 'config_overlay.{name}' cannot be overridden {why} for this agent."
        )
    limit = OVERLAY_TEXT_LIMITS.get(name)
    if limit is not None and (not isinstance(value, str) or len(value.strip()) > limit):
        return OverlayRefusal(
            name, "overlay_too_long", f"Field 'config_overlay.{name}' must be text of at most {limit} characters."
        )
    return _range_refusal(agent, name, value)


def _range_refusal(agent: AgentConfig, name: str, value: Any) -> OverlayRefusal | None:
    """Numbers inside the master limits (refused, not clamped, at write time: the editor sees what runs)."""
    number = _number(value)
    if name == "temperature" and (number is None or number != clamp_temperature(number)):
        message = f"Field 'config_overlay.temperature' must be between {TEMPERATURE_MIN} and {TEMPERATURE_MAX}."
        return OverlayRefusal(name, "invalid_value", message)
    if name == "max_tokens":
        whole = number is not None and number == int(number)
        if not whole or number != clamp_max_tokens(int(number or 0), agent.max_tokens):
            message = f"Field 'config_overlay.max_tokens' must be a whole number between 1 and {agent.max_tokens}."
            return OverlayRefusal(name, "invalid_value", message)
    if name == "model" and _allowed_model(agent, str(value).strip()) is None:
        message = "Field 'config_overlay.model' names a model this agent does not allow."
        return OverlayRefusal(name, "override_not_allowed", message)
    return None


def overlay_refusals(agent: AgentConfig, deployment_mode: str, overlay: Mapping[str, Any]) -> list[OverlayRefusal]:
    """Every reason to refuse this config_overlay for a deployment of `agent` in `deployment_mode`, in field order."""
    refusals = (_refusal_of(agent, deployment_mode, name, value) for name, value in overlay.items())
    return [r for r in refusals if r is not None]


def check_overlay(agent: AgentConfig, deployment_mode: str, overlay: Mapping[str, Any]) -> None:
    """For PUT /api/editor/deployments/{id}: raise a 422 naming the first field the agent's whitelabel_config
    does not allow, or that is over its length limit or outside the master limits. Deny by default."""
    refusals = overlay_refusals(agent, deployment_mode, overlay)
    if refusals:
        raise ValidationFailed(refusals[0].message, code=refusals[0].code)


def check_rate_limit(agent: AgentConfig, rate_limit_per_ip: int) -> None:
    """For the editor's deployment update: a per-IP limit below the master's min_rate_limit is refused (422)."""
    minimum = min_rate_limit(agent)
    if rate_limit_per_ip < minimum:
        raise ValidationFailed(
            f"Field 'rate_limit_per_ip' must be at least {minimum} (the agent's minimum).", code="invalid_value"
        )


def check_branding(agent: AgentConfig, branding: Mapping[str, Any]) -> None:
    """For the editor's branding update: hiding "Powered by" is refused (422) where the agent requires branding.
    Shapes and lengths are models.config.BrandingIn's."""
    if requires_branding(agent) and branding.get("powered_by") is False:
        raise ValidationFailed(
            "Field 'branding.powered_by' cannot be false: this agent requires the \"Powered by\" mention.",
            code="branding_required",
        )
