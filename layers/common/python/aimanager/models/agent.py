"""Value objects for the agent (master), the deployment and the resolved configuration the worker uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class AllowedDomain:
    domain: str  # "app.example.com" or "*.example.com"
    is_wildcard: bool = False
    environment: str = "production"  # production | staging | development | localhost
    is_active: bool = True


@dataclass(frozen=True)
class AgentConfig:
    agent_id: str
    name: str
    system_prompt: str
    model: str
    fallback_model: str | None = None
    temperature: float = 0.7
    max_tokens: int = 1024
    context_window_size: int = 10
    qdrant_collection: str | None = None
    deployment_mode: str = "shared"
    whitelabel_config: dict[str, Any] = field(default_factory=dict)
    default_branding: dict[str, Any] = field(default_factory=dict)
    avatar_url: str | None = None


@dataclass(frozen=True)
class DeploymentView:
    deployment_key: str
    agent_id: str
    editor_id: str
    name: str
    deployment_mode: str = "shared"
    config_overlay: dict[str, Any] = field(default_factory=dict)
    branding: dict[str, Any] = field(default_factory=dict)
    dedicated_collection: str | None = None
    rate_limit_per_ip: int = 60
    is_active: bool = True


PromptMode = Literal["inherit", "append", "replace"]


@dataclass(frozen=True)
class ResolvedConfig:
    """What a turn runs with: the master's config with only the overrides the master allows, clamped."""

    model: str
    fallback_model: str | None
    temperature: float
    max_tokens: int
    context_window_size: int
    system_prompt: str
    prompt_mode: PromptMode
    collections: tuple[str, ...]
    rate_limit_per_ip: int
