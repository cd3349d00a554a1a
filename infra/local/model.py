"""The local stack's view of template.yaml: plain dataclasses shared by the reader, runtime and pollers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

LOCAL_ACCOUNT_ID = "123456789012"  # moto's default account: ARNs we compute must match the ones it returns
LOCAL_REGION = "eu-west-3"


@dataclass(frozen=True)
class FunctionSpec:
    """One AWS::Serverless::Function, resolved for local execution."""

    logical_id: str
    handler: str  # "app.handler": module and attribute, relative to code_dir (as Lambda reads it)
    code_dir: Path  # absolute path of CodeUri
    layer_dirs: tuple[Path, ...]  # absolute paths put on sys.path after code_dir (Lambda's /opt/python)
    environment: dict[str, str]  # Globals + function variables, every intrinsic resolved
    timeout_s: int
    memory_mb: int
    function_name: str  # physical name used in the Lambda context and ARNs


@dataclass(frozen=True)
class SqsSourceSpec:
    """An SQS event source mapping (a function's Events entry of Type SQS)."""

    function_id: str
    queue_url: str
    queue_arn: str
    batch_size: int = 10
    batching_window_s: int = 0
    report_batch_item_failures: bool = False
    enabled: bool = True
    # FilterCriteria.Filters[].Pattern (JSON): Lambda deletes the messages that match none of them, unseen.
    filter_patterns: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScheduleSpec:
    """An EventBridge rule with a ScheduleExpression (Events Schedule/ScheduleV2, or AWS::Events::Rule)."""

    name: str  # rule name, the handle `trigger` takes
    expression: str  # "rate(5 minutes)" or "cron(0 0 1 * ? *)"
    function_id: str
    input_json: str | None = None
    enabled: bool = True
    logical_id: str = ""  # the rule's logical id (SAM's for a function event: FunctionId + EventName)
    timezone: str = "UTC"  # ScheduleV2's ScheduleExpressionTimezone: cron fields read in this zone
    arn: str = ""  # the rule (or schedule) ARN the event's `resources` carries
    retry_attempts: int = 2  # asynchronous invocation: the function's EventInvokeConfig.MaximumRetryAttempts


@dataclass(frozen=True)
class EventRuleSpec:
    """An EventBridge rule with an EventPattern whose target is a function (Events Type EventBridgeRule)."""

    name: str
    bus_name: str
    pattern_json: str
    function_id: str
    # Local delivery: the rule targets this internal queue, a poller hands its events to the function.
    delivery_queue_url: str = ""
    logical_id: str = ""
    # Target transformations moto does not apply (it applies InputTransformer itself): the poller does.
    input_json: str | None = None
    input_path: str | None = None
    retry_attempts: int = 2  # asynchronous invocation: the function's EventInvokeConfig.MaximumRetryAttempts
    enabled: bool = True


@dataclass
class StackModel:
    """Everything the local stack needs from the template, intrinsics resolved to local physical names."""

    stack_name: str
    region: str
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    sqs_sources: list[SqsSourceSpec] = field(default_factory=list)
    schedules: list[ScheduleSpec] = field(default_factory=list)
    event_rules: list[EventRuleSpec] = field(default_factory=list)
    # logical id -> physical name / URL (Ref) and attributes (GetAtt), for tables, queues, buckets, buses
    refs: dict[str, str] = field(default_factory=dict)
    attrs: dict[str, dict[str, str]] = field(default_factory=dict)
    account_id: str = LOCAL_ACCOUNT_ID  # the emulator's account (moto 123456789012, LocalStack 000000000000)


class InvokeResultLike(Protocol):
    """What an event source needs from one invocation: the function's JSON result or its error."""

    @property
    def payload(self) -> Any: ...

    @property
    def error(self) -> dict[str, Any] | None: ...


# The pollers and the scheduler call functions through this: FunctionPool.invoke, or a fake in tests.
Invoke = Callable[[str, dict[str, Any]], InvokeResultLike]
