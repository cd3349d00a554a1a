"""The chat app's page (spec §5, §16.5): in the editor's iframe, or full screen for a share link (/s/{token}).

The page is only ever rendered for a host site on the deployment's allowlist, and its CSP `frame-ancestors`
lists exactly those sites, so a page elsewhere can neither get a session nor frame the chat. A refused site
gets a page that says so (and nothing else). The page carries a short-lived token naming the host site
(purpose `widget_frame`), which the chat app's API calls present (decision 0011).
"""

from __future__ import annotations

import html
import json
import time
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from aimanager.adapters.secrets import signing_secret
from aimanager.dal import repositories as repo
from aimanager.domain.origins import frame_ancestors, host_from_url, is_host_allowed
from aimanager.domain.tokens import InvalidToken, sign, verify
from aimanager.errors import Unauthorized
from aimanager.observability import logger
from aimanager.services.authorize import FRAME_TOKEN_PURPOSE, deployment_in_service

FRAME_TOKEN_TTL_S = 12 * 3600
SHARE_TOKEN_PURPOSE = "share_link"
# What the browser says it is loading (Sec-Fetch-Dest): the chat app only ever loads inside the host's iframe.
FRAMED_DESTINATIONS = frozenset({"iframe", "frame"})
Mode = Literal["float", "inline", "standalone"]


@dataclass(frozen=True)
class Page:
    status: int
    html: str
    headers: dict[str, str]


@dataclass(frozen=True)
class PageSettings:
    """What the page needs from the function: its HTML template and where uploads go (for connect-src)."""

    template: str
    storage_origins: tuple[str, ...] = ()


