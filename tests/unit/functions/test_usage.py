"""Usage API (editor and admin) and the monthly reset, in-process (moto)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from aimanager.dal import usage as usage_dal
from aimanager.dal.tables import UserItem
from aimanager.domain.limits import EditorLimits
from aimanager.ids import utc_now
from aimanager.models.agent import AllowedDomain
from aimanager.services import limits
from aimanager.services import usage as usage_service
from tests.conftest import load_event
from tests.unit.aws import DEMO_KEY, OTHER_KEY, World, aws_world, load_handler, seed_agent, seed_deployment
from tests.unit.functions.test_widget_flow import Ctx, body

THIRD_KEY = "dpl_test_third_key_003"


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with aws_world(monkeypatch) as w:
        seed_agent()
        now = utc_now()
        UserItem("usr_ebp", email="ebp@example.com", roles="editeur", plan="pro", created_at=now).save()
        UserItem("usr_sage", email="sage@example.com", roles="editeur", plan="starter", created_at=now).save()
        UserItem("usr_admin", email="admin@example.com", roles="admin", created_at=now).save()
        UserItem("usr_art", email="art@example.com", roles="artisan", created_at=now).save()
        seed_deployment(max_sessions_day=500)
        seed_deployment(THIRD_KEY, [AllowedDomain("app.ebp.fr")])
        seed_deployment(OTHER_KEY, [AllowedDomain("www.other.fr")], editor_id="usr_sage")
        yield w


def _count(deployment: str, editor: str, kind: limits.Kind, when: datetime, n: int = 1) -> None:
    lim = limits.Limits(editor, 10_000, None, None, EditorLimits("pro", 10_000, 100_000, 5))
    for _ in range(n):
        limits.admit(kind, deployment_key=deployment, ip="192.0.2.1", lim=lim, writes=[], now=when)


def call(name: str, **ctx: Any) -> dict[str, Any]:
    event = copy.deepcopy(load_event(f"usage/{name}.json"))
    if ctx:
        event["requestContext"]["authorizer"] = ctx
    return load_handler("usage").handler(event, Ctx())  # type: ignore[no-any-return]


def test_the_editor_sees_its_month_against_its_plan_and_a_30_day_series(world: World) -> None:
    now = datetime.now(UTC)
    # Given sessions and messages today on two deployments of EBP, and on SAGE's
    _count(DEMO_KEY, "usr_ebp", "sessions", now, 3)
    _count(DEMO_KEY, "usr_ebp", "messages", now, 7)
    _count(THIRD_KEY, "usr_ebp", "sessions", now, 2)
    _count(OTHER_KEY, "usr_sage", "sessions", now, 9)
    # When EBP asks for its usage
    resp = call("editor")
    assert resp["statusCode"] == 200, resp
    data = body(resp)["data"]
    # Then the month's counts against the Pro plan (§9.1)
    assert data["editor_id"] == "usr_ebp" and data["plan"] == "pro"
    assert data["sessions"] == {"used": 5, "limit": 10_000, "percent": 0.1}
    assert data["messages"]["used"] == 7 and data["messages"]["limit"] == 100_000
    assert data["deployments"] == {"used": 2, "limit": 5, "percent": 40.0}
    assert data["month"] == now.strftime("%Y-%m") and data["resets_at"].endswith("-01T00:00:00Z")
    # And per deployment: totals, today, and 30 days oldest first (SAGE's deployment is not there)
    by_key = {d["deployment_key"]: d for d in data["by_deployment"]}
    assert set(by_key) == {DEMO_KEY, THIRD_KEY}
    demo = by_key[DEMO_KEY]
    assert (demo["sessions_count"], demo["messages_count"]) == (3, 7)
    assert demo["today"] == {"date": now.strftime("%Y-%m-%d"), "sessions": 3, "messages": 7}
    assert len(demo["daily"]) == 30 and demo["daily"][-1] == demo["today"]
    assert all(p["sessions"] == 0 for p in demo["daily"][:-1])
    assert demo["max_sessions_day"] == 500 and demo["rate_limit_per_ip"] == 60
    assert demo["last_activity_at"] is not None


def test_the_series_keeps_past_days_and_the_month_restarts(world: World) -> None:
    # Given activity on the last day of last month and today
    now = datetime(2026, 12, 2, 10, tzinfo=UTC)
    _count(DEMO_KEY, "usr_ebp", "sessions", datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC), 4)
    _count(DEMO_KEY, "usr_ebp", "sessions", now, 1)
    out = usage_service.editor_usage("usr_ebp", now)
    # Then the month counts only December, while the 30-day series shows November 30th too
    assert out.sessions.used == 1
    series = {p.date: p.sessions for p in out.by_deployment[0].daily}
    assert series["2026-11-30"] == 4 and series["2026-12-02"] == 1 and series["2026-12-01"] == 0


def test_the_admin_sees_any_editor_and_an_unknown_one_is_404(world: World) -> None:
    resp = call("admin")
    assert resp["statusCode"] == 200 and body(resp)["data"]["editor_id"] == "usr_ebp"
    event = copy.deepcopy(load_event("usage/admin.json"))
    event["pathParameters"] = {"editor_id": "usr_art"}  # a user, but not an editor
    event["path"] = "/api/admin/editors/usr_art/usage"
    missing = load_handler("usage").handler(event, Ctx())
    assert missing["statusCode"] == 404 and body(missing)["error"]["code"] == "editor_not_found"


@pytest.mark.parametrize(
    ("route", "ctx", "status"),
    [
        ("editor", {}, 401),  # no authorizer context (the placeholder wiring): nothing is exposed
        ("editor", {"user_id": "usr_admin", "roles": "admin", "auth": "api_key"}, 403),
        ("admin", {"user_id": "usr_ebp", "roles": "editeur", "auth": "api_key"}, 403),
        ("admin", {"user_id": "", "roles": "admin"}, 401),
    ],
)
def test_deny_by_default(world: World, route: str, ctx: dict[str, Any], status: int) -> None:
    event = copy.deepcopy(load_event(f"usage/{route}.json"))
    event["requestContext"]["authorizer"] = ctx or None
    resp = load_handler("usage").handler(event, Ctx())
    assert resp["statusCode"] == status and body(resp)["success"] is False


def test_an_editor_only_ever_sees_its_own_usage(world: World) -> None:
    _count(OTHER_KEY, "usr_sage", "sessions", datetime.now(UTC), 9)
    data = body(call("editor", user_id="usr_ebp", roles="editeur", auth="api_key"))["data"]
    assert data["sessions"]["used"] == 0 and OTHER_KEY not in json.dumps(data)


def test_the_monthly_reset_opens_the_month_once_and_keeps_what_was_already_counted(world: World) -> None:
    reset = load_handler("monthly_usage_reset")
    event = load_event("monthly_usage_reset/scheduled.json")
    month = datetime.now(UTC).strftime("%Y-%m")
    # Given EBP already counted sessions this month (the job runs late), SAGE nothing
    _count(DEMO_KEY, "usr_ebp", "sessions", datetime.now(UTC), 2)
    # When the job runs, Then it opens SAGE's month at zero with no alert flags, and leaves EBP's counts alone
    first = reset.handler(event, Ctx())
    assert first == {"month": month, "editors": 2, "opened": 1}
    sage = usage_dal.get_usage(f"ed#usr_sage#{month}")
    assert sage is not None and int(sage.sessions or 0) == 0 and not sage.alerts and sage.opened_at
    ebp = usage_dal.get_usage(f"ed#usr_ebp#{month}")
    assert ebp is not None and int(ebp.sessions or 0) == 2
    # When it runs again, Then nothing more changes
    assert reset.handler(event, Ctx()) == {"month": month, "editors": 2, "opened": 0}
    assert int(usage_dal.get_usage(f"ed#usr_ebp#{month}").sessions or 0) == 2  # type: ignore[union-attr]


def test_after_the_reset_alerts_start_again_from_zero(world: World) -> None:
    # Given November alerted at 80 %, When December opens, Then its window has no flags and counts from zero
    class Bus:
        events: list[str] = []

        def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
            self.events.append(f"{detail['data']['month']}:{detail['data']['threshold']}")

    bus = Bus()
    lim = limits.Limits("usr_sage", 10_000, None, None, EditorLimits("starter", 5, 100, 1))
    nov, dec = datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC)
    for _ in range(4):
        limits.admit("sessions", deployment_key=OTHER_KEY, ip="192.0.2.1", lim=lim, writes=[], now=nov, bus=bus)
    usage_service.monthly_reset(dec)
    for _ in range(4):
        limits.admit("sessions", deployment_key=OTHER_KEY, ip="192.0.2.1", lim=lim, writes=[], now=dec, bus=bus)
    assert bus.events == ["2026-11:80", "2026-12:80"]
