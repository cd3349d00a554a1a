"""Link codes (spec §15.2A scenario 3): a short code an editor hands to an artisan, who redeems it once."""

from __future__ import annotations

import base64
import re

_CODE = re.compile(r"^LINK-[A-Z2-7]{10}$")
RANDOM_BYTES = 8  # 10 base32 characters = 50 bits, short-lived and single use


def new_link_code(random_bytes: bytes) -> str:
    if len(random_bytes) < 6:
        raise ValueError("a link code needs at least 48 bits of randomness")
    return "LINK-" + base64.b32encode(random_bytes).decode().rstrip("=")[:10]


def normalize_link_code(raw: str) -> str | None:
    """Upper-cased and trimmed; None when it cannot be one of ours (no lookup for garbage)."""
    code = raw.strip().upper()
    return code if _CODE.match(code) else None
