"""The §14B response envelope as pydantic models: what the OpenAPI document says every response looks like."""

from __future__ import annotations

from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class Envelope(BaseModel, Generic[T]):
    """A success: `{"success": true, "data": ...}`."""

    success: Literal[True]
    data: T


class AnyData(BaseModel):
    """A success whose data the route does not describe (yet): some JSON object."""

    success: Literal[True]
    data: dict[str, object] | list[object]


class ErrorBody(BaseModel):
    code: str = Field(description="Stable snake_case code, e.g. validation_error, session_not_found, rate_limited.")
    message: str = Field(description="A sentence for humans; names the field for validation errors.")


class ErrorEnvelope(BaseModel):
    """A failure: `{"success": false, "error": {"code", "message"}}` (every 4xx and 5xx, gateway's included)."""

    success: Literal[False]
    error: ErrorBody
