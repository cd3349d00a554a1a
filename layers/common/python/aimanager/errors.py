"""Domain exceptions: raised by rules and services, mapped to HTTP once in aimanager.http."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every expected failure; `code` is the stable machine-readable error code."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers: dict[str, str] = dict(headers or {})  # e.g. Retry-After and RateLimit on a 429
        if code is not None:
            self.code = code


class BadRequest(DomainError):
    status, code = 400, "bad_request"


class Unauthorized(DomainError):
    status, code = 401, "unauthorized"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class NotFound(DomainError):
    status, code = 404, "not_found"


class Conflict(DomainError):
    status, code = 409, "conflict"


class PayloadTooLarge(DomainError):
    status, code = 413, "content_too_large"


class ValidationFailed(DomainError):
    status, code = 422, "validation_error"


class QuotaExceeded(DomainError):
    status, code = 429, "quota_exceeded"


class Unavailable(DomainError):
    status, code = 503, "unavailable"
