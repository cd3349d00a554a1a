"""Roles and permissions (spec §17.4): every actor is a user with roles; a route asks for one permission."""

from __future__ import annotations

from collections.abc import Iterable

ROLES = ("admin", "editeur", "artisan", "particulier", "metreur", "fabricant")

# §17.4, verbatim slugs. `admin` is the platform team: every permission, including the admin.* ones.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "editeur": frozenset(
        {
            "deployments.manage",
            "domains.manage",
            "artisans.link",
            "artisans.view",
            "sessions.create_link",
            "webhooks.manage",
            "stats.view",
            "api.access",
            "branding.manage",
        }
    ),
    "artisan": frozenset(
        {
            "agents.view",
            "ai-sessions.create",
            "ai-sessions.view_own",
            "files.upload",
            "quotes.create",
            "quotes.view_own",
            "orders.create",
            "orders.view_own",
            "marketplace.access",
            # Not in §17.4's list but implied by §15.2A/§17.6: its own editor links and default branding.
            "links.view_own",
            "links.redeem",
            "branding.manage_own",
        }
    ),
    "fabricant": frozenset(
        {"marketplace.access", "catalog.manage", "orders.view", "orders.process", "deliveries.manage", "api.access"}
    ),
    "particulier": frozenset({"ai-sessions.participate", "files.upload", "quotes.view_own"}),
    # §17 names the role without listing its permissions: it validates pre-quotes (§15.2G).
    "metreur": frozenset({"quotes.validate", "quotes.view_own"}),
    "admin": frozenset(),  # all permissions, see has_permission
}

ADMIN_PERMISSIONS = frozenset({"admin.agents", "admin.editors", "admin.deployments", "admin.stats", "admin.users"})
ALL_PERMISSIONS = frozenset().union(*ROLE_PERMISSIONS.values()) | ADMIN_PERMISSIONS

# Roles that may hold an API key (§17.3: "pour les éditeurs et fabricants"; admins for the admin API).
API_KEY_ROLES = ("admin", "editeur", "fabricant")  # order = which key prefix a multi-role user gets


def parse_roles(raw: str | None) -> frozenset[str]:
    """The comma-separated roles of a UserItem; unknown names are dropped (deny by default)."""
    return frozenset(r for r in (p.strip() for p in (raw or "").split(",")) if r in ROLES)


def format_roles(roles: Iterable[str]) -> str:
    return ",".join(sorted(set(roles)))


def permissions_of(roles: Iterable[str]) -> frozenset[str]:
    roles = frozenset(roles)
    if "admin" in roles:
        return ALL_PERMISSIONS
    return frozenset().union(*(ROLE_PERMISSIONS.get(r, frozenset()) for r in roles))


def has_permission(roles: Iterable[str], permission: str) -> bool:
    return permission in permissions_of(roles)


def api_key_kind(roles: Iterable[str]) -> str | None:
    """Which key kind (edk/fbk/adk prefix) a user gets, or None when none of its roles may hold a key."""
    roles = frozenset(roles)
    return next((r for r in API_KEY_ROLES if r in roles), None)
