"""Usage counters in UsageTable: count a request and write its work in ONE transaction (decision 0024)."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactGet, TransactWrite

from aimanager.dal.tables import UsageItem

_CONFLICT_RETRIES = 6
_connections: dict[tuple[str, str], Connection] = {}


def _conn() -> Connection:
    """One connection (one botocore client) per container and endpoint: a new client costs ~100 ms."""
    key = (
        os.environ.get("AWS_ENDPOINT_URL", ""),
        os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "")),
    )
    if key not in _connections:
        _connections[key] = Connection()
    return _connections[key]


# real DynamoDB cancels concurrent transactions on one item: retry with jitter


@dataclass(frozen=True)
class Counter:
    """+1 on `attr` of the window item `pk`, refused (the whole transaction) when it would pass `limit`."""

    pk: str
    attr: str  # sessions | messages | requests
    limit: int | None = None  # None = count only (statistics)
    expires_at: int | None = None
    touch: str | None = None  # last_activity_at to set


@dataclass(frozen=True)
class Write:
    """The work the counted request does, in the same transaction: a conditional put or update."""

    model: Model
    condition: Condition | None = None
    actions: list[Action] = field(default_factory=list)  # empty = put the whole model

    @property
    def is_put(self) -> bool:
        return not self.actions


class LimitHit(Exception):
    """One or more counters are at their limit: nothing was written."""

    def __init__(self, counters: list[Counter]) -> None:
        super().__init__(", ".join(c.pk for c in counters))
        self.counters = counters


class WriteConflict(Exception):
    """A work item's condition failed (e.g. an idempotency marker already exists): nothing was counted."""

    def __init__(self, write: Write) -> None:
        super().__init__(type(write.model).__name__)
        self.write = write


class Contention(Exception):
    """The counters stayed contended after every retry."""


def _counter_actions(c: Counter) -> list[Action]:
    attr = getattr(UsageItem, c.attr)
    actions: list[Action] = [attr.add(1)]
    if c.touch:
        actions.append(UsageItem.last_activity_at.set(c.touch))
    if c.expires_at is not None:
        actions.append(UsageItem.expires_at.set(c.expires_at))
    return actions


def _counter_condition(c: Counter) -> Condition | None:
    if c.limit is None:
        return None
    attr = getattr(UsageItem, c.attr)
    # A missing attribute is zero: the first request of a window creates it.
    condition: Condition = attr.does_not_exist() | (attr < c.limit)
    return condition


def _reasons(exc: TransactWriteError) -> list[str | None]:
    return [r.code if r is not None else None for r in (exc.cancellation_reasons or [])]


def count_and_write(counters: Sequence[Counter], writes: Sequence[Write], *, token: str | None = None) -> None:
    """All counters +1 and all writes, or nothing: LimitHit, WriteConflict or Contention say why.

    `token` (ClientRequestToken) makes an SDK retry of the same call idempotent on DynamoDB's side.
    """
    # pynamodb sends puts first, then updates: keep that order to read the cancellation reasons.
    puts = [w for w in writes if w.is_put]
    updates: list[tuple[Write | Counter, list[Action], Condition | None, Model]] = [
        (w, w.actions, w.condition, w.model) for w in writes if not w.is_put
    ]
    updates += [(c, _counter_actions(c), _counter_condition(c), UsageItem(c.pk)) for c in counters]
    order: list[Write | Counter] = [*puts, *(u[0] for u in updates)]
    for attempt in range(_CONFLICT_RETRIES):
        try:
            with TransactWrite(connection=_conn(), client_request_token=token) as tx:
                for w in puts:
                    tx.save(w.model, condition=w.condition)
                for _, actions, condition, model in updates:
                    tx.update(model, actions=actions, condition=condition)
            return
        except TransactWriteError as exc:
            codes = _reasons(exc)
            failed = [order[i] for i, code in enumerate(codes) if code == "ConditionalCheckFailed" and i < len(order)]
            conflicting = "TransactionConflict" in codes or exc.cause_response_code == "TransactionInProgressException"
            if any(isinstance(f, Write) for f in failed):
                raise WriteConflict(next(f for f in failed if isinstance(f, Write))) from exc
            if failed:
                raise LimitHit([f for f in failed if isinstance(f, Counter)]) from exc
            if not conflicting:
                raise
            time.sleep(random.uniform(0.005, 0.02) * (attempt + 1))  # noqa: S311 - jitter, not crypto
    raise Contention("usage counters contended")


def refund(counters: Iterable[Counter]) -> None:
    """Give back what count_and_write took (a later step failed): -1 on each, unconditionally, in one call."""
    todo = list(counters)
    if not todo:
        return
    for attempt in range(_CONFLICT_RETRIES):
        try:
            with TransactWrite(connection=_conn()) as tx:
                for c in todo:
                    tx.update(UsageItem(c.pk), actions=[getattr(UsageItem, c.attr).add(-1)])
            return
        except TransactWriteError as exc:
            if "TransactionConflict" not in _reasons(exc):
                raise
            time.sleep(random.uniform(0.005, 0.02) * (attempt + 1))  # noqa: S311
    raise Contention("usage refund contended")


def get_usage(pk: str, *, consistent: bool = True) -> UsageItem | None:
    try:
        return UsageItem.get(pk, consistent_read=consistent)
    except DoesNotExist:
        return None


def get_many(pks: Iterable[str]) -> dict[str, UsageItem]:
    """Window items by key, in as few BatchGetItem calls as DynamoDB allows (100 keys each)."""
    keys = sorted(set(pks))
    return {item.pk: item for item in UsageItem.batch_get(keys)} if keys else {}


def mark_alerted(pk: str, flag: str) -> bool:
    """Record that `flag` (e.g. "sessions:80") was alerted in this window; False when it already was."""
    try:
        UsageItem(pk).update(actions=[UsageItem.alerts.add({flag})], condition=~UsageItem.alerts.contains(flag))
    except UpdateError as exc:
        if "ConditionalCheckFailed" in str(exc.cause_response_code):
            return False
        raise
    return True


def unmark_alerted(pk: str, flag: str) -> None:
    """Undo mark_alerted when the event could not be sent, so that the next request sends it."""
    UsageItem(pk).update(actions=[UsageItem.alerts.delete({flag})])


def open_window(pk: str, opened_at: str, expires_at: int) -> bool:
    """Create a window item at zero with no alert flags, only if it does not exist yet (the monthly reset)."""
    item = UsageItem(pk, sessions=0, messages=0, opened_at=opened_at, expires_at=expires_at)
    try:
        item.save(condition=UsageItem.pk.does_not_exist())
    except PutError as exc:
        if "ConditionalCheckFailed" in str(exc.cause_response_code):
            return False
        raise
    return True


def marker_session(pk: str) -> str | None:
    item = get_usage(pk)
    return item.session_id if item is not None else None


def transact_get(requests: Sequence[tuple[type[Model], str]]) -> list[Any]:
    """Several items of several tables in one round trip (TransactGetItems); None for a missing one."""
    with TransactGet(connection=_conn()) as tg:
        futures = [tg.get(model, key) for model, key in requests]
    out: list[Any] = []
    for future in futures:
        try:
            out.append(future.get())
        except DoesNotExist:
            out.append(None)
    return out
