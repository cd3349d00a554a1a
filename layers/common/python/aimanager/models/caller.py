"""Who is calling: the scope every read and write is restricted to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WidgetCaller:
    """A browser on an allowed site of one deployment (set by the domain authorizer)."""

    deployment_key: str
    agent_id: str
    editor_id: str
    origin: str | None  # the Origin header value to echo in CORS; None when the request had none
    session_id: str | None = None  # a share-link page may only use this session

    def as_authorizer_context(self) -> dict[str, str]:
        return {
            "deployment_key": self.deployment_key,
            "agent_id": self.agent_id,
            "editor_id": self.editor_id,
            "origin": self.origin or "",
            "session_id": self.session_id or "",
        }


@dataclass(frozen=True)
class RequestMeta:
    """What API Gateway says about the request itself: never a header the client could set for the IP."""

    source_ip: str  # requestContext.identity.sourceIp
    request_id: str | None = None  # requestContext.requestId
    idempotency_key: str | None = None  # the Idempotency-Key header (init)


@dataclass(frozen=True)
class ApiCaller:
    """A user authenticated by an API key or an artisan bearer token (set by the API-key authorizer)."""

    user_id: str
    roles: frozenset[str]
    auth: str  # "api_key" | "bearer"

    def has(self, role: str) -> bool:
        return role in self.roles

    def as_authorizer_context(self) -> dict[str, str]:
        return {"user_id": self.user_id, "roles": ",".join(sorted(self.roles)), "auth": self.auth}
