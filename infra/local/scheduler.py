"""Fire the template's EventBridge schedules locally: rate/cron/at parsing, next fire times, the Scheduled Event."""

from __future__ import annotations

import calendar
import json
import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from infra.local.model import LOCAL_ACCOUNT_ID, LOCAL_REGION, Invoke, InvokeResultLike, ScheduleSpec

logger = logging.getLogger(__name__)

_MIN_YEAR, _MAX_YEAR = 1970, 2199  # the year field's range in AWS cron
# Spelled out: calendar.month_abbr follows the locale, AWS's names do not.
_MONTHS = {name: i for i, name in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(), start=1)}
_WEEKDAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")


def _aws_weekday(day: date) -> int:
    """AWS numbers the week 1-7 from Sunday; Python's weekday() is 0-6 from Monday."""
    return (day.weekday() + 1) % 7 + 1


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


class Schedule(Protocol):
    def next_after(self, after: datetime, anchor: datetime) -> datetime | None:
        """The first fire time strictly after `after` (naive wall-clock time), None when there is none."""


@dataclass(frozen=True)
class Rate:
    """rate(N unit): every period, counted from when the schedule started (as EventBridge counts from creation)."""

    period: timedelta

    def next_after(self, after: datetime, anchor: datetime) -> datetime | None:
        if after < anchor:
            return anchor + self.period
        elapsed_periods = (after - anchor) // self.period
        return anchor + (elapsed_periods + 1) * self.period


@dataclass(frozen=True)
class At:
    """at(yyyy-mm-ddThh:mm:ss): EventBridge Scheduler's one-time schedule."""

    when: datetime

    def next_after(self, after: datetime, anchor: datetime) -> datetime | None:
        return self.when if self.when > after else None


def _parse_value(token: str, low: int, high: int, names: dict[str, int]) -> int:
    upper = token.upper()
    if upper in names:
        return names[upper]
    if not token.isdigit():
        raise ValueError(f"{token!r} is not a number or a name")
    value = int(token)
    if not low <= value <= high:
        raise ValueError(f"{value} is outside {low}-{high}")
    return value


def _parse_field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int]:
    """One numeric field: `*`, values, names, `a-b` ranges, `/step` on any of them, comma lists."""
    names = names or {}
    values: set[int] = set()
    for item in text.split(","):
        base, slash, step_text = item.partition("/")
        step = int(step_text) if slash and step_text.isdigit() else 1
        if slash and (not step_text.isdigit() or step < 1):
            raise ValueError(f"bad step in {item!r}")
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _parse_value(first, low, high, names), _parse_value(last, low, high, names)
        else:
            start = _parse_value(base, low, high, names)
            end = high if slash else start  # "5/15": from 5 every 15 to the end of the range
        if start > end:
            raise ValueError(f"range {item!r} runs backwards")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _nearest_weekday(year: int, month: int, day: int) -> int:
    """`nW`: the weekday nearest to day n, without leaving the month."""
    last = _last_day(year, month)
    day = min(day, last)
    weekday = date(year, month, day).weekday()
    if weekday == 5:  # Saturday -> Friday, or Monday when the 1st is a Saturday
        return day - 1 if day > 1 else day + 2
    if weekday == 6:  # Sunday -> Monday, or Friday when the month ends on a Sunday
        return day + 1 if day < last else day - 2
    return day


@dataclass(frozen=True)
class DayOfMonth:
    """The day-of-month field: days, `L` (last day), `LW` and `nW` (nearest weekday)."""

    days: frozenset[int]
    last: bool = False
    last_weekday: bool = False
    nearest_weekday: frozenset[int] = frozenset()

    @classmethod
    def parse(cls, text: str) -> DayOfMonth:
        days: set[int] = set()
        last = last_weekday = False
        nearest: set[int] = set()
        for item in text.split(","):
            upper = item.upper()
            if upper == "L":
                last = True
            elif upper == "LW":
                last_weekday = True
            elif upper.endswith("W") and upper[:-1].isdigit():
                nearest.add(_parse_value(upper[:-1], 1, 31, {}))
            else:
                days |= _parse_field(item, 1, 31)
        return cls(frozenset(days), last, last_weekday, frozenset(nearest))

    def matches(self, day: date) -> bool:
        last = _last_day(day.year, day.month)
        if day.day in self.days or (self.last and day.day == last):
            return True
        if self.last_weekday and day.day == _nearest_weekday(day.year, day.month, last):
            return True
        return any(day.day == _nearest_weekday(day.year, day.month, n) for n in self.nearest_weekday)


