"""Bodies that are not JSON get a clear 4xx from every JSON route: 415 for another media type, 400 for bad JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from aimanager.http.api import is_json_media_type
from tests.conftest import load_event
from tests.unit.aws import DEMO_KEY, World, aws_world, load_handler, seed_agent, seed_deployment
from tests.unit.functions.test_widget_flow import Ctx, authorizer_ctx


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with aws_world(monkeypatch) as w:
        seed_agent()
        seed_deployment()
        yield w


def send(function: str, body: str, content_type: str | None) -> tuple[int, dict[str, Any]]:
    event = load_event(f"{function}/valid.json")
    headers = {k: v for k, v in event["headers"].items() if k.lower() != "content-type"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    headers["Origin"] = "https://app.ebp.fr"
    event["headers"] = headers
    event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
    event["body"] = body
    if function == "widget_message":
        event["requestContext"]["authorizer"] = authorizer_ctx()
    resp = load_handler(function).handler(event, Ctx())
    return resp["statusCode"], json.loads(resp["body"])


@pytest.mark.parametrize("function", ["widget_init", "widget_message"])
@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", '{"content": "Bonjour"}'),
        ("text/plain;charset=UTF-8", '{"deployment_key": "x"}'),
        ("application/x-www-form-urlencoded", "content=Bonjour&deployment_key=x"),
        ("multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=content\r\n\r\nhi\r\n--x--"),
        ("application/xml", "<content>Bonjour</content>"),
    ],
)
def test_a_body_that_is_not_json_is_a_415_that_says_so(
    world: World, function: str, content_type: str, body: str
) -> None:
    # Given a JSON route, When the body comes as text, a form or XML
    status, out = send(function, body, content_type)
    # Then a 415 tells the caller to send JSON, never a 500 nor a misleading validation error
    assert status == 415, out
    assert out["error"]["code"] == "unsupported_media_type"
    assert "application/json" in out["error"]["message"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("{not json", "malformed_json"),
        (">\ufffd\u001e\ufffd\u0010", "malformed_json"),  # non-UTF-8 bytes, as API Gateway passes them on
        ("", "validation_error"),
        ("[]", "validation_error"),
    ],
)
def test_bad_json_is_a_400_or_422(world: World, body: str, code: str) -> None:
    status, out = send("widget_message", body, "application/json")
    assert (status, out["error"]["code"]) == ({"malformed_json": 400, "validation_error": 422}[code], code), out


@pytest.mark.parametrize(
    ("content_type", "ok"),
    [
        (None, True),
        ("application/json", True),
        ("Application/JSON; charset=utf-8", True),
        ("application/merge-patch+json", True),
        ("text/plain", False),
        ("application/x-www-form-urlencoded", False),
        ("text/json+plain", False),
    ],
)
def test_json_media_types(content_type: str | None, ok: bool) -> None:
    assert is_json_media_type(content_type) is ok


def test_a_json_body_with_charset_is_accepted(world: World) -> None:
    status, out = send("widget_init", json.dumps({"deployment_key": DEMO_KEY}), "application/json; charset=utf-8")
    assert status == 201, out
