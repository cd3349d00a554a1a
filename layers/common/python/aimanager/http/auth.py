"""The caller as API Gateway hands it over: the authorizer's context in requestContext.authorizer."""

from __future__ import annotations

from typing import Any

from aimanager.errors import Unauthorized
from aimanager.models.caller import WidgetCaller


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
