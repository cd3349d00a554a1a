"""The control plane in-process (moto): users with keys, an agent, deployments, and a way to call any handler."""

from __future__ import annotations

import copy
import json
import re
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from types import ModuleType
from typing import Any

from aimanager.dal.tables import UserItem
from aimanager.domain.api_keys import new_api_key
from aimanager.ids import utc_now
from tests.conftest import load_event
from tests.unit.aws import _template_resources, load_handler

ROUTE_FUNCTIONS = {
    "/api/admin/editors": "admin_users",
    "/api/admin/users": "admin_users",
    "/api/admin/agents": "admin_agents",
    "/api/admin/deployments": "admin_deployments",
    "/api/admin/stats": "admin_deployments",
    "/api/editor/deployments": "editor_deployments",
    "/api/editor/artisans": "editor_artisans",
    "/api/editor/sessions": "editor_share_links",
    "/api/editor/stats": "editor_stats",
    "/api/artisan": "artisan_api",
}


class Ctx:
    function_name = "test"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:eu-west-3:123456789012:function:test"
    aws_request_id = "req-1"


@dataclass
class Actor:
    user_id: str
    roles: str
    api_key: str | None = None
    auth: str = "api_key"

    def context(self) -> dict[str, str]:
        return {"principalId": self.user_id, "user_id": self.user_id, "roles": self.roles, "auth": self.auth}


def make_user(user_id: str, roles: str, *, email: str | None = None, plan: str | None = None, **extra: Any) -> Actor:
    """A user row (and its email guard) with an API key when its roles hold one."""
    from aimanager.dal import accounts
    from aimanager.domain.roles import api_key_kind, parse_roles

    kind = api_key_kind(parse_roles(roles))
    key = new_api_key(kind, secrets.token_bytes(20), env="test") if kind else None
    item = UserItem(
        user_id,
        email=email or f"{user_id}@example.fr",
        name=extra.pop("name", user_id),
        roles=roles,
        plan=plan,
        api_key_prefix=key.prefix if key else None,
        api_key_hash=key.key_hash if key else None,
        created_at=utc_now(),
        **extra,
    )
    accounts.create_user(item)
    return Actor(user_id, roles, key.secret if key else None, "api_key" if key else "bearer")


_HANDLERS: dict[str, ModuleType] = {}


def handler_of(name: str) -> ModuleType:
    """Imported once per test run: table names are the template's logical ids in every world, and a warm
    container is what production runs too (the authorizer tests import theirs fresh)."""
    if name not in _HANDLERS:
        _HANDLERS[name] = load_handler(name)
    return _HANDLERS[name]


def _function_for(path: str) -> str:
    return next(fn for prefix, fn in ROUTE_FUNCTIONS.items() if path.startswith(prefix))


@lru_cache(maxsize=1)
def _template_routes() -> list[tuple[str, str, re.Pattern[str]]]:
    """(method, resource, regex) of every Api event of template.yaml: events carry the real resource pattern."""
    routes = []
    for res in _template_resources().values():
        for event in (res.get("Properties", {}).get("Events") or {}).values():
            if event.get("Type") == "Api":
                path = event["Properties"]["Path"]
                pattern = re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(path)) + "$")
                routes.append((event["Properties"]["Method"].upper(), path, pattern))
    return routes


def resource_of(method: str, path: str) -> str:
    """The template's resource for this request, or the path itself when no route matches (a 403 then)."""
    return next((r for m, r, rx in _template_routes() if m == method and rx.match(path)), path)


@dataclass
class Reply:
    status: int
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def code(self) -> str | None:
        return (self.body.get("error") or {}).get("code")

    @property
    def message(self) -> str:
        return str((self.body.get("error") or {}).get("message"))


def authorize_bearer(token: str, method: str, path: str) -> dict[str, str] | None:
    """The BearerAuthorizer's context for this token on this route, or None when it refuses (a 401)."""
    event = copy.deepcopy(load_event("api_key_authorizer/request.json"))
    event["headers"] = {"Authorization": f"Bearer {token}", "Host": event["headers"]["Host"]}
    event["httpMethod"] = method
    event["path"] = path
    event["resource"] = resource_of(method, path)
    try:
        result = handler_of("api_key_authorizer").handler(event, Ctx())
    except Exception as exc:  # API Gateway's contract: the authorizer raises "Unauthorized" for a 401
        if str(exc) != "Unauthorized":
            raise
        return None
    return dict(result["context"])


def call(
    actor: Actor | None,
    method: str,
    path: str,
    body: Any = None,
    *,
    query: dict[str, str] | None = None,
    raw_body: str | None = None,
) -> Reply:
    """The API Gateway event the route's function gets after the API-key authorizer allowed `actor`.

    An artisan holding a real bearer token goes through the real authorizer, as API Gateway does: its context
    (and its refusal, a 401 before any function runs) is the authorizer's, not the test's."""
    event = copy.deepcopy(load_event("editor_stats/stats.json"))
    event["httpMethod"] = method
    event["path"] = path
    event["resource"] = resource_of(method, path)
    event["requestContext"]["httpMethod"] = method
    context = actor.context() if actor else {}
    if actor is not None and actor.auth == "bearer" and actor.api_key:
        authorized = authorize_bearer(actor.api_key, method, path)
        if authorized is None:
            return Reply(401, {"success": False, "error": {"code": "unauthorized", "message": "Unauthorized"}})
        context = {"principalId": actor.user_id, **authorized}
    event["requestContext"]["authorizer"] = context
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    event["body"] = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    resp = handler_of(_function_for(path)).handler(event, Ctx())
    return Reply(resp["statusCode"], json.loads(resp["body"]) if resp.get("body") else {})
