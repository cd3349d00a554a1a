"""API Gateway REST (v1) emulation on samcli's local gateway, with functions run by a FunctionPool."""

# samcli (1.170) gives us the template reading, the route table, the Flask app and the v1 proxy event.
# What it gets wrong for a REST API, and what this module does instead (see _RestApiService):
# - requestContext.requestId/requestTime are computed once at import (default arguments): fresh per request;
#   requestContext.path lacks the stage; identity.userAgent is a fixed string.
# - a Deny policy is ignored when an Allow also matches, Action wildcards are not understood, ARNs are
#   matched as unescaped regexes: policies are evaluated here, explicit Deny first.
# - authorizer context values are passed as returned (API Gateway stringifies them), no authorizer cache
#   (ReauthorizeEvery), an authorizer error surfaces as a Flask 500.
# - no GatewayResponses: every gateway error has samcli's fixed body.
# - a body that is not UTF-8 (and not of a binary media type) raises: API Gateway replaces the bad bytes.
# - a function error answers 500 (API Gateway: 502), a proxy response without statusCode or with a
#   non-string body is accepted (API Gateway: 502 malformed response).
# - CORS headers are added to every response and OPTIONS is answered by samcli whenever Cors is set.

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Request, Response, request
from samcli.lib.providers.api_provider import ApiProvider
from samcli.lib.providers.provider import Cors, Stack
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider
from samcli.local.apigw.authorizers.lambda_authorizer import LambdaAuthorizer
from samcli.local.apigw.exceptions import LambdaResponseParseException
from samcli.local.apigw.local_apigw_service import LocalApigwService
from samcli.local.apigw.route import Route
from samcli.local.lambdafn.exceptions import FunctionNotFound
from werkzeug.datastructures import Headers
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from infra.local.model import LOCAL_ACCOUNT_ID, LOCAL_REGION
from infra.local.runtime import FunctionPool, InvokeResult

LOG = logging.getLogger(__name__)

LOCAL_API_ID = "1234567890"  # samcli's fake REST API id, kept so events look like `sam local start-api`'s
DEFAULT_REAUTHORIZE_EVERY = 300  # SAM's default authorizer TTL (seconds) when ReauthorizeEvery is absent
DEFAULT_TEMPLATE = '{"message":$context.error.messageString}'  # API Gateway's built-in gateway response body
RAW_HEADERS_KEY = "infra.local.raw_headers"  # WSGI environ key: the request's header lines, repeats kept
_CONTEXT_VARIABLE = re.compile(r"\$(?:\{context((?:\.\w+)+)\}|context((?:\.\w+)+))")


# ---------------------------------------------------------------------------------------------- runner


class PoolLambdaRunner:
    """samcli's `lambda_runner` interface (invoke + is_debugging) over a FunctionPool."""

    def __init__(self, pool: FunctionPool) -> None:
        self.pool = pool

    def is_debugging(self) -> bool:
        return False  # keeps samcli's Flask app multi-threaded

    def invoke_result(self, function_identifier: str, event: Any) -> InvokeResult:
        if function_identifier not in self.pool.functions:
            raise FunctionNotFound(f"Unable to find a Function with name '{function_identifier}'")
        return self.pool.invoke(function_identifier, event)

    def invoke(
        self,
        function_identifier: str,
        event: str,
        stdout: Any = None,
        stderr: Any = None,
        tenant_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Write the function's JSON result (or Lambda's error object) to `stdout`, as samcli's runner does."""
        result = self.invoke_result(function_identifier, json.loads(event) if event else {})
        # samcli's LambdaOutputParser recognises an {errorMessage, errorType, stackTrace} object as an error.
        output = result.error if result.error is not None else result.payload
        if stdout is not None:
            stdout.write_str(json.dumps(output))
            stdout.flush()


# ------------------------------------------------------------------------------------ template extras


@dataclass(frozen=True)
class _GatewayError:
    """A response API Gateway produces itself: its gateway response type, default status and message."""

    response_type: str
    status: int
    message: str | None
    error_type: str  # the x-amzn-ErrorType header


