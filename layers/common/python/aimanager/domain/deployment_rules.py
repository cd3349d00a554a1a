"""Which masters an editor may deploy, and how (§3.5, §12.1): the overlay, branding and rate-limit rules are
domain/config.py's (check_overlay, check_branding, check_rate_limit)."""

from __future__ import annotations

Violation = tuple[str, str]


def mode_violation(agent_mode: str, whitelabel_enabled: bool, deployment_mode: str) -> Violation | None:
    """internal agents are never rented; a shared master only gives shared deployments. (field, reason) or None."""
    if agent_mode == "internal" or not whitelabel_enabled:
        return ("agent_id", "this agent is not available for white-label deployments")
    if deployment_mode == "dedicated" and agent_mode != "dedicated":
        return ("deployment_mode", "this agent only allows shared deployments")
    return None
