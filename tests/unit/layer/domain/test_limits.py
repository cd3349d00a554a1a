"""Limits arithmetic: plans, UTC windows and their boundaries, refusal headers, alert thresholds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from aimanager.domain import limits as rules


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "minute", "day", "month"),
    [
        ("2026-11-24T12:05:59.999", "202611241205", "2026-11-24", "2026-11"),
        # 23:59:59 -> 00:00:00 UTC: a new day (and minute) starts at zero
        ("2026-11-24T23:59:59.999", "202611242359", "2026-11-24", "2026-11"),
        ("2026-11-25T00:00:00.000", "202611250000", "2026-11-25", "2026-11"),
        # month end, year end
        ("2026-11-30T23:59:59", "202611302359", "2026-11-30", "2026-11"),
        ("2026-12-01T00:00:00", "202612010000", "2026-12-01", "2026-12"),
        ("2026-12-31T23:59:59", "202612312359", "2026-12-31", "2026-12"),
        ("2027-01-01T00:00:00", "202701010000", "2027-01-01", "2027-01"),
        # leap day
        ("2028-02-29T12:00:00", "202802291200", "2028-02-29", "2028-02"),
        ("2028-03-01T00:00:00", "202803010000", "2028-03-01", "2028-03"),
    ],
)
def test_windows_are_utc_calendar_windows(now: str, minute: str, day: str, month: str) -> None:
    # Given an instant, When its windows are named, Then each is the UTC minute/day/month it falls in
    assert (rules.minute_window(t(now)), rules.day_window(t(now)), rules.month_window(t(now))) == (minute, day, month)


def test_windows_ignore_the_callers_time_zone() -> None:
    # 00:30 in Paris (UTC+1) on Dec 1st is still November 30th in UTC
    paris = datetime(2026, 12, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    assert rules.day_window(paris) == "2026-11-30"
    assert rules.month_window(paris) == "2026-11"


@pytest.mark.parametrize(
    ("kind", "now", "retry_after", "window"),
    [
        ("minute", "2026-11-24T12:05:00", 60, 60),
        ("minute", "2026-11-24T12:05:59.5", 1, 60),
        ("day", "2026-11-24T23:59:59", 1, 86_400),
        ("day", "2026-11-24T00:00:00", 86_400, 86_400),
        ("month", "2026-11-30T23:59:59", 1, 30 * 86_400),
        ("month", "2026-12-31T23:00:00", 3_600, 31 * 86_400),
        ("month", "2028-02-29T00:00:00", 86_400, 29 * 86_400),
        ("month", "2027-02-28T00:00:00", 86_400, 28 * 86_400),
    ],
)
def test_retry_after_is_the_time_to_the_end_of_the_window(kind: str, now: str, retry_after: int, window: int) -> None:
    assert rules.seconds_until_reset(kind, t(now)) == retry_after
    assert rules.window_seconds(kind, t(now)) == window


def test_last_30_days_cross_month_and_leap_day() -> None:
    days = rules.last_days(t("2028-03-02T10:00:00"), 30)
    assert len(days) == 30
    assert days[-1] == "2028-03-02" and days[-2] == "2028-03-01" and days[-3] == "2028-02-29"
    assert days == sorted(days)


@pytest.mark.parametrize(
    ("plan", "sessions", "messages", "deployments"),
    [
        ("starter", 1_000, 10_000, 1),
        ("pro", 10_000, 100_000, 5),
        ("Business", 50_000, 500_000, 20),
        ("enterprise", None, None, None),
        (None, 1_000, 10_000, 1),  # no plan: the smallest (deny by default)
        ("gold", 1_000, 10_000, 1),  # unknown plan: the smallest
    ],
)
def test_plans_of_section_9_1(plan: str | None, sessions: int | None, messages: int | None, deployments: int) -> None:
    lim = rules.editor_limits(plan)
    assert (lim.max_sessions_month, lim.max_messages_month, lim.max_deployments) == (sessions, messages, deployments)


def test_an_admin_override_wins_over_the_plan_and_null_keeps_it() -> None:
    lim = rules.editor_limits("pro", {"max_sessions_month": 50, "max_messages_month": None, "max_deployments": -1})
    assert lim.max_sessions_month == 50
    assert lim.max_messages_month == 100_000
    assert lim.max_deployments is None  # negative = unlimited for this editor
    assert rules.editor_limits("enterprise", {"max_sessions_month": 7}).max_sessions_month == 7


@pytest.mark.parametrize(
    ("own", "floor", "expected"),
    [(None, None, 60), (120, 30, 120), (10, 30, 30), (None, 90, 90), (0, None, 1)],
)
def test_rate_limit_per_ip_never_goes_below_the_masters_minimum(
    own: int | None, floor: int | None, expected: int
) -> None:
    assert rules.effective_rate_limit(own, floor) == expected


def test_refusal_headers_follow_the_ietf_ratelimit_fields() -> None:
    # Given the daily quota of 500 sessions is reached at 23:00 UTC
    refusal = rules.refusal(
        rules.DEPLOYMENT_DAILY_QUOTA, "deployment-sessions-day", 500, "day", t("2026-11-24T23:00:00")
    )
    # Then the client is told to come back in an hour, and which policy refused it
    assert refusal.headers() == {
        "Retry-After": "3600",
        "RateLimit-Policy": '"deployment-sessions-day";q=500;w=86400',
        "RateLimit": '"deployment-sessions-day";r=0;t=3600',
    }


@pytest.mark.parametrize(
    ("used", "limit", "already", "expected"),
    [
        (79, 100, set(), []),
        (80, 100, set(), [80]),
        (95, 100, {"sessions:80"}, [90]),
        (100, 100, {"sessions:80", "sessions:90"}, [100]),
        (100, 100, set(), [80, 90, 100]),  # a jump crosses every threshold: each is alerted once
        (100, 100, {"sessions:80", "sessions:90", "sessions:100"}, []),
        (800, 1_000, {"messages:80"}, [80]),  # flags are per metric
        (5, None, set(), []),
        (3, 3, set(), [80, 90, 100]),
        (2, 3, set(), []),  # 66 %
    ],
)
def test_thresholds_crossed_and_not_yet_alerted(
    used: int, limit: int | None, already: set[str], expected: list[int]
) -> None:
    assert rules.crossed_thresholds(used, limit, already, "sessions") == expected


def test_alert_event_types() -> None:
    assert [rules.alert_event_type(x) for x in rules.ALERT_THRESHOLDS] == [
        "quota.warning",
        "quota.warning",
        "quota.exceeded",
    ]


def test_ttl_is_after_the_window_ends() -> None:
    now = t("2026-11-24T12:05:30")
    assert rules.expires_at("minute", now) > int(t("2026-11-24T12:06:00").timestamp())
    assert rules.expires_at("day", now) > int(t("2027-11-01T00:00:00").timestamp())  # 30-day charts keep their days
