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


SESSION_PREFIX = "sess_"
MESSAGE_PREFIX = "msg_"
_ULID_LEN = 26


def new_session_id() -> str:
    return random_id("sess")


def new_message_id(session_id: str) -> str:
    """`msg_<26 sortable chars><the session's token>`: one GetItem finds a message from its id alone."""
    return sortable_id("msg") + session_id.removeprefix(SESSION_PREFIX)


def session_of(message_id: str) -> str | None:
    """The session a message id names, or None when the id is not one of ours."""
    token = message_id.removeprefix(MESSAGE_PREFIX)[_ULID_LEN:]
    if not message_id.startswith(MESSAGE_PREFIX) or not token or len(message_id) > 96:
        return None
    return SESSION_PREFIX + token


FILE_PREFIX = "fil_"


def new_file_id(session_id: str) -> str:
    """`fil_<26 sortable chars><the session's token>`, like a message id: the id names its session."""
    return sortable_id("fil") + session_id.removeprefix(SESSION_PREFIX)


def session_of_file(file_id: str) -> str | None:
    token = file_id.removeprefix(FILE_PREFIX)[_ULID_LEN:]
    if not file_id.startswith(FILE_PREFIX) or not token or len(file_id) > 96:
        return None
    return SESSION_PREFIX + token
