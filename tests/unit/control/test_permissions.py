"""Every route checks its permission (§17.4): a role without it gets 403, whatever the route's function."""

from __future__ import annotations

import pytest

from aimanager.domain.roles import has_permission, parse_roles, permissions_of
from tests.unit.control.conftest import Cast
from tests.unit.control.world import Actor, call

ADMIN_ROUTES = [
    ("GET", "/api/admin/editors"),
    ("POST", "/api/admin/editors"),
    ("GET", "/api/admin/editors/usr_ebp"),
    ("PUT", "/api/admin/editors/usr_ebp"),
    ("DELETE", "/api/admin/editors/usr_ebp"),
    ("GET", "/api/admin/users?role=editeur"),
    ("POST", "/api/admin/users"),
    ("POST", "/api/admin/users/usr_ebp/api-key"),
    ("DELETE", "/api/admin/users/usr_ebp/api-key"),
    ("GET", "/api/admin/agents"),
    ("POST", "/api/admin/agents"),
    ("PUT", "/api/admin/agents/agt_expert_btp"),
    ("DELETE", "/api/admin/agents/agt_expert_btp"),
    ("GET", "/api/admin/deployments"),
    ("POST", "/api/admin/deployments"),
    ("DELETE", "/api/admin/deployments/dpl_test_demo_key_0001"),
    ("POST", "/api/admin/deployments/dpl_test_demo_key_0001/domains"),
    ("GET", "/api/admin/stats"),
]
EDITOR_ROUTES = [
    ("GET", "/api/editor/deployments"),
    ("POST", "/api/editor/deployments"),
    ("PUT", "/api/editor/deployments/dpl_test_demo_key_0001"),
    ("POST", "/api/editor/deployments/dpl_test_demo_key_0001/domains"),
    ("GET", "/api/editor/artisans"),
    ("POST", "/api/editor/artisans/link"),
    ("POST", "/api/editor/artisans/create-and-link"),
    ("POST", "/api/editor/artisans/link-codes"),
    ("POST", "/api/editor/artisans/usr_x/token"),
    ("POST", "/api/editor/sessions/create-link"),
    ("DELETE", "/api/editor/sessions/links/abc"),
    ("GET", "/api/editor/stats"),
]
ARTISAN_ROUTES = [
    ("GET", "/api/artisan/sessions"),
    ("GET", "/api/artisan/editors"),
    ("POST", "/api/artisan/editors/link"),
    ("GET", "/api/artisan/branding"),
    ("PUT", "/api/artisan/branding"),
    ("GET", "/api/artisan/invitations"),
    ("POST", "/api/artisan/invitations/lnk_x/accept"),
    ("POST", "/api/artisan/invitations/lnk_x/decline"),
]


def _call(actor: Actor, method: str, route: str) -> int:
    path, _, query = route.partition("?")
    params = dict(p.split("=") for p in query.split("&")) if query else None
    return call(actor, method, path, {} if method in ("POST", "PUT") else None, query=params).status


@pytest.mark.parametrize(("method", "route"), ADMIN_ROUTES)
def test_admin_routes_refuse_editors_and_fabricants(cast: Cast, method: str, route: str) -> None:
    for actor in (cast.ebp, cast.fabricant, Actor("usr_durant", "artisan", auth="bearer")):
        reply = call(actor, method, route.partition("?")[0], {} if method in ("POST", "PUT") else None)
        assert (reply.status, reply.code) == (403, "permission_denied"), (actor.roles, method, route)


@pytest.mark.parametrize(("method", "route"), EDITOR_ROUTES)
def test_editor_routes_refuse_fabricants_and_artisans(cast: Cast, method: str, route: str) -> None:
    for actor in (cast.fabricant, Actor("usr_durant", "artisan", auth="bearer")):
        assert _call(actor, method, route) == 403, (actor.roles, method, route)
    # And the editor gets past the permission check (its answer is about the request, not a 403)
    assert _call(cast.ebp, method, route) != 403


@pytest.mark.parametrize(("method", "route"), ARTISAN_ROUTES)
def test_artisan_routes_refuse_editors_and_fabricants(cast: Cast, method: str, route: str) -> None:
    for actor in (cast.ebp, cast.fabricant):
        assert _call(actor, method, route) == 403, (actor.roles, method, route)


def test_no_authorizer_context_is_a_401(cast: Cast) -> None:
    reply = call(None, "GET", "/api/editor/deployments")
    assert (reply.status, reply.code) == (401, "unauthorized")


@pytest.mark.parametrize(
    ("roles", "permission", "granted"),
    [
        ("editeur", "deployments.manage", True),
        ("editeur", "sessions.create_link", True),
        ("editeur", "admin.editors", False),
        ("editeur", "catalog.manage", False),
        ("fabricant", "catalog.manage", True),
        ("fabricant", "deployments.manage", False),
        ("artisan", "ai-sessions.view_own", True),
        ("artisan", "artisans.link", False),
        ("particulier", "ai-sessions.participate", True),
        ("particulier", "ai-sessions.view_own", False),
        ("metreur", "quotes.validate", True),
        ("admin", "admin.editors", True),
        ("admin", "deployments.manage", True),
        ("editeur,fabricant", "catalog.manage", True),
        ("", "deployments.manage", False),
        ("superuser", "admin.editors", False),
    ],
)
def test_role_permissions_follow_17_4(roles: str, permission: str, granted: bool) -> None:
    assert has_permission(parse_roles(roles), permission) is granted


def test_unknown_roles_grant_nothing() -> None:
    assert parse_roles("root, admin ,x") == frozenset({"admin"})
    assert permissions_of(parse_roles("root")) == frozenset()


def test_api_caller_takes_a_role_or_a_permission() -> None:
    from aimanager.errors import Forbidden
    from aimanager.http.auth import api_caller

    event = {"requestContext": {"authorizer": {"user_id": "usr_ebp", "roles": "editeur", "auth": "api_key"}}}
    assert api_caller(event, "editeur").user_id == "usr_ebp"  # a role the caller holds
    assert api_caller(event, "stats.view").has("editeur")  # a permission one of its roles grants
    for refused in ("admin", "catalog.manage", "no.such.permission"):
        with pytest.raises(Forbidden):
            api_caller(event, refused)
