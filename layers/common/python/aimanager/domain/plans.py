"""Editor plans (spec §9.1, §12.5 level 2): monthly sessions, monthly messages and deployments per plan."""

from __future__ import annotations

from dataclasses import dataclass

PLANS = ("starter", "pro", "business", "enterprise")


@dataclass(frozen=True)
class PlanLimits:
    max_sessions_month: int | None  # None = unlimited
    max_messages_month: int | None
    max_deployments: int | None


PLAN_LIMITS: dict[str, PlanLimits] = {
    "starter": PlanLimits(1_000, 10_000, 1),
    "pro": PlanLimits(10_000, 100_000, 5),
    "business": PlanLimits(50_000, 500_000, 20),
    "enterprise": PlanLimits(None, None, None),
}


def effective_limits(
    plan: str | None,
    *,
    max_sessions_month: int | None = None,
    max_messages_month: int | None = None,
    max_deployments: int | None = None,
) -> PlanLimits:
    """The user's own values where set (null = the plan's default); an unknown or missing plan is Starter."""
    base = PLAN_LIMITS.get(plan or "starter", PLAN_LIMITS["starter"])
    return PlanLimits(
        max_sessions_month=max_sessions_month if max_sessions_month is not None else base.max_sessions_month,
        max_messages_month=max_messages_month if max_messages_month is not None else base.max_messages_month,
        max_deployments=max_deployments if max_deployments is not None else base.max_deployments,
    )
