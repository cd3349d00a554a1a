"""Limits under concurrency, against the emulator as a real process: 200 parallel requests at a limit of 50 admit
exactly 50, for each of the four limits, and the counters read 50 afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aimanager.dal import usage
from aimanager.dal.tables import SessionItem, bind_tables
from aimanager.domain.limits import EditorLimits
from aimanager.errors import QuotaExceeded
from aimanager.ids import new_session_id
from aimanager.services import limits
from aimanager.settings import get_settings
from infra.local.emulator import Emulator
from infra.local.resources import provision

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)  # fixed: the minute window cannot turn during the test
PARALLEL, LIMIT = 200, 50


@pytest.fixture(scope="module")
def emulator_stack() -> Iterator[tuple[str, dict[str, str]]]:
    with Emulator() as emulator:
        stack = provision(ROOT / "template.yaml", emulator.endpoint_url, stack_name="limits-it")
        yield emulator.endpoint_url, stack.refs


@pytest.fixture
def tables(emulator_stack: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    endpoint, refs = emulator_stack
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("USAGE_TABLE", refs["UsageTable"])
    monkeypatch.setenv("SESSIONS_TABLE", refs["SessionsTable"])
    monkeypatch.setenv("MESSAGES_TABLE", refs["MessagesTable"])
    get_settings.cache_clear()
    bind_tables(get_settings())
    yield
    get_settings.cache_clear()


def _limits(editor: str, *, ip: int | None = None, day: int | None = None, month: int | None = None) -> limits.Limits:
    return limits.Limits(
        editor_id=editor,
        rate_limit_per_ip=ip or 100_000,
        max_sessions_day=day,
        max_messages_day=None,
        editor=EditorLimits("pro", month, None, None),
    )


def _storm(deployment: str, lim: limits.Limits, link: limits.LinkQuota | None = None) -> tuple[int, set[str]]:
    """PARALLEL init-like requests at once (each writes a session in its counting transaction)."""

    def one(_: int) -> str:
        session = SessionItem(
            new_session_id(), deployment_key=deployment, agent_id="agt", editor_id=lim.editor_id,
            created_at="2026-11-30T23:59:59Z", last_activity_at="2026-11-30T23:59:59Z",
        )  # fmt: skip
        try:
            limits.admit(
                "sessions",
                deployment_key=deployment,
                ip="198.51.100.20",
                lim=lim,
                writes=[usage.Write(session, SessionItem.session_id.does_not_exist())],
                now=NOW,
                link=link,
            )
        except QuotaExceeded as refused:
            return refused.code
        return "admitted"

    with ThreadPoolExecutor(max_workers=64) as pool:
        outcomes = list(pool.map(one, range(PARALLEL)))
    stored = {s.session_id for s in SessionItem.scan(SessionItem.deployment_key == deployment)}
    return outcomes.count("admitted"), {o for o in outcomes if o != "admitted"} | {str(len(stored))}


def _count(pk: str, attr: str) -> Any:
    item = usage.get_usage(pk)
    return int(getattr(item, attr) or 0) if item else 0


@pytest.mark.parametrize(
    ("name", "lim", "link", "pk", "attr"),
    [
        ("rate_limited", _limits("ed_ip", ip=LIMIT), None, "ip#dpl_ip#198.51.100.20#202611302359", "requests"),
        ("deployment_daily_quota", _limits("ed_day", day=LIMIT), None, "dep#dpl_day#2026-11-30", "sessions"),
        ("editor_monthly_quota", _limits("ed_month", month=LIMIT), None, "ed#ed_month#2026-11", "sessions"),
        (
            "link_monthly_quota",
            _limits("ed_link"),
            limits.LinkQuota("lnk_it", LIMIT),
            "link#lnk_it#2026-11",
            "sessions",
        ),
    ],
)
def test_200_parallel_requests_at_a_limit_of_50_admit_exactly_50(
    tables: None, name: str, lim: limits.Limits, link: limits.LinkQuota | None, pk: str, attr: str
) -> None:
    deployment = pk.split("#")[1] if not pk.startswith(("ed#", "link#")) else f"dpl_{name}"
    # Given a limit of 50, When 200 requests arrive at once
    admitted, other = _storm(deployment, lim, link)
    # Then exactly 50 are admitted, the 150 others are refused by that limit, and exactly 50 sessions exist
    assert admitted == LIMIT
    assert other == {name, str(LIMIT)}
    # And the counter reads 50, as do the statistics counted in the same transactions
    assert _count(pk, attr) == LIMIT
    assert _count(f"dep#{deployment}", "sessions") == LIMIT


def test_parallel_retries_of_one_message_are_counted_once(tables: None) -> None:
    # Given one message sent 50 times at once with the same client_message_id (a client retrying hard)
    from aimanager.dal import repositories as repo
    from aimanager.dal.tables import MessageItem

    sid = new_session_id()
    SessionItem(
        sid, deployment_key="dpl_retry", agent_id="agt", editor_id="ed_retry",
        created_at="2026-11-30T23:59:59Z", last_activity_at="2026-11-30T23:59:59Z",
    ).save()  # fmt: skip

    def one(i: int) -> str:
        item = MessageItem(
            sid, f"msg_{i:04d}", deployment_key="dpl_retry", content="q", status="queued",
            client_message_id="retry-0001", created_at="t", updated_at="t",
        )  # fmt: skip
        writes = [*repo.user_message_writes(item), repo.session_touch(sid, "t")]
        try:
            limits.admit("messages", deployment_key="dpl_retry", ip="198.51.100.30", lim=_limits("ed_retry"),
                         writes=writes, now=NOW)  # fmt: skip
        except usage.WriteConflict:
            return "retry"
        return "admitted"

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(one, range(50)))
    # Then one turn is stored and counted, the 49 others are recognised as retries
    assert outcomes.count("admitted") == 1 and outcomes.count("retry") == 49
    assert _count("dep#dpl_retry#2026-11-30", "messages") == 1
    assert _count("ed#ed_retry#2026-11", "messages") == 1
    assert int(SessionItem.get(sid).messages_count) == 1
    assert len([m for m in MessageItem.query(sid) if m.message_id.startswith("msg_")]) == 1
