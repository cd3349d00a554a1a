"""Allowed-domain matching (spec §4.1): which browser origins may use a deployment."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from aimanager.models.agent import AllowedDomain

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
LOOPBACK_ENVIRONMENTS = frozenset({"localhost", "development"})
# A DNS name (labels of letters, digits, hyphens) or an IPv4 address; anything else never matches.
_HOST_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$"
)


def normalize_host(raw: str | None) -> str | None:
    """Lower-case, no trailing dot, no port; None when it is not a host name we can compare."""
    if not raw:
        return None
    host = raw.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host == "::1":
        return host
    host = host.rstrip(".")
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return None
    return host if _HOST_RE.match(host) else None


def host_from_url(url: str | None) -> str | None:
    """The host of an Origin (`https://a.b:8443`) or Referer (full URL) header; None for `null` or junk."""
    if not url or url.strip().lower() == "null":
        return None
    try:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https"):
            return None
        return normalize_host(parts.hostname)
    except ValueError:
        return None


def request_host(headers: dict[str, str]) -> tuple[str | None, str | None]:
    """(host, the header value it came from): Origin first, else Referer. Header names are case-insensitive."""
    lowered = {k.lower(): v for k, v in headers.items() if isinstance(v, str)}
    origin = lowered.get("origin")
    if origin:
        return host_from_url(origin), origin
    referer = lowered.get("referer")
    return (host_from_url(referer), referer) if referer else (None, None)


def _entry_pattern(entry: AllowedDomain) -> tuple[bool, str | None]:
    raw = entry.domain.strip().lower()
    wildcard = entry.is_wildcard or raw.startswith("*.")
    return wildcard, normalize_host(raw[2:] if raw.startswith("*.") else raw)


def _matches(host: str, entry: AllowedDomain) -> bool:
    wildcard, pattern = _entry_pattern(entry)
    if pattern is None:
        return False
    if host in LOOPBACK_HOSTS:
        # Loopback only by an explicit entry for it, or an entry of a development/localhost environment.
        return (not wildcard and host == pattern) or entry.environment in LOOPBACK_ENVIRONMENTS
    if not wildcard:
        return host == pattern
    # "*.example.com": strict subdomains only, and never a bare public suffix such as "*.com".
    return "." in pattern and host.endswith("." + pattern)


def is_host_allowed(host: str | None, allowed: Iterable[AllowedDomain]) -> bool:
    """Deny by default: no host, an empty list, or only inactive entries all refuse."""
    if host is None:
        return False
    return any(entry.is_active and _matches(host, entry) for entry in allowed)


def index_keys_for_host(host: str) -> list[str]:
    """Reverse-index keys that could allow `host`: itself and `*.` + each parent domain (for preflights)."""
    labels = host.split(".")
    keys = [host]
    keys += ["*." + ".".join(labels[i:]) for i in range(1, len(labels) - 1)]
    return keys


def index_keys_for_entry(entry: AllowedDomain) -> list[str]:
    """Reverse-index keys an entry writes: its pattern, plus the loopback hosts a dev/localhost entry allows."""
    wildcard, pattern = _entry_pattern(entry)
    if pattern is None:
        return []
    keys = [f"*.{pattern}" if wildcard else pattern]
    if entry.environment in LOOPBACK_ENVIRONMENTS:
        keys += [h for h in sorted(LOOPBACK_HOSTS) if h not in keys]
    return keys


def frame_ancestors(allowed: Iterable[AllowedDomain]) -> list[str]:
    """CSP `frame-ancestors` sources for the same hosts is_host_allowed accepts ('none' for an empty allowlist).

    Production and staging sites frame the widget over https only; loopback/development entries over both
    schemes, with the loopback hosts such an entry allows. Any port, as the allowlist ignores ports.
    """
    sources: list[str] = []
    for entry in allowed:
        if not entry.is_active:
            continue
        wildcard, pattern = _entry_pattern(entry)
        if pattern is None or pattern == "::1" or (wildcard and "." not in pattern):
            continue
        loopback = entry.environment in LOOPBACK_ENVIRONMENTS
        hosts = [f"*.{pattern}" if wildcard else pattern]
        if loopback:
            hosts += [h for h in ("localhost", "127.0.0.1") if h not in hosts]  # CSP has no IPv6 literals
        schemes = ("https", "http") if loopback or pattern in LOOPBACK_HOSTS else ("https",)
        for host in hosts:
            for scheme in schemes:
                source = f"{scheme}://{host}:*"
                if source not in sources:
                    sources.append(source)
    return sources or ["'none'"]
