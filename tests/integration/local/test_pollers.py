"""The local event sources against a real moto server: SQS mappings, DLQ redrive, EventBridge rules, schedules."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from infra.local.emulator import Emulator, aws_client
from infra.local.model import StackModel
from infra.local.pollers import EventRulePoller, SqsPoller, failed_message_ids
from infra.local.resources import provision
from infra.local.scheduler import Scheduler

pytestmark = pytest.mark.integration

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "event_sources.yaml"
REGION = "eu-west-3"


@dataclass
class Result:
    payload: Any = None
    error: dict[str, Any] | None = None


FAILED = Result(error={"errorType": "RuntimeError", "errorMessage": "boom", "stackTrace": []})


@dataclass
class FakeInvoker:
    """Stands in for FunctionPool.invoke: records each event and answers with `respond(event)`."""

    respond: Callable[[dict[str, Any]], Result] = lambda event: Result()
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, function_id: str, event: dict[str, Any]) -> Result:
        with self._lock:
            self.calls.append((function_id, event))
        return self.respond(event)

    def bodies(self, call: int) -> list[str]:
        return [record["body"] for record in self.calls[call][1]["Records"]]


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as running:
        yield running


@pytest.fixture
def model(emulator: Emulator) -> StackModel:
    # A fresh emulator state per test (SQS allows one PurgeQueue a minute): about half a second.
    emulator.reset()
    return provision(FIXTURE, emulator.endpoint_url, stack_name="fx", region=REGION)


@pytest.fixture
def sqs(emulator: Emulator, model: StackModel) -> Any:
    return aws_client("sqs", emulator.endpoint_url, REGION)


def source(model: StackModel, function_id: str) -> Any:
    (spec,) = [s for s in model.sqs_sources if s.function_id == function_id]
    return spec


def send(sqs: Any, url: str, *bodies: str) -> None:
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)


def depth(sqs: Any, url: str) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesNotVisible"])


def poll_until(poller: SqsPoller | EventRulePoller, done: Callable[[], bool], timeout_s: float = 8.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "condition not reached in time"
        poller.poll_once()


# ---------------------------------------------------------------------------------------------- SQS


def test_the_sqs_event_has_lambdas_shape_and_the_batch_size_is_honoured(sqs: Any, model: StackModel) -> None:
    # Given seven messages, one with message attributes, on a queue mapped with BatchSize 3
    spec = source(model, "BatchFunction")
    sqs.send_message(
        QueueUrl=spec.queue_url,
        MessageBody="with-attributes",
        MessageAttributes={
            "trace": {"DataType": "String", "StringValue": "abc"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    send(sqs, spec.queue_url, *(f"m{i}" for i in range(6)))
    invoker = FakeInvoker(respond=lambda event: Result(payload={"batchItemFailures": []}))
    poller = SqsPoller(spec, invoker, sqs, region=REGION)
    # When the poller runs until every message was handed over
    poll_until(poller, lambda: sum(len(event["Records"]) for _, event in invoker.calls) >= 7)
    # Then no batch was above 3, the first was full, and every message was deleted
    sizes = [len(event["Records"]) for _, event in invoker.calls]
    assert max(sizes) == 3 and sizes[0] == 3 and sum(sizes) == 7
    assert depth(sqs, spec.queue_url) == (0, 0)
    # And each record is Lambda's SQS record
    records = [record for _, event in invoker.calls for record in event["Records"]]
    assert all(function_id == "BatchFunction" for function_id, _ in invoker.calls)
    for record in records:
        assert {
            "messageId",
            "receiptHandle",
            "body",
            "attributes",
            "messageAttributes",
            "md5OfBody",
            "eventSource",
            "eventSourceARN",
            "awsRegion",
        } <= set(record)
        assert record["eventSource"] == "aws:sqs"
        assert record["eventSourceARN"] == spec.queue_arn == "arn:aws:sqs:eu-west-3:123456789012:fx-WorkQueue"
        assert record["awsRegion"] == REGION
        assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()
        assert {"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(
            record["attributes"]
        )
        assert record["attributes"]["ApproximateReceiveCount"] == "1"
    (with_attributes,) = [record for record in records if record["body"] == "with-attributes"]
    assert with_attributes["messageAttributes"] == {
        "trace": {"stringValue": "abc", "stringListValues": [], "binaryListValues": [], "dataType": "String"},
        "blob": {
            "binaryValue": base64.b64encode(b"\x00\x01").decode(),
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "Binary",
        },
    }
    assert "md5OfMessageAttributes" in with_attributes


def _fail_bodies(*bodies: str) -> Callable[[dict[str, Any]], Result]:
    def respond(event: dict[str, Any]) -> Result:
        failures = [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] in bodies]
        return Result(payload={"batchItemFailures": failures})

    return respond


def test_a_partial_batch_failure_deletes_only_the_successes(sqs: Any, model: StackModel) -> None:
    # Given three messages and a function that reports the "bad" one as failed
    spec = source(model, "BatchFunction")
    send(sqs, spec.queue_url, "ok-1", "bad", "ok-2")
    invoker = FakeInvoker(respond=_fail_bodies("bad"))
    poller = SqsPoller(spec, invoker, sqs, region=REGION)
    # When one batch is processed, then the queue is polled again after the 1 s visibility timeout
    poll_until(poller, lambda: len(invoker.calls) >= 1)
    assert sorted(invoker.bodies(0)) == ["bad", "ok-1", "ok-2"]
    time.sleep(1.1)
    invoker.respond = lambda event: Result()
    poll_until(poller, lambda: len(invoker.calls) >= 2)
    # Then only the failed message came back, received a second time, and the queue is now empty
    assert invoker.bodies(1) == ["bad"]
    assert invoker.calls[1][1]["Records"][0]["attributes"]["ApproximateReceiveCount"] == "2"
    assert depth(sqs, spec.queue_url) == (0, 0)


def test_an_unknown_item_identifier_fails_the_whole_batch(sqs: Any, model: StackModel) -> None:
    # Given a function whose batchItemFailures names a message outside the batch
    spec = source(model, "BatchFunction")
    send(sqs, spec.queue_url, "a", "b")
    invoker = FakeInvoker(respond=lambda event: Result(payload={"batchItemFailures": [{"itemIdentifier": "x"}]}))
    poller = SqsPoller(spec, invoker, sqs, region=REGION)
    # When the batch is processed and the visibility timeout passes
    poll_until(poller, lambda: len(invoker.calls) >= 1)
    time.sleep(1.1)
    invoker.respond = lambda event: Result()
    poll_until(poller, lambda: sum(len(event["Records"]) for _, event in invoker.calls) >= 4)
    # Then both messages came back, as Lambda treats the whole batch as failed
    redelivered = [record for _, event in invoker.calls[1:] for record in event["Records"]]
    assert sorted(record["body"] for record in redelivered) == ["a", "b"]
    assert {record["attributes"]["ApproximateReceiveCount"] for record in redelivered} == {"2"}


@pytest.mark.parametrize(
    ("payload", "error", "kept"),
    [
        (None, None, set()),  # a null response is a success
        ({}, None, set()),
        ({"batchItemFailures": None}, None, set()),
        ({"batchItemFailures": []}, None, set()),
        ({"batchItemFailures": [{"itemIdentifier": "m2"}]}, None, {"m2"}),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, None, {"m1", "m2"}),  # empty identifier
        ({"batchItemFailures": [{"id": "m2"}]}, None, {"m1", "m2"}),  # bad key name
        ({"batchItemFailures": "m2"}, None, {"m1", "m2"}),
        ("done", None, {"m1", "m2"}),  # not the response object
        (None, {"errorType": "Timeout"}, {"m1", "m2"}),  # a function error or timeout keeps all
    ],
)
def test_lambdas_partial_batch_response_rules(payload: Any, error: dict[str, Any] | None, kept: set[str]) -> None:
    # Given an invocation result for a batch of m1 and m2 with ReportBatchItemFailures
    # When the messages to keep are decided
    # Then they follow Lambda's documented rules
    assert failed_message_ids(Result(payload, error), {"m1", "m2"}, partial=True) == kept


def test_without_report_batch_item_failures_success_deletes_all(sqs: Any, model: StackModel) -> None:
    # Given a mapping without ReportBatchItemFailures and a function returning a failures list anyway
    spec = source(model, "PlainFunction")
    send(sqs, spec.queue_url, "x", "y")
    invoker = FakeInvoker(respond=lambda event: Result(payload={"batchItemFailures": [{"itemIdentifier": "x"}]}))
    poller = SqsPoller(spec, invoker, sqs, region=REGION)
    # When the batch is processed
    poll_until(poller, lambda: sum(len(event["Records"]) for _, event in invoker.calls) >= 2)
    # Then every message is deleted: the response is not read
    assert depth(sqs, spec.queue_url) == (0, 0)


def test_a_function_error_leaves_the_batch_to_reappear_after_the_visibility_timeout(
    sqs: Any, model: StackModel
) -> None:
    # Given two messages and a function that fails
    spec = source(model, "PlainFunction")
    send(sqs, spec.queue_url, "p1", "p2")
    invoker = FakeInvoker(respond=lambda event: FAILED)
    poller = SqsPoller(spec, invoker, sqs, region=REGION)
    # When the batch fails
    poll_until(poller, lambda: sum(len(event["Records"]) for _, event in invoker.calls) >= 2)
    # Then nothing is deleted: the messages are in flight until the timeout, then visible again
    assert depth(sqs, spec.queue_url) == (0, 2)
    time.sleep(1.1)
    assert depth(sqs, spec.queue_url) == (2, 0)
    invoker.respond = lambda event: Result()
    first = {record["messageId"] for _, event in invoker.calls for record in event["Records"]}
    poll_until(poller, lambda: depth(sqs, spec.queue_url) == (0, 0))
    again = {record["messageId"] for _, event in invoker.calls[1:] for record in event["Records"]}
    assert again == first


def test_moto_redrives_to_the_dlq_after_max_receive_count(sqs: Any, model: StackModel) -> None:
    # Given a queue with maxReceiveCount 2 and a function that always fails
    spec = source(model, "BatchFunction")
    dlq_url = model.refs["WorkDLQ"]
    send(sqs, spec.queue_url, "poison")
    invoker = FakeInvoker(respond=lambda event: FAILED)
    poller = SqsPoller(spec, invoker, sqs, region=REGION)
    # When the poller keeps receiving it (the visibility timeout is 1 s)
    poll_until(poller, lambda: depth(sqs, dlq_url)[0] == 1, timeout_s=10)
    # Then the function saw it exactly twice, and the emulator itself moved it to the DLQ on the next receive
    assert [event["Records"][0]["attributes"]["ApproximateReceiveCount"] for _, event in invoker.calls] == ["1", "2"]
    assert depth(sqs, spec.queue_url) == (0, 0)
    (moved,) = sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1)["Messages"]
    assert moved["Body"] == "poison"


def test_filter_criteria_hide_and_delete_unmatched_messages(sqs: Any, model: StackModel) -> None:
    # Given a mapping that only passes bodies with kind "keep"
    spec = source(model, "FilteredFunction")
    send(sqs, spec.queue_url, json.dumps({"kind": "keep"}), json.dumps({"kind": "drop"}), "not json")
    invoker = FakeInvoker()
    poller = SqsPoller(spec, invoker, sqs, region=REGION)
    # When the poller has received all three
    poll_until(poller, lambda: poller.stats.received >= 3)
    # Then the function saw only the matching one and the others were deleted too
    assert [body for call in range(len(invoker.calls)) for body in invoker.bodies(call)] == ['{"kind": "keep"}']
    assert depth(sqs, spec.queue_url) == (0, 0)


def test_the_poller_thread_invokes_and_stops_promptly(sqs: Any, model: StackModel) -> None:
    # Given a started poller
    spec = source(model, "PlainFunction")
    invoker = FakeInvoker()
    poller = SqsPoller(spec, invoker, sqs, region=REGION, concurrency=2)
    poller.start()
    try:
        # When a message arrives
        send(sqs, spec.queue_url, "threaded")
        deadline = time.monotonic() + 5
        while not invoker.calls and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        started = time.monotonic()
        poller.stop()
    # Then it was handed to the function, and stop() returned within the long-poll wait
    assert invoker.bodies(0) == ["threaded"]
    assert time.monotonic() - started < 2.5


# --------------------------------------------------------------------------------------- EventBridge


def put_event(
    emulator: Emulator, detail_type: str, detail: dict[str, Any], *, bus: str = "fx-bus", source: str = "fixture.orders"
) -> None:
    events = aws_client("events", emulator.endpoint_url, REGION)
    response = events.put_events(
        Entries=[{"EventBusName": bus, "Source": source, "DetailType": detail_type, "Detail": json.dumps(detail)}]
    )
    assert response["FailedEntryCount"] == 0


def rule(model: StackModel, logical_id: str) -> Any:
    (spec,) = [r for r in model.event_rules if r.logical_id == logical_id]
    return spec


def test_an_eventbridge_rule_delivers_the_event_to_its_function(
    emulator: Emulator, sqs: Any, model: StackModel
) -> None:
    # Given the OrderPlaced rule (function target) and the audit rule (queue target) on the bus
    spec = rule(model, "OrderFunctionPlaced")
    invoker = FakeInvoker()
    poller = EventRulePoller(spec, invoker, sqs, region=REGION)
    # When a matching and a non-matching event are put on the bus
    put_event(emulator, "OrderPlaced", {"order_id": "o-1", "total": 42})
    put_event(emulator, "OrderCancelled", {"order_id": "o-2"})
    poll_until(poller, lambda: len(invoker.calls) >= 1)
    poller.poll_once()  # nothing else arrives
    # Then the function got only the matching event, in EventBridge's shape, and the delivery was deleted
    ((function_id, event),) = invoker.calls
    assert function_id == "OrderFunction"
    assert set(event) == {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}
    assert (event["version"], event["source"], event["detail-type"]) == ("0", "fixture.orders", "OrderPlaced")
    assert (event["account"], event["region"], event["resources"]) == ("123456789012", REGION, [])
    assert event["detail"] == {"order_id": "o-1", "total": 42}
    assert time.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ")
    assert depth(sqs, spec.delivery_queue_url) == (0, 0)
    # And the queue-targeting rule received both events directly
    audit = sqs.receive_message(QueueUrl=model.refs["AuditQueue"], MaxNumberOfMessages=10, WaitTimeSeconds=1)
    assert sorted(json.loads(m["Body"])["detail-type"] for m in audit["Messages"]) == ["OrderCancelled", "OrderPlaced"]


def test_a_failed_rule_invocation_is_retried_then_dropped(emulator: Emulator, sqs: Any, model: StackModel) -> None:
    # Given a function with MaximumRetryAttempts 1 that always fails
    spec = rule(model, "OrderFunctionPlaced")
    assert spec.retry_attempts == 1
    invoker = FakeInvoker(respond=lambda event: FAILED)
    poller = EventRulePoller(spec, invoker, sqs, region=REGION, retry_delay_s=1)
    # When a matching event arrives
    put_event(emulator, "OrderPlaced", {"order_id": "o-3"})
    poll_until(poller, lambda: len(invoker.calls) >= 2)
    # Then it was tried twice with the same event, then dropped from the delivery queue
    assert invoker.calls[0][1] == invoker.calls[1][1]
    assert depth(sqs, spec.delivery_queue_url) == (0, 0)


def test_input_path_hands_the_function_part_of_the_event(emulator: Emulator, sqs: Any, model: StackModel) -> None:
    # Given a CloudWatchEvent on the default bus with InputPath $.detail
    spec = rule(model, "OrderFunctionShipped")
    assert (spec.bus_name, spec.input_path) == ("default", "$.detail")
    invoker = FakeInvoker()
    poller = EventRulePoller(spec, invoker, sqs, region=REGION)
    # When a matching event is put on the default bus
    put_event(emulator, "Shipped", {"parcel": "p-9"}, bus="default", source="fixture.shipping")
    poll_until(poller, lambda: len(invoker.calls) >= 1)
    # Then the function receives the event's detail only
    assert invoker.calls == [("OrderFunction", {"parcel": "p-9"})]


# ------------------------------------------------------------------------------------------ schedules


def test_schedules_fire_on_demand_with_their_input_or_the_scheduled_event(
    emulator: Emulator, model: StackModel
) -> None:
    # Given the scheduler over the fixture's schedules
    invoker = FakeInvoker(respond=lambda event: Result(payload="done"))
    scheduler = Scheduler(model.schedules, invoker, region=REGION, account=model.account_id)
    try:
        # When the Schedule event with an Input and the AWS::Events::Rule schedule are triggered
        nightly = scheduler.trigger("OrderFunctionNightly")
        cleanup = scheduler.trigger("fx-CleanupRule")
        # Then the first got its Input, the second the Scheduled Event naming the rule's ARN in the emulator
        assert nightly.payload == "done" and cleanup.error is None
        assert invoker.calls[0] == ("OrderFunction", {"job": "nightly"})
        event = invoker.calls[1][1]
        assert (event["detail-type"], event["source"], event["detail"]) == ("Scheduled Event", "aws.events", {})
        rule_arn = aws_client("events", emulator.endpoint_url, REGION).describe_rule(Name="fx-CleanupRule")["Arn"]
        assert event["resources"] == [rule_arn]
        # And an unknown name lists the known schedules
        with pytest.raises(KeyError, match="fx-OrderFunctionNightly"):
            scheduler.trigger("Nope")
    finally:
        scheduler.stop()
