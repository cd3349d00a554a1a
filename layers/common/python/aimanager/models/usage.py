"""Usage API payloads (spec §9): the month against the plan, and a daily series per deployment for charts."""

from __future__ import annotations

from pydantic import BaseModel


class Metric(BaseModel):
    used: int
    limit: int | None = None  # None = unlimited
    percent: float | None = None


class DayPoint(BaseModel):
    date: str  # YYYY-MM-DD (UTC)
    sessions: int
    messages: int


class DeploymentUsage(BaseModel):
    deployment_key: str
    name: str
    is_active: bool
    max_sessions_day: int | None = None
    max_messages_day: int | None = None
    rate_limit_per_ip: int
    sessions_count: int  # lifetime
    messages_count: int
    last_activity_at: str | None = None
    today: DayPoint
    daily: list[DayPoint]  # the last 30 UTC days, oldest first


class UsageOut(BaseModel):
    editor_id: str
    plan: str
    month: str  # YYYY-MM (UTC)
    resets_at: str  # the first of next month, 00:00 UTC
    sessions: Metric
    messages: Metric
    deployments: Metric
    alerts: list[str]  # thresholds alerted this month, e.g. "sessions:80"
    last_activity_at: str | None = None
    by_deployment: list[DeploymentUsage]


class ResetOut(BaseModel):
    month: str
    editors: int
    opened: int  # month windows created at zero by this run (0 when run again)
