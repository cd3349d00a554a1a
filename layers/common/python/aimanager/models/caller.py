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

    def as_authorizer_context(self) -> dict[str, str]:
        return {
            "deployment_key": self.deployment_key,
            "agent_id": self.agent_id,
            "editor_id": self.editor_id,
            "origin": self.origin or "",
        }


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
