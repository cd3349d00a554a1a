"""The OpenAPI document: generated (never stale), one operation per template route and no other, envelopes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.openapi import JSON_PATH, YAML_PATH, document_routes, template_routes

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return dict(json.loads(JSON_PATH.read_text()))


def test_the_committed_document_is_what_the_generator_produces() -> None:
    # Given template.yaml and the handlers as they are now
    # When the generator runs in check mode (a fresh process, as `make openapi` would)
    result = subprocess.run(
        [sys.executable, "-m", "infra.openapi", "--check"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    # Then the committed JSON and YAML are exactly its output: run `make openapi` after changing a route or a model
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_template_route_is_documented_and_nothing_else(doc: dict[str, Any]) -> None:
    in_template = {(r.method, r.doc_path) for r in template_routes()}
    in_document = set(document_routes(doc))
    assert in_template - in_document == set(), "routes of template.yaml missing from the document"
    assert in_document - in_template == set(), "documented routes that template.yaml does not serve"
    assert len(in_template) >= 10


def test_json_and_yaml_are_the_same_document(doc: dict[str, Any]) -> None:
    assert yaml.safe_load(YAML_PATH.read_text()) == doc


def test_security_follows_each_routes_authorizer(doc: dict[str, Any]) -> None:
    schemes = doc["components"]["securitySchemes"]
    assert schemes["deploymentKey"] == {
        **schemes["deploymentKey"],
        "type": "apiKey",
        "in": "header",
        "name": "X-Deployment-Key",
    }
    assert schemes["apiKey"]["name"] == "X-API-Key" and schemes["bearer"]["scheme"] == "bearer"
    for route in template_routes():
        op = doc["paths"][route.doc_path][route.method]
        if route.authorizer is None:
            assert op["security"] == [], route
        else:
            assert op["security"], route
            assert all(name in schemes for alt in op["security"] for name in alt), route
    assert doc["paths"]["/api/widget/v1/message"]["post"]["security"] == [{"deploymentKey": []}]


def test_every_error_is_the_envelope_and_every_reference_resolves(doc: dict[str, Any]) -> None:
    text = json.dumps(doc)
    for path, item in doc["paths"].items():
        for method, op in item.items():
            for status, response in op["responses"].items():
                if not status.startswith(("4", "5")):
                    continue
                content = response["content"]
                if "application/json" not in content:
                    # Only the chat app's pages answer a refusal as a page (HTML), never the API
                    assert set(content) == {"text/html"} and path in ("/widget/v1/frame", "/s/{token}"), (path, status)
                    continue
                assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorEnvelope"}, (
                    method,
                    path,
                    status,
                )
    for ref in set(re.findall(r'"#/components/schemas/([^"]+)"', text)):
        assert ref in doc["components"]["schemas"], ref
    assert "HTTPValidationError" not in doc["components"]["schemas"]  # Powertools' shape is not what we answer


def test_request_bodies_come_from_the_handlers_models(doc: dict[str, Any]) -> None:
    from aimanager.models.widget import InitIn, MessageIn

    # The schema of the body is the pydantic model the handler validates with (limits included)
    init = doc["paths"]["/api/widget/v1/init"]["post"]
    assert init["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/InitIn"}
    for model in (InitIn, MessageIn):
        documented = doc["components"]["schemas"][model.__name__]
        assert set(documented["properties"]) == set(model.model_fields)
        assert documented.get("additionalProperties") is False  # unknown fields are refused: the doc says so
    queued = doc["paths"]["/api/widget/v1/message"]["post"]["responses"]["202"]
    assert queued["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Envelope_QueuedOut_"}


def test_a_new_route_is_picked_up_from_the_template(tmp_path: Path) -> None:
    # Given a template with one more function and route (as the other streams add them)
    from cfnlint.decode import decode

    template, _ = decode(str(ROOT / "template.yaml"))
    assert template is not None
    template["Resources"]["ExtraFunction"] = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "CodeUri": "functions/extra/",
            "Handler": "app.handler",
            "Events": {
                "E": {
                    "Type": "Api",
                    "Properties": {
                        "RestApiId": {"Ref": "WidgetApi"},
                        "Path": "/api/editor/things/{id}",
                        "Method": "PUT",
                    },
                }
            },
        },
    }
    # Then the generator's route list has it, under the API's default authorizer
    extra = [r for r in template_routes(dict(template)) if r.function == "ExtraFunction"]
    assert [(r.method, r.doc_path, r.authorizer) for r in extra] == [
        ("put", "/api/editor/things/{id}", "DomainAuthorizer")
    ]
