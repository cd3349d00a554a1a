"""Identifiers: random, unguessable, and for messages sortable by creation time (ULID-like)."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower-case


def _b32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def sortable_id(prefix: str, now_ms: int | None = None) -> str:
    """`prefix_` + 10 chars of milliseconds + 16 random chars (80 bits): sorts by time, never collides."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    return f"{prefix}_{_b32(ms, 10)}{_b32(secrets.randbits(80), 16)}"


def random_id(prefix: str, nbytes: int = 16) -> str:
    return f"{prefix}_{secrets.token_urlsafe(nbytes)}"


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
