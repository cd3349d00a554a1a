"""Limits in the widget's request path, in-process (moto): 429s with their headers, exact counts, idempotent
retries, refunds, window boundaries, and quota alerts sent once per threshold per month."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from aimanager.dal import usage
from aimanager.dal.tables import DeploymentItem, MessageItem, SessionItem, UserItem
from aimanager.domain import events
from aimanager.errors import QuotaExceeded
from aimanager.ids import utc_now
from aimanager.models.agent import AllowedDomain
from aimanager.services import limits
from tests.conftest import load_event
from tests.unit.aws import DEMO_KEY, OTHER_KEY, World, aws_world, load_handler, seed_agent, seed_deployment
from tests.unit.functions.test_widget_flow import Ctx, authorizer_ctx, body, header

THIRD_KEY = "dpl_test_third_key_003"


class FakeBus:
    """Our EventPublisher port: records what would go on the bus; can be told to fail."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.fail = False

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        if self.fail:
            raise RuntimeError("bus down")
        self.events.append((detail_type, detail))


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with aws_world(monkeypatch) as w:
        seed_agent()
        UserItem("usr_ebp", email="ebp@example.com", roles="editeur", plan="pro", created_at=utc_now()).save()
        seed_deployment(max_sessions_day=2, max_messages_day=3)
        seed_deployment(THIRD_KEY, [AllowedDomain("app.ebp.fr")])  # same editor, no daily limit
        seed_deployment(OTHER_KEY, [AllowedDomain("www.other.fr")], editor_id="usr_sage")
        yield w


def init(key: str = DEMO_KEY, ip: str = "203.0.113.9", **headers: str) -> dict[str, Any]:
    event = load_event("widget_init/valid.json")
    event["headers"]["Origin"] = "https://app.ebp.fr" if key != OTHER_KEY else "https://www.other.fr"
    event["headers"].update(headers)
    event["requestContext"]["identity"]["sourceIp"] = ip
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    event["body"] = json.dumps({"deployment_key": key})
    return load_handler("widget_init").handler(event, Ctx())  # type: ignore[no-any-return]


def message(session_id: str, key: str = DEMO_KEY, ip: str = "203.0.113.9", **extra: Any) -> dict[str, Any]:
    event = load_event("widget_message/valid.json")
    event["headers"]["X-Session-ID"] = session_id
    event["requestContext"]["authorizer"] = authorizer_ctx(key)
    event["requestContext"]["identity"]["sourceIp"] = ip
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    event["body"] = json.dumps({"content": "Combien pour 6 m2 ?", **extra})
    return load_handler("widget_message").handler(event, Ctx())  # type: ignore[no-any-return]


def count(pk: str, attr: str) -> int:
    item = usage.get_usage(pk)
    return int(getattr(item, attr) or 0) if item else 0


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def month() -> str:
    return datetime.now(UTC).strftime("%Y-%m")


def test_daily_session_quota_refuses_with_429_headers_while_another_deployment_works(world: World) -> None:
    # Given a deployment allowed 2 sessions a day, which has opened them
    assert init()["statusCode"] == 201
    assert init()["statusCode"] == 201
    # When a third session is asked for
    refused = init()
    # Then 429 in the envelope, naming the limit, with Retry-After, RateLimit headers and CORS
    assert refused["statusCode"] == 429, refused
    assert body(refused) == {
        "success": False,
        "error": {"code": "deployment_daily_quota", "message": body(refused)["error"]["message"]},
    }
    retry_after = int(header(refused, "Retry-After") or 0)
    assert 0 < retry_after <= 86_400
    assert header(refused, "RateLimit-Policy") == '"deployment-sessions-day";q=2;w=86400'
    assert header(refused, "RateLimit") == f'"deployment-sessions-day";r=0;t={retry_after}'
    assert header(refused, "Access-Control-Allow-Origin") == "https://app.ebp.fr"
    # And nothing was written for it: still 2 sessions counted and 2 sessions stored
    assert count(f"dep#{DEMO_KEY}#{today()}", "sessions") == 2
    assert len(list(SessionItem.scan(SessionItem.deployment_key == DEMO_KEY))) == 2
    # And another deployment of the same editor still opens sessions
    assert init(THIRD_KEY)["statusCode"] == 201
    # And the editor's month and the deployment's totals counted only the admitted ones
    assert count(f"ed#usr_ebp#{month()}", "sessions") == 3
    assert count(f"dep#{DEMO_KEY}", "sessions") == 2


