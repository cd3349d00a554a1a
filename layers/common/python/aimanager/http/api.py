"""One resolver factory for every REST function: validation, the envelope on every error, CORS, body limits."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from aimanager.errors import DomainError
from aimanager.http.cors import cors_headers
from aimanager.http.envelope import error, raw_error
from aimanager.observability import logger
from aimanager.settings import MAX_BODY_BYTES


def _allowed_origin(app: APIGatewayRestResolver) -> str | None:
    ctx = app.current_event.request_context.authorizer.raw_event if app.current_event else {}
    origin = (ctx or {}).get("origin")
    return str(origin) if origin else None


def _field(loc: Any) -> str:
    parts = [str(p) for p in (loc or ()) if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _validation_response(app: APIGatewayRestResolver, exc: RequestValidationError) -> Response[str]:
    errors = exc.errors()
    headers = cors_headers(_allowed_origin(app))
    if any(e.get("type") == "json_invalid" for e in errors):
        return error(400, "malformed_json", "The request body is not valid JSON.", headers=headers)
    first = errors[0] if errors else {}
    name = _field(first.get("loc"))
    if first.get("type") == "extra_forbidden":
        message = f"Unknown field '{name}'."
    elif first.get("type") == "missing":
        message = f"Field '{name}' is required."
    else:
        message = f"Field '{name}': {first.get('msg', 'invalid value')}."
    return error(422, "validation_error", message, headers=headers)


def rest_resolver(*, origin: Callable[[APIGatewayRestResolver], str | None] | None = None) -> APIGatewayRestResolver:
    """An APIGatewayRestResolver whose every failure is a §14B error envelope; `origin` picks the CORS origin."""
    app = APIGatewayRestResolver(enable_validation=True)
    allowed = origin or _allowed_origin

    @app.exception_handler(RequestValidationError)
    def _on_validation(exc: RequestValidationError) -> Response[str]:
        return _validation_response(app, exc)

    @app.exception_handler(RequestUnsupportedContentType)
    def _on_media_type(exc: RequestUnsupportedContentType) -> Response[str]:
        message = "The request body must be JSON, sent with Content-Type: application/json."
        return error(415, "unsupported_media_type", message, headers=cors_headers(allowed(app)))

    @app.exception_handler(DomainError)
    def _on_domain(exc: DomainError) -> Response[str]:
        return error(exc.status, exc.code, exc.message, headers={**exc.headers, **cors_headers(allowed(app))})

    @app.not_found
    def _on_not_found(exc: NotFoundError) -> Response[str]:
        return error(404, "not_found", "No such route.")

    @app.exception_handler(Exception)
    def _on_unexpected(exc: Exception) -> Response[str]:
        # Never leak internals: the log has the stack, the client a correlation-free generic message.
        logger.exception("unhandled error")
        return error(500, "internal_error", "Internal error.", headers=cors_headers(allowed(app)))

    return app


def is_json_media_type(content_type: str | None) -> bool:
    """No Content-Type (curl --json, fetch with a string body) or a JSON one: application/json, application/*+json."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media in ("", "application/json") or (media.startswith("application/") and media.endswith("+json"))


def _header(event: dict[str, Any], name: str) -> str | None:
    return next((str(v) for k, v in (event.get("headers") or {}).items() if k.lower() == name), None)


def resolve(
    app: APIGatewayRestResolver,
    event: dict[str, Any],
    context: Any,
    *,
    permissions: Mapping[tuple[str, str], str] | None = None,
) -> dict[str, Any]:
    """app.resolve, after the body checks (before any parsing, so a huge or foreign body costs nothing): at most
    MAX_BODY_BYTES (413), and JSON only (415: a form-encoded or text body is refused, never half-parsed). For
    API-key/bearer functions, the route's permission comes first, before the body is even looked at."""
    if permissions is not None:
        from aimanager.http.auth import check_route_permission

        try:
            check_route_permission(event, permissions)
        except DomainError as exc:
            return raw_error(exc.status, exc.code, exc.message)
    body = event.get("body") or ""
    origin = ((event.get("requestContext") or {}).get("authorizer") or {}).get("origin")
    headers = cors_headers(str(origin) if origin else None)
    if len(body) > MAX_BODY_BYTES or len(body.encode("utf-8")) > MAX_BODY_BYTES:
        return raw_error(413, "content_too_large", f"The request body exceeds {MAX_BODY_BYTES} bytes.", headers)
    if body and not is_json_media_type(_header(event, "content-type")):
        message = "The request body must be JSON, sent with Content-Type: application/json."
        return raw_error(415, "unsupported_media_type", message, headers)
    return app.resolve(event, context)
