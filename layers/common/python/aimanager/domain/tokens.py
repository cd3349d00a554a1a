"""Signed, purpose-bound, expiring tokens (share links, artisan bearer tokens): one format, one verifier.

Format: `v1.<payload>.<signature>`, both parts base64url without padding. The payload is compact JSON holding the
caller's claims plus `pur` (the purpose) and `exp` (expiry, Unix seconds). The signature is HMAC-SHA256 over
`v1.<purpose>.<payload>` with the platform's signing secret. The algorithm is fixed by the version prefix, never
read from the token (no `alg` header to downgrade), and the purpose is bound twice: in the MAC input and in the
payload, so a token minted for one purpose never verifies for another. Revocation is the caller's business (a
record keyed by the `jti` claim); this module is pure and takes the clock as an argument.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any

VERSION = "v1"
MIN_SECRET_BYTES = 32
MAX_TOKEN_CHARS = 2048
_PURPOSE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
_RESERVED = frozenset({"pur", "exp"})


class InvalidToken(Exception):
    """A token that must be refused; `reason` says why (malformed, signature, purpose, expired) for logs only."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise InvalidToken("malformed")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken("malformed") from exc


def _mac(secret: bytes, purpose: str, payload: str) -> bytes:
    return hmac.new(secret, f"{VERSION}.{purpose}.{payload}".encode("ascii"), hashlib.sha256).digest()


def _check(secret: bytes, purpose: str) -> None:
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"the signing secret must hold at least {MIN_SECRET_BYTES} bytes")
    if not _PURPOSE.fullmatch(purpose):
        raise ValueError(f"invalid token purpose {purpose!r}")


def sign(secret: bytes, purpose: str, claims: Mapping[str, Any], ttl_s: int, now: int) -> str:
    """A token for `purpose` carrying `claims`, valid for `ttl_s` seconds from `now` (Unix seconds)."""
    _check(secret, purpose)
    if ttl_s <= 0:
        raise ValueError("a token needs a positive lifetime")
    clash = _RESERVED & set(claims)
    if clash:
        raise ValueError(f"reserved claim names: {sorted(clash)}")
    body = {**claims, "pur": purpose, "exp": int(now) + int(ttl_s)}
    payload = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return f"{VERSION}.{payload}.{_b64(_mac(secret, purpose, payload))}"


def verify(secret: bytes, purpose: str, token: str, now: int) -> dict[str, Any]:
    """The token's claims (with `exp`), or InvalidToken: tampered, other purpose, expired or malformed."""
    _check(secret, purpose)
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
        raise InvalidToken("malformed")
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != VERSION:
        raise InvalidToken("malformed")
    _, payload, signature = parts
    # The MAC is checked before the payload is parsed: nothing an attacker wrote is interpreted unsigned.
    if not hmac.compare_digest(_mac(secret, purpose, payload), _unb64(signature)):
        raise InvalidToken("signature")
    try:
        claims = json.loads(_unb64(payload))
    except ValueError as exc:
        raise InvalidToken("malformed") from exc
    if not isinstance(claims, dict) or claims.get("pur") != purpose:
        raise InvalidToken("purpose")
    exp = claims.get("exp")
    if not isinstance(exp, int) or isinstance(exp, bool):
        raise InvalidToken("malformed")
    if int(now) >= exp:
        raise InvalidToken("expired")
    claims.pop("pur")
    return claims