@dataclass(frozen=True)
class DayOfWeek:
    """The day-of-week field (1-7 = SUN-SAT): days, `L` (Saturday), `nL` (last n of the month), `n#k` (k-th n)."""

    days: frozenset[int]
    last_of_month: frozenset[int] = frozenset()
    nth: frozenset[tuple[int, int]] = frozenset()

    @classmethod
    def parse(cls, text: str) -> DayOfWeek:
        days: set[int] = set()
        last_of_month: set[int] = set()
        nth: set[tuple[int, int]] = set()
        for item in text.split(","):
            upper = item.upper()
            if upper == "L":
                days.add(7)
            elif upper.endswith("L"):
                last_of_month.add(_parse_value(upper[:-1], 1, 7, _WEEKDAYS))
            elif "#" in upper:
                weekday, _, index = upper.partition("#")
                if not index.isdigit() or not 1 <= int(index) <= 5:
                    raise ValueError(f"bad week index in {item!r}")
                nth.add((_parse_value(weekday, 1, 7, _WEEKDAYS), int(index)))
            else:
                days |= _parse_field(item, 1, 7, _WEEKDAYS)
        return cls(frozenset(days), frozenset(last_of_month), frozenset(nth))

    def matches(self, day: date) -> bool:
        weekday = _aws_weekday(day)
        if weekday in self.days:
            return True
        if weekday in self.last_of_month and day.day + 7 > _last_day(day.year, day.month):
            return True
        return (weekday, (day.day - 1) // 7 + 1) in self.nth


@dataclass(frozen=True)
class Cron:
    """cron(minutes hours day-of-month month day-of-week year), AWS's six fields."""

    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    years: frozenset[int]
    day_of_month: DayOfMonth | None  # None: `?`
    day_of_week: DayOfWeek | None

    @classmethod
    def parse(cls, fields_text: str) -> Cron:
        fields = fields_text.split()
        if len(fields) != 6:
            raise ValueError(f"cron needs 6 fields (min hour dom month dow year), got {len(fields)}")
        minute, hour, dom, month, dow, year = fields
        # AWS refuses both day fields set, and both unset: exactly one of them is `?`.
        if (dom == "?") == (dow == "?"):
            raise ValueError("exactly one of day-of-month and day-of-week must be '?'")
        return cls(
            minutes=_parse_field(minute, 0, 59),
            hours=_parse_field(hour, 0, 23),
            months=_parse_field(month, 1, 12, _MONTHS),
            years=_parse_field(year, _MIN_YEAR, _MAX_YEAR),
            day_of_month=None if dom == "?" else DayOfMonth.parse(dom),
            day_of_week=None if dow == "?" else DayOfWeek.parse(dow),
        )

    def _day_matches(self, day: date) -> bool:
        if self.day_of_month is not None:
            return self.day_of_month.matches(day)
        assert self.day_of_week is not None
        return self.day_of_week.matches(day)

    def next_after(self, after: datetime, anchor: datetime) -> datetime | None:
        moment = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
        # Skip whole years, months, days and hours that cannot match: a few hundred steps at most.
        while moment.year <= _MAX_YEAR:
            if moment.year not in self.years:
                moment = datetime(moment.year + 1, 1, 1)
            elif moment.month not in self.months:
                moment = _first_of_next_month(moment)
            elif not self._day_matches(moment.date()):
                moment = datetime(moment.year, moment.month, moment.day) + timedelta(days=1)
            elif moment.hour not in self.hours:
                moment = moment.replace(minute=0) + timedelta(hours=1)
            elif moment.minute not in self.minutes:
                later = [m for m in self.minutes if m > moment.minute]
                moment = moment.replace(minute=min(later)) if later else moment.replace(minute=0) + timedelta(hours=1)
            else:
                return moment
        return None


def _first_of_next_month(moment: datetime) -> datetime:
    if moment.month == 12:
        return datetime(moment.year + 1, 1, 1)
    return datetime(moment.year, moment.month + 1, 1)


def parse_expression(expression: str) -> Schedule:
    """Parse `rate(...)`, `cron(...)` or `at(...)`; ValueError says what EventBridge would refuse."""
    text = expression.strip()
    if rate := _RATE.match(text):
        value, unit = int(rate.group(1)), rate.group(2)
        # EventBridge wants the singular for 1 and the plural above it.
        if value < 1 or (value == 1) != (not unit.endswith("s")):
            raise ValueError(f"{expression!r}: use 'rate(1 {unit.rstrip('s')})' or 'rate(N {unit.rstrip('s')}s)'")
        return Rate(timedelta(seconds=value * _RATE_UNITS[unit.rstrip("s")]))
    if cron := _CRON.match(text):
        try:
            return Cron.parse(cron.group(1))
        except ValueError as error:
            raise ValueError(f"{expression!r}: {error}") from None
    if at := _AT.match(text):
        return At(datetime.fromisoformat(at.group(1)))
    raise ValueError(f"{expression!r} is not rate(...), cron(...) or at(...)")


def next_fire_time(
    expression: str,
    after: datetime,
    *,
    anchor: datetime | None = None,
    timezone: str = "UTC",
) -> datetime | None:
    """The first fire time (aware, UTC) strictly after `after` (aware); `anchor` is when a rate started."""
    return _next_fire(parse_expression(expression), after, anchor or after, timezone)


def _next_fire(schedule: Schedule, after: datetime, anchor: datetime, timezone: str) -> datetime | None:
    if isinstance(schedule, Rate):
        # A rate counts elapsed time, which no time zone changes.
        return schedule.next_after(after.astimezone(UTC), anchor.astimezone(UTC))
    zone = ZoneInfo(timezone)
    wall = after.astimezone(zone).replace(tzinfo=None)
    anchor_wall = anchor.astimezone(zone).replace(tzinfo=None)
    for _ in range(3):  # a wall time inside a DST gap maps before `after`: look again from there
        candidate = schedule.next_after(wall, anchor_wall)
        if candidate is None:
            return None
        fire = candidate.replace(tzinfo=zone).astimezone(UTC)
        if fire > after:
            return fire
        wall = candidate
    return None


def _utc_now() -> datetime:
    return datetime.now(UTC)


def scheduled_event(spec: ScheduleSpec, fire_time: datetime, *, region: str, account: str) -> dict[str, Any]:
    """The event EventBridge hands the target: the Scheduled Event, or the target's constant Input."""
    if spec.input_json is not None:
        parsed: dict[str, Any] = json.loads(spec.input_json)
        return parsed
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": fire_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [spec.arn or f"arn:aws:events:{region}:{account}:rule/{spec.name}"],
        "detail": {},
    }


