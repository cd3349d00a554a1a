"""Read template.yaml as SAM does (Globals, layers, events) and resolve it into the local StackModel."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from infra.local.emulator import boto3_session
from infra.local.model import (
    LOCAL_ACCOUNT_ID,
    LOCAL_REGION,
    EventRuleSpec,
    FunctionSpec,
    ScheduleSpec,
    SqsSourceSpec,
    StackModel,
)

logger = logging.getLogger(__name__)

DEFAULT_STACK_NAME = "aimanager-local"

TABLE_TYPES = frozenset({"AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable"})
QUEUE_TYPE = "AWS::SQS::Queue"
BUCKET_TYPE = "AWS::S3::Bucket"
BUS_TYPE = "AWS::Events::EventBus"
RULE_TYPE = "AWS::Events::Rule"
SECRET_TYPE = "AWS::SecretsManager::Secret"
FUNCTION_TYPE = "AWS::Serverless::Function"
LAYER_TYPES = frozenset({"AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"})
# Created in the emulator, in dependency order.
# The property naming a resource, and CloudFormation's length limit of the names it generates.
_NAME_PROPERTY: dict[str, tuple[str, int]] = {
    "AWS::DynamoDB::Table": ("TableName", 255),
    "AWS::Serverless::SimpleTable": ("TableName", 255),
    RULE_TYPE: ("Name", 64),
    SECRET_TYPE: ("Name", 512),
    FUNCTION_TYPE: ("FunctionName", 64),
    "AWS::Serverless::LayerVersion": ("LayerName", 140),
    "AWS::Lambda::LayerVersion": ("LayerName", 140),
}
PROVISIONED_TYPES = TABLE_TYPES | {QUEUE_TYPE, BUCKET_TYPE, BUS_TYPE, RULE_TYPE, SECRET_TYPE}
# Resources whose local meaning is nil (permissions, the gateway's routes, code, monitoring): skipped.
SKIPPED_TYPES = frozenset(
    {
        "AWS::Serverless::Api",
        "AWS::Serverless::HttpApi",
        "AWS::Serverless::LayerVersion",
        "AWS::Serverless::Function",
        "AWS::Lambda::LayerVersion",
        "AWS::Lambda::Permission",
        "AWS::Lambda::EventInvokeConfig",
        "AWS::SQS::QueuePolicy",
        "AWS::S3::BucketPolicy",
        "AWS::Events::EventBusPolicy",
    }
)
SKIPPED_PREFIXES = ("AWS::IAM::", "AWS::ApiGateway::", "AWS::ApiGatewayV2::", "AWS::Logs::", "AWS::CloudWatch::")


def is_skipped(resource_type: str) -> bool:
    """A type with no local meaning: not created, and no error when nothing needs its value."""
    return resource_type in SKIPPED_TYPES or resource_type.startswith(SKIPPED_PREFIXES)


# SAM event types another part of the local stack serves (the gateway), or that become rules here.
GATEWAY_EVENT_TYPES = frozenset({"Api", "HttpApi"})
SCHEDULE_EVENT_TYPES = frozenset({"Schedule", "ScheduleV2"})
RULE_EVENT_TYPES = frozenset({"EventBridgeRule", "CloudWatchEvent"})

_PSEUDO_PARTITION = "aws"
_PSEUDO_URL_SUFFIX = "amazonaws.com"
_NO_VALUE = object()  # Ref AWS::NoValue: the enclosing key or list item disappears
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class TemplateError(ValueError):
    """The template cannot be read or resolved for the local stack."""


class UnsupportedResourceError(TemplateError):
    """The template needs a resource or event source that the local stack cannot provide."""


# ----------------------------------------------------------------------------------------------- intrinsics


class Resolver:
    """Resolve CloudFormation intrinsics against parameters, conditions and the physical values known so far."""

    def __init__(
        self,
        template: StackTemplate,
        refs: Mapping[str, Any],
        attrs: Mapping[str, Mapping[str, str]],
    ) -> None:
        self._template = template
        self._refs = refs
        self._attrs = attrs
        self._functions: dict[str, Callable[[Any], Any]] = {
            "Ref": self._ref,
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::If": self._if,
            "Fn::Equals": self._equals,
            "Fn::Not": lambda args: not self._condition_value(args[0]),
            "Fn::And": lambda args: all(self._condition_value(arg) for arg in args),
            "Fn::Or": lambda args: any(self._condition_value(arg) for arg in args),
            "Condition": self._template.condition,
            "Fn::Join": self._join,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::FindInMap": self._find_in_map,
            "Fn::Base64": lambda arg: base64.b64encode(str(self.resolve(arg)).encode()).decode(),
            "Fn::GetAZs": lambda _arg: [f"{template.region}{zone}" for zone in "abc"],
            "Fn::ToJsonString": lambda arg: json.dumps(self.resolve(arg), separators=(",", ":")),
            "Fn::Length": lambda arg: len(self.resolve(arg)),
            "Fn::ImportValue": self._import_value,
        }

    def resolve(self, value: Any) -> Any:
        """The value with every intrinsic replaced; keys and list items set to AWS::NoValue are dropped."""
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, argument),) = value.items()
                if key in self._functions:
                    return self._functions[key](argument)
            resolved = {key: self.resolve(item) for key, item in value.items()}
            return {key: item for key, item in resolved.items() if item is not _NO_VALUE}
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not _NO_VALUE]
        return value

    def _condition_value(self, argument: Any) -> bool:
        return bool(self.resolve(argument))

    def _ref(self, name: Any) -> Any:
        template = self._template
        if not isinstance(name, str):
            raise TemplateError(f"Ref takes a name, got {name!r}")
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in template.parameters:
            return template.parameters[name]
        if name in self._refs:
            return self._refs[name]
        if name in template.resources:
            kind = template.resources[name].get("Type")
            raise UnsupportedResourceError(f"Ref {name}: {kind} has no value in the local stack")
        raise TemplateError(f"Ref {name}: no such parameter or resource")

    def _get_att(self, argument: Any) -> Any:
        if isinstance(argument, str):
            argument = argument.split(".", 1)
        logical_id, attribute = str(argument[0]), self.resolve(argument[1])
        known = self._attrs.get(logical_id, {})
        if attribute in known:
            return known[attribute]
        kind = self._template.resources.get(logical_id, {}).get("Type", "an undeclared resource")
        raise UnsupportedResourceError(
            f"Fn::GetAtt {logical_id}.{attribute}: {kind} has no such attribute locally (known: {sorted(known)})"
        )

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
        values = {name: self.resolve(value) for name, value in variables.items()}

        def substitute(match: re.Match[str]) -> str:
            inner = match.group(1)
            if inner.startswith("!"):
                return "${" + inner[1:] + "}"  # ${!Literal} writes ${Literal}
            if inner in values:
                value = values[inner]
            elif "." in inner and not inner.startswith("AWS::"):
                value = self._get_att(inner.split(".", 1))
            else:
                value = self._ref(inner)
            return _scalar_text(value, f"Fn::Sub ${{{inner}}}")

        return _SUB_VARIABLE.sub(substitute, str(text))

    def _if(self, argument: Any) -> Any:
        name, if_true, if_false = argument
        # Only the chosen branch is resolved: the other may name resources this stage does not create.
        return self.resolve(if_true if self._template.condition(name) else if_false)

    def _equals(self, argument: Any) -> bool:
        left, right = (self.resolve(item) for item in argument)
        # CloudFormation compares parameter values as strings: 45 and "45" are equal.
        return bool(_comparable(left) == _comparable(right))

    def _join(self, argument: Any) -> str:
        delimiter, items = argument[0], self.resolve(argument[1])
        return str(delimiter).join(_scalar_text(item, "Fn::Join") for item in items)

    def _select(self, argument: Any) -> Any:
        index, items = int(self.resolve(argument[0])), self.resolve(argument[1])
        if not isinstance(items, list) or not 0 <= index < len(items):
            raise TemplateError(f"Fn::Select index {index} outside {items!r}")
        return items[index]

    def _split(self, argument: Any) -> list[str]:
        delimiter, text = argument[0], self.resolve(argument[1])
        return str(text).split(str(delimiter))

    def _find_in_map(self, argument: Any) -> Any:
        map_name, top, second = (self.resolve(item) for item in argument[:3])
        try:
            return self._template.mappings[map_name][top][second]
        except KeyError:
            raise TemplateError(f"Fn::FindInMap {map_name}/{top}/{second}: no such entry") from None

    def _import_value(self, argument: Any) -> Any:
        raise UnsupportedResourceError(f"Fn::ImportValue {argument!r}: other stacks' exports do not exist locally")


def _comparable(value: Any) -> Any:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    return value


def _scalar_text(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float):
        return str(value)
    raise TemplateError(f"{where}: resolved to {value!r}, not a string")


# ------------------------------------------------------------------------------------------- declarations


@dataclass(frozen=True)
class TargetDecl:
    """One target of a rule: the resolved ARN, and the function's logical id when it is one of ours."""

    target_id: str
    arn: str
    function_id: str | None = None
    input_json: str | None = None
    input_path: str | None = None
    input_transformer: dict[str, Any] | None = None
    sqs_parameters: dict[str, Any] | None = None


