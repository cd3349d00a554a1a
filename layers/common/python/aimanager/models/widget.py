"""Widget API payloads (spec §6.1, §14B): what the handlers validate and what the OpenAPI document shows."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _storable(value: Any) -> None:
    """A number DynamoDB can store: finite, at most 38 digits, magnitude 1e-130 to 1e126 (else it is refused)."""
    if isinstance(value, dict):
        for item in value.values():
            _storable(item)
    elif isinstance(value, list):
        for item in value:
            _storable(item)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("numbers must be finite")
        number = Decimal(str(value))
        if number != 0 and not (-130 <= number.adjusted() < 126) or len(number.as_tuple().digits) > 38:
            raise ValueError("a number is out of the storable range (1e-130 to 1e126, 38 digits)")


def _storable_context(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is not None:
        _storable(value)
    return value


# A free-form context (widget, share links): JSON whose numbers the session table can store.
Context = Annotated[dict[str, Any] | None, AfterValidator(_storable_context)]

MessageStatus = Literal["queued", "processing", "completed", "failed"]


class StrictModel(BaseModel):
    """Deny by default: an unknown field is a validation error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class InitIn(StrictModel):
    deployment_key: str | None = Field(default=None, max_length=64, description="Or the X-Deployment-Key header.")
    session_id: str | None = Field(default=None, max_length=64, description="Resume this session if it is ours.")
    context: Context = None
    locale: Literal["fr", "en"] | None = None


class MessageIn(StrictModel):
    content: str = Field(min_length=1, description="The user's message (at most 4000 characters, else 413).")
    session_id: str | None = Field(
        default=None, max_length=64, description="Or the X-Session-ID header (§16.4 5.2); when both, the same."
    )
    context: Context = None
    client_message_id: str | None = Field(
        default=None,
        min_length=8,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Idempotency key: the same id sent twice queues one turn.",
    )


class AgentOut(BaseModel):
    name: str
    avatar: str | None = None


class BrandingOut(BaseModel):
    title: str
    primary_color: str | None = None
    logo_url: str | None = None
    powered_by: bool = True
    custom_css: str | None = None


class InitOut(BaseModel):
    session_id: str
    agent: AgentOut
    branding: BrandingOut
    welcome_message: str
    placeholder: str
    resumed: bool = False


class QueuedOut(BaseModel):
    message_id: str
    session_id: str
    status: MessageStatus
    position: int = Field(ge=1, description="Approximate place in the queue, 1 = next.")


class MessageMetadata(BaseModel):
    model: str | None = None
    tokens: int | None = None
    generation_time_ms: int | None = None


class ErrorDetail(BaseModel):
    code: str
    message: str


class StatusOut(BaseModel):
    message_id: str
    status: MessageStatus
    content: str | None = None
    metadata: MessageMetadata | None = None
    error: ErrorDetail | None = None
    completed_at: str | None = Field(default=None, description="When the reply was stored (UTC, ISO 8601).")


class HistoryMessage(BaseModel):
    message_id: str
    role: Literal["user", "assistant"]
    content: str
    status: MessageStatus
    created_at: str
    metadata: MessageMetadata | None = None
    error: ErrorDetail | None = None


class HistoryOut(BaseModel):
    session_id: str
    messages: list[HistoryMessage]


UploadType = Literal["image/jpeg", "image/png", "image/webp", "application/pdf"]


class UploadIn(StrictModel):
    session_id: str | None = Field(default=None, max_length=64, description="Or the X-Session-ID header.")
    file_name: str = Field(min_length=1, max_length=255)
    content_type: UploadType = Field(description="Declared type; the bytes are checked once uploaded.")
    size: int = Field(ge=1, description="Bytes, at most 10 MB (else 413); the stored object is measured again.")


class UploadTarget(BaseModel):
    url: str
    fields: dict[str, str]


class UploadOut(BaseModel):
    file_id: str
    upload: UploadTarget = Field(description="POST the file as multipart/form-data: these fields, then `file`.")
    expires_in: int


class FileOut(BaseModel):
    file_id: str
    file_name: str
    content_type: str
    size: int
    url: str = Field(description="Relative to the widget API root; expires (our code checks the expiry).")
    thumbnail_url: str | None = None
