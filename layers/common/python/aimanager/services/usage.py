"""Usage statistics and the monthly reset (spec §9.2): read from the windowed counters, never recomputed."""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist

from aimanager.dal import usage
from aimanager.dal.tables import DeploymentItem, UsageItem, UserItem
from aimanager.domain import limits as rules
from aimanager.errors import NotFound
from aimanager.models.usage import DayPoint, DeploymentUsage, Metric, ResetOut, UsageOut
from aimanager.services.limits import deployment_day_key, deployment_total_key, editor_month_key

SERIES_DAYS = 30
EDITOR_ROLE = "editeur"


def _roles(value: str | None) -> set[str]:
    return {r.strip() for r in (value or "").split(",") if r.strip()}


def _n(item: UsageItem | None, attr: str) -> int:
    return int(getattr(item, attr) or 0) if item is not None else 0


def _metric(used: int, limit: int | None) -> Metric:
    return Metric(used=used, limit=limit, percent=round(100.0 * used / limit, 1) if limit else None)


def _editor(editor_id: str) -> UserItem:
    try:
        user = UserItem.get(editor_id)
    except DoesNotExist:
        user = None
    if user is None or EDITOR_ROLE not in _roles(user.roles):
        raise NotFound("Unknown editor.", code="editor_not_found")
    return user


def _day(date: str, item: UsageItem | None) -> DayPoint:
    return DayPoint(date=date, sessions=_n(item, "sessions"), messages=_n(item, "messages"))


def editor_usage(editor_id: str, now: datetime) -> UsageOut:
    """The editor's month against its plan, and each deployment's totals and last 30 days (one BatchGet per
    100 windows)."""
    user = _editor(editor_id)
    lim = rules.editor_limits(
        user.plan,
        {
            "max_sessions_month": user.max_sessions_month,
            "max_messages_month": user.max_messages_month,
            "max_deployments": user.max_deployments,
        },
    )
    deployments = sorted(
        DeploymentItem.editor_id_index.query(editor_id), key=lambda d: (d.created_at, d.deployment_key)
    )
    month = rules.month_window(now)
    days = rules.last_days(now, SERIES_DAYS)
    month_pk = editor_month_key(editor_id, month)
    keys = [month_pk]
    for d in deployments:
        keys.append(deployment_total_key(d.deployment_key))
        keys += [deployment_day_key(d.deployment_key, day) for day in days]
    items = usage.get_many(keys)
    month_item = items.get(month_pk)
    by_deployment = []
    for d in deployments:
        total = items.get(deployment_total_key(d.deployment_key))
        daily = [_day(day, items.get(deployment_day_key(d.deployment_key, day))) for day in days]
        by_deployment.append(
            DeploymentUsage(
                deployment_key=d.deployment_key,
                name=d.name,
                is_active=bool(d.is_active),
                max_sessions_day=rules.optional_limit(d.max_sessions_day),
                max_messages_day=rules.optional_limit(d.max_messages_day),
                rate_limit_per_ip=int(d.rate_limit_per_ip),
                sessions_count=_n(total, "sessions"),
                messages_count=_n(total, "messages"),
                last_activity_at=total.last_activity_at if total is not None else None,
                today=daily[-1],
                daily=daily,
            )
        )
    first_of_next = datetime.fromisoformat(f"{month}-01T00:00:00+00:00") + timedelta(days=32)
    return UsageOut(
        editor_id=editor_id,
        plan=lim.plan,
        month=month,
        resets_at=first_of_next.strftime("%Y-%m-01T00:00:00Z"),
        sessions=_metric(_n(month_item, "sessions"), lim.max_sessions_month),
        messages=_metric(_n(month_item, "messages"), lim.max_messages_month),
        deployments=_metric(sum(1 for d in deployments if d.is_active), lim.max_deployments),
        alerts=sorted(month_item.alerts or ()) if month_item is not None else [],
        last_activity_at=month_item.last_activity_at if month_item is not None else None,
        by_deployment=by_deployment,
    )


def editor_ids() -> list[str]:
    """Every user with the editor role (a monthly job: a filtered Scan is fine)."""
    return sorted(
        u.user_id for u in UserItem.scan(UserItem.roles.contains(EDITOR_ROLE)) if EDITOR_ROLE in _roles(u.roles)
    )


def monthly_reset(now: datetime) -> ResetOut:
    """Open the month for every editor: its window item at zero, with no alert flags.

    Idempotent (a window that exists is left alone, so a second run changes nothing), and never needed for
    correctness: counters are keyed by month, so a late or missing run still starts every month at zero.
    """
    month = rules.month_window(now)
    stamp = now.isoformat(timespec="seconds").replace("+00:00", "Z")
    ids = editor_ids()
    opened = sum(usage.open_window(editor_month_key(e, month), stamp, rules.expires_at("month", now)) for e in ids)
    return ResetOut(month=month, editors=len(ids), opened=opened)
