"""API key format (`edk_live_<random>_<checksum>`): shown once, stored as a hash with a visible prefix."""

from __future__ import annotations

import base64
import hashlib
import hmac
import zlib
from dataclasses import dataclass

KIND_PREFIX = {"editeur": "edk", "fabricant": "fbk", "admin": "adk"}
RANDOM_BYTES = 20  # 160 bits, above the 128 the spec asks for


@dataclass(frozen=True)
class ApiKey:
    secret: str  # the whole key, shown to its owner once
    prefix: str  # visible part used to find the record, e.g. "edk_live_AB12CD34"
    key_hash: str  # sha256 hex of the whole key: the only thing stored


def _checksum(body: str) -> str:
    return format(zlib.crc32(body.encode()) & 0xFFFFFFFF, "08x")[:6]


def new_api_key(kind: str, random_bytes: bytes, *, env: str = "live") -> ApiKey:
    """Build a key from caller-supplied randomness (secrets.token_bytes), so the rule stays pure and testable."""
    if len(random_bytes) < 16:
        raise ValueError("an API key needs at least 128 bits of randomness")
    body = f"{KIND_PREFIX[kind]}_{env}_" + base64.b32encode(random_bytes).decode().rstrip("=").lower()
    secret = f"{body}_{_checksum(body)}"
    return ApiKey(secret=secret, prefix=body[: len(KIND_PREFIX[kind]) + len(env) + 10], key_hash=hash_api_key(secret))


def hash_api_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def is_well_formed(secret: str) -> bool:
    """A cheap check before any lookup: a typo or a random string never costs a database read."""
    body, _, check = secret.rpartition("_")
    return bool(body) and hmac.compare_digest(_checksum(body), check)


def prefix_of(secret: str) -> str:
    kind = secret.split("_", 1)[0]
    env = secret.split("_", 2)[1] if secret.count("_") >= 2 else ""
    return secret[: len(kind) + len(env) + 10]
