"""Widget authorization (spec §4): a deployment key plus an Origin/Referer on that deployment's allowlist."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from aimanager.dal import repositories as repo
from aimanager.domain.origins import host_from_url, index_keys_for_host, is_host_allowed, request_host
from aimanager.errors import Forbidden, Unauthorized
from aimanager.models.caller import WidgetCaller
from aimanager.observability import logger

_cache: dict[str, tuple[float, repo.DeploymentRecord | None]] = {}


def deployment_in_service(key: str, ttl_s: float = 0.0) -> repo.DeploymentRecord | None:
    """The deployment with its allowlist when it may serve: it is active and so is its editor (a deactivated
    editor's deployments stop with it); else None. Cached per container for ttl_s (0 = always read): a hot widget
    session costs no read, and deactivating a deployment, a domain or the editor takes effect within ttl_s."""
    now = time.monotonic()
    hit = _cache.get(key)
    if ttl_s > 0 and hit is not None and hit[0] > now:
        return hit[1]
    record = repo.get_deployment(key) if len(key) <= 64 else None
    if record is not None and (not record.view.is_active or not repo.editor_is_active(record.view.editor_id)):
        record = None
    if ttl_s > 0:
        if len(_cache) > 1000:  # bounded: random keys from a scanner cannot grow it forever
            _cache.clear()
        _cache[key] = (now + ttl_s, record)
    return record


def clear_cache() -> None:
    _cache.clear()


# The chat app page (iframe or /s/{token}) carries a token naming the host site it was served for: its own
# requests come from our origin, so the allowlist is checked against the token's origin instead (decision 0011).
FRAME_TOKEN_PURPOSE = "widget_frame"
FRAME_TOKEN_HEADER = "x-widget-token"


def _header(headers: dict[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name and isinstance(v, str)), None)


def _same_origin(origin: str, host_header: str | None) -> bool:
    try:
        return bool(host_header) and urlsplit(origin.strip()).netloc.lower() == str(host_header).strip().lower()
    except ValueError:
        return False


def frame_claims(token: str, key: str, headers: dict[str, str], now: int | None = None) -> dict[str, Any]:
    """The claims of a chat-app token for this key, honoured only on requests from our own origin."""
    from aimanager.adapters.secrets import signing_secret
    from aimanager.domain.tokens import InvalidToken, verify

    try:
        claims = verify(signing_secret(), FRAME_TOKEN_PURPOSE, token, int(time.time()) if now is None else now)
    except InvalidToken as exc:
        raise Unauthorized("The widget token is invalid or expired.", code="invalid_widget_token") from exc
    if claims.get("deployment_key") != key:
        raise Unauthorized("The widget token is invalid or expired.", code="invalid_widget_token")
    origin = _header(headers, "origin")
    # A browser always sends Origin cross-origin: a page elsewhere holding a copied token is refused here.
    if origin and not _same_origin(origin, _header(headers, "host")):
        raise Forbidden("This site is not authorised to use this assistant.", code="origin_not_allowed")
    return claims


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
    record = deployment_in_service(key, cache_ttl_s)
    if record is None:
        logger.warning("widget request refused: unknown or inactive deployment (or editor)", extra=refusal)
        raise Unauthorized("Unknown or inactive deployment key.", code="invalid_deployment_key")
    token = _header(headers, FRAME_TOKEN_HEADER)
    claims: dict[str, Any] = {}
    if token:
        try:
            claims = frame_claims(token, key, headers)
        except (Unauthorized, Forbidden):
            logger.warning("widget request refused: bad widget token", extra=refusal)
            raise
        if claims.get("origin"):
            host, origin_value = host_from_url(str(claims["origin"])), str(claims["origin"])
            refusal["origin"] = origin_value
        if "share_jti" in claims:  # a share-link page: its link must still be active, whatever the page token says
            from aimanager.services.share_links import assert_share_link_active

            assert_share_link_active(str(claims["share_jti"]) or "missing")
    pinned = str(claims["session_id"]) if claims.get("session_id") else None
    # A share-link page (a pinned session, no host site) is the one case with no allowlist check.
    if pinned is None and not is_host_allowed(host, record.domains):
        logger.warning("widget request refused: origin not allowed", extra=refusal)
        raise Forbidden("This site is not authorised to use this assistant.", code="origin_not_allowed")
    origin_header = _header(headers, "origin")
    return WidgetCaller(
        deployment_key=record.view.deployment_key,
        agent_id=record.view.agent_id,
        editor_id=record.view.editor_id,
        origin=origin_header.strip() if origin_header and not token else None,
        session_id=pinned,
        share_jti=str(claims["share_jti"]) if claims.get("share_jti") else None,
        origin_host=host if pinned is None else None,
    )


def preflight_allowed(origin: str | None) -> bool:
    """A preflight carries no deployment key: answer only for an origin that some active deployment allows."""
    host = host_from_url(origin)
    if host is None:
        return False
    return repo.any_active_origin(index_keys_for_host(host))
