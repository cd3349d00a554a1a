"""Provisioning template.yaml into a real moto server: every declared resource, idempotent, intrinsics resolved."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode

from infra.local.emulator import Emulator, aws_client
from infra.local.model import StackModel
from infra.local.resources import provision
from infra.local.template import UnsupportedResourceError, load_stack

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "template.yaml"
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "event_sources.yaml"
STACK = "aimanager-local"
LOCAL_PARAMETERS = {"Stage": "local"}


def declared(template: Path, resource_type: str) -> dict[str, dict[str, Any]]:
    """The template's resources of one type, read by cfn-lint's parser (independently of the code under test)."""
    document, matches = decode(str(template))
    assert not matches and document is not None
    return {
        logical_id: resource.get("Properties") or {}
        for logical_id, resource in document["Resources"].items()
        if resource["Type"] == resource_type and "Condition" not in resource
    }


def intrinsic_leftovers(value: Any) -> list[str]:
    return re.findall(r"Ref|Fn::|\$\{", json.dumps(value))


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as running:
        yield running


@pytest.fixture(scope="module")
def endpoint(emulator: Emulator) -> str:
    return emulator.endpoint_url


@pytest.fixture(scope="module")
def stack(endpoint: str) -> StackModel:
    # Provisioned once: the tests below only read, or provision other stack names beside it.
    return provision(TEMPLATE, endpoint, stack_name=STACK, parameter_overrides=LOCAL_PARAMETERS)


def test_every_declared_table_queue_bucket_and_bus_exists(endpoint: str, stack: StackModel) -> None:
    # Given template.yaml's resources, listed here with plain YAML
    tables = declared(TEMPLATE, "AWS::DynamoDB::Table")
    queues = declared(TEMPLATE, "AWS::SQS::Queue")
    buckets = declared(TEMPLATE, "AWS::S3::Bucket")
    buses = declared(TEMPLATE, "AWS::Events::EventBus")
    assert tables and queues and buckets and buses
    # When the emulator is asked what it holds after provisioning
    prefix = f"{STACK}-"
    table_names = {n for n in aws_client("dynamodb", endpoint).list_tables()["TableNames"] if n.startswith(prefix)}
    queue_urls = aws_client("sqs", endpoint).list_queues(QueueNamePrefix=prefix).get("QueueUrls", [])
    bucket_names = {
        b["Name"] for b in aws_client("s3", endpoint).list_buckets()["Buckets"] if b["Name"].startswith(prefix)
    }
    bus_names = {
        b["Name"]
        for b in aws_client("events", endpoint).list_event_buses()["EventBuses"]
        if b["Name"] == "default" or b["Name"].startswith(prefix)
    }
    # Then every one of them exists under its local physical name, and nothing else was made
    assert table_names == {f"{STACK}-{logical_id}" for logical_id in tables}
    assert {url.rsplit("/", 1)[-1] for url in queue_urls} == {f"{STACK}-{logical_id}" for logical_id in queues}
    assert bucket_names == {f"{STACK}-{logical_id}".lower() for logical_id in buckets}
    expected_buses = {props["Name"]["Fn::Sub"].replace("${AWS::StackName}", STACK) for props in buses.values()}
    assert bus_names == {"default"} | expected_buses
    # And the model's refs name the same things
    assert {stack.refs[logical_id] for logical_id in tables} == table_names


def test_tables_have_the_declared_keys_indexes_billing_and_ttl(endpoint: str, stack: StackModel) -> None:
    # Given the declared tables
    dynamodb = aws_client("dynamodb", endpoint)
    for logical_id, props in declared(TEMPLATE, "AWS::DynamoDB::Table").items():
        # When one is described
        table = dynamodb.describe_table(TableName=stack.refs[logical_id])["Table"]
        # Then its key schema, attributes, billing mode and indexes (with projections) are the template's
        assert table["KeySchema"] == props["KeySchema"], logical_id
        assert _as_set(table["AttributeDefinitions"]) == _as_set(props["AttributeDefinitions"]), logical_id
        assert table["BillingModeSummary"]["BillingMode"] == props["BillingMode"]
        assert _indexes(table) == _indexes(props), logical_id
        ttl = dynamodb.describe_time_to_live(TableName=stack.refs[logical_id])["TimeToLiveDescription"]
        if "TimeToLiveSpecification" in props:
            ttl_attribute = props["TimeToLiveSpecification"]["AttributeName"]
            assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": ttl_attribute}
        else:
            assert ttl["TimeToLiveStatus"] == "DISABLED"


def _indexes(table: dict[str, Any]) -> dict[str, Any]:
    return {i["IndexName"]: (i["KeySchema"], i["Projection"]) for i in table.get("GlobalSecondaryIndexes", [])}


def _as_set(items: list[dict[str, str]]) -> set[tuple[tuple[str, str], ...]]:
    return {tuple(sorted(item.items())) for item in items}


def test_queues_carry_their_attributes_and_the_redrive_policy(endpoint: str, stack: StackModel) -> None:
    # Given the declared queues
    sqs = aws_client("sqs", endpoint)
    for logical_id, props in declared(TEMPLATE, "AWS::SQS::Queue").items():
        # When one queue's attributes are read back
        attributes = sqs.get_queue_attributes(QueueUrl=stack.refs[logical_id], AttributeNames=["All"])["Attributes"]
        # Then the declared numbers are set
        for key in ("VisibilityTimeout", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds", "DelaySeconds"):
            if key in props:
                assert attributes[key] == str(props[key]), (logical_id, key)
        # And a redrive policy points at the DLQ's real ARN, with the declared receive count
        if "RedrivePolicy" in props:
            dlq_id = props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
            dlq_arn = sqs.get_queue_attributes(QueueUrl=stack.refs[dlq_id], AttributeNames=["QueueArn"])
            assert json.loads(attributes["RedrivePolicy"]) == {
                "deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"],
                "maxReceiveCount": int(props["RedrivePolicy"]["maxReceiveCount"]),
            }
    assert any("RedrivePolicy" in props for props in declared(TEMPLATE, "AWS::SQS::Queue").values())


def test_a_second_provisioning_changes_nothing(endpoint: str, stack: StackModel) -> None:
    # Given a provisioned emulator and the state of its queues and tables
    sqs = aws_client("sqs", endpoint)
    dynamodb = aws_client("dynamodb", endpoint)
    queue_urls = sorted(sqs.list_queues(QueueNamePrefix=f"{STACK}-")["QueueUrls"])
    before = {url: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"] for url in queue_urls}
    created = {
        name: dynamodb.describe_table(TableName=name)["Table"]["CreationDateTime"]
        for name in dynamodb.list_tables()["TableNames"]
    }
    # When the same template is provisioned again
    again = provision(TEMPLATE, endpoint, stack_name=STACK, parameter_overrides=LOCAL_PARAMETERS)
    # Then it succeeds with the same model, and no queue or table was recreated or modified
    assert again == stack
    assert sorted(sqs.list_queues(QueueNamePrefix=f"{STACK}-")["QueueUrls"]) == queue_urls
    after = {url: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"] for url in queue_urls}
    assert after == before
    assert {
        name: dynamodb.describe_table(TableName=name)["Table"]["CreationDateTime"]
        for name in dynamodb.list_tables()["TableNames"]
    } == created


def test_function_environments_resolve_to_the_emulators_names_and_urls(endpoint: str, stack: StackModel) -> None:
    # Given the provisioned real template
    sqs = aws_client("sqs", endpoint)
    table_names = set(aws_client("dynamodb", endpoint).list_tables()["TableNames"])
    functions = declared(TEMPLATE, "AWS::Serverless::Function")
    assert set(stack.functions) == set(functions)
    for logical_id, props in functions.items():
        environment = stack.functions[logical_id].environment
        # When its environment is read
        # Then every variable the function declares is there as a plain string, no intrinsic left
        assert set((props.get("Environment") or {}).get("Variables", {})) <= set(environment), logical_id
        assert all(isinstance(value, str) for value in environment.values()), logical_id
        assert intrinsic_leftovers(environment) == [], (logical_id, environment)
        # And the Globals apply (with the parameter override), table variables name real tables
        assert environment["STAGE"] == "local"
        assert environment["POWERTOOLS_SERVICE_NAME"] == "aimanager"
        for name, value in environment.items():
            if name.endswith("_TABLE"):
                assert value in table_names, (logical_id, name, value)
            if name.endswith("_QUEUE_URL"):
                assert value == sqs.get_queue_url(QueueName=value.rsplit("/", 1)[-1])["QueueUrl"]


def test_the_worker_mapping_layer_and_settings_come_from_the_template(stack: StackModel) -> None:
    # Given the message worker of the real template
    worker = stack.functions["MessageWorkerFunction"]
    (source,) = [s for s in stack.sqs_sources if s.function_id == "MessageWorkerFunction"]
    # Then its SQS mapping has the template's batch size and partial failures, on the real queue
    assert (source.batch_size, source.report_batch_item_failures, source.enabled) == (5, True, True)
    assert source.queue_url == stack.refs["MessageQueue"]
    assert source.queue_arn == stack.attrs["MessageQueue"]["Arn"]
    # And the layer is mounted as SAM builds it (the folder's content at /opt/python), code dir absolute
    assert worker.layer_dirs == ((ROOT / "layers/common/python").resolve(),)
    assert worker.code_dir == (ROOT / "functions/message_worker").resolve()
    assert (worker.timeout_s, worker.memory_mb, worker.handler) == (60, 1024, "app.handler")


def test_load_stack_reads_back_what_provision_made(endpoint: str, stack: StackModel) -> None:
    # Given a provisioned emulator
    # When another process loads the stack from the same emulator
    loaded = load_stack(TEMPLATE, endpoint, stack_name=STACK, parameter_overrides=LOCAL_PARAMETERS)
    # Then it sees the same model
    assert loaded == stack


def test_fixture_intrinsics_rules_and_conditions_resolve(endpoint: str) -> None:
    # Given the fixture template, which uses every intrinsic the reader resolves
    model = provision(FIXTURE, endpoint, stack_name="fx")
    environment = model.functions["BatchFunction"].environment
    sqs = aws_client("sqs", endpoint)
    # Then each resolves to what the emulator holds
    assert environment["WORK_QUEUE_URL"] == sqs.get_queue_url(QueueName="fx-WorkQueue")["QueueUrl"]
    assert environment["WORK_QUEUE_NAME"] == "fx-WorkQueue"
    assert environment["DLQ_ARN"] == "arn:aws:sqs:eu-west-3:123456789012:fx-WorkDLQ"
    stream = aws_client("dynamodb", endpoint).describe_table(TableName="fx-OrdersTable")["Table"]["LatestStreamArn"]
    assert environment["ORDERS_STREAM"] == stream
    assert environment["NOTES_TABLE"] == "fx-NotesTable"
    assert environment["FILES_BUCKET"] == "fx-filesbucket"
    assert environment["BUS_ARN"] == "arn:aws:events:eu-west-3:123456789012:event-bus/fx-bus"
    assert environment["MODE"] == "local-mode"
    assert "PROD_QUEUE" not in environment  # Fn::If to AWS::NoValue removes the variable
    assert environment["JOINED"] == "eu-west-3/123456789012/fx"
    assert environment["SECOND_ZONE"] == "b"
    assert environment["SUB_LIST"] == "fx-WorkQueue@eu-west-3:3"
    assert environment["SUB_LITERAL"] == "${NotAVariable}-fixture"
    assert environment["SELF_ARN"] == "arn:aws:lambda:eu-west-3:123456789012:function:fx-OrderFunction"
    assert environment["FROM_GLOBALS"] == "yes"
    # And a resource whose Condition is false is not created
    assert "fx-ProdOnlyQueue" not in " ".join(sqs.list_queues()["QueueUrls"])
    # And the bucket has its CORS rules, the table its LSI, stream and TTL
    cors = aws_client("s3", endpoint).get_bucket_cors(Bucket="fx-filesbucket")["CORSRules"]
    assert cors == [
        {
            "AllowedHeaders": ["*"],
            "AllowedMethods": ["GET", "PUT"],
            "AllowedOrigins": ["https://editor.example"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 600,
        }
    ]
    table = aws_client("dynamodb", endpoint).describe_table(TableName="fx-OrdersTable")["Table"]
    assert [i["IndexName"] for i in table["LocalSecondaryIndexes"]] == ["placed-index"]
    projection = table["GlobalSecondaryIndexes"][0]["Projection"]
    assert projection == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["total"]}
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_rules_target_queues_directly_and_functions_through_a_delivery_queue(endpoint: str) -> None:
    # Given the provisioned fixture
    model = provision(FIXTURE, endpoint, stack_name="fx")
    events = aws_client("events", endpoint)
    # When the bus's rules and their targets are listed
    rules = {rule["Name"]: rule for rule in events.list_rules(EventBusName="fx-bus")["Rules"]}
    targets = {name: events.list_targets_by_rule(Rule=name, EventBusName="fx-bus")["Targets"] for name in rules}
    # Then the queue-targeting rule points at the queue, the function-targeting one at its delivery queue
    assert set(rules) == {"fx-AuditRule", "fx-OrderFunctionPlaced"}
    assert targets["fx-AuditRule"] == [{"Id": "audit", "Arn": "arn:aws:sqs:eu-west-3:123456789012:fx-AuditQueue"}]
    (delivery,) = targets["fx-OrderFunctionPlaced"]
    assert delivery["Arn"] == "arn:aws:sqs:eu-west-3:123456789012:fx-OrderFunctionPlaced-delivery"
    (rule_spec,) = [r for r in model.event_rules if r.bus_name == "fx-bus"]
    assert rule_spec.delivery_queue_url.endswith("/fx-OrderFunctionPlaced-delivery")
    assert json.loads(rule_spec.pattern_json) == json.loads(rules["fx-OrderFunctionPlaced"]["EventPattern"])
    # And schedules become ScheduleSpecs (from Schedule and ScheduleV2 events and an AWS::Events::Rule)
    assert {(s.logical_id, s.expression, s.enabled, s.timezone) for s in model.schedules} == {
        ("CleanupRule", "rate(1 day)", True, "UTC"),
        ("OrderFunctionNightly", "cron(0 2 * * ? *)", True, "UTC"),
        ("OrderFunctionPaused", "rate(1 hour)", False, "UTC"),
        ("OrderFunctionWeekly", "cron(0 9 ? * MON *)", True, "Europe/Paris"),
    }
    # And a ScheduleV2 is an EventBridge Scheduler schedule, not a rule of the default bus
    default_rules = {r["Name"] for r in events.list_rules(EventBusName="default")["Rules"]}
    assert "fx-OrderFunctionWeekly" not in default_rules
    assert {"fx-CleanupRule", "fx-OrderFunctionNightly", "fx-OrderFunctionShipped"} <= default_rules


def test_a_resource_the_functions_need_but_the_stack_cannot_make_is_named(endpoint: str, tmp_path: Path) -> None:
    # Given a template with a queue, and a function that reads an SNS topic's ARN
    template = tmp_path / "template.yaml"
    template.write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Jobs:\n    Type: AWS::SQS::Queue\n"
        "  Alerts:\n    Type: AWS::SNS::Topic\n"
        "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        "      CodeUri: fn/\n      Handler: app.handler\n      Runtime: python3.12\n"
        "      Environment:\n        Variables:\n          TOPIC: !Ref Alerts\n"
    )
    # When it is provisioned
    # Then the error names the resource and its type, and nothing was created
    with pytest.raises(UnsupportedResourceError, match=r"Alerts \(AWS::SNS::Topic\)"):
        provision(template, endpoint, stack_name="bad")
    assert aws_client("sqs", endpoint).list_queues(QueueNamePrefix="bad-").get("QueueUrls", []) == []


def test_a_generated_secret_exists_keeps_its_value_and_is_referenced_by_arn(endpoint: str, stack: StackModel) -> None:
    # Given the template's secrets (GenerateSecretString: CloudFormation makes the value, moto would not)
    secrets = declared(TEMPLATE, "AWS::SecretsManager::Secret")
    assert secrets
    client = aws_client("secretsmanager", endpoint)
    for logical_id, props in secrets.items():
        # When the stack is provisioned, then the secret exists and Ref gives its ARN, as CloudFormation does
        arn = stack.refs[logical_id]
        assert arn.startswith("arn:aws:secretsmanager:")
        value = client.get_secret_value(SecretId=arn)["SecretString"]
        spec = props["GenerateSecretString"]
        assert len(value) == spec["PasswordLength"] and value.isalnum()
        # And provisioning again (a restart on the same emulator) keeps the value: signed tokens stay valid
        again = provision(TEMPLATE, endpoint, stack_name=STACK, parameter_overrides=LOCAL_PARAMETERS)
        assert again.refs[logical_id] == arn
        assert client.get_secret_value(SecretId=arn)["SecretString"] == value