def bare_origin(value: str | None) -> str | None:
    """`scheme://host[:port]` of an http(s) origin or URL, lower-cased; None for anything else."""
    if not value or host_from_url(value) is None:
        return None
    parts = urlsplit(value.strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def storage_origins(bucket: str, region: str, endpoint_url: str = "") -> tuple[str, ...]:
    """Where the browser sends uploads and reads files: the emulator locally, else the bucket's S3 hosts."""
    local = bare_origin(endpoint_url)
    if local:
        return (local,)
    if not bucket:
        return ()
    return (f"https://{bucket}.s3.{region}.amazonaws.com", f"https://{bucket}.s3.amazonaws.com")


def _csp(ancestors: list[str] | None, storage: tuple[str, ...]) -> str:
    extra = " ".join(storage)
    directives = [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # the editor's custom_css and the branding colour
        f"img-src 'self' blob: data: https: {extra}".strip(),
        f"connect-src 'self' {extra}".strip(),
        "base-uri 'none'",
        "form-action 'none'",
    ]
    if ancestors is not None:
        directives.append("frame-ancestors " + " ".join(ancestors))
    return "; ".join(directives)


def _render(
    settings: PageSettings, config: dict[str, Any], *, status: int, assets: str, ancestors: list[str] | None
) -> Page:
    # JSON inside <script type="application/json">: no "<" may survive, so "</script>" can never close it.
    data = json.dumps(config, separators=(",", ":")).replace("<", "\\u003c").replace(">", "\\u003e")
    data = data.replace("&", "\\u0026")
    text = (
        settings.template.replace("{{LANG}}", html.escape(str(config["l"])))
        .replace("{{TITLE}}", "Assistant")
        .replace("{{ASSETS}}", html.escape(assets))
        .replace("{{CONFIG}}", data)
    )
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": _csp(ancestors, settings.storage_origins),
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    return Page(status, text, headers)


def _choice(value: str | None, allowed: tuple[str, ...], default: str) -> str:
    return value if value in allowed else default


def frame_page(
    settings: PageSettings,
    *,
    deployment_key: str | None,
    host_origin: str | None,
    referer: str | None,
    locale: str | None,
    theme: str | None,
    mode: str | None,
    source_ip: str = "",
    fetch_dest: str | None = None,
    now: int | None = None,
) -> Page:
    """The iframe's page for the host site `host_origin`, or a refusal page that gives no session.

    Opened as a page of its own (`Sec-Fetch-Dest` other than iframe: a link in an email, window.open), it is
    refused: such a page has no host site around it, and its `#s=` fragment could hand it an attacker's session
    (fixation). Browsers without Fetch Metadata send nothing: frame-ancestors and the session binding still hold."""
    lang = _choice(locale, ("fr", "en"), "fr")
    config: dict[str, Any] = {
        "k": (deployment_key or "")[:64],
        "l": lang,
        "t": _choice(theme, ("auto", "light", "dark"), "auto"),
        "m": _choice(mode, ("float", "inline"), "float"),
    }
    origin = bare_origin(host_origin)
    config["o"] = origin or ""
    refusal = {"deployment_key": config["k"] or None, "origin": host_origin, "source_ip": source_ip}
    if fetch_dest is not None and fetch_dest.strip().lower() not in FRAMED_DESTINATIONS:
        logger.warning("widget page refused: not loaded in a frame", extra={**refusal, "fetch_dest": fetch_dest})
        return _render(settings, {**config, "err": "framed_only"}, status=403, assets="assets", ancestors=None)
    record = deployment_in_service(config["k"]) if config["k"] else None
    if record is None:
        logger.warning("widget page refused: unknown or inactive deployment", extra=refusal)
        return _render(settings, {**config, "err": "unavailable"}, status=404, assets="assets", ancestors=None)
    # The browser's Referer (when the host sends one) must name the same site as the loader's parameter.
    referer_origin = bare_origin(referer)
    if origin is None or (referer_origin is not None and referer_origin != origin):
        allowed = False
    else:
        allowed = is_host_allowed(host_from_url(origin), record.domains)
    if not allowed:
        logger.warning("widget page refused: origin not allowed", extra=refusal)
        return _render(settings, {**config, "err": "origin_not_allowed"}, status=403, assets="assets", ancestors=None)
    claims = {"deployment_key": record.view.deployment_key, "origin": origin}
    config["tok"] = sign(signing_secret(), FRAME_TOKEN_PURPOSE, claims, FRAME_TOKEN_TTL_S, _now(now))
    return _render(settings, config, status=200, assets="assets", ancestors=frame_ancestors(record.domains))


def _now(now: int | None) -> int:
    return int(time.time()) if now is None else now


def share_page(settings: PageSettings, *, token: str, locale: str | None, now: int | None = None) -> Page:
    """The standalone page of a share link: its session only, never framed; a bad link gets a 401 page."""
    lang = _choice(locale, ("fr", "en"), "fr")
    base: dict[str, Any] = {"k": "", "l": lang, "t": "auto", "m": "standalone", "o": ""}
    at = _now(now)
    try:
        claims = verify(signing_secret(), SHARE_TOKEN_PURPOSE, token, at)
    except InvalidToken as exc:
        logger.warning("share page refused: invalid token", extra={"reason": exc.reason})
        return _render(
            settings,
            {**base, "err": "invalid_share_token"},
            status=401,
            assets="../widget/v1/assets",
            ancestors=["'none'"],
        )
    key, session_id = str(claims.get("deployment_key") or ""), str(claims.get("session_id") or "")
    try:  # the link's record (ShareLinksTable, by jti): a revoked or unknown link is refused here and now
        from aimanager.services.share_links import assert_share_link_active

        assert_share_link_active(str(claims.get("jti") or "") or "missing", now=at)
    except Unauthorized:
        return _render(
            settings,
            {**base, "err": "invalid_share_token"},
            status=401,
            assets="../widget/v1/assets",
            ancestors=["'none'"],
        )
    record = deployment_in_service(key) if key else None
    session = repo.get_session(session_id, key) if record is not None and session_id else None
    if record is None or session is None or session.share_jti != claims.get("jti"):
        return _render(
            settings,
            {**base, "err": "invalid_share_token"},
            status=401,
            assets="../widget/v1/assets",
            ancestors=["'none'"],
        )
    ttl = max(1, min(FRAME_TOKEN_TTL_S, int(claims["exp"]) - at))
    # The link travels on: every widget call of this page checks it is still active (revocation wins at once).
    frame_claims = {"deployment_key": key, "session_id": session_id, "share_jti": str(claims.get("jti") or "")}
    config = {**base, "k": key, "sid": session_id}
    config["tok"] = sign(signing_secret(), FRAME_TOKEN_PURPOSE, frame_claims, ttl, at)
    return _render(settings, config, status=200, assets="../widget/v1/assets", ancestors=["'none'"])
