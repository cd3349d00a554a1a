"""template.yaml is valid SAM, passes both linters, and its wiring keeps the promises the code relies on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    template, matches = decode(str(TEMPLATE))
    assert not matches and template is not None
    return dict(template["Resources"])


def functions(resources: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}


def test_cfn_lint_passes() -> None:
    result = subprocess.run([str(BIN / "cfn-lint"), str(TEMPLATE)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_validate_lint_passes() -> None:
    env = {**os.environ, "AWS_DEFAULT_REGION": "eu-west-3", "SAM_CLI_TELEMETRY": "0"}
    result = subprocess.run(
        [str(BIN / "sam"), "validate", "--lint", "-t", str(TEMPLATE)],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_every_function_folder_is_wired_once(resources: dict[str, Any]) -> None:
    # Given the folders under functions/ and the template's functions
    folders = {p.parent.name for p in (ROOT / "functions").glob("*/app.py")}
    code_uris = [Path(f["Properties"]["CodeUri"]).name for f in functions(resources).values()]
    # Then each folder is one function and each function has its folder
    assert sorted(code_uris) == sorted(folders)


def test_widget_routes_use_the_domain_authorizer_unless_declared_public(resources: dict[str, Any]) -> None:
    api = resources["WidgetApi"]["Properties"]["Auth"]
    assert api["DefaultAuthorizer"] == "DomainAuthorizer"
    public = set()
    for fn in functions(resources).values():
        for event in (fn["Properties"].get("Events") or {}).values():
            if event["Type"] == "Api" and event["Properties"].get("Auth", {}).get("Authorizer") == "NONE":
                public.add((event["Properties"]["Method"].upper(), event["Properties"]["Path"]))
    # The usage routes wait for issue 5's ApiKeyAuthorizer (PLACEHOLDER in the template; they answer 401 without it)
    placeholders = {("GET", "/api/editor/usage"), ("GET", "/api/admin/editors/{editor_id}/usage")}
    assert public - placeholders == {
        ("GET", "/api/health"),
        ("POST", "/api/widget/v1/init"),
        ("OPTIONS", "/api/widget/v1/{proxy+}"),
        # The widget's front end: static files, the chat app's page (its CSP decides who may frame it), a share
        # link's page (a signed token), and file URLs (a signed, expiring token each).
        ("GET", "/widget/v1/assets/{name}"),
        ("GET", "/widget/v1/frame"),
        ("GET", "/s/{token}"),
        ("GET", "/api/widget/v1/files/{id}"),
        ("GET", "/api/docs"),
        ("GET", "/api/docs/openapi.json"),
        ("GET", "/api/docs/openapi.yaml"),
        ("GET", "/api/docs/assets/{name}"),
    }


def test_the_queue_retries_into_a_dlq_and_the_worker_knows_the_count(resources: dict[str, Any]) -> None:
    queue = resources["MessageQueue"]["Properties"]
    worker = resources["MessageWorkerFunction"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["MessageDLQ", "Arn"]}
    assert (
        str(queue["RedrivePolicy"]["maxReceiveCount"])
        == worker["Environment"]["Variables"]["MESSAGE_MAX_RECEIVE_COUNT"]
    )
    # A turn in progress is never handed to a second worker by the visibility timeout
    assert queue["VisibilityTimeout"] > worker["Timeout"]
    sqs_events = [e for e in worker["Events"].values() if e["Type"] == "SQS"]
    assert sqs_events[0]["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_functions_only_get_the_tables_they_read(resources: dict[str, Any]) -> None:
    # The authorizer and the preflight never write: read policies only
    for fn_id in (
        "DomainAuthorizerFunction",
        "CorsPreflightFunction",
        "MessageStatusFunction",
        "ApiKeyAuthorizerFunction",
    ):
        policies = resources[fn_id]["Properties"]["Policies"]
        # (reading the signing secret is a read too: the chat app's page tokens, decision 0011)
        assert all(
            next(iter(p)) in ("DynamoDBReadPolicy", "AWSSecretsManagerGetSecretValuePolicy") for p in policies
        ), fn_id


def test_import_contracts_hold() -> None:
    # functions -> services -> (domain, dal, adapters) -> models, and domain stays free of I/O
    result = subprocess.run(
        [str(BIN / "lint-imports"), "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT / "layers" / "common" / "python",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_each_function_may_touch_exactly_the_tables_it_is_told_about(resources: dict[str, Any]) -> None:
    # Least privilege both ways: a table in a function's environment has a policy, and a policy has a reason
    for fn_id, fn in functions(resources).items():
        env_tables = {
            v["Ref"]
            for k, v in fn["Properties"].get("Environment", {}).get("Variables", {}).items()
            if k.endswith("_TABLE")
        }
        policy_tables = {
            next(iter(p.values()))["TableName"]["Ref"]
            for p in fn["Properties"].get("Policies", [])
            if next(iter(p)).startswith("DynamoDB")
        }
        assert env_tables == policy_tables, fn_id


def test_control_plane_routes_use_the_key_or_bearer_authorizer_and_declare_their_permission(
    resources: dict[str, Any],
) -> None:
    import importlib

    api = resources["WidgetApi"]["Properties"]["Auth"]["Authorizers"]
    # Both authorizers are the same function, never cached (a revoked key is refused by the next request)
    for name, header in (("ApiKeyAuthorizer", "X-API-Key"), ("BearerAuthorizer", "Authorization")):
        assert api[name]["FunctionArn"] == {"Fn::GetAtt": ["ApiKeyAuthorizerFunction", "Arn"]}
        assert api[name]["Identity"] == {"Headers": [header], "ReauthorizeEvery": 0}
    for fn in functions(resources).values():
        for event in (fn["Properties"].get("Events") or {}).values():
            if event["Type"] != "Api":
                continue
            path, method = event["Properties"]["Path"], event["Properties"]["Method"].upper()
            authorizer = event["Properties"].get("Auth", {}).get("Authorizer")
            if path.startswith("/api/artisan/"):
                assert authorizer == "BearerAuthorizer", path
            elif path.startswith(("/api/editor/", "/api/admin/")):
                assert authorizer == "ApiKeyAuthorizer", path
            else:
                continue
            # And the function behind it names the permission of that exact route (deny by default otherwise)
            module = importlib.import_module(f"functions.{Path(fn['Properties']['CodeUri']).name}.app")
            assert (method, path) in module.PERMISSIONS, (method, path)
