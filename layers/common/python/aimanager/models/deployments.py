"""Deployments and allowed domains as the editor and admin APIs take and return them (§3.3-3.4, §6.2-6.3)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from aimanager.models.config import BrandingIn, ConfigOverlay
from aimanager.models.widget import StrictModel

Environment = Literal["production", "staging", "development", "localhost"]


class DomainIn(StrictModel):
    domain: str = Field(min_length=1, max_length=255, description='"app.example.com" or "*.example.com"')
    environment: Environment = "production"
    is_active: bool = True


class DomainOut(BaseModel):
    domain: str
    is_wildcard: bool
    environment: str
    is_active: bool


class DomainList(BaseModel):
    deployment_key: str
    items: list[DomainOut]


class DeploymentLimits(StrictModel):
    rate_limit_per_ip: int | None = Field(default=None, ge=1, le=10_000, description="Requests per minute per IP.")
    max_sessions_day: int | None = Field(default=None, ge=0)
    max_messages_day: int | None = Field(default=None, ge=0)


class DeploymentCreate(DeploymentLimits):
    agent_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=255)
    deployment_mode: Literal["shared", "dedicated"] = "shared"
    config_overlay: ConfigOverlay | None = None
    branding: BrandingIn | None = None
    domains: list[DomainIn] = Field(default_factory=list, max_length=50)


class DeploymentUpdate(DeploymentLimits):
    """An editor's changes: name, branding, the allowed config, its own limits, pause/resume."""

    name: str | None = Field(default=None, min_length=1, max_length=255)
    config_overlay: ConfigOverlay | None = None
    branding: BrandingIn | None = None
    is_active: bool | None = None


class AdminDeploymentCreate(DeploymentCreate):
    editor_id: str = Field(min_length=1, max_length=64)
    dedicated_collection: str | None = Field(default=None, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")


class AdminDeploymentUpdate(DeploymentUpdate):
    deployment_mode: Literal["shared", "dedicated"] | None = None
    dedicated_collection: str | None = Field(default=None, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")


class DeploymentOut(BaseModel):
    deployment_key: str
    agent_id: str
    editor_id: str
    name: str
    deployment_mode: str
    config_overlay: dict[str, Any] = Field(default_factory=dict)
    branding: dict[str, Any] = Field(default_factory=dict)
    dedicated_collection: str | None = None
    domains: list[DomainOut] = Field(default_factory=list)
    rate_limit_per_ip: int
    max_sessions_day: int | None = None
    max_messages_day: int | None = None
    is_active: bool
    created_at: str
    updated_at: str | None = None


class DeploymentList(BaseModel):
    items: list[DeploymentOut]