MISSING_AUTHENTICATION_TOKEN = _GatewayError(
    "MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token", "MissingAuthenticationTokenException"
)
UNAUTHORIZED = _GatewayError("UNAUTHORIZED", 401, "Unauthorized", "UnauthorizedException")
ACCESS_DENIED = _GatewayError(
    "ACCESS_DENIED", 403, "User is not authorized to access this resource", "AccessDeniedException"
)
EXPLICIT_DENY = _GatewayError(
    "ACCESS_DENIED",
    403,
    "User is not authorized to access this resource with an explicit deny",
    "AccessDeniedException",
)
# An authorizer that fails (other than with "Unauthorized") or answers garbage: 500 {"message": null}.
AUTHORIZER_CONFIGURATION_ERROR = _GatewayError(
    "AUTHORIZER_CONFIGURATION_ERROR", 500, None, "AuthorizerConfigurationException"
)
# A Lambda proxy integration that errors, times out or answers a malformed response.
INTEGRATION_FAILURE = _GatewayError("DEFAULT_5XX", 502, "Internal server error", "InternalServerErrorException")
INTERNAL_ERROR = _GatewayError("DEFAULT_5XX", 500, "Internal server error", "InternalServerErrorException")


@dataclass(frozen=True)
class _GatewayResponseSpec:
    """One entry of the API's GatewayResponses."""

    status_code: int | None
    headers: dict[str, str]  # header name -> mapping expression ("'literal'", method.request.header.X, ...)
    template: str | None  # the application/json (else first) response template


@dataclass(frozen=True)
class _ApiExtras:
    """What the template declares that samcli's Api object does not carry."""

    gateway_responses: dict[str, _GatewayResponseSpec] = field(default_factory=dict)
    authorizer_ttls: dict[str, int] = field(default_factory=dict)
    options_paths: frozenset[str] = frozenset()  # paths whose OPTIONS method is a real integration


def _read_extras(stacks: list[Stack]) -> _ApiExtras:
    responses: dict[str, _GatewayResponseSpec] = {}
    ttls: dict[str, int] = {}
    options: set[str] = set()
    for stack in stacks:
        for resource in stack.resources.values():
            if resource.get("Type") != "AWS::Serverless::Api":
                continue
            properties = resource.get("Properties") or {}
            for name, entry in (properties.get("GatewayResponses") or {}).items():
                responses[name] = _gateway_response_spec(entry or {})
            for name, authorizer in ((properties.get("Auth") or {}).get("Authorizers") or {}).items():
                identity = (authorizer or {}).get("Identity") or {}
                ttls[name] = _as_int(identity.get("ReauthorizeEvery"), DEFAULT_REAUTHORIZE_EVERY)
            paths = ((properties.get("DefinitionBody") or {}).get("paths")) or {}
            options.update(path for path, item in paths.items() if isinstance(item, dict) and "options" in item)
    return _ApiExtras(responses, ttls, frozenset(options))


def _gateway_response_spec(entry: Mapping[str, Any]) -> _GatewayResponseSpec:
    templates = entry.get("ResponseTemplates") or {}
    template = templates.get("application/json", next(iter(templates.values()), None))
    headers = (entry.get("ResponseParameters") or {}).get("Headers") or {}
    status = entry.get("StatusCode")
    return _GatewayResponseSpec(
        status_code=_as_int(status, 0) or None,
        headers={str(k): str(v) for k, v in headers.items()},
        template=None if template is None else str(template),
    )


def _as_int(value: Any, default: int) -> int:
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        LOG.warning("not an integer in the template: %r, using %s", value, default)
        return default


# ------------------------------------------------------------------------------- gateway responses


class _GatewayResponses:
    """Shapes gateway errors with the template's GatewayResponses (specific type, else DEFAULT_4XX/5XX)."""

    def __init__(self, specs: dict[str, _GatewayResponseSpec]) -> None:
        self._specs = specs

    def render(self, error: _GatewayError, variables: dict[str, Any], flask_request: Request) -> Response:
        spec = self._specs.get(error.response_type)
        if spec is None:
            spec = self._specs.get("DEFAULT_4XX" if error.status < 500 else "DEFAULT_5XX")
        status = spec.status_code if spec is not None and spec.status_code else error.status
        template = spec.template if spec is not None and spec.template is not None else DEFAULT_TEMPLATE
        headers = Headers()
        for name, expression in (spec.headers if spec is not None else {}).items():
            value = _header_value(expression, flask_request)
            if value is not None:
                headers[name] = value
        headers.setdefault("Content-Type", "application/json")
        headers["x-amzn-ErrorType"] = error.error_type
        request_id = variables.get("requestId")
        if request_id:
            headers["x-amzn-RequestId"] = str(request_id)
        return Response(_substitute(template, variables), status=status, headers=headers)


