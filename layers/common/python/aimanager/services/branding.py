"""A session's branding (spec §15.2C): read the levels around it, apply the cascade rule, cache the result."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict
from typing import Any

from aimanager.dal import repositories as repo
from aimanager.domain.branding import BrandingLevels, BrandingVariables, requires_branding, resolve_branding
from aimanager.domain.config import overlay_text
from aimanager.models.agent import AgentConfig, DeploymentView
from aimanager.models.branding import EditorLinkView, Party

# §15.2C: resolved branding may be cached 5 minutes. The key is a digest of every level's content, so a change at
# any level is a different key: it is seen on the next request, whatever the TTL (decision 0021).
BRANDING_CACHE_TTL_S = 300.0
BRANDING_CACHE_MAX = 512
_cache: dict[str, tuple[float, dict[str, Any]]] = {}


def clear_branding_cache() -> None:
    _cache.clear()


def deployment_level(deployment: DeploymentView) -> dict[str, Any]:
    """The deployment's texts of config_overlay (welcome_message, placeholder) under its branding map."""
    overlay = deployment.config_overlay or {}
    texts = {name: overlay_text(overlay, name) for name in ("welcome_message", "placeholder")}
    return {**{k: v for k, v in texts.items() if v}, **(deployment.branding or {})}


def _link_for(link_id: str | None, artisan_id: str | None, editor_id: str) -> EditorLinkView | None:
    """The session's link, only when it is active and joins this artisan to this deployment's editor."""
    link = repo.get_editor_link(link_id) if link_id else None
    if link is None or not link.is_active or link.editor_id != editor_id or link.artisan_id != artisan_id:
        return None  # (a pending link names no artisan: it never matches a session's)
    return link


def levels_for(
    agent: AgentConfig, deployment: DeploymentView, artisan_id: str | None, link_id: str | None
) -> tuple[BrandingLevels, BrandingVariables]:
    """Read what this session's branding depends on: the editor and artisan users (one batch read) and the link."""
    parties = repo.get_parties([deployment.editor_id, artisan_id or ""])
    editor = parties.get(deployment.editor_id)
    artisan: Party | None = parties.get(artisan_id) if artisan_id else None
    if artisan is not None and not artisan.is_active:
        artisan = None
    link = _link_for(link_id, artisan_id, deployment.editor_id) if artisan is not None else None
    levels = BrandingLevels(
        agent=agent.default_branding or {},
        deployment=deployment_level(deployment),
        artisan=artisan.branding if artisan else {},
        editor_link=link.branding if link else {},
    )
    artisan_name = (artisan.name or artisan.company_name) if artisan else None
    variables = BrandingVariables(
        artisan_name=artisan_name,
        artisan_phone=artisan.phone if artisan else None,
        user_name=artisan_name,
        user_company_name=artisan.company_name if artisan else None,
        client_name=(editor.company_name or editor.name) if editor else None,
        agent_name=agent.name,
    )
    return levels, variables


def _digest(levels: BrandingLevels, variables: BrandingVariables, required: bool) -> str:
    payload = {"levels": [dict(level) for level in levels.in_order()], "vars": asdict(variables), "req": required}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def cached_branding(levels: BrandingLevels, variables: BrandingVariables, *, required: bool) -> dict[str, Any]:
    """resolve_branding, memoised per container for at most BRANDING_CACHE_TTL_S under a digest of its inputs."""
    now = time.monotonic()
    key = _digest(levels, variables, required)
    hit = _cache.get(key)
    if hit is not None and hit[0] > now:
        return dict(hit[1])
    resolved = resolve_branding(levels, variables, required_branding=required)
    if len(_cache) >= BRANDING_CACHE_MAX:
        for stale in [k for k, (expires, _) in _cache.items() if expires <= now] or list(_cache)[:1]:
            _cache.pop(stale, None)
    _cache[key] = (now + BRANDING_CACHE_TTL_S, resolved)
    return dict(resolved)


def session_branding(
    agent: AgentConfig, deployment: DeploymentView, *, artisan_id: str | None = None, link_id: str | None = None
) -> dict[str, Any]:
    """Agent default -> deployment -> artisan -> editor link, interpolated, "Powered by" where required."""
    levels, variables = levels_for(agent, deployment, artisan_id, link_id)
    return cached_branding(levels, variables, required=requires_branding(agent))
