"""Create, idempotently and in dependency order, every table, queue, bucket, bus and rule the template declares."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from infra.local.emulator import boto3_session
from infra.local.model import LOCAL_REGION, StackModel
from infra.local.template import (
    BUCKET_TYPE,
    BUS_TYPE,
    DEFAULT_STACK_NAME,
    FUNCTION_TYPE,
    GATEWAY_EVENT_TYPES,
    PROVISIONED_TYPES,
    QUEUE_TYPE,
    RULE_EVENT_TYPES,
    RULE_TYPE,
    SCHEDULE_EVENT_TYPES,
    SECRET_TYPE,
    TABLE_TYPES,
    ModelBuilder,
    PhysicalLookup,
    ResolvedValues,
    Resolver,
    RuleDecl,
    StackTemplate,
    TemplateError,
    UnsupportedResourceError,
    is_skipped,
    read_template,
    referenced_names,
)

logger = logging.getLogger(__name__)

# SQS attributes CloudFormation accepts, all passed to the API as strings.
_QUEUE_ATTRIBUTES = (
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "DelaySeconds",
    "FifoQueue",
    "FifoThroughputLimit",
    "KmsDataKeyReusePeriodSeconds",
    "KmsMasterKeyId",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "RedriveAllowPolicy",
    "RedrivePolicy",
    "SqsManagedSseEnabled",
    "VisibilityTimeout",
)
# Rule targets moto can deliver to; any other ARN makes its PutEvents fail for the whole bus.
_MOTO_TARGET_SERVICES = frozenset({"sqs", "events", "logs"})
# A failed asynchronous invocation is retried once the delivery message is visible again; it stays
# invisible for the function's timeout plus this margin, so a running invocation is never doubled.
_DELIVERY_VISIBILITY_MARGIN_S = 5


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _tags(tags: Any) -> list[dict[str, str]]:
    if isinstance(tags, dict):  # SAM resources take a map, CloudFormation ones a list
        return [{"Key": str(key), "Value": str(value)} for key, value in tags.items()]
    return [{"Key": str(tag["Key"]), "Value": str(tag["Value"])} for tag in tags or []]


# ------------------------------------------------------------------------------------------ translations


def table_parameters(name: str, kind: str, props: Mapping[str, Any]) -> dict[str, Any]:
    """CreateTable parameters from AWS::DynamoDB::Table (or SAM SimpleTable) properties."""
    if kind == "AWS::Serverless::SimpleTable":
        key = props.get("PrimaryKey") or {"Name": "id", "Type": "String"}
        throughput = props.get("ProvisionedThroughput")
        props = {
            "AttributeDefinitions": [{"AttributeName": key["Name"], "AttributeType": str(key["Type"])[0]}],
            "KeySchema": [{"AttributeName": key["Name"], "KeyType": "HASH"}],
            "BillingMode": "PROVISIONED" if throughput else "PAY_PER_REQUEST",
            **({"ProvisionedThroughput": throughput} if throughput else {}),
            **({"SSESpecification": props["SSESpecification"]} if "SSESpecification" in props else {}),
            "Tags": props.get("Tags"),
        }
    billing = str(props.get("BillingMode", "PROVISIONED"))
    params: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": billing,
    }
    if billing == "PROVISIONED":
        params["ProvisionedThroughput"] = _throughput(props.get("ProvisionedThroughput"))
    if props.get("GlobalSecondaryIndexes"):
        params["GlobalSecondaryIndexes"] = [_index(index, billing) for index in props["GlobalSecondaryIndexes"]]
    if props.get("LocalSecondaryIndexes"):
        params["LocalSecondaryIndexes"] = [_index(index, None) for index in props["LocalSecondaryIndexes"]]
    if props.get("StreamSpecification"):
        view = props["StreamSpecification"]["StreamViewType"]
        params["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view}
    sse = props.get("SSESpecification")
    if sse:
        params["SSESpecification"] = {
            "Enabled": bool(sse.get("SSEEnabled")),
            **({"SSEType": sse["SSEType"]} if "SSEType" in sse else {}),
            **({"KMSMasterKeyId": sse["KMSMasterKeyId"]} if "KMSMasterKeyId" in sse else {}),
        }
    for key in ("TableClass", "DeletionProtectionEnabled"):
        if key in props:
            params[key] = props[key]
    if props.get("Tags"):
        params["Tags"] = _tags(props["Tags"])
    return params


def _throughput(throughput: Any) -> dict[str, int]:
    throughput = throughput or {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
    return {
        "ReadCapacityUnits": int(throughput["ReadCapacityUnits"]),
        "WriteCapacityUnits": int(throughput["WriteCapacityUnits"]),
    }


def _index(index: Mapping[str, Any], billing: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "IndexName": index["IndexName"],
        "KeySchema": index["KeySchema"],
        "Projection": index.get("Projection") or {"ProjectionType": "ALL"},
    }
    if billing == "PROVISIONED":
        result["ProvisionedThroughput"] = _throughput(index.get("ProvisionedThroughput"))
    return result


def queue_attributes(props: Mapping[str, Any]) -> dict[str, str]:
    """SetQueueAttributes/CreateQueue attributes from AWS::SQS::Queue properties."""
    return {key: _text(props[key]) for key in _QUEUE_ATTRIBUTES if key in props}


def _cors_rules(props: Mapping[str, Any]) -> list[dict[str, Any]]:
    # CloudFormation spells three keys differently from the S3 API.
    renames = {"ExposedHeaders": "ExposeHeaders", "Id": "ID", "MaxAge": "MaxAgeSeconds"}
    rules = (props.get("CorsConfiguration") or {}).get("CorsRules") or []
    return [{renames.get(key, key): value for key, value in rule.items()} for rule in rules]


def _encryption_rules(props: Mapping[str, Any]) -> list[dict[str, Any]]:
    rules = (props.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration") or []
    renames = {"ServerSideEncryptionByDefault": "ApplyServerSideEncryptionByDefault"}
    return [{renames.get(key, key): value for key, value in rule.items()} for rule in rules]


def _lifecycle_rules(logical_id: str, props: Mapping[str, Any]) -> list[dict[str, Any]]:
    rules = []
    for rule in (props.get("LifecycleConfiguration") or {}).get("Rules") or []:
        converted: dict[str, Any] = {
            "ID": rule.get("Id", ""),
            "Status": rule["Status"],
            "Filter": {"Prefix": rule.get("Prefix", "")},
        }
        if "ExpirationInDays" in rule:
            converted["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
        if "AbortIncompleteMultipartUpload" in rule:
            converted["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
        if "NoncurrentVersionExpirationInDays" in rule:
            days = int(rule["NoncurrentVersionExpirationInDays"])
            converted["NoncurrentVersionExpiration"] = {"NoncurrentDays": days}
        ignored = set(rule) - {
            "Id",
            "Status",
            "Prefix",
            "ExpirationInDays",
            "AbortIncompleteMultipartUpload",
            "NoncurrentVersionExpirationInDays",
        }
        if ignored:
            # moto stores lifecycle rules but never applies them: nothing observable is lost.
            logger.debug("%s: lifecycle keys %s not sent to the emulator", logical_id, sorted(ignored))
        rules.append(converted)
    return rules


# ------------------------------------------------------------------------------------------ provisioning


def generate_secret_string(spec: Mapping[str, Any]) -> str:
    """What CloudFormation's GenerateSecretString makes: a random password, or a JSON object holding one."""
    import secrets
    import string

    alphabet = ""
    if not _flag(spec.get("ExcludeLowercase")):
        alphabet += string.ascii_lowercase
    if not _flag(spec.get("ExcludeUppercase")):
        alphabet += string.ascii_uppercase
    if not _flag(spec.get("ExcludeNumbers")):
        alphabet += string.digits
    if not _flag(spec.get("ExcludePunctuation")):
        alphabet += string.punctuation
    if _flag(spec.get("IncludeSpace")):
        alphabet += " "
    excluded = set(str(spec.get("ExcludeCharacters", "")))
    alphabet = "".join(c for c in alphabet if c not in excluded)
    if not alphabet:
        raise TemplateError("GenerateSecretString excludes every character")
    length = int(spec.get("PasswordLength", 32))
    password = "".join(secrets.choice(alphabet) for _ in range(length))
    template, key = spec.get("SecretStringTemplate"), spec.get("GenerateStringKey")
    if template and key:
        document = json.loads(str(template))
        document[str(key)] = password
        return json.dumps(document)
    return password


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def creation_order(template: StackTemplate) -> list[str]:
    """Tables, queues, buckets and buses, each after those it names (a DLQ before its source queue)."""
    pending = [
        logical_id
        for logical_id in template.of_type(*PROVISIONED_TYPES)
        if template.resources[logical_id]["Type"] != RULE_TYPE
    ]
    deps = {logical_id: template.dependencies(logical_id) & set(pending) for logical_id in pending}
    ordered: list[str] = []
    while pending:
        ready = [logical_id for logical_id in pending if deps[logical_id] <= set(ordered)]
        if not ready:
            raise TemplateError(f"circular references between {sorted(pending)}")
        ordered.extend(ready)
        pending = [logical_id for logical_id in pending if logical_id not in ready]
    return ordered


