"""Limits arithmetic (spec §9.1, §12.5): plans, windows (UTC), effective limits, headers, alert thresholds.

Pure rules, no I/O: every counter key carries its window, so a new window starts at zero by construction.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

# §9.1: sessions/month, messages/month, deployments; None = unlimited (Enterprise).
PLANS: dict[str, tuple[int | None, int | None, int | None]] = {
    "starter": (1_000, 10_000, 1),
    "pro": (10_000, 100_000, 5),
    "business": (50_000, 500_000, 20),
    "enterprise": (None, None, None),
}
DEFAULT_PLAN = "starter"  # deny by default: an unknown or missing plan gets the smallest one
DEFAULT_RATE_LIMIT_PER_IP = 60
ALERT_THRESHOLDS = (80, 90, 100)

# The four 429 codes (shared contract), and which window each one counts in.
RATE_LIMITED = "rate_limited"
DEPLOYMENT_DAILY_QUOTA = "deployment_daily_quota"
EDITOR_MONTHLY_QUOTA = "editor_monthly_quota"
LINK_MONTHLY_QUOTA = "link_monthly_quota"


def _utc(now: datetime) -> datetime:
    return now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)


def minute_window(now: datetime) -> str:
    return _utc(now).strftime("%Y%m%d%H%M")


def day_window(now: datetime) -> str:
    return _utc(now).strftime("%Y-%m-%d")


def month_window(now: datetime) -> str:
    return _utc(now).strftime("%Y-%m")


def _next_month_start(now: datetime) -> datetime:
    t = _utc(now)
    year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


def _window_bounds(kind: str, now: datetime) -> tuple[datetime, datetime]:
    t = _utc(now)
    if kind == "minute":
        start = t.replace(second=0, microsecond=0)
        return start, start + timedelta(minutes=1)
    if kind == "day":
        start = t.replace(hour=0, minute=0, second=0, microsecond=0)
        return start, start + timedelta(days=1)
    start = datetime(t.year, t.month, 1, tzinfo=UTC)
    return start, _next_month_start(t)


def seconds_until_reset(kind: str, now: datetime) -> int:
    """Whole seconds until the window ends (at least 1): the Retry-After of a refusal."""
    _, end = _window_bounds(kind, now)
    return max(1, int((end - _utc(now)).total_seconds() + 0.999999))


def window_seconds(kind: str, now: datetime) -> int:
    start, end = _window_bounds(kind, now)
    return int((end - start).total_seconds())


def days_in_month(now: datetime) -> int:
    t = _utc(now)
    return calendar.monthrange(t.year, t.month)[1]


def last_days(now: datetime, count: int = 30) -> list[str]:
    """The `count` UTC days ending today, oldest first ("YYYY-MM-DD")."""
    today = _utc(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return [day_window(today - timedelta(days=i)) for i in range(count - 1, -1, -1)]


def expires_at(kind: str, now: datetime) -> int:
    """Epoch seconds after which TTL may delete a window's item: housekeeping only, never relied upon."""
    _, end = _window_bounds(kind, now)
    keep = {"minute": timedelta(hours=1), "day": timedelta(days=400), "month": timedelta(days=800)}[kind]
    return int((end + keep).timestamp())


# ------------------------------------------------------------------ effective limits


@dataclass(frozen=True)
class EditorLimits:
    plan: str
    max_sessions_month: int | None
    max_messages_month: int | None
    max_deployments: int | None


def _override(value: Any, default: int | None) -> int | None:
    """An explicit figure set by an admin wins over the plan's; null keeps the plan's default."""
    if value is None:
        return default
    number = int(value)
    return None if number < 0 else number  # a negative override means "unlimited" for this editor


def editor_limits(plan: str | None, overrides: dict[str, Any] | None = None) -> EditorLimits:
    name = (plan or "").strip().lower()
    if name not in PLANS:
        name = DEFAULT_PLAN
    sessions, messages, deployments = PLANS[name]
    o = overrides or {}
    return EditorLimits(
        plan=name,
        max_sessions_month=_override(o.get("max_sessions_month"), sessions),
        max_messages_month=_override(o.get("max_messages_month"), messages),
        max_deployments=_override(o.get("max_deployments"), deployments),
    )


def effective_rate_limit(deployment_rate_limit: Any, agent_min_rate_limit: Any) -> int:
    """rate_limit_per_ip (default 60), never below the master's minimum (§12.5 level 1)."""
    own = int(deployment_rate_limit) if deployment_rate_limit is not None else DEFAULT_RATE_LIMIT_PER_IP
    floor = int(agent_min_rate_limit) if agent_min_rate_limit is not None else 0
    return max(own, floor, 1)


def optional_limit(value: Any) -> int | None:
    """A deployment's daily figure: null = no daily limit (§3.3)."""
    return None if value is None else max(0, int(value))


# ------------------------------------------------------------------ refusal headers


@dataclass(frozen=True)
class Refusal:
    """Which limit refused the request and what the client should be told (429 + IETF RateLimit headers)."""

    code: str
    policy: str  # the RateLimit policy name
    limit: int
    window: str  # minute | day | month
    retry_after_s: int
    window_s: int

    def headers(self) -> dict[str, str]:
        # draft-ietf-httpapi-ratelimit-headers: RateLimit-Policy: "name";q=quota;w=window, RateLimit: "name";r;t
        return {
            "Retry-After": str(self.retry_after_s),
            "RateLimit-Policy": f'"{self.policy}";q={self.limit};w={self.window_s}',
            "RateLimit": f'"{self.policy}";r=0;t={self.retry_after_s}',
        }


def refusal(code: str, policy: str, limit: int, window: str, now: datetime) -> Refusal:
    return Refusal(
        code=code,
        policy=policy,
        limit=limit,
        window=window,
        retry_after_s=seconds_until_reset(window, now),
        window_s=window_seconds(window, now),
    )


# ------------------------------------------------------------------ alerts


def crossed_thresholds(used: int, limit: int | None, already: set[str], metric: str) -> list[int]:
    """Thresholds (80, 90, 100 %) that `used` has reached and that were not alerted yet this month."""
    if limit is None or limit <= 0:
        return []
    return [t for t in ALERT_THRESHOLDS if used * 100 >= t * limit and f"{metric}:{t}" not in already]


def alert_event_type(threshold: int) -> str:
    return "quota.exceeded" if threshold >= 100 else "quota.warning"