def test_daily_message_quota(world: World) -> None:
    sid = body(init())["data"]["session_id"]
    for _ in range(3):
        assert message(sid)["statusCode"] == 202
    refused = message(sid)
    assert refused["statusCode"] == 429 and body(refused)["error"]["code"] == "deployment_daily_quota"
    assert header(refused, "RateLimit-Policy") == '"deployment-messages-day";q=3;w=86400'
    # The refused message was not stored, and the session's own statistics moved with each admitted turn
    turns = [m for m in MessageItem.query(sid) if m.message_id.startswith("msg_")]
    assert len(turns) == 3
    assert int(SessionItem.get(sid).messages_count) == 3
    assert count(f"dep#{DEMO_KEY}", "messages") == 3
    assert usage.get_usage(f"dep#{DEMO_KEY}").last_activity_at is not None  # type: ignore[union-attr]


def test_per_ip_rate_limit_counts_init_and_message_per_minute_from_the_gateways_source_ip(world: World) -> None:
    # Given a rate limit of 3 requests per minute per IP (the agent's minimum is lower)
    seed_agent(whitelabel_config={"min_rate_limit": 2})
    DeploymentItem(THIRD_KEY).update(actions=[DeploymentItem.rate_limit_per_ip.set(3)])
    sid = body(init(THIRD_KEY, ip="198.51.100.7"))["data"]["session_id"]
    assert message(sid, THIRD_KEY, ip="198.51.100.7")["statusCode"] == 202
    assert message(sid, THIRD_KEY, ip="198.51.100.7")["statusCode"] == 202
    # When a fourth request comes from that IP within the minute, even claiming another IP in X-Forwarded-For
    refused = init(THIRD_KEY, ip="198.51.100.7", **{"X-Forwarded-For": "192.0.2.1"})
    # Then it is refused as rate_limited with a Retry-After within the minute
    assert refused["statusCode"] == 429 and body(refused)["error"]["code"] == "rate_limited"
    assert 1 <= int(header(refused, "Retry-After") or 0) <= 60
    assert (header(refused, "RateLimit-Policy") or "").endswith(";q=3;w=60")
    # And another IP is not affected
    assert init(THIRD_KEY, ip="198.51.100.8")["statusCode"] == 201


def test_rate_limit_never_below_the_agents_minimum(world: World) -> None:
    # Given the deployment asks for 1 request per minute but the master's minimum is 30
    DeploymentItem(THIRD_KEY).update(actions=[DeploymentItem.rate_limit_per_ip.set(1)])
    # Then it gets 30: 5 requests pass
    for _ in range(5):
        assert init(THIRD_KEY)["statusCode"] == 201


def test_editor_monthly_quota_is_shared_by_all_its_deployments(world: World) -> None:
    # Given an editor whose plan is overridden to 3 sessions a month
    UserItem("usr_ebp").update(actions=[UserItem.max_sessions_month.set(3)])
    assert init()["statusCode"] == 201
    assert init(THIRD_KEY)["statusCode"] == 201
    assert init(THIRD_KEY)["statusCode"] == 201
    # When any of its deployments asks for a fourth
    refused = init(THIRD_KEY)
    # Then editor_monthly_quota with a Retry-After up to the first of next month, 00:00 UTC
    assert refused["statusCode"] == 429 and body(refused)["error"]["code"] == "editor_monthly_quota"
    assert 0 < int(header(refused, "Retry-After") or 0) <= 31 * 86_400
    assert (header(refused, "RateLimit-Policy") or "").startswith('"editor-sessions-month";q=3;')
    # And another editor is not affected
    assert init(OTHER_KEY)["statusCode"] == 201
    assert count(f"ed#usr_ebp#{month()}", "sessions") == 3


def test_enterprise_is_unlimited_and_unknown_plan_gets_starter(world: World) -> None:
    UserItem("usr_ebp").update(actions=[UserItem.plan.set("enterprise")])
    lim = limits.limits_for(DEMO_KEY, "usr_ebp", "agt_expert_btp")
    assert lim.editor.max_sessions_month is None and lim.editor.max_messages_month is None
    # usr_sage has no user item at all: the smallest plan, deny by default
    assert limits.limits_for(OTHER_KEY, "usr_sage", "agt_expert_btp").editor.max_sessions_month == 1_000


def test_an_init_retried_with_the_same_idempotency_key_gets_the_same_session_counted_once(world: World) -> None:
    first = init(**{"Idempotency-Key": "init-retry-0001"})
    again = init(**{"Idempotency-Key": "init-retry-0001"})
    assert first["statusCode"] == again["statusCode"] == 201
    assert body(first)["data"]["session_id"] == body(again)["data"]["session_id"]
    assert count(f"dep#{DEMO_KEY}#{today()}", "sessions") == 1
    assert count(f"ed#usr_ebp#{month()}", "sessions") == 1
    # A malformed key is a clear 422, not a 5xx
    bad = init(**{"Idempotency-Key": "no spaces allowed"})
    assert bad["statusCode"] == 422 and "Idempotency-Key" in body(bad)["error"]["message"]