def _names_used_by_functions(template: StackTemplate) -> set[str]:
    used: set[str] = set()
    for function_id in template.of_type(FUNCTION_TYPE):
        props = template.properties(function_id)
        scoped = {key: props[key] for key in ("Environment", "Events", "Layers") if key in props}
        used |= _referenced(scoped)
    for logical_id in template.of_type(*PROVISIONED_TYPES):
        used |= template.dependencies(logical_id)
    return used


def _referenced(value: Any) -> set[str]:
    return set(referenced_names(value))


def preflight(template: StackTemplate) -> None:
    """Refuse, before creating anything, a stack whose functions need what the local stack cannot give."""
    problems: list[str] = []
    used = _names_used_by_functions(template)
    for logical_id, resource in template.resources.items():
        kind = str(resource.get("Type"))
        if kind in PROVISIONED_TYPES:
            continue
        if is_skipped(kind):
            logger.debug("%s (%s): no local meaning, skipped", logical_id, kind)
            continue
        if logical_id in used:
            problems.append(f"{logical_id} ({kind}), which the functions or resources use")
        else:
            logger.warning("%s (%s) is not created locally: nothing in the stack uses it", logical_id, kind)
    runnable = GATEWAY_EVENT_TYPES | SCHEDULE_EVENT_TYPES | RULE_EVENT_TYPES | {"SQS"}
    for function_id in template.of_type(FUNCTION_TYPE):
        for event_name, event in (template.properties(function_id).get("Events") or {}).items():
            if event.get("Type") not in runnable:
                problems.append(f"{function_id} event {event_name} (Type {event.get('Type')})")
    if problems:
        raise UnsupportedResourceError("the local stack cannot provide: " + "; ".join(problems))