class Scheduler:
    """A thread that invokes each enabled schedule's function when it is due; `trigger` fires one on demand."""

    def __init__(
        self,
        schedules: Iterable[ScheduleSpec],
        invoke: Invoke,
        *,
        region: str = LOCAL_REGION,
        account: str = LOCAL_ACCOUNT_ID,
        clock: Callable[[], datetime] = _utc_now,
        retry_delay_s: float = 1.0,
        max_workers: int = 4,
    ) -> None:
        self._specs = list(schedules)
        self._invoke = invoke
        self._region = region
        self._account = account
        self._clock = clock
        self._retry_delay_s = retry_delay_s
        self._parsed = {spec.name: parse_expression(spec.expression) for spec in self._specs}
        started = clock()
        self._anchor = started
        self._next: dict[str, datetime | None] = {
            spec.name: self._next_after(spec, started) for spec in self._specs if spec.enabled
        }
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="schedule")

    def _next_after(self, spec: ScheduleSpec, after: datetime) -> datetime | None:
        return _next_fire(self._parsed[spec.name], after, self._anchor, spec.timezone)

    @property
    def schedules(self) -> list[ScheduleSpec]:
        return list(self._specs)

    def next_fire_times(self) -> dict[str, datetime | None]:
        with self._lock:
            return dict(self._next)

    def _find(self, name: str) -> ScheduleSpec:
        for spec in self._specs:
            if name in (spec.name, spec.logical_id):
                return spec
        known = ", ".join(sorted(spec.name for spec in self._specs)) or "none"
        raise KeyError(f"no schedule named {name!r}; known schedules: {known}")

    def trigger(self, name: str) -> InvokeResultLike:
        """Invoke a schedule's function now, once, and return its result (by rule name or logical id)."""
        spec = self._find(name)
        event = scheduled_event(spec, self._clock(), region=self._region, account=self._account)
        return self._invoke(spec.function_id, event)

    def run_pending(self, now: datetime) -> list[Future[InvokeResultLike]]:
        """Start every schedule due at `now` (asynchronously, as EventBridge invokes) and plan its next time."""
        started: list[Future[InvokeResultLike]] = []
        with self._lock:
            for spec in self._specs:
                due = self._next.get(spec.name)
                if due is None or due > now:
                    continue
                # Missed fire times are not replayed: EventBridge does not backfill either.
                self._next[spec.name] = self._next_after(spec, now)
                event = scheduled_event(spec, due, region=self._region, account=self._account)
                started.append(self._executor.submit(self._deliver, spec, event))
        return started

    def _deliver(self, spec: ScheduleSpec, event: dict[str, Any]) -> InvokeResultLike:
        # Asynchronous invocation: Lambda retries a failed one retry_attempts times (minutes apart in AWS).
        attempt = 0
        while True:
            result = self._invoke(spec.function_id, event)
            if result.error is None:
                return result
            attempt += 1
            if attempt > spec.retry_attempts or self._stop.wait(self._retry_delay_s * attempt):
                logger.error(
                    "schedule %s: %s failed %d time(s), event dropped: %s",
                    spec.name,
                    spec.function_id,
                    attempt,
                    result.error,
                )
                return result
            logger.warning("schedule %s: %s failed, retry %d", spec.name, spec.function_id, attempt)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_pending(self._clock())
            upcoming = [t for t in self.next_fire_times().values() if t is not None]
            wait = (min(upcoming) - self._clock()).total_seconds() if upcoming else 1.0
            # Wake at least every second: stop() stays prompt and a changed clock is noticed.
            self._stop.wait(min(max(wait, 0.01), 1.0))

    def start(self) -> None:
        if self._thread is not None:
            return
        for spec in self._specs:
            logger.info(
                "schedule %s (%s) -> %s, next %s",
                spec.name,
                spec.expression,
                spec.function_id,
                self._next.get(spec.name, "disabled"),
            )
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._executor.shutdown(wait=False, cancel_futures=True)
