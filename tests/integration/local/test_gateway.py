"""LocalGateway serves the fixture template's REST API over HTTP, as API Gateway REST (v1) would."""

from __future__ import annotations

import http.client
import io
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import jsonify
from samcli.lib.utils.stream_writer import StreamWriter
from samcli.local.services.base_local_service import LambdaOutputParser

from infra.local.gateway import LocalGateway, PoolLambdaRunner
from infra.local.model import FunctionSpec
from infra.local.runtime import FunctionPool

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TEMPLATE = FIXTURES / "template.yaml"
STAGE = "test"
BASE_ENV = {"AWS_REGION": "eu-west-3", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

pytestmark = pytest.mark.integration


def fixture_functions() -> dict[str, FunctionSpec]:
    """The fixture template's functions, resolved by hand (the real template reader is not under test)."""
    layer = (FIXTURES / "layers" / "common" / "python",)

    def spec(logical_id: str, code: str, timeout_s: int = 3, env: dict[str, str] | None = None) -> FunctionSpec:
        return FunctionSpec(
            logical_id=logical_id,
            handler="app.handler",
            code_dir=FIXTURES / "functions" / code,
            layer_dirs=layer,
            environment=env or {},
            timeout_s=timeout_s,
            memory_mb=128,
            function_name=logical_id,
        )

    return {
        "AuthorizerFunction": spec("AuthorizerFunction", "authorizer"),
        "EchoFunction": spec("EchoFunction", "echo", env={"FIXTURE_NAME": "echo", "ONLY_IN_ECHO": "yes"}),
        "IsolatedFunction": spec("IsolatedFunction", "echo", env={"FIXTURE_NAME": "isolated"}),
        "SlowFunction": spec("SlowFunction", "slow", timeout_s=1),
        "CrashFunction": spec("CrashFunction", "crash"),
        "LogsFunction": spec("LogsFunction", "logs"),
        "PreflightFunction": spec("PreflightFunction", "preflight"),
    }


class Api:
    """The running gateway, its pool's log directory and small HTTP helpers."""

    def __init__(self, gateway: LocalGateway, log_dir: Path) -> None:
        self.gateway = gateway
        self.url = gateway.url
        self.log_dir = log_dir

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(f"{self.url}{path}", timeout=10, **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.url}{path}", timeout=10, **kwargs)

    def authorizer_calls(self, key: str) -> int:
        log = self.log_dir / "AuthorizerFunction.log"
        if not log.exists():
            return 0
        # The authorizer logs one JSON line per call; the runtime's "[ERROR] ..." lines are not JSON.
        lines = [line for line in log.read_text().splitlines() if line.startswith("{")]
        return sum(1 for line in lines if json.loads(line).get("key") == key)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    log_dir = tmp_path_factory.mktemp("gateway-logs")
    with FunctionPool(fixture_functions(), BASE_ENV, log_dir=log_dir, max_per_function=4) as pool:
        gateway = LocalGateway(TEMPLATE, pool, port=0, parameter_overrides={"Stage": STAGE})
        gateway.add_local_route("/__local/ping", lambda: jsonify(pong=True), methods=["GET"])
        with gateway:
            yield Api(gateway, log_dir)


def key(kind: str) -> str:
    """A deployment key no other test uses, so that authorizer cache entries never collide."""
    return f"{kind}-{uuid.uuid4().hex[:8]}"


def event_of(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    event: dict[str, Any] = response.json()["event"]
    return event


# ------------------------------------------------------------------------------------ event shape


def test_rest_v1_proxy_event_shape(api: Api) -> None:
    # Given a request with a path parameter, repeated query parameters and a repeated header
    connection = http.client.HTTPConnection(api.url.removeprefix("http://"), timeout=10)
    connection.putrequest("GET", "/echo/abc?x=1&x=2&y=3")
    for name, value in (("X-Multi", "a"), ("X-Multi", "b"), ("User-Agent", "fixture-agent/1.0")):
        connection.putheader(name, value)
    connection.endheaders()

    # When it reaches the echo function
    response = connection.getresponse()
    body = json.loads(response.read())
    event = body["event"]
    connection.close()

    # Then the function received API Gateway's REST proxy event
    assert response.status == 200
    assert event["resource"] == "/echo/{id}"
    assert event["path"] == "/echo/abc"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"id": "abc"}
    assert event["queryStringParameters"] == {"x": "2", "y": "3"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "y": ["3"]}
    assert event["headers"]["X-Multi"] == "b"
    assert event["multiValueHeaders"]["X-Multi"] == ["a", "b"]
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    assert event["stageVariables"] is None
    context = event["requestContext"]
    assert context["stage"] == STAGE
    assert context["resourcePath"] == "/echo/{id}"
    assert context["path"] == f"/{STAGE}/echo/abc"
    assert context["httpMethod"] == "GET"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userAgent"] == "fixture-agent/1.0"
    assert UUID.match(context["requestId"])
    assert response.getheader("x-amzn-RequestId") == context["requestId"]
    assert abs(context["requestTimeEpoch"] / 1000 - time.time()) < 5
    assert "authorizer" not in context


def test_request_ids_are_unique_per_request(api: Api) -> None:
    # When the same route is called twice
    first = event_of(api.get("/echo/1"))["requestContext"]["requestId"]
    second = event_of(api.get("/echo/1"))["requestContext"]["requestId"]

    # Then each request has its own id (samcli computes one at import time)
    assert first != second


def test_post_body_is_passed_as_a_string(api: Api) -> None:
    # When a JSON body is posted
    event = event_of(api.request("POST", "/echo", json={"message": "bonjour"}))

    # Then the function receives it verbatim, not base64-encoded
    assert json.loads(event["body"]) == {"message": "bonjour"}
    assert event["isBase64Encoded"] is False
    assert event["resource"] == "/echo"


def test_a_text_body_that_is_not_utf8_reaches_the_function_with_replacement_characters(api: Api) -> None:
    # When a JSON-typed body carries bytes that are not UTF-8 (a fuzzer, a misconfigured client)
    response = api.request("POST", "/echo", data=b'{"a": "\xff\xfe"}', headers={"Content-Type": "application/json"})
    # Then, as API Gateway does for a non-binary media type, the function gets it as text with U+FFFD
    # (and answers it: a 4xx of its own, not a gateway 502)
    event = event_of(response)
    assert event["body"] == '{"a": "\ufffd\ufffd"}'
    assert event["isBase64Encoded"] is False


def test_x_forwarded_for_never_changes_the_source_ip(api: Api) -> None:
    # When a client claims another address in X-Forwarded-For
    event = event_of(api.get("/echo/1", headers={"X-Forwarded-For": "203.0.113.9"}))

    # Then sourceIp stays the socket peer, and the peer is appended to the header, as API Gateway does
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
    assert event["headers"]["X-Forwarded-For"] == "203.0.113.9, 127.0.0.1"


def test_stage_prefix_is_not_served(api: Api) -> None:
    # When the path is called with the stage prefix, as on the execute-api URL
    response = api.get(f"/{STAGE}/echo/1")

    # Then it is an unknown route: paths are served without the stage, as `sam local start-api` does
    assert response.status_code == 403


# ------------------------------------------------------------------------------------ authorizers


def test_missing_identity_source_is_401_without_calling_the_authorizer(api: Api) -> None:
    # When a protected route is called without X-Deployment-Key
    before = api.authorizer_calls("")
    response = api.get("/private/cached")

    # Then the gateway answers the UNAUTHORIZED response itself
    assert response.status_code == 401
    assert response.json() == {"success": False, "error": {"code": "unauthorized", "message": "Unauthorized"}}
    assert response.headers["x-amzn-ErrorType"] == "UnauthorizedException"
    assert api.authorizer_calls("") == before


def test_authorizer_raising_unauthorized_is_401(api: Api) -> None:
    # When the authorizer raises Exception("Unauthorized")
    deployment_key = key("unauthorized")
    response = api.get("/private/uncached", headers={"X-Deployment-Key": deployment_key})

    # Then the client gets the UNAUTHORIZED gateway response
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert api.authorizer_calls(deployment_key) == 1


def test_allow_passes_the_authorizer_context_and_principal(api: Api) -> None:
    # When the authorizer allows the request with a context map
    deployment_key = key("allow")
    event = event_of(api.get("/private/uncached", headers={"X-Deployment-Key": deployment_key}))

    # Then the route sees the context (values stringified, as API Gateway does) and the principal
    authorizer = event["requestContext"]["authorizer"]
    assert authorizer["principalId"] == f"user-{deployment_key}"
    assert authorizer["tier"] == "3"
    assert authorizer["active"] == "true"
    assert isinstance(authorizer["integrationLatency"], int)
    # And the authorizer received a REQUEST event, without the body, for this method ARN
    assert authorizer["seen_type"] == "REQUEST"
    assert authorizer["seen_has_body"] == "false"
    assert authorizer["seen_source_ip"] == "127.0.0.1"
    assert re.fullmatch(
        rf"arn:aws:execute-api:eu-west-3:123456789012:\w+/{STAGE}/GET/private/uncached", authorizer["seen_method_arn"]
    )


def test_explicit_deny_is_403_with_the_authorizer_context_in_the_template(api: Api) -> None:
    # When the authorizer returns a broad Allow and an explicit Deny for this resource
    response = api.get("/private/uncached", headers={"X-Deployment-Key": key("deny")})

    # Then the Deny wins: ACCESS_DENIED, shaped with $context.authorizer.* (JSON-escaped)
    assert response.status_code == 403
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    assert response.json() == {
        "success": False,
        "error": {"code": "deployment_inactive", "message": 'Domain "evil.example" is not allowed'},
    }


def test_authorizer_failure_is_a_5xx_shaped_by_default_5xx(api: Api) -> None:
    # When the authorizer crashes with an error other than "Unauthorized"
    response = api.get("/private/uncached", headers={"X-Deployment-Key": key("broken")})

    # Then the client gets a 500 (AUTHORIZER_CONFIGURATION_ERROR through DEFAULT_5XX), no internals
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "database down" not in response.text


def test_invalid_authorizer_answer_is_a_500(api: Api) -> None:
    # When the authorizer answers something that is not a policy
    response = api.get("/private/uncached", headers={"X-Deployment-Key": key("garbage")})

    # Then API Gateway's configuration error comes back
    assert response.status_code == 500
    assert response.headers["x-amzn-ErrorType"] == "AuthorizerConfigurationException"


def test_action_wildcards_are_understood(api: Api) -> None:
    # When the authorizer allows execute-api:* on every resource
    event = event_of(api.get("/private/uncached", headers={"X-Deployment-Key": key("star")}))

    # Then the request is allowed
    assert event["requestContext"]["authorizer"]["seen_type"] == "REQUEST"


def test_cached_policy_is_reused_within_the_ttl_and_refreshed_after(api: Api) -> None:
    # Given an authorizer with ReauthorizeEvery: 1
    deployment_key = key("allow")
    headers = {"X-Deployment-Key": deployment_key}

    # When the same identity calls twice within the TTL
    assert api.get("/private/cached", headers=headers).status_code == 200
    assert api.get("/private/cached", headers=headers).status_code == 200

    # Then the authorizer ran once
    assert api.authorizer_calls(deployment_key) == 1

    # And another identity is authorized on its own
    other = key("allow")
    assert api.get("/private/cached", headers={"X-Deployment-Key": other}).status_code == 200
    assert api.authorizer_calls(other) == 1

    # When the TTL has passed, Then the authorizer runs again
    time.sleep(1.1)
    assert api.get("/private/cached", headers=headers).status_code == 200
    assert api.authorizer_calls(deployment_key) == 2


def test_cached_policy_is_evaluated_against_each_method_arn(api: Api) -> None:
    # Given a cached policy that allows GET only
    deployment_key = key("getonly")
    headers = {"X-Deployment-Key": deployment_key}
    assert api.get("/private/cached", headers=headers).status_code == 200

    # When the same identity calls POST on the same resource within the TTL
    response = api.request("POST", "/private/cached", headers=headers)

    # Then the cached policy is reused but denies this method ARN
    assert response.status_code == 403
    assert response.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    assert api.authorizer_calls(deployment_key) == 1


def test_ttl_zero_never_caches(api: Api) -> None:
    # When the same identity calls a route whose authorizer has ReauthorizeEvery: 0, twice
    deployment_key = key("allow")
    for _ in range(2):
        assert api.get("/private/uncached", headers={"X-Deployment-Key": deployment_key}).status_code == 200

    # Then the authorizer ran each time
    assert api.authorizer_calls(deployment_key) == 2


# ------------------------------------------------------------------------------ gateway responses


def test_unknown_route_is_403_missing_authentication_token_through_default_4xx(api: Api) -> None:
    # When a path no resource declares is called, and a declared path with an undeclared method
    unknown = api.get("/nowhere", headers={"Origin": "https://editor.example"})
    wrong_method = api.request("DELETE", "/echo")

    # Then both get MISSING_AUTHENTICATION_TOKEN, shaped by DEFAULT_4XX (headers and template)
    for response in (unknown, wrong_method):
        assert response.status_code == 403
        assert response.json() == {
            "success": False,
            "error": {"code": "bad_request", "message": "Missing Authentication Token"},
        }
        assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
        assert response.headers["X-Fixture-Family"] == "4xx"
    assert unknown.headers["Access-Control-Allow-Origin"] == "https://editor.example"


def test_function_error_is_502_shaped_by_default_5xx(api: Api) -> None:
    # When the function raises
    response = api.get("/crash", params={"raise": "1"})

    # Then the client gets 502 "Internal server error" through DEFAULT_5XX, with the request id
    assert response.status_code == 502
    body = response.json()
    assert body["error"] == {
        "code": "internal_error",
        "message": "Internal server error",
        "request": response.headers["x-amzn-RequestId"],
    }
    assert "asked to fail" not in response.text


def test_malformed_proxy_response_is_502(api: Api) -> None:
    # When the function returns no statusCode (API Gateway REST rejects it; samcli defaults to 200)
    response = api.get("/crash", params={"malformed": "1"})

    # Then the client gets 502
    assert response.status_code == 502


# ----------------------------------------------------------------------------- runtime behaviour


def test_timeout_is_502_and_the_function_recovers(api: Api) -> None:
    # When the function runs past its 1 s timeout
    started = time.monotonic()
    response = api.get("/slow", params={"sleep": "5"})

    # Then the gateway answers 502 at the timeout, and the next call is served
    assert response.status_code == 502
    assert time.monotonic() - started < 2.5
    assert api.get("/slow", params={"sleep": "0"}).status_code == 200


def test_crash_is_502_and_the_next_request_gets_a_fresh_process(api: Api) -> None:
    # Given a warm process
    before = api.get("/crash").json()["pid"]

    # When the function kills its process
    assert api.get("/crash", params={"exit": "1"}).status_code == 502

    # Then the next request is served by a new process
    after = api.get("/crash")
    assert after.status_code == 200
    assert after.json()["pid"] != before


def test_functions_see_only_their_own_environment(api: Api) -> None:
    # When two functions from the same code are called
    echo = api.get("/echo/1").json()["env"]
    isolated = api.get("/isolated").json()["env"]

    # Then each sees its own variables only
    assert echo["FIXTURE_NAME"] == "echo" and isolated["FIXTURE_NAME"] == "isolated"
    assert "ONLY_IN_ECHO" not in isolated
    assert echo["AWS_LAMBDA_FUNCTION_NAME"] == "EchoFunction"
    assert isolated["AWS_LAMBDA_FUNCTION_NAME"] == "IsolatedFunction"


def test_concurrent_requests_to_one_function_run_in_parallel(api: Api) -> None:
    # When two slow requests to the same function arrive together
    responses: list[requests.Response] = []
    threads = [
        threading.Thread(target=lambda: responses.append(api.get("/slow", params={"sleep": "0.7"}))) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then both are served at the same time (each started before the other ended) by two processes
    assert [r.status_code for r in responses] == [200, 200]
    first, second = (r.json() for r in responses)
    assert first["pid"] != second["pid"]
    assert first["started"] < second["ended"] and second["started"] < first["ended"]


def test_function_logs_go_to_its_log_file(api: Api) -> None:
    # When a function logs JSON to stdout
    response = api.get("/logs")

    # Then the lines land in its log file, as the function wrote them
    assert response.status_code == 200
    lines = (api.log_dir / "LogsFunction.log").read_text().splitlines()
    assert {"level": "INFO", "message": "cold start"} in [json.loads(line) for line in lines if line.startswith("{")]


# ----------------------------------------------------------------------------------- CORS, extras


def test_options_reaches_the_preflight_function_with_only_its_headers(api: Api) -> None:
    # When a browser sends a preflight for a route whose resource declares no OPTIONS
    response = api.request(
        "OPTIONS",
        "/echo",
        headers={"Origin": "https://editor.example", "Access-Control-Request-Method": "POST"},
    )

    # Then the {proxy+} OPTIONS function answers (no authorizer), and the gateway adds no CORS header
    assert response.status_code == 204
    assert response.headers["X-Preflight-By"] == "function"
    assert response.headers["Access-Control-Allow-Origin"] == "https://editor.example"
    cors_headers = {name.lower() for name in response.headers if name.lower().startswith("access-control-")}
    assert cors_headers == {"access-control-allow-origin"}


def test_responses_carry_no_cors_headers_the_function_did_not_set(api: Api) -> None:
    # When a route answers a cross-origin request
    response = api.get("/echo/1", headers={"Origin": "https://editor.example"})

    # Then no Access-Control-* header was added by the gateway
    assert response.status_code == 200
    assert not [name for name in response.headers if name.lower().startswith("access-control-")]


def test_local_routes_share_the_server(api: Api) -> None:
    # When a local-only route is called on the gateway's port
    response = api.get("/__local/ping")

    # Then the mounted Flask view answers
    assert response.status_code == 200
    assert response.json() == {"pong": True}


def test_gateway_reports_the_template_routes(api: Api) -> None:
    # When the route table is listed, Then it is the template's, stage name resolved from the overrides
    assert ("GET", "/private/cached", "EchoFunction") in api.gateway.routes
    assert ("OPTIONS", "/{proxy+}", "PreflightFunction") in api.gateway.routes
    assert api.gateway.stage_name == STAGE


def test_runner_speaks_samcli_lambda_runner_protocol(api: Api) -> None:
    # Given samcli's way of calling a runner: a JSON event string and a StreamWriter for the result
    runner = PoolLambdaRunner(api.gateway.pool)

    def call(event: dict[str, Any]) -> tuple[Any, bool]:
        with io.StringIO() as buffer:
            runner.invoke("CrashFunction", json.dumps(event), stdout=StreamWriter(buffer, auto_flush=True))
            output, is_error = LambdaOutputParser.get_lambda_output(buffer)
            return json.loads(output), is_error

    # When a function answers, and when it raises
    answer, answer_is_error = call({})
    error, error_is_error = call({"raise": "1"})

    # Then samcli's parser reads the result, and recognises Lambda's error object as an error
    assert answer["statusCode"] == 200 and not answer_is_error
    assert error["errorType"] == "ValueError" and error_is_error
    assert runner.is_debugging() is False