def _header_value(expression: str, flask_request: Request) -> str | None:
    """A gateway response header mapping: a quoted literal or a request parameter."""
    if len(expression) >= 2 and expression[0] == expression[-1] == "'":
        return expression[1:-1]
    for prefix, source in (
        ("method.request.header.", flask_request.headers),
        ("method.request.querystring.", flask_request.args),
        ("method.request.path.", flask_request.view_args or {}),
    ):
        if expression.startswith(prefix):
            value = source.get(expression[len(prefix) :])
            return None if value is None else str(value)
    LOG.debug("gateway response header mapping not supported locally: %s", expression)
    return None


def _substitute(template: str, variables: dict[str, Any]) -> str:
    """Replace $context.x.y (and ${context.x.y}) with JSON-escaped values; unknown ones become ''."""

    def replace(match: re.Match[str]) -> str:
        path = (match.group(1) or match.group(2))[1:]
        if path == "error.messageString":
            return json.dumps(variables.get("error", {}).get("message"))  # a JSON literal: "..." or null
        value: Any = variables
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None or isinstance(value, dict | list):
            return ""
        if isinstance(value, bool):
            value = "true" if value else "false"
        return json.dumps(str(value))[1:-1]

    return _CONTEXT_VARIABLE.sub(replace, template)


# ------------------------------------------------------------------------------------- authorizers


@dataclass(frozen=True)
class _Policy:
    """A validated Lambda authorizer answer."""

    principal_id: str
    statements: tuple[dict[str, Any], ...]
    context: dict[str, str]  # values stringified, as API Gateway passes them on
    latency_ms: int


def _parse_policy(payload: Any, latency_ms: int) -> _Policy:
    """Validate an authorizer's output as API Gateway does; ValueError means a configuration error."""
    if not isinstance(payload, dict):
        raise ValueError("the authorizer did not return an object")
    principal = payload.get("principalId")
    document = payload.get("policyDocument")
    if not isinstance(principal, str) or not isinstance(document, dict):
        raise ValueError("principalId (string) and policyDocument (object) are required")
    statements = document.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise ValueError("policyDocument.Statement must be a non-empty list")
    for statement in statements:
        if not isinstance(statement, dict) or statement.get("Effect") not in ("Allow", "Deny"):
            raise ValueError("every statement needs Effect Allow or Deny")
        if not isinstance(statement.get("Action"), str | list) or not isinstance(statement.get("Resource"), str | list):
            raise ValueError("every statement needs Action and Resource")
    return _Policy(principal, tuple(statements), _stringify_context(payload.get("context")), latency_ms)


def _stringify_context(context: Any) -> dict[str, str]:
    if context is None:
        return {}
    if not isinstance(context, dict):
        raise ValueError("context must be an object")
    result: dict[str, str] = {}
    for key, value in context.items():
        if isinstance(value, dict | list):
            raise ValueError(f"context.{key}: objects and arrays are not allowed")
        if value is None:
            continue
        result[str(key)] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return result


@lru_cache(maxsize=1024)
def _wildcard(pattern: str) -> re.Pattern[str]:
    # IAM wildcards: * any run, ? one character; everything else literal.
    return re.compile(re.escape(pattern).replace(r"\*", ".*").replace(r"\?", "."), re.DOTALL)


def _matches(patterns: Any, value: str, *, ignore_case: bool = False) -> bool:
    items = patterns if isinstance(patterns, list) else [patterns]
    if ignore_case:
        return any(_wildcard(str(p).lower()).fullmatch(value.lower()) for p in items)
    return any(_wildcard(str(p)).fullmatch(value) for p in items)


