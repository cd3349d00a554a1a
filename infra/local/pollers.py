"""Run the template's queue-driven event sources locally: SQS event source mappings and EventBridge->function rules."""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from infra.local.model import LOCAL_ACCOUNT_ID, LOCAL_REGION, EventRuleSpec, Invoke, InvokeResultLike, SqsSourceSpec

logger = logging.getLogger(__name__)

# Long polls stay short so that stop() returns within about a second.
WAIT_TIME_S = 1
_RECEIVE_MAX = 10  # ReceiveMessage's own limit; larger Lambda batches take several calls
_ERROR_BACKOFF_S = 1.0
# moto writes a rule's event to a queue through its default input template, which drops `account`;
# these are the keys it keeps, and the order EventBridge gives them.
_MOTO_EVENT_KEYS = frozenset({"version", "id", "detail-type", "source", "time", "region", "resources", "detail"})
_EVENT_KEY_ORDER = ("version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail")


# ------------------------------------------------------------------------------------------- the SQS event


def _lambda_message_attribute(attribute: Mapping[str, Any]) -> dict[str, Any]:
    """ReceiveMessage's attribute shape, in the camelCase shape Lambda's SQS records use."""
    converted: dict[str, Any] = {}
    if "StringValue" in attribute:
        converted["stringValue"] = attribute["StringValue"]
    if "BinaryValue" in attribute:
        converted["binaryValue"] = base64.b64encode(attribute["BinaryValue"]).decode()
    converted["stringListValues"] = list(attribute.get("StringListValues", []))
    converted["binaryListValues"] = [base64.b64encode(v).decode() for v in attribute.get("BinaryListValues", [])]
    converted["dataType"] = attribute["DataType"]
    return converted


def sqs_record(message: Mapping[str, Any], *, queue_arn: str, region: str) -> dict[str, Any]:
    """One record of the event Lambda's SQS poller hands a function."""
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _lambda_message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
        },
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    record.update(
        {"md5OfBody": message["MD5OfBody"], "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": region}
    )
    return record


def sqs_event(messages: Iterable[Mapping[str, Any]], *, queue_arn: str, region: str) -> dict[str, Any]:
    return {"Records": [sqs_record(message, queue_arn=queue_arn, region=region) for message in messages]}


def failed_message_ids(result: InvokeResultLike, message_ids: set[str], *, partial: bool) -> set[str]:
    """The messages to keep (not delete) after an invocation, by Lambda's rules.

    A function error keeps all. Without ReportBatchItemFailures success deletes all. With it, the
    `batchItemFailures` are kept; a malformed response, or an identifier outside the batch, keeps all.
    """
    if result.error is not None:
        return set(message_ids)
    if not partial:
        return set()
    payload = result.payload
    if payload is None:
        return set()  # a null response is a complete success
    if not isinstance(payload, dict):
        return set(message_ids)
    failures = payload.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return set(message_ids)
    failed: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in message_ids:
            logger.warning("batchItemFailures entry %r names no message of the batch: whole batch failed", failure)
            return set(message_ids)
        failed.add(identifier)
    return failed


def _filter_candidate(record: Mapping[str, Any]) -> dict[str, Any]:
    # Lambda filters on the record with its body parsed when the body is a JSON object.
    candidate = dict(record)
    try:
        body = json.loads(record["body"])
    except ValueError:
        return candidate
    if isinstance(body, dict):
        candidate["body"] = body
    return candidate


# --------------------------------------------------------------------------------------------- pollers


@dataclass
class PollerStats:
    """Counters for logs and tests."""

    received: int = 0
    invocations: int = 0
    deleted: int = 0
    failed_invocations: int = 0
    filtered_out: int = 0


