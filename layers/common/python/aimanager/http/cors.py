"""CORS that echoes only an origin the deployment allows: never `*`, always `Vary: Origin`."""

from __future__ import annotations

ALLOWED_METHODS = "GET,POST,OPTIONS"
ALLOWED_HEADERS = "Content-Type,X-Deployment-Key,X-Session-ID,Idempotency-Key"
PREFLIGHT_MAX_AGE = "600"


def cors_headers(allowed_origin: str | None) -> dict[str, str]:
    """Headers for a response to a caller whose Origin the allowlist accepted; none otherwise."""
    if not allowed_origin:
        return {"Vary": "Origin"}
    return {
        "Access-Control-Allow-Origin": allowed_origin,
        "Access-Control-Expose-Headers": "Retry-After,RateLimit,RateLimit-Policy",
        "Vary": "Origin",
    }


def preflight_headers(allowed_origin: str) -> dict[str, str]:
    return {
        **cors_headers(allowed_origin),
        "Access-Control-Allow-Methods": ALLOWED_METHODS,
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
    }
