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
    share_jti: str | None = None  # a share-link page: the link its page token carries
    origin_host: str | None = None  # the site the allowlist was checked for (its host); None for a share page

    def as_authorizer_context(self) -> dict[str, str]:
        return {
            "deployment_key": self.deployment_key,
            "agent_id": self.agent_id,
            "editor_id": self.editor_id,
            "origin": self.origin or "",
            "session_id": self.session_id or "",
            "share_jti": self.share_jti or "",
            "origin_host": self.origin_host or "",
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
    # A bearer acts for the artisan within the editor that minted it, through that editor's link (decision 0029).
    editor_id: str | None = None
    link_id: str | None = None

    def has(self, role: str) -> bool:
        return role in self.roles

    def as_authorizer_context(self) -> dict[str, str]:
        context = {"user_id": self.user_id, "roles": ",".join(sorted(self.roles)), "auth": self.auth}
        if self.editor_id and self.link_id:
            context |= {"editor_id": self.editor_id, "link_id": self.link_id}
        return context