class _QueuePoller:
    """Thread plumbing shared by both pollers: N threads each calling poll_once until stopped."""

    name = "poller"

    def __init__(self, queue_url: str, invoke: Invoke, sqs_client: Any, *, concurrency: int, enabled: bool) -> None:
        self.queue_url = queue_url
        self._invoke = invoke
        self._sqs = sqs_client
        self._concurrency = max(1, concurrency)
        self._enabled = enabled
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.stats = PollerStats()

    def poll_once(self) -> int:
        raise NotImplementedError

    def _call(self, function_id: str, event: dict[str, Any]) -> InvokeResultLike:
        with self._lock:
            self.stats.invocations += 1
        result = self._invoke(function_id, event)
        if result.error is not None:
            with self._lock:
                self.stats.failed_invocations += 1
        return result

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except (ClientError, BotoCoreError) as error:
                # The emulator restarting or a queue deleted under us: retry, as Lambda's pollers do.
                logger.warning("%s %s: %s", self.name, self.queue_url, error)
                self._stop.wait(_ERROR_BACKOFF_S)
            except Exception:
                logger.exception("%s %s: unexpected error", self.name, self.queue_url)
                self._stop.wait(_ERROR_BACKOFF_S)

    def start(self) -> None:
        if not self._enabled:
            logger.info("%s %s is disabled in the template: not polling", self.name, self.queue_url)
            return
        if self._threads:
            return
        self._stop.clear()
        for index in range(self._concurrency):
            thread = threading.Thread(target=self._loop, name=f"{self.name}-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=timeout_s)
        self._threads = []

    def _delete(self, messages: Sequence[Mapping[str, Any]]) -> None:
        for start in range(0, len(messages), _RECEIVE_MAX):
            chunk = messages[start : start + _RECEIVE_MAX]
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)]
            response = self._sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
            for failure in response.get("Failed", []):
                # A receipt handle goes stale when an invocation outlives the visibility timeout, as in AWS.
                logger.warning("%s %s: delete failed: %s", self.name, self.queue_url, failure)
            with self._lock:
                self.stats.deleted += len(response.get("Successful", []))