def test_a_message_retried_with_its_client_message_id_is_counted_once(world: World) -> None:
    sid = body(init())["data"]["session_id"]
    first = message(sid, client_message_id="cmid-0001")
    again = message(sid, client_message_id="cmid-0001")
    assert body(first)["data"]["message_id"] == body(again)["data"]["message_id"]
    assert count(f"dep#{DEMO_KEY}#{today()}", "messages") == 1
    assert count(f"ed#usr_ebp#{month()}", "messages") == 1
    assert int(SessionItem.get(sid).messages_count) == 1


def test_a_resumed_session_is_not_counted(world: World) -> None:
    sid = body(init())["data"]["session_id"]
    event = load_event("widget_init/valid.json")
    event["requestContext"]["requestId"] = str(uuid.uuid4())
    event["body"] = json.dumps({"deployment_key": DEMO_KEY, "session_id": sid})
    resumed = load_handler("widget_init").handler(event, Ctx())
    assert resumed["statusCode"] == 200
    assert count(f"dep#{DEMO_KEY}#{today()}", "sessions") == 1


def test_a_message_that_cannot_be_queued_gives_its_count_back(world: World) -> None:
    sid = body(init())["data"]["session_id"]
    handler = load_handler("widget_message")

    class DeadQueue:
        def depth_later(self) -> Any:
            return lambda: 0

        def send(self, payload: dict[str, Any]) -> str:
            raise RuntimeError("SQS down")

    handler.queue = DeadQueue()  # type: ignore[attr-defined]  # the port the handler module builds at import
    event = load_event("widget_message/valid.json")
    event["headers"]["X-Session-ID"] = sid
    event["requestContext"]["authorizer"] = authorizer_ctx()
    event["body"] = json.dumps({"content": "x"})
    assert handler.handler(event, Ctx())["statusCode"] == 503
    assert count(f"dep#{DEMO_KEY}#{today()}", "messages") == 0
    assert count(f"ed#usr_ebp#{month()}", "messages") == 0


def _lim(max_sessions_month: int | None = 10, link_max: int | None = None) -> limits.Limits:
    from aimanager.domain.limits import EditorLimits

    return limits.Limits(
        editor_id="usr_x",
        rate_limit_per_ip=1000,
        max_sessions_day=None,
        max_messages_day=None,
        editor=EditorLimits("pro", max_sessions_month, 100, 5),
    )


def _admit(now: datetime, lim: limits.Limits, link: limits.LinkQuota | None = None, bus: Any = None) -> None:
    limits.admit("sessions", deployment_key="dpl_x", ip="192.0.2.1", lim=lim, writes=[], now=now, link=link, bus=bus)


def test_a_links_cap_comes_from_its_permissions(world: World) -> None:
    from aimanager.dal.tables import UserEditorLinkItem

    at = "2026-11-01T00:00:00Z"  # the link's required fields: external_id, linked_at
    UserEditorLinkItem(
        "lnk_9",
        artisan_id="usr_art",
        editor_id="usr_ebp",
        external_id="A-9",
        linked_at=at,
        permissions={"max_sessions_month": 7},
    ).save()
    UserEditorLinkItem("lnk_8", artisan_id="usr_art2", editor_id="usr_ebp", external_id="A-8", linked_at=at).save()
    assert limits.link_quota_for("lnk_9") == limits.LinkQuota("lnk_9", 7)
    assert limits.link_quota_for("lnk_8") == limits.LinkQuota("lnk_8", None)
    assert limits.link_quota_for("lnk_unknown") is None


def test_a_link_caps_its_own_sessions_per_month(world: World) -> None:
    link = limits.LinkQuota("lnk_1", 2)
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    _admit(now, _lim(), link)
    _admit(now, _lim(), link)
    with pytest.raises(QuotaExceeded) as refused:
        _admit(now, _lim(), link)
    assert refused.value.code == "link_monthly_quota"
    # Another link of the same editor still works, and a link without a cap counts without refusing
    _admit(now, _lim(), limits.LinkQuota("lnk_2", 2))
    _admit(now, _lim(), limits.LinkQuota("lnk_3", None))
    assert count("link#lnk_1#2026-11", "sessions") == 2


