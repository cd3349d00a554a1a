"""Limits in the request path (spec §9, §12.5): count a session or a message against every window, or refuse.

One TransactWriteItems counts the request in all its windows AND writes its work (the session, the turn), so a
refused request writes nothing and a written one is counted exactly once (decision 0024). Alerts at 80/90/100 %
of an editor's monthly quota go on the EventBridge bus exactly once per threshold per month (decision 0025).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from aimanager.adapters.events import EventPublisher
from aimanager.dal import repositories as repo
from aimanager.dal import usage
from aimanager.dal.tables import AgentItem, DeploymentItem, UserItem
from aimanager.domain import events
from aimanager.domain import limits as rules
from aimanager.errors import QuotaExceeded, Unavailable
from aimanager.ids import utc_now
from aimanager.observability import logger

Kind = Literal["sessions", "messages"]


@dataclass(frozen=True)
class Limits:
    """The three levels resolved for one deployment: master floor, editor plan, deployment figures."""

    editor_id: str
    rate_limit_per_ip: int
    max_sessions_day: int | None
    max_messages_day: int | None
    editor: rules.EditorLimits

    def daily(self, kind: Kind) -> int | None:
        return self.max_sessions_day if kind == "sessions" else self.max_messages_day

    def monthly(self, kind: Kind) -> int | None:
        return self.editor.max_sessions_month if kind == "sessions" else self.editor.max_messages_month


@dataclass(frozen=True)
class LinkQuota:
    """An artisan link's own monthly session cap (§15.2A permissions.max_sessions_month); None = no cap."""

    link_id: str
    max_sessions_month: int | None


def link_quota_for(link_id: str) -> LinkQuota | None:
    """The link's own cap, for the share-link flow to pass to open_session (None when the link does not exist)."""
    permissions = repo.get_link_permissions(link_id)
    if permissions is None:
        return None
    return LinkQuota(link_id, rules.optional_limit(permissions.get("max_sessions_month")))


_cache: dict[tuple[str, str, str], tuple[float, Limits]] = {}


def clear_cache() -> None:
    _cache.clear()


def _user_overrides(user: UserItem | None) -> dict[str, Any]:
    if user is None:
        return {}
    return {
        "max_sessions_month": user.max_sessions_month,
        "max_messages_month": user.max_messages_month,
        "max_deployments": user.max_deployments,
    }


def limits_for(deployment_key: str, editor_id: str, agent_id: str, *, ttl_s: float = 0.0) -> Limits:
    """The effective limits, from one TransactGetItems (deployment, editor, agent), cached per container for ttl_s:
    an admin's change of plan or figures takes effect within ttl_s, and a hot container reads nothing."""
    now = time.monotonic()
    key = (deployment_key, editor_id, agent_id)
    hit = _cache.get(key)
    if ttl_s > 0 and hit is not None and hit[0] > now:
        return hit[1]
    deployment, user, agent = usage.transact_get(
        [(DeploymentItem, deployment_key), (UserItem, editor_id or "-"), (AgentItem, agent_id or "-")]
    )
    if deployment is None:
        raise Unavailable("This assistant is not available right now.", code="agent_unavailable")
    whitelabel = agent.whitelabel_config.as_dict() if agent is not None and agent.whitelabel_config else {}
    floor = whitelabel.get("min_rate_limit_per_ip", whitelabel.get("min_rate_limit"))
    resolved = Limits(
        editor_id=editor_id,
        rate_limit_per_ip=rules.effective_rate_limit(deployment.rate_limit_per_ip, floor),
        max_sessions_day=rules.optional_limit(deployment.max_sessions_day),
        max_messages_day=rules.optional_limit(deployment.max_messages_day),
        editor=rules.editor_limits(user.plan if user is not None else None, _user_overrides(user)),
    )
    if ttl_s > 0:
        if len(_cache) > 1000:
            _cache.clear()
        _cache[key] = (now + ttl_s, resolved)
    return resolved


# ------------------------------------------------------------------ keys


def ip_key(deployment_key: str, ip: str, now: datetime) -> str:
    return f"ip#{deployment_key}#{ip or 'unknown'}#{rules.minute_window(now)}"


def deployment_day_key(deployment_key: str, day: str) -> str:
    return f"dep#{deployment_key}#{day}"


def deployment_total_key(deployment_key: str) -> str:
    return f"dep#{deployment_key}"


def editor_month_key(editor_id: str, month: str) -> str:
    return f"ed#{editor_id}#{month}"


def link_month_key(link_id: str, month: str) -> str:
    return f"link#{link_id}#{month}"


@dataclass(frozen=True)
class _Check:
    counter: usage.Counter
    code: str | None  # the 429 code when this counter refuses; None for statistics
    policy: str
    window: str


def _checks(
    kind: Kind, deployment_key: str, ip: str | None, lim: Limits, now: datetime, stamp: str, link: LinkQuota | None
) -> list[_Check]:
    day, month = rules.day_window(now), rules.month_window(now)
    C = usage.Counter
    checks = []
    if ip is not None:  # widget requests; an editor's server-side call (a share link) has no end-user IP to limit
        checks.append(
            _Check(
                C(ip_key(deployment_key, ip, now), "requests", lim.rate_limit_per_ip, rules.expires_at("minute", now)),
                rules.RATE_LIMITED,
                "per-ip",
                "minute",
            )
        )
    checks += [
        _Check(
            C(deployment_day_key(deployment_key, day), kind, lim.daily(kind), rules.expires_at("day", now), stamp),
            rules.DEPLOYMENT_DAILY_QUOTA,
            f"deployment-{kind}-day",
            "day",
        ),
        _Check(C(deployment_total_key(deployment_key), kind, None, None, stamp), None, "", ""),
        _Check(
            C(editor_month_key(lim.editor_id, month), kind, lim.monthly(kind), rules.expires_at("month", now), stamp),
            rules.EDITOR_MONTHLY_QUOTA,
            f"editor-{kind}-month",
            "month",
        ),
    ]
    if link is not None and kind == "sessions":
        checks.append(
            _Check(
                C(
                    link_month_key(link.link_id, month),
                    "sessions",
                    link.max_sessions_month,
                    rules.expires_at("month", now),
                    stamp,
                ),
                rules.LINK_MONTHLY_QUOTA,
                "link-sessions-month",
                "month",
            )
        )
    return checks