class Provisioner:
    """Creates one resource at a time in the emulator, converging when it already exists."""

    def __init__(self, template: StackTemplate, values: ResolvedValues, endpoint_url: str) -> None:
        self.template = template
        self.values = values
        self.resolver = Resolver(template, values.refs, values.attrs)
        session = boto3_session(endpoint_url, template.region)
        self.dynamodb = session.client("dynamodb")
        self.sqs = session.client("sqs")
        self.s3 = session.client("s3")
        self.events = session.client("events")
        self.secrets = session.client("secretsmanager")

    def create(self, logical_id: str) -> None:
        kind = self.template.resources[logical_id]["Type"]
        name = self.template.physical_name(logical_id)
        props = self.resolver.resolve(self.template.properties(logical_id))
        if kind in TABLE_TYPES:
            self.table(logical_id, name, kind, props)
        elif kind == QUEUE_TYPE:
            self.queue(name, queue_attributes(props), _tags(props.get("Tags")))
        elif kind == BUCKET_TYPE:
            self.bucket(logical_id, name, props)
        elif kind == BUS_TYPE:
            self.event_bus(name)
        elif kind == SECRET_TYPE:
            self.secret(name, props)

    # ------------------------------------------------------------------ Secrets Manager

    def secret(self, name: str, props: Mapping[str, Any]) -> None:
        """A secret with its declared SecretString, or one generated as GenerateSecretString asks (moto does not)."""
        try:
            self.secrets.describe_secret(SecretId=name)
            return  # an existing secret keeps its value: tokens signed with it stay valid
        except ClientError as error:
            if _error_code(error) != "ResourceNotFoundException":
                raise
        value = props.get("SecretString")
        if value is None:
            value = generate_secret_string(props.get("GenerateSecretString") or {})
        self.secrets.create_secret(Name=name, SecretString=str(value), Description=str(props.get("Description", "")))
        logger.info("created secret %s", name)

    # ------------------------------------------------------------------ DynamoDB

    def table(self, logical_id: str, name: str, kind: str, props: Mapping[str, Any]) -> None:
        params = table_parameters(name, kind, props)
        try:
            existing = self.dynamodb.describe_table(TableName=name)["Table"]
        except ClientError as error:
            if _error_code(error) != "ResourceNotFoundException":
                raise
            self.dynamodb.create_table(**params)
            logger.info("created table %s", name)
        else:
            if existing["KeySchema"] != params["KeySchema"]:
                logger.warning("table %s exists with another key schema: reset the emulator to apply", name)
        self._time_to_live(name, props.get("TimeToLiveSpecification"))
        self._point_in_time_recovery(name, props.get("PointInTimeRecoverySpecification"))

    def _time_to_live(self, name: str, spec: Mapping[str, Any] | None) -> None:
        if not spec:
            return
        wanted = {"Enabled": bool(spec.get("Enabled")), "AttributeName": str(spec["AttributeName"])}
        current = self.dynamodb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        is_enabled = current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
        if (
            is_enabled == wanted["Enabled"]
            and current.get("AttributeName", wanted["AttributeName"]) == (wanted["AttributeName"])
        ):
            return
        self.dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=wanted)

    def _point_in_time_recovery(self, name: str, spec: Mapping[str, Any] | None) -> None:
        if not spec:
            return
        wanted = bool(spec.get("PointInTimeRecoveryEnabled"))
        current = self.dynamodb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        status = current.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus")
        if (status == "ENABLED") != wanted:
            self.dynamodb.update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": wanted}
            )

    # ------------------------------------------------------------------ SQS

    def queue(self, name: str, attributes: Mapping[str, str], tags: list[dict[str, str]] | None = None) -> str:
        try:
            url = str(self.sqs.get_queue_url(QueueName=name)["QueueUrl"])
        except ClientError as error:
            if _error_code(error) not in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
                raise
            tag_map = {tag["Key"]: tag["Value"] for tag in tags or []}
            url = str(self.sqs.create_queue(QueueName=name, Attributes=dict(attributes), tags=tag_map)["QueueUrl"])
            logger.info("created queue %s", name)
            return url
        current = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        changed = {key: value for key, value in attributes.items() if not _same_attribute(key, current.get(key), value)}
        if "FifoQueue" in changed:
            raise TemplateError(f"queue {name} exists with another FifoQueue setting: reset the emulator")
        if changed:
            self.sqs.set_queue_attributes(QueueUrl=url, Attributes=changed)
            logger.info("queue %s: updated %s", name, sorted(changed))
        return url

    # ------------------------------------------------------------------ S3

    def bucket(self, logical_id: str, name: str, props: Mapping[str, Any]) -> None:
        try:
            self.s3.head_bucket(Bucket=name)
        except ClientError:
            options = {}
            if self.template.region != "us-east-1":  # S3 refuses the constraint for its home region
                options["CreateBucketConfiguration"] = {"LocationConstraint": self.template.region}
            self.s3.create_bucket(Bucket=name, **options)
            logger.info("created bucket %s", name)
        # Put* calls replace the whole configuration: repeating them with the same values changes nothing.
        if _cors_rules(props):
            self.s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": _cors_rules(props)})
        if props.get("VersioningConfiguration"):
            self.s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=props["VersioningConfiguration"])
        encryption = _encryption_rules(props)
        if encryption:
            self.s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": encryption})
        if props.get("PublicAccessBlockConfiguration"):
            self.s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
            )
        lifecycle = _lifecycle_rules(logical_id, props)
        if lifecycle:
            self.s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": lifecycle})
        self._notifications(logical_id, name, props.get("NotificationConfiguration") or {})
        if props.get("Tags"):
            self.s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": _tags(props["Tags"])})

    def _notifications(self, logical_id: str, name: str, config: Mapping[str, Any]) -> None:
        unsupported = set(config) - {"QueueConfigurations"}
        if unsupported:
            raise UnsupportedResourceError(f"{logical_id}: bucket notifications {sorted(unsupported)} are not run")
        queues = [
            {
                "QueueArn": item["Queue"],
                "Events": [item["Event"]],
                **({"Filter": {"Key": {"FilterRules": item["Filter"]["S3Key"]["Rules"]}}} if "Filter" in item else {}),
            }
            for item in config.get("QueueConfigurations") or []
        ]
        if queues:
            self.s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration={"QueueConfigurations": queues}
            )

    # ------------------------------------------------------------------ EventBridge

    def event_bus(self, name: str) -> None:
        if name == "default":
            return
        try:
            self.events.create_event_bus(Name=name)
            logger.info("created event bus %s", name)
        except ClientError as error:
            if _error_code(error) != "ResourceAlreadyExistsException":
                raise

    def rule(self, rule: RuleDecl, builder: ModelBuilder) -> None:
        if rule.scheduler:
            logger.debug("%s: an EventBridge Scheduler schedule, fired by the local scheduler", rule.logical_id)
            return
        params: dict[str, Any] = {
            "Name": rule.name,
            "EventBusName": rule.bus_name,
            "State": "ENABLED" if rule.enabled else "DISABLED",
            "Description": rule.description,
        }
        if rule.pattern is not None:
            params["EventPattern"] = json.dumps(rule.pattern)
        if rule.schedule is not None:
            params["ScheduleExpression"] = rule.schedule
        self.events.put_rule(**params)
        targets = self._targets(rule, builder)
        current = self.events.list_targets_by_rule(Rule=rule.name, EventBusName=rule.bus_name)["Targets"]
        stale = [target["Id"] for target in current if target["Id"] not in {t["Id"] for t in targets}]
        if stale:
            self.events.remove_targets(Rule=rule.name, EventBusName=rule.bus_name, Ids=stale)
        if targets:
            self.events.put_targets(Rule=rule.name, EventBusName=rule.bus_name, Targets=targets)

    def _targets(self, rule: RuleDecl, builder: ModelBuilder) -> list[dict[str, Any]]:
        if rule.schedule is not None:
            # moto treats a rule without a pattern as matching every event on the bus: targets here would
            # receive all of them. The local scheduler fires schedules instead.
            return []
        if not rule.enabled:
            # moto ignores State: a disabled rule with targets would still deliver.
            return []
        targets = [self._passthrough_target(rule, target) for target in rule.targets if not target.function_id]
        for target, queue_name in builder.delivery_targets(rule):
            timeout = builder.function(str(target.function_id)).timeout_s
            visibility = {"VisibilityTimeout": str(timeout + _DELIVERY_VISIBILITY_MARGIN_S)}
            self.queue(queue_name, visibility)
            queue_arn = builder.lookup.queue(queue_name)[1]["Arn"]
            delivery: dict[str, Any] = {"Id": target.target_id, "Arn": queue_arn}
            if target.input_transformer:  # moto applies InputTransformer itself; Input and InputPath it ignores
                delivery["InputTransformer"] = target.input_transformer
            targets.append(delivery)
        return targets

    def _passthrough_target(self, rule: RuleDecl, target: Any) -> dict[str, Any]:
        service = target.arn.split(":")[2] if target.arn.count(":") >= 5 else ""
        if service not in _MOTO_TARGET_SERVICES:
            raise UnsupportedResourceError(
                f"{rule.logical_id}: target {target.arn} is neither a function of this template nor an SQS queue,"
                " event bus or log group, which is all the local stack delivers to"
            )
        if target.input_json is not None or target.input_path is not None:
            logger.warning(
                "%s: moto ignores Input/InputPath on target %s: it receives the whole event",
                rule.logical_id,
                target.target_id,
            )
        delivered: dict[str, Any] = {"Id": target.target_id, "Arn": target.arn}
        if target.input_transformer:
            delivered["InputTransformer"] = target.input_transformer
        if target.sqs_parameters:
            delivered["SqsParameters"] = target.sqs_parameters
        return delivered