def _evaluate(policy: _Policy, method_arn: str) -> _GatewayError | None:
    """IAM evaluation for execute-api:Invoke on the method ARN: explicit Deny, else Allow, else implicit deny."""
    allowed = False
    for statement in policy.statements:
        if not _matches(statement["Action"], "execute-api:Invoke", ignore_case=True):
            continue
        if not _matches(statement["Resource"], method_arn):
            continue
        if statement["Effect"] == "Deny":
            return EXPLICIT_DENY
        allowed = True
    return None if allowed else ACCESS_DENIED


class _AuthorizerCache:
    """Authorizer answers by (authorizer, identity source values), for ReauthorizeEvery seconds."""

    _MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        self._entries: dict[tuple[str, ...], tuple[float, _Policy]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...]) -> _Policy | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= time.monotonic():
                del self._entries[key]
                return None
            return entry[1]

    def put(self, key: tuple[str, ...], policy: _Policy, ttl_s: int) -> None:
        with self._lock:
            if len(self._entries) >= self._MAX_ENTRIES:
                now = time.monotonic()
                self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            self._entries[key] = (time.monotonic() + ttl_s, policy)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# ----------------------------------------------------------------------------------------- service


class _RestApiService(LocalApigwService):  # type: ignore[misc]
    """samcli's gateway with API Gateway REST behaviour where samcli differs (see the module comment)."""

    def __init__(
        self,
        api: Any,
        runner: PoolLambdaRunner,
        extras: _ApiExtras,
        *,
        host: str,
        port: int,
        region: str,
        account_id: str,
    ) -> None:
        super().__init__(api, runner, port=port, host=host)
        self._runner = runner
        self._extras = extras
        self._responses = _GatewayResponses(extras.gateway_responses)
        self._cache = _AuthorizerCache()
        self._region = region
        self._account_id = account_id
        self._stage = api.stage_name or "Prod"

    # -- Flask app

    def create(self) -> None:
        super().create()
        # Unknown path or method: API Gateway's 403 MISSING_AUTHENTICATION_TOKEN (not Flask's 404/405).
        self._app.register_error_handler(404, self._route_not_found)
        self._app.register_error_handler(405, self._route_not_found)
        self._app.register_error_handler(500, self._internal_error)

    def _route_not_found(self, *_: Any) -> Response:
        return self._gateway_error(MISSING_AUTHENTICATION_TOKEN, None)

    def _internal_error(self, error: Any) -> Response:
        # Flask has logged the traceback already; the client gets API Gateway's 500, no internals.
        LOG.error("local gateway error on %s %s: %s", request.method, request.path, error)
        return self._gateway_error(INTERNAL_ERROR, None)

    # -- request handling

    def _request_handler(self, **kwargs: Any) -> Response:
        try:
            route: Route = self._get_current_route(request)
        except KeyError:  # e.g. HEAD on a GET-only resource: Flask matched a rule, API Gateway would not
            return self._gateway_error(MISSING_AUTHENTICATION_TOKEN, None)
        if route.event_type != Route.API:
            samcli_response: Response = super()._request_handler(**kwargs)  # HTTP APIs: samcli's behaviour
            return samcli_response
        if request.method == "OPTIONS" and self._is_cors_mock(route):
            return self._cors_preflight()
        try:
            event = self._generate_lambda_event(request, route, request.method, request.endpoint or "")
        except UnicodeDecodeError:
            # API Gateway passes a text (non-binary media type) body on as UTF-8, invalid bytes replaced by
            # U+FFFD (the well-known "EF BF BD" corruption of binary uploads): the function then answers it.
            request._cached_data = request.get_data().decode("utf-8", "replace").encode("utf-8")
            event = self._generate_lambda_event(request, route, request.method, request.endpoint or "")
        denied = self._authorize(route, event)
        if denied is not None:
            return denied
        return self._integrate(route, event)

    def _is_cors_mock(self, route: Route) -> bool:
        # With Api Cors, SAM adds a MOCK OPTIONS method only where the template declares none.
        cors = route.cors if route.cors is not None else self.api.cors
        return bool(cors) and route.path not in self._extras.options_paths

    def _cors_preflight(self) -> Response:
        cors = self.api.cors
        headers = Cors.cors_to_headers(cors, request.headers.get("Origin"), Route.API)
        return Response("", status=200, headers=Headers(headers))

    def _generate_lambda_event(self, flask_request: Request, route: Route, method: str, endpoint: str) -> Any:
        event = super()._generate_lambda_event(flask_request, route, method, endpoint)
        if route.event_type == Route.API:
            self._fix_v1_event(event, flask_request)
        return event

    def _fix_v1_event(self, event: dict[str, Any], flask_request: Request) -> None:
        now = time.time()
        context = event["requestContext"]
        context["requestId"] = str(uuid.uuid4())  # samcli's is fixed at import time
        context["extendedRequestId"] = uuid.uuid4().hex[:16]
        context["requestTimeEpoch"] = int(now * 1000)
        context["requestTime"] = datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")
        context["path"] = f"/{self._stage}{flask_request.path}"
        context["stage"] = self._stage
        context["accountId"] = self._account_id
        context["apiId"] = LOCAL_API_ID
        context["domainPrefix"] = LOCAL_API_ID
        identity = context.setdefault("identity", {})
        identity["sourceIp"] = flask_request.remote_addr  # the socket peer, never a client header
        identity["userAgent"] = flask_request.headers.get("User-Agent")
        event["headers"], event["multiValueHeaders"] = self._event_headers(flask_request)

    def _event_headers(self, flask_request: Request) -> tuple[dict[str, str], dict[str, list[str]]]:
        multi: dict[str, list[str]] = {}
        # WSGI joins a repeated header into one "a,b" value: use the raw lines our handler kept.
        raw = flask_request.environ.get(RAW_HEADERS_KEY)
        for name, value in raw if raw is not None else flask_request.headers.items():
            multi.setdefault(_canonical(name), []).append(value)
        # API Gateway appends the caller's address to X-Forwarded-For; what the client sent stays in front.
        sent = ", ".join(multi.pop("X-Forwarded-For", []))
        peer = flask_request.remote_addr or ""
        multi["X-Forwarded-For"] = [f"{sent}, {peer}" if sent else peer]
        multi["X-Forwarded-Port"] = [str(self.port)]
        multi["X-Forwarded-Proto"] = [flask_request.scheme]
        single = {name: values[-1] for name, values in multi.items()}
        return single, multi

    # -- authorizers

    def _authorize(self, route: Route, event: dict[str, Any]) -> Response | None:
        authorizer = route.authorizer_object
        if not isinstance(authorizer, LambdaAuthorizer):
            return None
        # Missing identity sources: 401 without calling the authorizer, as API Gateway does.
        if not self._valid_identity_sources(request, route):
            return self._gateway_error(UNAUTHORIZED, event)
        ttl = self._extras.authorizer_ttls.get(authorizer.authorizer_name, DEFAULT_REAUTHORIZE_EVERY)
        # No identity source, no cache: API Gateway requires one to key the cache on.
        key = self._cache_key(authorizer, event) if ttl > 0 and authorizer.identity_sources else None
        method_arn = self._method_arn(request)
        policy = self._cache.get(key) if key is not None else None
        if policy is None:
            outcome = self._call_authorizer(authorizer, event, method_arn)
            if isinstance(outcome, _GatewayError):
                return self._gateway_error(outcome, event)
            policy = outcome
            if key is not None:
                self._cache.put(key, policy, ttl)
        # A cached policy is evaluated again for this request's method ARN, as API Gateway does.
        authorizer_context: dict[str, Any] = {
            **policy.context,
            "principalId": policy.principal_id,
            "integrationLatency": policy.latency_ms,
        }
        denied = _evaluate(policy, method_arn)
        if denied is not None:
            return self._gateway_error(denied, event, authorizer=authorizer_context)
        event["requestContext"]["authorizer"] = authorizer_context
        return None

    def _cache_key(self, authorizer: LambdaAuthorizer, event: dict[str, Any]) -> tuple[str, ...]:
        sources = {
            "headers": request.headers,
            "querystring": request.query_string.decode("utf-8", "replace"),
            "context": event["requestContext"],
            "stageVariables": self.api.stage_variables or {},
        }
        values = [str(source.find_identity_value(**sources)) for source in authorizer.identity_sources]
        return (authorizer.authorizer_name, *values)

    def _method_arn(self, flask_request: Request) -> str:
        return (
            f"arn:aws:execute-api:{self._region}:{self._account_id}:{LOCAL_API_ID}/"
            f"{self._stage}/{flask_request.method}{flask_request.path}"
        )

    def _call_authorizer(
        self, authorizer: LambdaAuthorizer, event: dict[str, Any], method_arn: str
    ) -> _Policy | _GatewayError:
        started = time.perf_counter()
        try:
            result = self._runner.invoke_result(
                authorizer.lambda_name, self._authorizer_event(authorizer, event, method_arn)
            )
        except FunctionNotFound:
            LOG.error("authorizer function %s is not in the pool", authorizer.lambda_name)
            return AUTHORIZER_CONFIGURATION_ERROR
        latency_ms = round((time.perf_counter() - started) * 1000)
        if result.error is not None:
            # raise Exception("Unauthorized") is the documented way for an authorizer to answer 401.
            if result.error.get("errorMessage") == "Unauthorized":
                return UNAUTHORIZED
            LOG.warning("authorizer %s failed: %s", authorizer.authorizer_name, _describe(result.error))
            return AUTHORIZER_CONFIGURATION_ERROR
        if result.payload == "Unauthorized":
            return UNAUTHORIZED
        try:
            return _parse_policy(result.payload, latency_ms)
        except ValueError as exc:
            LOG.warning("authorizer %s answered an invalid policy: %s", authorizer.authorizer_name, exc)
            return AUTHORIZER_CONFIGURATION_ERROR

    def _authorizer_event(self, authorizer: LambdaAuthorizer, event: dict[str, Any], method_arn: str) -> dict[str, Any]:
        if authorizer.type == LambdaAuthorizer.TOKEN:
            token = authorizer.identity_sources[0].find_identity_value(headers=request.headers)
            return {"type": "TOKEN", "authorizationToken": str(token), "methodArn": method_arn}
        # A REQUEST authorizer sees the request without its body.
        skipped = {"body", "isBase64Encoded"}
        request_event = {k: v for k, v in event.items() if k not in skipped}
        return {"type": "REQUEST", "methodArn": method_arn, **request_event}

    # -- integration

    def _integrate(self, route: Route, event: dict[str, Any]) -> Response:
        try:
            result = self._runner.invoke_result(route.function_name, event)
        except FunctionNotFound:
            LOG.error("function %s (%s %s) is not in the pool", route.function_name, request.method, route.path)
            return self._gateway_error(INTEGRATION_FAILURE, event)
        if result.error is not None:
            LOG.warning(
                "%s %s: %s failed: %s", request.method, request.path, route.function_name, _describe(result.error)
            )
            return self._gateway_error(INTEGRATION_FAILURE, event)
        try:
            status, headers, body = self._proxy_response(result.payload)
        except LambdaResponseParseException as exc:
            LOG.warning("%s returned a malformed Lambda proxy response: %s", route.function_name, exc)
            return self._gateway_error(INTEGRATION_FAILURE, event)
        response = Response(body, status=status, headers=headers)
        response.headers["x-amzn-RequestId"] = event["requestContext"]["requestId"]
        return response

    def _proxy_response(self, payload: Any) -> tuple[int, Headers, Any]:
        # API Gateway REST rejects what samcli lets through: no statusCode, a body that is not a string.
        if not isinstance(payload, dict):
            raise LambdaResponseParseException(f"the function returned {type(payload).__name__}, not an object")
        if "statusCode" not in payload:
            raise LambdaResponseParseException("statusCode is missing")
        if payload.get("body") is not None and not isinstance(payload["body"], str):
            raise LambdaResponseParseException("body must be a string")
        parsed: tuple[int, Headers, Any] = self._parse_v1_payload_format_lambda_output(
            json.dumps(payload), self.api.binary_media_types, request, Route.API
        )
        return parsed

    # -- errors

    def _gateway_error(
        self, error: _GatewayError, event: dict[str, Any] | None, *, authorizer: dict[str, Any] | None = None
    ) -> Response:
        context = dict(event["requestContext"]) if event is not None else self._bare_context()
        variables = {
            **context,
            "authorizer": authorizer or context.get("authorizer") or {},
            "error": {"message": error.message, "responseType": error.response_type},
        }
        return self._responses.render(error, variables, request)

    def _bare_context(self) -> dict[str, Any]:
        return {
            "requestId": str(uuid.uuid4()),
            "stage": self._stage,
            "path": f"/{self._stage}{request.path}",
            "httpMethod": request.method,
            "identity": {"sourceIp": request.remote_addr, "userAgent": request.headers.get("User-Agent")},
            "apiId": LOCAL_API_ID,
            "accountId": self._account_id,
            "domainName": request.host,
        }

    def clear_authorizer_cache(self) -> None:
        self._cache.clear()