_WINDOW_ORDER = {"month": 0, "day": 1, "minute": 2}


def _refuse(hit: Sequence[_Check], now: datetime) -> QuotaExceeded:
    """The refusal with the longest wait wins: the client learns when a retry can succeed at all."""
    worst = sorted(hit, key=lambda c: (_WINDOW_ORDER[c.window], c.code or ""))[0]
    assert worst.code is not None and worst.counter.limit is not None
    detail = rules.refusal(worst.code, worst.policy, worst.counter.limit, worst.window, now)
    messages = {
        rules.RATE_LIMITED: "Too many requests from this address; please wait a moment.",
        rules.DEPLOYMENT_DAILY_QUOTA: "This assistant's daily quota is reached; it will be back tomorrow.",
        rules.EDITOR_MONTHLY_QUOTA: "This assistant's monthly quota is reached.",
        rules.LINK_MONTHLY_QUOTA: "This link's monthly quota of conversations is reached.",
    }
    return QuotaExceeded(messages[detail.code], code=detail.code, headers=detail.headers())


@dataclass(frozen=True)
class Admission:
    """A counted request: what to give back if a later step fails, and what to check for alerts."""

    kind: Kind
    counters: tuple[usage.Counter, ...]

    def refund(self) -> None:
        # The per-IP window keeps the request: it did reach us.
        usage.refund(c for c in self.counters if c.attr != "requests")


def admit(
    kind: Kind,
    *,
    deployment_key: str,
    ip: str | None,
    lim: Limits,
    writes: Sequence[usage.Write],
    now: datetime,
    token: str | None = None,
    link: LinkQuota | None = None,
    bus: EventPublisher | None = None,
) -> Admission:
    """Count the request in every window and write its work, in one transaction; QuotaExceeded (429) when a
    limit is reached (nothing written), usage.WriteConflict when a work item's condition failed (a retry)."""
    stamp = now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    checks = _checks(kind, deployment_key, ip, lim, now, stamp, link)
    zero = [c for c in checks if c.counter.limit is not None and c.counter.limit <= 0]
    if zero:  # a limit of 0 refuses without a round trip
        raise _refuse(zero, now)
    try:
        usage.count_and_write([c.counter for c in checks], writes, token=token)
    except usage.LimitHit as hit:
        pks = {c.pk for c in hit.counters}
        refused = [c for c in checks if c.counter.pk in pks and c.code is not None]
        if any(c.code == rules.EDITOR_MONTHLY_QUOTA for c in refused):
            # The request that reached 100 % may have died before alerting: a refusal makes sure it is sent.
            _alerts_quietly(lim, kind, lim.monthly(kind), now, bus)
        raise _refuse(refused, now) from hit
    except usage.Contention as exc:
        raise Unavailable("The service is busy; please try again.", code="busy", headers={"Retry-After": "1"}) from exc
    _alerts_quietly(lim, kind, lim.monthly(kind), now, bus)
    return Admission(kind=kind, counters=tuple(c.counter for c in checks))


# ------------------------------------------------------------------ alerts


def check_alerts(
    editor_id: str, kind: Kind, limit: int | None, plan: str, now: datetime, bus: EventPublisher
) -> list[int]:
    """Send quota.warning (80, 90 %) / quota.exceeded (100 %) once per threshold per month: the window item
    carries the flags, set by a conditional update before the event is put (and cleared if the put fails)."""
    if limit is None:
        return []
    month = rules.month_window(now)
    pk = editor_month_key(editor_id, month)
    item = usage.get_usage(pk)
    if item is None:
        return []
    used = int(getattr(item, kind) or 0)
    sent: list[int] = []
    for threshold in rules.crossed_thresholds(used, limit, set(item.alerts or ()), kind):
        flag = f"{kind}:{threshold}"
        if not usage.mark_alerted(pk, flag):
            continue  # another request got there first
        name = rules.alert_event_type(threshold)
        data = {"metric": kind, "threshold": threshold, "used": used, "limit": limit, "plan": plan, "month": month}
        detail = events.envelope(
            name, subject=(editor_id, month, flag), created_at=utc_now(), editor_id=editor_id, data=data
        )
        try:
            bus.publish(events.event_type(name).detail_type, detail)
        except Exception:
            logger.exception("quota alert not sent; the next request retries it", extra=data)
            usage.unmark_alerted(pk, flag)
            continue
        logger.info("quota alert sent", extra={"editor_id": editor_id, **data})
        sent.append(threshold)
    return sent


def _alerts_quietly(lim: Limits, kind: Kind, limit: int | None, now: datetime, bus: EventPublisher | None) -> None:
    """Alerts never fail the request they follow; no limit, no read."""
    if bus is None or limit is None:
        return
    try:
        check_alerts(lim.editor_id, kind, limit, lim.editor.plan, now, bus)
    except Exception:
        logger.exception("quota alert check failed")