@pytest.mark.parametrize(
    ("full", "fresh"),
    [
        (datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC), datetime(2026, 12, 1, 0, 0, 0, tzinfo=UTC)),  # month end
        (datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC), datetime(2027, 1, 1, 0, 0, 0, tzinfo=UTC)),  # year end
        (datetime(2028, 2, 29, 23, 59, 59, tzinfo=UTC), datetime(2028, 3, 1, 0, 0, 0, tzinfo=UTC)),  # leap day
    ],
)
def test_a_new_month_starts_at_zero_without_any_reset(world: World, full: datetime, fresh: datetime) -> None:
    # Given the monthly quota is reached at 23:59:59 on the last day of the month
    for _ in range(2):
        _admit(full, _lim(2))
    with pytest.raises(QuotaExceeded) as refused:
        _admit(full, _lim(2))
    assert refused.value.headers["Retry-After"] == "1"
    # When the clock reaches 00:00:00 UTC on the first, Then the quota is available again (no job needed)
    _admit(fresh, _lim(2))


def test_the_day_window_turns_at_midnight_utc(world: World) -> None:
    lim = limits.Limits("usr_x", 1000, 1, None, _lim().editor)
    _admit(datetime(2026, 11, 24, 23, 59, 59, tzinfo=UTC), lim)
    with pytest.raises(QuotaExceeded) as refused:
        _admit(datetime(2026, 11, 24, 23, 59, 59, 500_000, tzinfo=UTC), lim)
    assert refused.value.code == "deployment_daily_quota"
    _admit(datetime(2026, 11, 25, 0, 0, 0, tzinfo=UTC), lim)


def test_a_zero_limit_refuses_without_writing(world: World) -> None:
    lim = limits.Limits("usr_x", 1000, 0, None, _lim().editor)
    with pytest.raises(QuotaExceeded):
        _admit(datetime(2026, 11, 24, tzinfo=UTC), lim)
    assert usage.get_usage("dep#dpl_x#2026-11-24") is None


def test_quota_alerts_are_sent_once_per_threshold_per_month(world: World) -> None:
    bus = FakeBus()
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    # Given a monthly quota of 10 sessions, When 10 are opened
    for _ in range(10):
        _admit(now, _lim(10), bus=bus)
    # Then exactly one event at 80 %, one at 90 % and one quota.exceeded at 100 %
    assert [(t, d["data"]["threshold"], d["data"]["used"]) for t, d in bus.events] == [
        ("quota.warning.v1", 80, 8),
        ("quota.warning.v1", 90, 9),
        ("quota.exceeded.v1", 100, 10),
    ]
    first = bus.events[0][1]
    assert (first["event"], first["editor_id"], first["id"]) == (
        "quota.warning",
        "usr_x",
        events.event_id("quota.warning", "usr_x", "2026-11", "sessions:80"),
    )
    assert first["data"] == {
        "metric": "sessions",
        "threshold": 80,
        "used": 8,
        "limit": 10,
        "plan": "pro",
        "month": "2026-11",
    }
    # And refusals afterwards send nothing more
    with pytest.raises(QuotaExceeded):
        _admit(now, _lim(10), bus=bus)
    assert len(bus.events) == 3
    # And the next month alerts again from scratch
    for _ in range(8):
        _admit(datetime(2026, 12, 2, tzinfo=UTC), _lim(10), bus=bus)
    assert [(d["data"]["month"], d["data"]["threshold"]) for _, d in bus.events[3:]] == [("2026-12", 80)]


def test_an_alert_the_bus_refused_is_sent_by_the_next_request(world: World) -> None:
    bus = FakeBus()
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)
    for _ in range(7):
        _admit(now, _lim(10), bus=bus)
    bus.fail = True
    _admit(now, _lim(10), bus=bus)  # 8/10: the bus is down, the request still succeeds
    bus.fail = False
    _admit(now, _lim(10), bus=bus)  # 9/10: 80 % (late) and 90 %
    assert [d["data"]["threshold"] for _, d in bus.events] == [80, 90]


def test_alerts_reach_the_event_bus(world: World) -> None:
    # Given a rule on the template's bus forwarding quota events to a queue
    events = boto3.client("events")
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="quota-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="quota", EventBusName="aimanager-test-events", EventPattern=json.dumps({"source": ["aimanager"]})
    )
    events.put_targets(Rule="quota", EventBusName="aimanager-test-events", Targets=[{"Id": "q", "Arn": arn}])
    UserItem("usr_ebp").update(actions=[UserItem.max_sessions_month.set(1)])
    # When the editor's only session of the month is opened through the handler
    assert init()["statusCode"] == 201
    # Then quota.exceeded (and the warnings it crossed) are on the bus
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    kinds = sorted(json.loads(m["Body"])["detail-type"] for m in got)
    assert kinds == ["quota.exceeded.v1", "quota.warning.v1", "quota.warning.v1"]
