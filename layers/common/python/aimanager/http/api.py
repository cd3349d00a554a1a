"""One resolver factory for every REST function: validation, the envelope on every error, CORS, body limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

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


def resolve(app: APIGatewayRestResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """app.resolve, after the body-size limit (checked before any parsing, so a huge body costs nothing)."""
    body = event.get("body") or ""
    if len(body) > MAX_BODY_BYTES or len(body.encode("utf-8")) > MAX_BODY_BYTES:
        origin = ((event.get("requestContext") or {}).get("authorizer") or {}).get("origin")
        return raw_error(
            413,
            "content_too_large",
            f"The request body exceeds {MAX_BODY_BYTES} bytes.",
            cors_headers(str(origin) if origin else None),
        )
    return app.resolve(event, context)
