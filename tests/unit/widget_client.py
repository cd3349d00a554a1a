"""A browser's (or an attacker's) widget calls in-process: the real domain authorizer, then the route's function.

What API Gateway does with a widget request: the REQUEST authorizer (`DomainAuthorizerFunction`) decides from the
headers alone; a Deny is a 403, a raised "Unauthorized" a 401, and only an Allow reaches the function, with the
authorizer's context. Init and file downloads have no authorizer (their functions check for themselves).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.conftest import load_event
from tests.unit.aws import load_handler

API_HOST = "abc123.execute-api.eu-west-3.amazonaws.com"
OUR_ORIGIN = f"https://{API_HOST}"


class Ctx:
    function_name = "test"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:eu-west-3:123456789012:function:test"
    aws_request_id = "req-1"


@dataclass
class Answer:
    status: int
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def code(self) -> str | None:
        return (self.body.get("error") or {}).get("code")


# (method, path regex) -> (function, its sample event, the template's resource)
_ROUTES: list[tuple[str, re.Pattern[str], str, str, str]] = [
    ("POST", re.compile(r"^/api/widget/v1/init$"), "widget_init", "widget_init/valid.json", "/api/widget/v1/init"),
    (
        "POST",
        re.compile(r"^/api/widget/v1/message$"),
        "widget_message",
        "widget_message/valid.json",
        "/api/widget/v1/message",
    ),
    (
        "GET",
        re.compile(r"^/api/widget/v1/message/([^/]+)/status$"),
        "message_status",
        "message_status/valid.json",
        "/api/widget/v1/message/{id}/status",
    ),
    (
        "GET",
        re.compile(r"^/api/widget/v1/session/([^/]+)/messages$"),
        "session_history",
        "session_history/valid.json",
        "/api/widget/v1/session/{id}/messages",
    ),
    (
        "POST",
        re.compile(r"^/api/widget/v1/upload$"),
        "widget_upload",
        "widget_upload/valid.json",
        "/api/widget/v1/upload",
    ),
    (
        "POST",
        re.compile(r"^/api/widget/v1/upload/([^/]+)/complete$"),
        "upload_complete",
        "upload_complete/valid.json",
        "/api/widget/v1/upload/{id}/complete",
    ),
]
_NO_AUTHORIZER = {"widget_init"}


def _headers_of(resp: dict[str, Any]) -> dict[str, str]:
    merged = {
        **(resp.get("headers") or {}),
        **{k: ",".join(v) for k, v in (resp.get("multiValueHeaders") or {}).items()},
    }
    return {k.lower(): str(v) for k, v in merged.items()}


def widget_call(
    method: str,
    path: str,
    *,
    key: str,
    origin: str | None = None,
    page_token: str | None = None,
    session_id: str | None = None,
    body: Any = None,
    ip: str = "203.0.113.9",
    headers: dict[str, str] | None = None,
) -> Answer:
    """One widget request as a client sends it: `origin` (a site, or None), the chat app's `page_token` (sent
    from our own origin, as the iframe does), `X-Session-ID`, a JSON body, a source IP."""
    route = next((r for r in _ROUTES if r[0] == method and r[1].match(path)), None)
    assert route is not None, (method, path)
    _, pattern, function, sample, resource = route
    sent: dict[str, str] = {"Host": API_HOST, "Content-Type": "application/json", "User-Agent": "Mozilla/5.0"}
    sent["X-Deployment-Key"] = key
    if page_token:
        sent["X-Widget-Token"] = page_token
        sent["Origin"] = origin or OUR_ORIGIN
    elif origin:
        sent["Origin"] = origin
    if session_id:
        sent["X-Session-ID"] = session_id
    sent.update(headers or {})
    event = copy.deepcopy(load_event(sample))
    event["path"] = path
    event["resource"] = resource
    event["httpMethod"] = method
    event["headers"] = sent
    event["multiValueHeaders"] = {k: [v] for k, v in sent.items()}
    match = pattern.match(path)
    event["pathParameters"] = {"id": match.group(1)} if match and match.groups() else None
    event["requestContext"]["identity"]["sourceIp"] = ip
    event["requestContext"]["requestId"] = f"req-{id(event)}"
    event["body"] = json.dumps(body) if body is not None else None
    event["requestContext"].pop("authorizer", None)
    if function not in _NO_AUTHORIZER:
        decision = authorize(event)
        if isinstance(decision, Answer):
            return decision
        event["requestContext"]["authorizer"] = decision
    resp = load_handler(function).handler(event, Ctx())
    return Answer(resp["statusCode"], json.loads(resp["body"]) if resp.get("body") else {}, _headers_of(resp))


def authorize(event: dict[str, Any]) -> dict[str, Any] | Answer:
    """The domain authorizer on this request: its context (Allow), or the gateway's 401/403 answer."""
    request = copy.deepcopy(load_event("domain_authorizer/request.json"))
    request["headers"] = dict(event["headers"])
    request["multiValueHeaders"] = dict(event["multiValueHeaders"])
    request["resource"] = event["resource"]
    request["path"] = event["path"]
    request["httpMethod"] = event["httpMethod"]
    request["requestContext"]["identity"]["sourceIp"] = event["requestContext"]["identity"]["sourceIp"]
    try:
        result = load_handler("domain_authorizer").handler(request, Ctx())
    except Exception as exc:  # API Gateway's contract: "Unauthorized" is a 401 before the function
        if str(exc) != "Unauthorized":
            raise
        return Answer(401, {"success": False, "error": {"code": "unauthorized", "message": "Unauthorized"}})
    if result["policyDocument"]["Statement"][0]["Effect"] != "Allow":
        ctx = result.get("context") or {}
        return Answer(403, {"success": False, "error": {"code": ctx.get("error_code"), "message": ""}})
    return {"principalId": result["principalId"], **result["context"]}


