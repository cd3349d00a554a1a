"""The caller as API Gateway hands it over: the authorizer's context in requestContext.authorizer."""

from __future__ import annotations

from typing import Any

from aimanager.errors import Forbidden, Unauthorized
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


def api_caller(event: dict[str, Any], role: str) -> ApiCaller:
    """The user the API-key/bearer authorizer put in the context, holding `role`; deny by default."""
    ctx = (event.get("requestContext") or {}).get("authorizer") or {}
    user_id = str(ctx.get("user_id") or "")
    if not user_id:
        raise Unauthorized("Missing or invalid API key.", code="unauthorized")
    roles = frozenset(r.strip() for r in str(ctx.get("roles") or "").split(",") if r.strip())
    caller = ApiCaller(user_id=user_id, roles=roles, auth=str(ctx.get("auth") or ""))
    if not caller.has(role):
        raise Forbidden("This route needs another role.", code="forbidden")
    return caller