class SqsPoller(_QueuePoller):
    """Lambda's SQS event source mapping: batches from the queue to the function, deletes what succeeded.

    Messages a failed invocation leaves come back after the queue's visibility timeout; the queue's own
    RedrivePolicy moves them to the DLQ after maxReceiveCount receives (moto does this on receive).
    """

    name = "sqs-poller"

    def __init__(
        self,
        spec: SqsSourceSpec,
        invoke: Invoke,
        sqs_client: Any,
        *,
        region: str = LOCAL_REGION,
        concurrency: int = 1,
    ) -> None:
        super().__init__(spec.queue_url, invoke, sqs_client, concurrency=concurrency, enabled=spec.enabled)
        self.spec = spec
        self._region = region
        self._filters = [_load_pattern(pattern) for pattern in spec.filter_patterns]

    def _receive(self, count: int) -> list[dict[str, Any]]:
        response = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=count,
            WaitTimeSeconds=WAIT_TIME_S,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def receive_batch(self) -> list[dict[str, Any]]:
        """Gather up to batch_size messages, waiting at most the batching window after the first one."""
        batch: list[dict[str, Any]] = []
        deadline: float | None = None
        while not self._stop.is_set():
            received = self._receive(min(_RECEIVE_MAX, self.spec.batch_size - len(batch)))
            if received and deadline is None:
                deadline = time.monotonic() + self.spec.batching_window_s
            batch.extend(received)
            if not batch or len(batch) >= self.spec.batch_size:
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
        return batch

    def _apply_filters(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not self._filters:
            return messages
        kept: list[dict[str, Any]] = []
        dropped: list[dict[str, Any]] = []
        for message in messages:
            candidate = _filter_candidate(sqs_record(message, queue_arn=self.spec.queue_arn, region=self._region))
            (kept if any(f.matches_event(candidate) for f in self._filters) else dropped).append(message)
        if dropped:
            # Lambda deletes messages its filters reject: the function never sees them.
            self._delete(dropped)
            with self._lock:
                self.stats.filtered_out += len(dropped)
        return kept

    def poll_once(self) -> int:
        """One receive-invoke-delete cycle; returns how many messages it received."""
        received = self.receive_batch()
        with self._lock:
            self.stats.received += len(received)
        messages = self._apply_filters(received)
        if not messages:
            return len(received)
        event = sqs_event(messages, queue_arn=self.spec.queue_arn, region=self._region)
        result = self._call(self.spec.function_id, event)
        ids = {message["MessageId"] for message in messages}
        kept = failed_message_ids(result, ids, partial=self.spec.report_batch_item_failures)
        if result.error is not None:
            logger.warning(
                "%s failed on %d message(s) from %s: %s",
                self.spec.function_id,
                len(messages),
                self.queue_url,
                result.error.get("errorMessage", result.error),
            )
        self._delete([message for message in messages if message["MessageId"] not in kept])
        return len(received)


def _load_pattern(pattern: str) -> Any:
    # moto's EventBridge matcher implements the pattern grammar Lambda's filters share.
    from moto.events.models import EventPattern

    return EventPattern.load(pattern)


_PATH_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


def apply_input_path(event: Any, path: str) -> Any:
    """EventBridge's InputPath ($, $.detail, $.detail.items[0]): the part of the event the target gets."""
    if not path.startswith("$"):
        raise ValueError(f"InputPath {path!r} must start with $")
    value = event
    for key, index in _PATH_STEP.findall(path[1:]):
        value = value[int(index)] if index else value.get(key) if isinstance(value, dict) else None
    return value


class EventRulePoller(_QueuePoller):
    """An EventBridge rule whose target is a function: its delivery queue feeds asynchronous invocations.

    Each event is one invocation. A failed one is retried (the delivery message is made visible again
    after a short delay) until the function's retry attempts are spent, then dropped with an error log,
    as Lambda's asynchronous invocation does without an on-failure destination.
    """

    name = "rule-poller"

    def __init__(
        self,
        spec: EventRuleSpec,
        invoke: Invoke,
        sqs_client: Any,
        *,
        region: str = LOCAL_REGION,
        account: str = LOCAL_ACCOUNT_ID,
        concurrency: int = 1,
        retry_delay_s: int = 1,
    ) -> None:
        super().__init__(spec.delivery_queue_url, invoke, sqs_client, concurrency=concurrency, enabled=spec.enabled)
        self.spec = spec
        self._region = region
        self._account = account
        self._retry_delay_s = retry_delay_s

    def event_for(self, body: str) -> Any:
        """The function's event: the rule's event as EventBridge delivers it, after Input/InputPath."""
        if self.spec.input_json is not None:
            return json.loads(self.spec.input_json)
        event = json.loads(body)
        if isinstance(event, dict) and set(event) == _MOTO_EVENT_KEYS:
            # The whole event, as moto delivers it: put back the account EventBridge sends.
            event = {key: event.get(key, self._account) for key in _EVENT_KEY_ORDER}
        if self.spec.input_path is not None:
            return apply_input_path(event, self.spec.input_path)
        return event

    def poll_once(self) -> int:
        response = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=_RECEIVE_MAX,
            WaitTimeSeconds=WAIT_TIME_S,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        with self._lock:
            self.stats.received += len(messages)
        for message in messages:
            self._handle(message)
        return len(messages)

    def _handle(self, message: Mapping[str, Any]) -> None:
        result = self._call(self.spec.function_id, self.event_for(message["Body"]))
        if result.error is None:
            self._delete([message])
            return
        attempt = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        if attempt > self.spec.retry_attempts:
            logger.error(
                "rule %s: %s failed %d time(s), event dropped: %s",
                self.spec.name,
                self.spec.function_id,
                attempt,
                result.error,
            )
            self._delete([message])
            return
        logger.warning("rule %s: %s failed (attempt %d), retrying", self.spec.name, self.spec.function_id, attempt)
        self._sqs.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=self._retry_delay_s
        )