def _canonical(name: str) -> str:
    # The casing Werkzeug gives headers (x-multi -> X-Multi), for the same keys whichever path built them.
    return name.title()


def _describe(error: Mapping[str, Any]) -> str:
    return f"{error.get('errorType')}: {error.get('errorMessage')}"


class _RequestHandler(WSGIRequestHandler):
    """Werkzeug's handler, HTTP/1.1, with access lines on our logger instead of stderr."""

    protocol_version = "HTTP/1.1"

    def make_environ(self) -> Any:
        environ = super().make_environ()
        environ[RAW_HEADERS_KEY] = [
            (name, value.replace("\r\n", "")) for name, value in self.headers.items() if "_" not in name
        ]
        return environ

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        LOG.info('%s "%s" %s %s', self.address_string(), self.requestline, code, size)

    def log(self, type: str, message: str, *args: Any) -> None:
        LOG.log(logging.ERROR if type == "error" else logging.INFO, message, *args)


@contextlib.contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


# ------------------------------------------------------------------------------------------ public


class LocalGateway:
    """The template's REST API served on host:port, functions invoked through a FunctionPool."""

    def __init__(
        self,
        template_path: Path,
        pool: FunctionPool,
        *,
        host: str = "127.0.0.1",
        port: int = 3000,
        parameter_overrides: dict[str, str] | None = None,
        region: str = LOCAL_REGION,
        account_id: str = LOCAL_ACCOUNT_ID,
    ) -> None:
        self.pool = pool
        self.host = host
        stacks, _ = SamLocalStackProvider.get_stacks(
            template_file=str(template_path),
            parameter_overrides=dict(parameter_overrides or {}),
            global_parameter_overrides={"AWS::Region": region, "AWS::AccountId": account_id},
        )
        # samcli warns about authorizer fidelity on every build: this module is where fidelity is handled.
        with _quiet("samcli.lib.providers.api_collector"):
            api = ApiProvider(stacks).api
        self.api = api
        self._service = _RestApiService(
            api,
            PoolLambdaRunner(pool),
            _read_extras(stacks),
            host=host,
            port=port,
            region=region,
            account_id=account_id,
        )
        self._service.create()
        self.app = self._service._app
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._port = port

    @property
    def stage_name(self) -> str:
        return str(self._service._stage)

    @property
    def routes(self) -> list[tuple[str, str, str]]:
        """(method, path, function logical id) for every route the template declares."""
        return sorted((m, r.path, r.function_name) for r in self.api.routes for m in r.methods)

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        port = self._server.server_port if self._server is not None else self._port
        return f"http://{host}:{port}"

    def add_local_route(self, rule: str, view_func: Callable[..., Any], methods: Iterable[str] | None = None) -> None:
        """Mount a local-only Flask view (demo page, control endpoint) next to the API routes."""
        self.app.add_url_rule(rule, endpoint=f"local:{rule}", view_func=view_func, methods=list(methods or ["GET"]))

    def clear_authorizer_cache(self) -> None:
        """Forget cached authorizer policies (as a redeploy of the stage would)."""
        self._service.clear_authorizer_cache()

    def start(self) -> None:
        """Serve in a background thread (one thread per connection)."""
        if self._server is not None:
            return
        self._server = make_server(self.host, self._port, self.app, threaded=True, request_handler=_RequestHandler)
        # The event's X-Forwarded-Port is the port actually bound (port=0 picks a free one).
        self._service.port = self._server.server_port
        server = self._server
        # A short poll interval makes stop() return promptly (shutdown waits for the next poll).
        self._thread = threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.05), name="local-gateway", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> LocalGateway:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