def _same_attribute(key: str, current: str | None, wanted: str) -> bool:
    if current is None:
        return False
    if key in ("RedrivePolicy", "RedriveAllowPolicy"):
        # moto stores maxReceiveCount as a number, the template may give a string.
        return _normalized_policy(current) == _normalized_policy(wanted)
    return current.lower() == wanted.lower()


def _normalized_policy(text: str) -> dict[str, str]:
    return {key: str(value) for key, value in json.loads(text).items()}


def _provision_rules(provisioner: Provisioner, builder: ModelBuilder, rules: Iterable[RuleDecl]) -> None:
    template, values = provisioner.template, provisioner.values
    for rule in rules:
        provisioner.rule(rule, builder)
        if rule.logical_id in template.resources and not rule.scheduler:
            values.add(rule.logical_id, *builder.lookup.rule(rule.name, rule.bus_name))


def provision(
    template_path: Path,
    endpoint_url: str,
    *,
    stack_name: str = DEFAULT_STACK_NAME,
    region: str = LOCAL_REGION,
    parameter_overrides: dict[str, str] | None = None,
) -> StackModel:
    """Create what the template declares in the emulator (a second run changes nothing) and return the model."""
    lookup = PhysicalLookup(endpoint_url, region)
    template = read_template(
        template_path,
        stack_name=stack_name,
        region=region,
        account_id=lookup.account_id,
        parameter_overrides=parameter_overrides,
    )
    preflight(template)
    values = ResolvedValues()
    static_refs, static_attrs = template.static_values()
    values.refs.update(static_refs)
    values.attrs.update(static_attrs)
    provisioner = Provisioner(template, values, lookup.endpoint_url)
    for logical_id in creation_order(template):
        provisioner.create(logical_id)
        # Later resources resolve against what the emulator reports (the DLQ's ARN, a queue's URL).
        values.add(logical_id, *lookup.values(template, logical_id))
    builder = ModelBuilder(template, values, lookup)
    _provision_rules(provisioner, builder, builder.rules())
    return builder.build()