@dataclass(frozen=True)
class RuleDecl:
    """An EventBridge rule, from an AWS::Events::Rule resource or a function's Schedule/EventBridgeRule event."""

    logical_id: str
    name: str
    bus_name: str
    pattern: dict[str, Any] | None
    schedule: str | None
    enabled: bool
    targets: tuple[TargetDecl, ...]
    timezone: str = "UTC"
    scheduler: bool = False  # ScheduleV2: an EventBridge Scheduler schedule, not a rule
    description: str = ""


@dataclass
class StackTemplate:
    """The template after SAM's plugins (Globals merged), with parameters and conditions evaluated."""

    path: Path
    stack_name: str
    region: str
    account_id: str
    parameters: dict[str, Any]
    resources: dict[str, dict[str, Any]]  # only those whose Condition holds
    conditions_source: dict[str, Any] = field(default_factory=dict)
    mappings: dict[str, Any] = field(default_factory=dict)
    _conditions: dict[str, bool] = field(default_factory=dict)
    _evaluating: set[str] = field(default_factory=set)

    @property
    def directory(self) -> Path:
        return self.path.parent

    def condition(self, name: str) -> bool:
        if name in self._conditions:
            return self._conditions[name]
        if name not in self.conditions_source:
            raise TemplateError(f"Condition {name}: not declared")
        if name in self._evaluating:
            raise TemplateError(f"Condition {name}: refers to itself")
        self._evaluating.add(name)
        value = bool(Resolver(self, {}, {}).resolve(self.conditions_source[name]))
        self._evaluating.discard(name)
        self._conditions[name] = value
        return value

    def of_type(self, *types: str) -> list[str]:
        return [logical_id for logical_id, resource in self.resources.items() if resource.get("Type") in types]

    def properties(self, logical_id: str) -> dict[str, Any]:
        properties: dict[str, Any] = self.resources[logical_id].get("Properties") or {}
        return properties

    def dependencies(self, logical_id: str) -> set[str]:
        """Resources this one names (Ref, GetAtt, Sub, DependsOn): they must exist first."""
        resource = self.resources[logical_id]
        depends_on = resource.get("DependsOn") or []
        found = set([depends_on] if isinstance(depends_on, str) else depends_on)
        found |= set(referenced_names(resource.get("Properties") or {}))
        return {name for name in found if name in self.resources and name != logical_id}

    # ------------------------------------------------------------------ physical names

    def auto_name(self, logical_id: str, limit: int) -> str:
        """`{stack}-{LogicalId}`, as CloudFormation names what the template leaves unnamed (minus its suffix)."""
        name = f"{self.stack_name}-{logical_id}"
        if len(name) <= limit:
            return name
        # CloudFormation truncates generated names; a hash keeps two long logical ids apart.
        digest = hashlib.sha1(name.encode()).hexdigest()[:8]
        return f"{name[: limit - 9]}-{digest}"

    def _declared_name(self, logical_id: str, key: str) -> str | None:
        declared = self.properties(logical_id).get(key)
        if declared is None:
            return None
        return _scalar_text(Resolver(self, {}, {}).resolve(declared), f"{logical_id}.{key}")

    def physical_name(self, logical_id: str) -> str:
        """The name a resource gets locally: its declared name, else `{stack}-{LogicalId}` as CloudFormation."""
        kind = str(self.resources[logical_id].get("Type"))
        if kind == QUEUE_TYPE:
            declared = self._declared_name(logical_id, "QueueName")
            if declared:
                return declared
            fifo = _truthy(self.properties(logical_id).get("FifoQueue"))
            return self.auto_name(logical_id, 75) + ".fifo" if fifo else self.auto_name(logical_id, 80)
        if kind == BUCKET_TYPE:
            return self._declared_name(logical_id, "BucketName") or self.auto_name(logical_id, 63).lower()
        if kind == BUS_TYPE:
            declared = self._declared_name(logical_id, "Name")
            if not declared:
                raise TemplateError(f"{logical_id}: an AWS::Events::EventBus needs a Name")
            return declared
        name_property, limit = _NAME_PROPERTY.get(kind, ("", 64))
        return (name_property and self._declared_name(logical_id, name_property)) or self.auto_name(logical_id, limit)

    def delivery_queue_name(self, rule_logical_id: str, target_id: str | None = None) -> str:
        """The internal queue a function-targeting rule delivers to locally: `{stack}-{rule}-delivery`."""
        stem = f"{rule_logical_id}-{target_id}" if target_id else rule_logical_id
        stem = re.sub(r"[^A-Za-z0-9_-]", "-", stem)
        return self.auto_name(stem, 80 - len("-delivery")) + "-delivery"

    # ------------------------------------------------------------------ values that need no emulator

    def static_values(self) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
        """Ref and GetAtt of what the emulator does not hold: functions, layers, APIs, roles."""
        refs: dict[str, Any] = {}
        attrs: dict[str, dict[str, str]] = {}
        arn_prefix = f"arn:{_PSEUDO_PARTITION}:lambda:{self.region}:{self.account_id}"
        for logical_id, resource in self.resources.items():
            kind = resource.get("Type")
            if kind == FUNCTION_TYPE:
                name = self.physical_name(logical_id)
                refs[logical_id] = name
                attrs[logical_id] = {"Arn": f"{arn_prefix}:function:{name}"}
                role = f"{logical_id}Role"  # SAM's implicit execution role
                refs.setdefault(role, self.auto_name(role, 64))
                attrs.setdefault(role, {"Arn": f"arn:aws:iam::{self.account_id}:role/{refs[role]}"})
            elif kind in LAYER_TYPES:
                refs[logical_id] = f"{arn_prefix}:layer:{self.physical_name(logical_id)}:1"
            elif kind in {"AWS::Serverless::Api", "AWS::Serverless::HttpApi"}:
                refs[logical_id] = _fake_api_id(logical_id)
                attrs[logical_id] = {"RootResourceId": _fake_api_id(logical_id + "/"), "ApiEndpoint": ""}
            elif kind == "AWS::IAM::Role":
                refs[logical_id] = self.auto_name(logical_id, 64)
                attrs[logical_id] = {"Arn": f"arn:aws:iam::{self.account_id}:role/{refs[logical_id]}"}
        # SAM's implicit APIs, for `${ServerlessRestApi}` in outputs and environments.
        for implicit in ("ServerlessRestApi", "ServerlessHttpApi"):
            refs.setdefault(implicit, _fake_api_id(implicit))
        return refs, attrs


