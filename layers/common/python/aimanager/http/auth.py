"""The caller as API Gateway hands it over: the authorizer's context in requestContext.authorizer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aimanager.errors import Unauthorized
from aimanager.models.caller import ApiCaller, RequestMeta, WidgetCaller


def widget_caller(event: dict[str, Any]) -> WidgetCaller:
    """Only the authorizer's context counts: nothing the client sends can set these fields."""
    ctx = (event.get("requestContext") or {}).get("authorizer") or {}
    if not ctx.get("deployment_key"):
        raise Unauthorized("Missing or unknown deployment key.")
    return WidgetCaller(
        deployment_key=str(ctx["deployment_key"]),
        agent_id=str(ctx.get("agent_id") or ""),
        editor_id=str(ctx.get("editor_id") or ""),
        origin=str(ctx.get("origin") or "") or None,
        session_id=str(ctx.get("session_id") or "") or None,
        share_jti=str(ctx.get("share_jti") or "") or None,
        origin_host=str(ctx.get("origin_host") or "") or None,
    )


def source_ip(event: dict[str, Any]) -> str:
    return str(((event.get("requestContext") or {}).get("identity") or {}).get("sourceIp") or "")


def request_meta(event: dict[str, Any]) -> RequestMeta:
    """The source IP is API Gateway's sourceIp (never X-Forwarded-For); the request id is its requestId."""
    ctx = event.get("requestContext") or {}
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
    return RequestMeta(
        source_ip=source_ip(event),
        request_id=str(ctx.get("requestId") or "") or None,
        idempotency_key=str(headers["idempotency-key"]) if headers.get("idempotency-key") else None,
    )


def api_caller(event: dict[str, Any], permission: str | None = None) -> ApiCaller:
    """The user the API-key/bearer authorizer put in the context. With `permission`, 403 unless granted: a
    permission slug of §17.4 ("deployments.manage") or a role name ("editeur"), which the caller must hold."""
    from aimanager.domain.roles import ROLES, has_permission, parse_roles
    from aimanager.errors import Forbidden

    ctx = (event.get("requestContext") or {}).get("authorizer") or {}
    user_id, auth = str(ctx.get("user_id") or ""), str(ctx.get("auth") or "")
    if not user_id or auth not in ("api_key", "bearer"):
        raise Unauthorized("Missing or invalid credentials.")
    caller = ApiCaller(
        user_id=user_id,
        roles=parse_roles(str(ctx.get("roles") or "")),
        auth=auth,
        editor_id=str(ctx.get("editor_id") or "") or None,
        link_id=str(ctx.get("link_id") or "") or None,
    )
    granted = caller.has(permission) if permission in ROLES else has_permission(caller.roles, permission or "")
    if permission is not None and not granted:
        raise Forbidden(f"This action needs the '{permission}' permission.", code="permission_denied")
    return caller


def artisan_scope(event: dict[str, Any]) -> ApiCaller:
    """An artisan's bearer caller with its editor scope (the editor that minted it and its link), else 401."""
    caller = api_caller(event)
    if caller.auth != "bearer" or not caller.editor_id or not caller.link_id:
        raise Unauthorized("Missing or invalid bearer token.", code="invalid_bearer_token")
    return caller


def check_route_permission(event: dict[str, Any], permissions: Mapping[tuple[str, str], str]) -> ApiCaller:
    """Deny by default: the (method, resource) must be in the function's map and the caller's roles grant it."""
    route = (str(event.get("httpMethod") or "").upper(), str(event.get("resource") or ""))
    permission = permissions.get(route)
    if permission is None:
        api_caller(event)  # 401 before 403: an anonymous caller learns nothing about the route
        from aimanager.errors import Forbidden

        raise Forbidden("This route is not open to API callers.", code="permission_denied")
    return api_caller(event, permission)
