"""Editor and admin statistics (§6.2-6.3)."""

from __future__ import annotations

from pydantic import BaseModel


class DeploymentStats(BaseModel):
    deployment_key: str
    name: str
    is_active: bool
    sessions_total: int
    sessions_month: int


class EditorStats(BaseModel):
    editor_id: str
    month: str
    deployments: list[DeploymentStats]
    sessions_total: int
    sessions_month: int
    artisans_linked: int


class AdminStats(BaseModel):
    editors: int
    artisans: int
    agents: int
    deployments: int
    active_deployments: int
    sessions: int