def _fake_api_id(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()[:10]


def _schedule_expression(kind: str, props: Mapping[str, Any]) -> str | None:
    if kind not in SCHEDULE_EVENT_TYPES:
        return None
    return str(props.get("Schedule") or props.get("ScheduleExpression"))


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _sub_names(argument: Any) -> Iterator[str]:
    text = argument if isinstance(argument, str) else argument[0]
    for match in _SUB_VARIABLE.finditer(str(text)):
        if not match.group(1).startswith("!"):
            yield match.group(1).split(".", 1)[0]
    if not isinstance(argument, str):
        yield from referenced_names(argument[1])


def referenced_names(value: Any) -> Iterator[str]:
    """Every logical id or parameter a value names through Ref, Fn::GetAtt or Fn::Sub."""
    if isinstance(value, list):
        for item in value:
            yield from referenced_names(item)
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        if key == "Ref" and isinstance(item, str):
            yield item
        elif key == "Fn::GetAtt":
            yield (item.split(".", 1)[0] if isinstance(item, str) else str(item[0]))
        elif key == "Fn::Sub":
            yield from _sub_names(item)
        else:
            yield from referenced_names(item)


# ------------------------------------------------------------------------------------------------ reading


def _parameter_values(declared: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, Any]:
    unknown = set(overrides) - set(declared)
    if unknown:
        raise TemplateError(f"parameter overrides for undeclared parameters: {sorted(unknown)}")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        if name in overrides:
            raw = str(overrides[name])
        elif "Default" in spec:
            raw = _scalar_text(spec["Default"], f"parameter {name} default")
        else:
            raise TemplateError(f"parameter {name} has no Default: pass it in parameter_overrides")
        _check_parameter(name, spec, raw)
        kind = str(spec.get("Type", "String"))
        values[name] = raw.split(",") if kind.startswith("List<") or kind == "CommaDelimitedList" else raw
    return values


def _check_parameter(name: str, spec: Mapping[str, Any], raw: str) -> None:
    # CloudFormation refuses these before creating anything; so does the local stack.
    allowed = spec.get("AllowedValues")
    if allowed is not None and raw not in [str(item) for item in allowed]:
        raise TemplateError(f"parameter {name}={raw!r} is not one of {allowed}")
    pattern = spec.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(str(pattern), raw):
        raise TemplateError(f"parameter {name}={raw!r} does not match {pattern}")
    if spec.get("Type") == "Number":
        try:
            number = float(raw)
        except ValueError:
            raise TemplateError(f"parameter {name}={raw!r} is not a number") from None
        if "MinValue" in spec and number < float(spec["MinValue"]):
            raise TemplateError(f"parameter {name}={raw} is below {spec['MinValue']}")
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            raise TemplateError(f"parameter {name}={raw} is above {spec['MaxValue']}")


def read_template(
    template_path: Path,
    *,
    stack_name: str = DEFAULT_STACK_NAME,
    region: str = LOCAL_REGION,
    account_id: str = LOCAL_ACCOUNT_ID,
    parameter_overrides: Mapping[str, str] | None = None,
) -> StackTemplate:
    """Parse the template with SAM CLI's reader and run SAM's plugins (Globals), intrinsics left in place."""
    # Imported here: samcli costs ~1 s to import, and only the stack start needs it.
    from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider
    from samcli.lib.samlib.wrapper import SamTranslatorWrapper

    path = Path(template_path).resolve()
    stacks, _ = SamLocalStackProvider.get_stacks(template_file=str(path))  # language extensions expanded
    raw: dict[str, Any] = stacks[0].template_dict
    parameters = _parameter_values(raw.get("Parameters") or {}, dict(parameter_overrides or {}))
    pseudo = {
        "AWS::StackName": stack_name,
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::Partition": _PSEUDO_PARTITION,
        "AWS::URLSuffix": _PSEUDO_URL_SUFFIX,
        "AWS::StackId": f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/local",
        "AWS::NotificationARNs": [],
    }
    # SAM's own Globals plugin merges the Globals section exactly as `sam deploy` would.
    merged: dict[str, Any] = SamTranslatorWrapper(raw, parameter_values={**pseudo, **parameters}).run_plugins(
        convert_local_uris=False
    )
    template = StackTemplate(
        path=path,
        stack_name=stack_name,
        region=region,
        account_id=account_id,
        parameters={**pseudo, **parameters},
        resources={},
        conditions_source=dict(merged.get("Conditions") or {}),
        mappings=dict(merged.get("Mappings") or {}),
    )
    # A resource whose Condition is false does not exist, as in CloudFormation.
    template.resources = {
        logical_id: resource
        for logical_id, resource in (merged.get("Resources") or {}).items()
        if "Condition" not in resource or template.condition(resource["Condition"])
    }
    return template


# -------------------------------------------------------------------------------------- physical lookups


class PhysicalLookup:
    """Ref and GetAtt values of what the emulator holds, as it reports them (moto-shaped guesses when absent)."""

    def __init__(self, endpoint_url: str, region: str, *, live: bool = True) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self.region = region
        self._session = boto3_session(self.endpoint_url, region) if live else None
        self._clients: dict[str, Any] = {}
        self.account_id = self._discover_account()

    def _client(self, service: str) -> Any:
        assert self._session is not None
        if service not in self._clients:
            self._clients[service] = self._session.client(service)
        return self._clients[service]

    def _discover_account(self) -> str:
        if self._session is None:
            return LOCAL_ACCOUNT_ID
        try:
            return str(self._client("sts").get_caller_identity()["Account"])
        except (ClientError, BotoCoreError):
            return LOCAL_ACCOUNT_ID  # an emulator without STS: moto's default account

    def _live(self, call: Callable[[], dict[str, str]], what: str) -> dict[str, str] | None:
        if self._session is None:
            return None
        try:
            return call()
        except ClientError as error:
            logger.debug("%s not in the emulator (%s): using the expected value", what, error)
            return None

    def queue(self, name: str) -> tuple[str, dict[str, str]]:
        def ask() -> dict[str, str]:
            sqs = self._client("sqs")
            url = str(sqs.get_queue_url(QueueName=name)["QueueUrl"])
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            return {"QueueUrl": url, "Arn": str(arn)}

        found = self._live(ask, f"queue {name}") or {
            "QueueUrl": f"{self.endpoint_url}/{self.account_id}/{name}",
            "Arn": f"arn:aws:sqs:{self.region}:{self.account_id}:{name}",
        }
        return found["QueueUrl"], {**found, "QueueName": name}

    def table(self, name: str) -> tuple[str, dict[str, str]]:
        def ask() -> dict[str, str]:
            table = self._client("dynamodb").describe_table(TableName=name)["Table"]
            found = {"Arn": str(table["TableArn"])}
            if table.get("LatestStreamArn"):
                found["StreamArn"] = str(table["LatestStreamArn"])
            return found

        found = self._live(ask, f"table {name}") or {
            "Arn": f"arn:aws:dynamodb:{self.region}:{self.account_id}:table/{name}"
        }
        return name, found

    def bucket(self, name: str) -> tuple[str, dict[str, str]]:
        return name, {
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{self.region}.amazonaws.com",
            "DualStackDomainName": f"{name}.s3.dualstack.{self.region}.amazonaws.com",
            "WebsiteURL": f"http://{name}.s3-website.{self.region}.amazonaws.com",
        }

    def secret(self, name: str) -> tuple[str, dict[str, str]]:
        """Ref of a secret is its ARN (CloudFormation's answer), so functions get what they would on AWS."""
        found = self._live(
            lambda: {"Arn": str(self._client("secretsmanager").describe_secret(SecretId=name)["ARN"])},
            f"secret {name}",
        ) or {"Arn": f"arn:aws:secretsmanager:{self.region}:{self.account_id}:secret:{name}"}
        return found["Arn"], {"Id": found["Arn"]}

    def event_bus(self, name: str) -> tuple[str, dict[str, str]]:
        found = self._live(
            lambda: {"Arn": str(self._client("events").describe_event_bus(Name=name)["Arn"])}, f"event bus {name}"
        ) or {"Arn": f"arn:aws:events:{self.region}:{self.account_id}:event-bus/{name}"}
        return name, {**found, "Name": name}

    def rule(self, name: str, bus_name: str) -> tuple[str, dict[str, str]]:
        path = name if bus_name == "default" else f"{bus_name}/{name}"
        found = self._live(
            lambda: {"Arn": str(self._client("events").describe_rule(Name=name, EventBusName=bus_name)["Arn"])},
            f"rule {name}",
        ) or {"Arn": f"arn:aws:events:{self.region}:{self.account_id}:rule/{path}"}
        # Ref of a rule on a custom bus is "bus|rule", as CloudFormation returns it.
        return (name if bus_name == "default" else f"{bus_name}|{name}"), found

    def values(self, template: StackTemplate, logical_id: str) -> tuple[Any, dict[str, str]]:
        """(Ref, GetAtt attributes) of one provisioned resource."""
        kind = template.resources[logical_id].get("Type")
        name = template.physical_name(logical_id)
        if kind in TABLE_TYPES:
            return self.table(name)
        if kind == QUEUE_TYPE:
            return self.queue(name)
        if kind == BUCKET_TYPE:
            return self.bucket(name)
        if kind == BUS_TYPE:
            return self.event_bus(name)
        if kind == SECRET_TYPE:
            return self.secret(name)
        if kind == RULE_TYPE:
            bus = Resolver(template, {}, {}).resolve(template.properties(logical_id).get("EventBusName", "default"))
            return self.rule(name, _bus_name(str(bus)))
        raise TemplateError(f"{logical_id}: {kind} is not provisioned")


def _bus_name(name_or_arn: str) -> str:
    """EventBusName takes a name or an ARN; the API wants the name."""
    return name_or_arn.rsplit("/", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn


# -------------------------------------------------------------------------------------------- the model


@dataclass
class ResolvedValues:
    """What Ref and GetAtt answer, accumulated as resources are provisioned."""

    refs: dict[str, Any] = field(default_factory=dict)
    attrs: dict[str, dict[str, str]] = field(default_factory=dict)

    def add(self, logical_id: str, ref: Any, attributes: Mapping[str, str]) -> None:
        self.refs[logical_id] = ref
        self.attrs[logical_id] = dict(attributes)


def _env_text(function_id: str, name: str, value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float):
        return str(value)
    raise TemplateError(f"{function_id}: environment variable {name} resolved to {value!r}, not a string")


class ModelBuilder:
    """Turn the resolved template into FunctionSpec, SqsSourceSpec, ScheduleSpec and EventRuleSpec."""

    def __init__(self, template: StackTemplate, values: ResolvedValues, lookup: PhysicalLookup) -> None:
        self.template = template
        self.values = values
        self.lookup = lookup
        self.resolver = Resolver(template, values.refs, values.attrs)
        self._function_by_arn = {
            attrs["Arn"]: logical_id
            for logical_id, attrs in values.attrs.items()
            if template.resources.get(logical_id, {}).get("Type") == FUNCTION_TYPE
        }

    # ------------------------------------------------------------------ functions

    def function(self, logical_id: str) -> FunctionSpec:
        props = self.template.properties(logical_id)
        for key, why in (("InlineCode", "inline code"), ("ImageUri", "a container image")):
            if key in props:
                raise UnsupportedResourceError(f"{logical_id}: {why} cannot run in the local stack")
        code_uri = props.get("CodeUri")
        if not isinstance(code_uri, str):
            raise UnsupportedResourceError(f"{logical_id}: CodeUri must be a local folder, got {code_uri!r}")
        variables = self.resolver.resolve((props.get("Environment") or {}).get("Variables") or {})
        return FunctionSpec(
            logical_id=logical_id,
            handler=str(self.resolver.resolve(props.get("Handler", ""))),
            code_dir=(self.template.directory / code_uri).resolve(),
            layer_dirs=tuple(self._layer_dirs(logical_id, props.get("Layers") or [])),
            environment={name: _env_text(logical_id, name, value) for name, value in variables.items()},
            timeout_s=int(self.resolver.resolve(props.get("Timeout", 3))),  # Lambda's defaults
            memory_mb=int(self.resolver.resolve(props.get("MemorySize", 128))),
            function_name=str(self.values.refs[logical_id]),
        )

    def _layer_dirs(self, function_id: str, layers: list[Any]) -> Iterator[Path]:
        layer_by_arn = {self.values.refs[layer_id]: layer_id for layer_id in self.template.of_type(*LAYER_TYPES)}
        for entry in self.resolver.resolve(layers):
            layer_id = layer_by_arn.get(entry)
            if layer_id is None:
                # A published layer (Powertools, say): its packages come from the local environment instead.
                logger.warning("%s: layer %s is not in the template, not mounted locally", function_id, entry)
                continue
            yield from self._layer_paths(layer_id)

    def _layer_paths(self, layer_id: str) -> Iterator[Path]:
        resource = self.template.resources[layer_id]
        props = resource.get("Properties") or {}
        content = props.get("ContentUri", props.get("Content"))
        if not isinstance(content, str):
            raise UnsupportedResourceError(f"{layer_id}: layer content must be a local folder, got {content!r}")
        root = (self.template.directory / content).resolve()
        build_method = str((resource.get("Metadata") or {}).get("BuildMethod", ""))
        # `sam build` with a pythonX.Y BuildMethod puts the folder's content under python/ (/opt/python);
        # without one the folder is zipped as is, so its own python/ subfolder becomes /opt/python.
        python_dir = root if build_method.startswith("python") else root / "python"
        yield python_dir
        for site_packages in sorted(python_dir.glob("lib/python3*/site-packages")):
            yield site_packages.resolve()

    # ------------------------------------------------------------------ events

    def events(self, function_id: str) -> tuple[list[SqsSourceSpec], list[RuleDecl]]:
        sources: list[SqsSourceSpec] = []
        rules: list[RuleDecl] = []
        for event_name, event in (self.template.properties(function_id).get("Events") or {}).items():
            kind = event.get("Type")
            props = self.resolver.resolve(event.get("Properties") or {})
            if kind == "SQS":
                sources.append(self._sqs_source(function_id, props))
            elif kind in SCHEDULE_EVENT_TYPES or kind in RULE_EVENT_TYPES:
                rules.append(self._event_rule(function_id, event_name, kind, props))
            elif kind not in GATEWAY_EVENT_TYPES:
                raise UnsupportedResourceError(
                    f"{function_id}: event {event_name} of Type {kind} has no local event source"
                )
        return sources, rules

    def _sqs_source(self, function_id: str, props: Mapping[str, Any]) -> SqsSourceSpec:
        queue_arn = str(props["Queue"])
        queue_url = next(
            (str(self.values.refs[qid]) for qid, attrs in self.values.attrs.items() if attrs.get("Arn") == queue_arn),
            None,
        )
        if queue_url is None:  # a queue outside the template: the emulator may still hold it
            queue_url = self.lookup.queue(queue_arn.rsplit(":", 1)[-1])[0]
        filters = (props.get("FilterCriteria") or {}).get("Filters") or []
        return SqsSourceSpec(
            function_id=function_id,
            queue_url=queue_url,
            queue_arn=queue_arn,
            batch_size=int(props.get("BatchSize", 10)),
            batching_window_s=int(props.get("MaximumBatchingWindowInSeconds", 0)),
            report_batch_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
            enabled=_truthy(props.get("Enabled", True)),
            filter_patterns=tuple(
                item["Pattern"] if isinstance(item["Pattern"], str) else json.dumps(item["Pattern"]) for item in filters
            ),
        )

    def _event_rule(self, function_id: str, event_name: str, kind: str, props: Mapping[str, Any]) -> RuleDecl:
        # SAM names the generated rule (or schedule) FunctionId + EventName.
        logical_id = f"{function_id}{event_name}"
        explicit = props.get("RuleName") if kind in RULE_EVENT_TYPES else props.get("Name")
        name = str(explicit) if explicit else self.template.auto_name(logical_id, 64)
        target = props.get("Target") or {}
        transformer = props.get("InputTransformer")
        state = props.get("State")
        enabled = state != "DISABLED" if state is not None else _truthy(props.get("Enabled", True))
        return RuleDecl(
            logical_id=logical_id,
            name=name,
            bus_name=_bus_name(str(props.get("EventBusName", "default"))),
            pattern=props.get("Pattern") if kind in RULE_EVENT_TYPES else None,
            schedule=_schedule_expression(kind, props),
            enabled=enabled,
            targets=(
                TargetDecl(
                    target_id=str(target.get("Id") or f"{logical_id}LambdaTarget"),
                    arn=self.values.attrs[function_id]["Arn"],
                    function_id=function_id,
                    input_json=props.get("Input"),
                    input_path=props.get("InputPath"),
                    input_transformer=dict(transformer) if transformer else None,
                ),
            ),
            timezone=str(props.get("ScheduleExpressionTimezone", "UTC")),
            scheduler=kind == "ScheduleV2",
            description=str(props.get("Description", "")),
        )

    def rule_resource(self, logical_id: str) -> RuleDecl:
        props = self.resolver.resolve(self.template.properties(logical_id))
        pattern = props.get("EventPattern")
        targets = tuple(
            TargetDecl(
                target_id=str(target["Id"]),
                arn=str(target["Arn"]),
                function_id=self._function_by_arn.get(str(target["Arn"])),
                input_json=target.get("Input"),
                input_path=target.get("InputPath"),
                input_transformer=target.get("InputTransformer"),
                sqs_parameters=target.get("SqsParameters"),
            )
            for target in props.get("Targets") or []
        )
        return RuleDecl(
            logical_id=logical_id,
            name=self.template.physical_name(logical_id),
            bus_name=_bus_name(str(props.get("EventBusName", "default"))),
            pattern=json.loads(pattern) if isinstance(pattern, str) else pattern,
            schedule=props.get("ScheduleExpression"),
            enabled=props.get("State", "ENABLED") != "DISABLED",
            targets=targets,
            description=str(props.get("Description", "")),
        )

    def rules(self) -> list[RuleDecl]:
        """Every rule the stack declares: AWS::Events::Rule resources and the functions' rule events."""
        declared = [self.rule_resource(logical_id) for logical_id in self.template.of_type(RULE_TYPE)]
        for function_id in self.template.of_type(FUNCTION_TYPE):
            declared.extend(self.events(function_id)[1])
        return declared

    def delivery_targets(self, rule: RuleDecl) -> list[tuple[TargetDecl, str]]:
        """(function target, delivery queue name) pairs of a pattern rule: one internal queue per target."""
        functions = [target for target in rule.targets if target.function_id]
        many = len(functions) > 1
        return [
            (target, self.template.delivery_queue_name(rule.logical_id, target.target_id if many else None))
            for target in functions
        ]

    # ------------------------------------------------------------------ assembly

    def _retry_attempts(self, function_id: str) -> int:
        config = self.resolver.resolve(self.template.properties(function_id).get("EventInvokeConfig") or {})
        return int(config.get("MaximumRetryAttempts", 2))

    def _rule_specs(self, rule: RuleDecl, model: StackModel) -> None:
        if rule.schedule is not None:
            arn = (
                f"arn:aws:scheduler:{self.template.region}:{self.lookup.account_id}:schedule/default/{rule.name}"
                if rule.scheduler
                else self.lookup.rule(rule.name, rule.bus_name)[1]["Arn"]
            )
            for target in rule.targets:
                if target.function_id is None:
                    raise UnsupportedResourceError(
                        f"{rule.logical_id}: schedule target {target.arn} is not a function of this template; "
                        "the local scheduler only invokes functions"
                    )
                model.schedules.append(
                    ScheduleSpec(
                        name=rule.name,
                        expression=rule.schedule,
                        function_id=target.function_id,
                        input_json=target.input_json,
                        enabled=rule.enabled,
                        logical_id=rule.logical_id,
                        timezone=rule.timezone,
                        arn=arn,
                        retry_attempts=self._retry_attempts(target.function_id),
                    )
                )
            return
        for target, queue_name in self.delivery_targets(rule):
            assert target.function_id is not None
            model.event_rules.append(
                EventRuleSpec(
                    name=rule.name,
                    bus_name=rule.bus_name,
                    pattern_json=json.dumps(rule.pattern or {}),
                    function_id=target.function_id,
                    delivery_queue_url=self.lookup.queue(queue_name)[0],
                    logical_id=rule.logical_id,
                    input_json=target.input_json,
                    input_path=target.input_path,
                    retry_attempts=self._retry_attempts(target.function_id),
                    enabled=rule.enabled,
                )
            )

    def build(self) -> StackModel:
        template = self.template
        model = StackModel(
            stack_name=template.stack_name,
            region=template.region,
            refs={key: value for key, value in self.values.refs.items() if isinstance(value, str)},
            attrs={key: dict(value) for key, value in self.values.attrs.items()},
            account_id=self.lookup.account_id,
        )
        for function_id in template.of_type(FUNCTION_TYPE):
            model.functions[function_id] = self.function(function_id)
            model.sqs_sources.extend(self.events(function_id)[0])
        for rule in self.rules():
            self._rule_specs(rule, model)
        return model


def resolve_values(template: StackTemplate, lookup: PhysicalLookup) -> ResolvedValues:
    """Ref/GetAtt of every resource: static ones, and the emulator's for what it holds."""
    values = ResolvedValues()
    refs, attrs = template.static_values()
    values.refs.update(refs)
    values.attrs.update(attrs)
    for logical_id in template.of_type(*PROVISIONED_TYPES):
        values.add(logical_id, *lookup.values(template, logical_id))
    return values


def load_stack(
    template_path: Path,
    endpoint_url: str,
    *,
    stack_name: str = DEFAULT_STACK_NAME,
    region: str = LOCAL_REGION,
    parameter_overrides: dict[str, str] | None = None,
    live: bool = True,
) -> StackModel:
    """The stack as the local runtime sees it, with URLs and ARNs as the emulator at endpoint_url reports them.

    Nothing is created: `resources.provision` creates and then calls the same code. With live=False (or for a
    resource the emulator does not hold) values take moto's shapes, so the model can be built offline.
    """
    lookup = PhysicalLookup(endpoint_url, region, live=live)
    template = read_template(
        template_path,
        stack_name=stack_name,
        region=region,
        account_id=lookup.account_id,
        parameter_overrides=parameter_overrides,
    )
    return ModelBuilder(template, resolve_values(template, lookup), lookup).build()