def share_page(token: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """GET /s/{token}: (status, the page's config: `tok` is the page token its chat app sends)."""
    event = copy.deepcopy(load_event("widget_page/share.json"))
    event["path"] = f"/s/{token}"
    event["pathParameters"] = {"token": token}
    for name, value in (headers or {}).items():
        event["headers"][name] = value
        event["multiValueHeaders"][name] = [value]
    resp = load_handler("widget_page").handler(event, Ctx())
    return resp["statusCode"], page_config(resp["body"])


def frame_page(
    key: str, origin: str, *, referer: str | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    """GET /widget/v1/frame?k=&o= as the loader's iframe asks for it: (status, the page's config)."""
    event = copy.deepcopy(load_event("widget_page/frame.json"))
    query = {**event["queryStringParameters"], "k": key, "o": origin}
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    event["headers"].pop("Referer", None)
    event["multiValueHeaders"].pop("Referer", None)
    sent = {**({"Referer": referer} if referer else {}), **(headers or {})}
    for name, value in sent.items():
        event["headers"][name] = value
        event["multiValueHeaders"][name] = [value]
    resp = load_handler("widget_page").handler(event, Ctx())
    return resp["statusCode"], page_config(resp["body"])


def page_config(html: str) -> dict[str, Any]:
    match = re.search(r'<script id="aim-config" type="application/json">(.*?)</script>', html, re.S)
    assert match, html[:300]
    return json.loads(match.group(1))  # type: ignore[no-any-return]


def share_payload(token: str) -> dict[str, Any]:
    """What anyone holding a share URL reads in it without the key: the token's payload is plain base64."""
    import base64

    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))  # type: ignore[no-any-return]


def download(url: str) -> Answer:
    """GET a file URL the widget was given (relative to /api/widget/v1/): the function checks its token."""
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    file_id = parts.path.rsplit("/", 1)[1]
    event = copy.deepcopy(load_event("file_download/valid.json"))
    event["path"] = f"/api/widget/v1/files/{file_id}"
    event["pathParameters"] = {"id": file_id}
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    resp = load_handler("file_download").handler(event, Ctx())
    return Answer(resp["statusCode"], json.loads(resp["body"]) if resp.get("body") else {}, _headers_of(resp))
