"""What an editor may set on a deployment (§12.2, §12.5 level 1): only what the master's whitelabel_config allows.

Pure: returns the first violation as (field, message) so the API can name the field; None when allowed.
"""

from __future__ import annotations

from typing import Any

PROMPT_FIELDS = ("system_prompt_append", "system_prompt_replace")
MODEL_FIELDS = ("model", "temperature", "max_tokens")
DEFAULT_MIN_RATE_LIMIT = 30

Violation = tuple[str, str]


def mode_violation(agent_mode: str, whitelabel_enabled: bool, deployment_mode: str) -> Violation | None:
    """internal agents are never rented; a shared master only gives shared deployments."""
    if agent_mode == "internal" or not whitelabel_enabled:
        return ("agent_id", "this agent is not available for white-label deployments")
    if deployment_mode == "dedicated" and agent_mode != "dedicated":
        return ("deployment_mode", "this agent only allows shared deployments")
    return None


def overlay_violation(rules: dict[str, Any], deployment_mode: str, overlay: dict[str, Any]) -> Violation | None:
    dedicated = deployment_mode == "dedicated"
    for name in PROMPT_FIELDS:
        if overlay.get(name) is not None and not (dedicated and rules.get("allow_prompt_override")):
            return (f"config_overlay.{name}", "prompt overrides are not allowed for this deployment")
    for name in MODEL_FIELDS:
        if overlay.get(name) is not None and not (dedicated and rules.get("allow_model_override")):
            return (f"config_overlay.{name}", "model overrides are not allowed for this deployment")
    return None


def branding_violation(rules: dict[str, Any], branding: dict[str, Any]) -> Violation | None:
    if branding.get("powered_by") is False and rules.get("required_branding", True):
        return ("branding.powered_by", "the agent requires the 'Powered by' mention")
    return None


def rate_limit_violation(rules: dict[str, Any], rate_limit_per_ip: int | None) -> Violation | None:
    minimum = int(rules.get("min_rate_limit") or DEFAULT_MIN_RATE_LIMIT)
    if rate_limit_per_ip is not None and rate_limit_per_ip < minimum:
        return ("rate_limit_per_ip", f"must be at least {minimum} (the agent's minimum)")
    return None


def first_violation(
    rules: dict[str, Any],
    deployment_mode: str,
    overlay: dict[str, Any],
    branding: dict[str, Any],
    rate_limit_per_ip: int | None,
) -> Violation | None:
    return (
        overlay_violation(rules, deployment_mode, overlay)
        or branding_violation(rules, branding)
        or rate_limit_violation(rules, rate_limit_per_ip)
    )
