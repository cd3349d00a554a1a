"""The local scheduler: AWS rate/cron next fire times, the Scheduled Event it delivers, triggers and retries."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from infra.local.model import ScheduleSpec
from infra.local.scheduler import Scheduler, next_fire_time, parse_expression


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


CRON_CASES = [
    # (expression, after, expected next fire)
    ("cron(0 0 1 * ? *)", utc(2024, 1, 31, 12, 0), utc(2024, 2, 1, 0, 0)),
    ("cron(0 0 1 * ? *)", utc(2024, 2, 1, 0, 0), utc(2024, 3, 1, 0, 0)),  # strictly after
    ("cron(0 0 1 * ? *)", utc(2024, 12, 15, 8, 0), utc(2025, 1, 1, 0, 0)),  # year rollover
    ("cron(0 12 L * ? *)", utc(2024, 2, 1, 0, 0), utc(2024, 2, 29, 12, 0)),  # leap February
    ("cron(0 12 L * ? *)", utc(2023, 2, 1, 0, 0), utc(2023, 2, 28, 12, 0)),
    ("cron(0 12 L * ? *)", utc(2024, 4, 30, 12, 0), utc(2024, 5, 31, 12, 0)),  # 30- then 31-day month
    ("cron(0 0 29 2 ? *)", utc(2024, 3, 1, 0, 0), utc(2028, 2, 29, 0, 0)),  # next leap day
    ("cron(0 0 31 * ? *)", utc(2024, 4, 1, 0, 0), utc(2024, 5, 31, 0, 0)),  # April has no 31st
    ("cron(0/15 * ? * MON-FRI *)", utc(2024, 6, 1, 10, 0), utc(2024, 6, 3, 0, 0)),  # Saturday -> Monday
    ("cron(30 9 ? * 2 *)", utc(2024, 6, 1, 0, 0), utc(2024, 6, 3, 9, 30)),  # AWS 2 = Monday
    ("cron(0 8 ? * 1 *)", utc(2024, 6, 3, 0, 0), utc(2024, 6, 9, 8, 0)),  # AWS 1 = Sunday
    ("cron(0 8 ? * SUN *)", utc(2024, 6, 3, 0, 0), utc(2024, 6, 9, 8, 0)),
    ("cron(0 8 ? * L *)", utc(2024, 6, 3, 0, 0), utc(2024, 6, 8, 8, 0)),  # L alone = Saturday
    ("cron(0 9 ? * 6L *)", utc(2024, 1, 31, 0, 0), utc(2024, 2, 23, 9, 0)),  # last Friday
    ("cron(0 9 ? * MON#1 *)", utc(2024, 1, 31, 0, 0), utc(2024, 2, 5, 9, 0)),  # first Monday
    ("cron(0 10 15W * ? *)", utc(2024, 6, 1, 0, 0), utc(2024, 6, 14, 10, 0)),  # the 15th is a Saturday
    ("cron(0 0 LW * ? *)", utc(2024, 8, 1, 0, 0), utc(2024, 8, 30, 0, 0)),  # Aug 31 2024 is a Saturday
    ("cron(5,35 14 * JAN,JUL ? 2025)", utc(2024, 6, 1, 0, 0), utc(2025, 1, 1, 14, 5)),
    ("cron(0 */6 * * ? *)", utc(2024, 1, 1, 5, 59), utc(2024, 1, 1, 6, 0)),
    ("cron(10-20/5 * * * ? *)", utc(2024, 1, 1, 12, 21), utc(2024, 1, 1, 13, 10)),
    ("cron(59 23 31 DEC ? *)", utc(2024, 12, 31, 23, 59), utc(2025, 12, 31, 23, 59)),
    ("cron(0 0 1 1 ? 2020)", utc(2024, 1, 1, 0, 0), None),  # only in the past
]


@pytest.mark.parametrize(("expression", "after", "expected"), CRON_CASES)
def test_cron_next_fire_time(expression: str, after: datetime, expected: datetime | None) -> None:
    # Given a cron schedule and a moment
    # When the next fire time is computed
    fire = next_fire_time(expression, after)
    # Then it is the first matching minute strictly after that moment, in UTC
    assert fire == expected


RATE_CASES = [
    # (expression, anchor = when the schedule started, after, expected)
    ("rate(5 minutes)", utc(2024, 1, 1, 12, 0), utc(2024, 1, 1, 12, 7), utc(2024, 1, 1, 12, 10)),
    ("rate(1 minute)", utc(2024, 1, 1, 12, 0), utc(2024, 1, 1, 12, 0), utc(2024, 1, 1, 12, 1)),
    ("rate(1 hour)", utc(2024, 1, 31, 23, 30), utc(2024, 1, 31, 23, 30), utc(2024, 2, 1, 0, 30)),
    ("rate(2 days)", utc(2024, 2, 28, 0, 0), utc(2024, 2, 28, 0, 0), utc(2024, 3, 1, 0, 0)),  # leap day crossed
    ("rate(1 day)", utc(2023, 12, 31, 6, 0), utc(2024, 1, 1, 7, 0), utc(2024, 1, 2, 6, 0)),
]


@pytest.mark.parametrize(("expression", "anchor", "after", "expected"), RATE_CASES)
def test_rate_next_fire_time(expression: str, anchor: datetime, after: datetime, expected: datetime) -> None:
    # Given a rate schedule started at `anchor`
    # When the next fire time after `after` is computed
    fire = next_fire_time(expression, after, anchor=anchor)
    # Then it is the next whole period counted from the start
    assert fire == expected


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (utc(2024, 1, 31, 12, 0), utc(2024, 2, 1, 8, 0)),  # CET = UTC+1
        (utc(2024, 7, 1, 12, 0), utc(2024, 7, 2, 7, 0)),  # CEST = UTC+2
    ],
)
def test_cron_reads_its_fields_in_the_schedule_time_zone(after: datetime, expected: datetime) -> None:
    # Given a ScheduleV2 at 09:00 Paris time
    # When the next fire time is computed
    fire = next_fire_time("cron(0 9 * * ? *)", after, timezone="Europe/Paris")
    # Then it follows the zone's offset, summer and winter
    assert fire == expected


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minutes)",  # EventBridge wants the singular for 1
        "rate(5 minute)",  # and the plural above
        "rate(0 minutes)",
        "rate(5 weeks)",
        "cron(0 0 * * * *)",  # both day fields set
        "cron(0 0 ? * ? *)",  # neither day field set
        "cron(0 0 1 * ?)",  # five fields
        "cron(60 0 1 * ? *)",
        "cron(0 0 1 FOO ? *)",
        "cron(0 0 ? * 8 *)",
        "cron(0 0 1 * ? 1969)",
        "every 5 minutes",
    ],
)
def test_invalid_expressions_are_refused(expression: str) -> None:
    # Given an expression EventBridge would refuse
    # When it is parsed
    # Then the local scheduler refuses it too, naming it
    with pytest.raises(ValueError, match="rate|cron|range|number|field|every|outside|day"):
        parse_expression(expression)


# ------------------------------------------------------------------------------------------- Scheduler


@dataclass
class Result:
    payload: Any = None
    error: dict[str, Any] | None = None


@dataclass
class FakeInvoker:
    """Records invocations; fails the first `failures` calls."""

    failures: int = 0
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, function_id: str, event: dict[str, Any]) -> Result:
        self.calls.append((function_id, event))
        if len(self.calls) <= self.failures:
            return Result(error={"errorType": "Boom", "errorMessage": "failed"})
        return Result(payload={"ok": True})


MONTHLY = ScheduleSpec(
    name="aimanager-local-ReportFunctionMonthly",
    expression="cron(0 0 1 * ? *)",
    function_id="ReportFunction",
    logical_id="ReportFunctionMonthly",
)


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_trigger_invokes_with_the_scheduled_event() -> None:
    # Given a scheduler holding one monthly schedule
    invoker = FakeInvoker()
    clock = FixedClock(utc(2024, 1, 31, 12, 0, 5))
    scheduler = Scheduler([MONTHLY], invoker, region="eu-west-3", account="123456789012", clock=clock)
    # When it is triggered by name
    result = scheduler.trigger(MONTHLY.name)
    # Then the function got EventBridge's Scheduled Event, with the rule's ARN, and its result comes back
    assert result.payload == {"ok": True}
    ((function_id, event),) = invoker.calls
    assert function_id == "ReportFunction"
    assert set(event) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    assert event["version"] == "0"
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["account"] == "123456789012"
    assert event["region"] == "eu-west-3"
    assert event["time"] == "2024-01-31T12:00:05Z"
    assert event["resources"] == ["arn:aws:events:eu-west-3:123456789012:rule/aimanager-local-ReportFunctionMonthly"]
    assert event["detail"] == {}
    scheduler.stop()


def test_trigger_accepts_the_logical_id_and_uses_the_target_input() -> None:
    # Given a schedule whose target has a constant Input
    spec = ScheduleSpec(
        name="nightly", expression="rate(1 day)", function_id="F", input_json='{"job": "purge"}', logical_id="FNightly"
    )
    invoker = FakeInvoker()
    scheduler = Scheduler([spec], invoker)
    # When it is triggered by its logical id
    scheduler.trigger("FNightly")
    # Then the function receives the Input, not the Scheduled Event
    assert invoker.calls == [("F", {"job": "purge"})]
    scheduler.stop()


def test_trigger_of_an_unknown_schedule_lists_the_known_ones() -> None:
    # Given a scheduler with one schedule
    scheduler = Scheduler([MONTHLY], FakeInvoker())
    # When an unknown name is triggered
    # Then KeyError names the schedules there are
    with pytest.raises(KeyError, match="aimanager-local-ReportFunctionMonthly"):
        scheduler.trigger("nope")
    scheduler.stop()


def test_run_pending_fires_due_schedules_once_with_their_scheduled_time() -> None:
    # Given a monthly schedule and a disabled one, the clock just before midnight on Jan 31
    disabled = ScheduleSpec(name="off", expression="rate(1 minute)", function_id="Off", enabled=False)
    invoker = FakeInvoker()
    scheduler = Scheduler([MONTHLY, disabled], invoker, clock=FixedClock(utc(2024, 1, 31, 23, 59, 30)))
    assert scheduler.next_fire_times() == {MONTHLY.name: utc(2024, 2, 1, 0, 0)}
    # When the scheduler looks before and at the fire time
    early = scheduler.run_pending(utc(2024, 1, 31, 23, 59, 59))
    due = scheduler.run_pending(utc(2024, 2, 1, 0, 0, 1))
    again = scheduler.run_pending(utc(2024, 2, 1, 0, 0, 2))
    # Then only the due schedule fires, once, stamped with its scheduled time, and the next is March 1st
    assert early == [] and again == []
    assert [future.result(timeout=5).payload for future in due] == [{"ok": True}]
    assert [event["time"] for _, event in invoker.calls] == ["2024-02-01T00:00:00Z"]
    assert scheduler.next_fire_times()[MONTHLY.name] == utc(2024, 3, 1, 0, 0)
    scheduler.stop()


def test_a_failed_scheduled_invocation_is_retried_as_an_asynchronous_one() -> None:
    # Given a function that fails twice, and a schedule allowing two retries (Lambda's default)
    invoker = FakeInvoker(failures=2)
    scheduler = Scheduler([MONTHLY], invoker, clock=FixedClock(utc(2024, 1, 31, 23, 59)), retry_delay_s=0.01)
    # When the schedule fires
    (future,) = scheduler.run_pending(utc(2024, 2, 1, 0, 0))
    # Then the third attempt succeeds, with the same event each time
    assert future.result(timeout=5).error is None
    assert len(invoker.calls) == 3
    assert len({event["id"] for _, event in invoker.calls}) == 1
    scheduler.stop()


def test_the_thread_fires_a_due_schedule_and_stops_promptly() -> None:
    # Given a running scheduler whose clock has reached a fire time
    invoker = FakeInvoker()
    clock = FixedClock(utc(2024, 1, 31, 23, 59, 59))
    scheduler = Scheduler([MONTHLY], invoker, clock=clock)
    scheduler.start()
    clock.now = utc(2024, 2, 1, 0, 0, 0)
    # When it runs a moment
    deadline = time.monotonic() + 3
    while not invoker.calls and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    scheduler.stop()
    # Then it invoked the function and stop() returned within a second and a half
    assert [function_id for function_id, _ in invoker.calls] == ["ReportFunction"]
    assert time.monotonic() - started < 1.5
