"""Authentication of the editor, fabricant, admin and artisan APIs (§16.5): API keys and artisan bearer tokens.

No cache anywhere: each request reads the user with one strongly consistent GetItem, so a revoked or rotated key,
a deactivated user or a removed role is refused by the very next request (decision 0015).
"""

from __future__ import annotations

import hmac
import time
from typing import Any

from aimanager.dal import accounts
from aimanager.dal.tables import UserEditorLinkItem, UserItem
from aimanager.domain.api_keys import hash_api_key, is_well_formed, prefix_of
from aimanager.domain.links import is_usable
from aimanager.domain.roles import api_key_kind, parse_roles
from aimanager.errors import Unauthorized
from aimanager.models.caller import ApiCaller
from aimanager.observability import logger

MAX_KEY_CHARS = 128
ARTISAN_PURPOSE = "artisan"


def authorize_api_key(secret: str | None, source_ip: str = "") -> ApiCaller:
    """The key's owner, or Unauthorized (missing, malformed, unknown, revoked key, or inactive owner)."""
    key = (secret or "").strip()
    if not key or len(key) > MAX_KEY_CHARS or not is_well_formed(key):
        logger.warning("api request refused: missing or malformed key", extra={"source_ip": source_ip})
        raise Unauthorized("Missing or invalid API key.", code="invalid_api_key")
    digest = hash_api_key(key)
    for candidate in accounts.users_by_key_prefix(prefix_of(key)):
        user = accounts.get_user(candidate.user_id)  # the GSI may lag a revocation: the table does not
        if user is None or not user.api_key_hash or not hmac.compare_digest(user.api_key_hash, digest):
            continue
        roles = parse_roles(user.roles)
        if user.is_active and api_key_kind(roles) is not None:
            return ApiCaller(user_id=user.user_id, roles=roles, auth="api_key")
    logger.warning(
        "api request refused: unknown or revoked key", extra={"prefix": prefix_of(key), "source_ip": source_ip}
    )
    raise Unauthorized("Missing or invalid API key.", code="invalid_api_key")


def _bearer_refusal(
    artisan: UserItem | None, editor: UserItem | None, link: UserEditorLinkItem | None, claims: dict[str, Any]
) -> str | None:
    """Why a bearer no longer opens anything: its artisan, the editor that minted it or their link is gone or off."""
    if artisan is None or not artisan.is_active or "artisan" not in parse_roles(artisan.roles):
        return "artisan"
    if editor is None or not editor.is_active or "editeur" not in parse_roles(editor.roles):
        return "editor"  # a deactivated editor's bearers stop with it (issue 9 item 13)
    if link is None or link.artisan_id != claims["sub"] or link.editor_id != claims["iss_by"]:
        return "link"
    if not is_usable(is_active=bool(link.is_active), status=link.status):
        return "link"
    return None


def authorize_bearer(header: str | None, secret: bytes, *, now: int | None = None, source_ip: str = "") -> ApiCaller:
    """An artisan's bearer token (purpose `artisan`): signed, unexpired, naming the artisan, the editor that minted
    it and their link; all three still active (read together, consistently). The caller acts for the artisan
    within that editor only (decision 0029)."""
    from aimanager.domain.tokens import InvalidToken, verify

    scheme, _, token = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Missing or invalid bearer token.", code="invalid_bearer_token")
    try:
        claims = verify(secret, ARTISAN_PURPOSE, token.strip(), int(time.time()) if now is None else now)
    except InvalidToken as exc:
        logger.warning("api request refused: bearer token", extra={"reason": exc.reason, "source_ip": source_ip})
        raise Unauthorized("Missing or invalid bearer token.", code="invalid_bearer_token") from None
    names = [str(claims.get(k) or "") for k in ("sub", "iss_by", "lnk")]
    if not all(names) or names[0] == names[1]:  # tokens from before editor scoping name no editor or link
        raise Unauthorized("Missing or invalid bearer token.", code="invalid_bearer_token")
    reason = _bearer_refusal(*accounts.bearer_parties(*names), claims)
    if reason is not None:
        logger.warning("api request refused: bearer", extra={"reason": reason, "source_ip": source_ip})
        raise Unauthorized("Missing or invalid bearer token.", code="invalid_bearer_token")
    # A bearer acts only as the artisan, whatever other roles the account holds, and only within its editor.
    return ApiCaller(
        user_id=names[0], roles=frozenset({"artisan"}), auth="bearer", editor_id=names[1], link_id=names[2]
    )
