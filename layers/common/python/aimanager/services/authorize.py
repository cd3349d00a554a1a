"""Widget authorization (spec §4): a deployment key plus an Origin/Referer on that deployment's allowlist."""

from __future__ import annotations

import time

from aimanager.dal import repositories as repo
from aimanager.domain.origins import index_keys_for_host, is_host_allowed, request_host
from aimanager.errors import Forbidden, Unauthorized
from aimanager.models.caller import WidgetCaller
from aimanager.observability import logger

_cache: dict[str, tuple[float, repo.DeploymentRecord | None]] = {}


def _deployment(key: str, ttl_s: float) -> repo.DeploymentRecord | None:
    """The deployment with its allowlist, cached per container for ttl_s (0 = always read): a hot widget
    session costs no read, and deactivating a deployment or a domain takes effect within ttl_s."""
    now = time.monotonic()
    hit = _cache.get(key)
    if ttl_s > 0 and hit is not None and hit[0] > now:
        return hit[1]
    record = repo.get_deployment(key)
    if ttl_s > 0:
        if len(_cache) > 1000:  # bounded: random keys from a scanner cannot grow it forever
            _cache.clear()
        _cache[key] = (now + ttl_s, record)
    return record


def clear_cache() -> None:
    _cache.clear()


def authorize_widget(
    deployment_key: str | None, headers: dict[str, str], source_ip: str, *, cache_ttl_s: float = 0.0
) -> WidgetCaller:
    """The caller, or Unauthorized (no/unknown/inactive key) or Forbidden (origin not allowed); refusals are logged."""
    key = (deployment_key or "").strip()
    host, origin_value = request_host(headers)
    refusal = {"deployment_key": key or None, "origin": origin_value, "source_ip": source_ip}
    if not key:
        logger.warning("widget request refused: missing deployment key", extra=refusal)
        raise Unauthorized("Missing deployment key.", code="missing_deployment_key")
    record = _deployment(key, cache_ttl_s) if len(key) <= 64 else None
    if record is None or not record.view.is_active:
        logger.warning("widget request refused: unknown or inactive deployment", extra=refusal)
        raise Unauthorized("Unknown or inactive deployment key.", code="invalid_deployment_key")
    if not is_host_allowed(host, record.domains):
        logger.warning("widget request refused: origin not allowed", extra=refusal)
        raise Forbidden("This site is not authorised to use this assistant.", code="origin_not_allowed")
    origin_header = next((v for k, v in headers.items() if k.lower() == "origin"), None)
    return WidgetCaller(
        deployment_key=record.view.deployment_key,
        agent_id=record.view.agent_id,
        editor_id=record.view.editor_id,
        origin=origin_header.strip() if origin_header else None,
    )


def preflight_allowed(origin: str | None) -> bool:
    """A preflight carries no deployment key: answer only for an origin that some active deployment allows."""
    from aimanager.domain.origins import host_from_url

    host = host_from_url(origin)
    if host is None:
        return False
    return repo.any_active_origin(index_keys_for_host(host))
