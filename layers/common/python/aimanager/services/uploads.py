"""Session files (spec §15.2D): the browser uploads straight to S3 with a presigned POST; our code then checks
what really arrived (size, type by its bytes), keeps it exactly once, and makes the thumbnail (decision 0012).
Files are shown through our own URLs, whose expiry our code checks before redirecting to S3."""

from __future__ import annotations

import io
import time
from typing import Any
from urllib.parse import quote

from aimanager.adapters.secrets import signing_secret
from aimanager.adapters.storage import ObjectMissing, UploadsBucket
from aimanager.dal import repositories as repo
from aimanager.dal.tables import SessionFileItem
from aimanager.domain.files import (
    IMAGE_TYPES,
    MAX_FILE_BYTES,
    MAX_FILES_PER_SESSION,
    SNIFF_BYTES,
    safe_file_name,
    sniff,
)
from aimanager.domain.tokens import InvalidToken, sign, verify
from aimanager.errors import BadRequest, Conflict, NotFound, PayloadTooLarge, Unauthorized, ValidationFailed
from aimanager.ids import new_file_id, session_of_file, utc_now
from aimanager.models.caller import WidgetCaller
from aimanager.models.widget import FileOut, UploadIn, UploadOut, UploadTarget
from aimanager.observability import logger
from aimanager.services.widget import own_session, usable_session

UPLOAD_EXPIRES_S = 600
FILE_URL_TTL_S = 3600
REDIRECT_TTL_S = 60
FILE_URL_PURPOSE = "widget_file"
THUMBNAIL_PX = 320


def _now(now: int | None) -> int:
    return int(time.time()) if now is None else now


def request_upload(caller: WidgetCaller, session_id: str | None, body: UploadIn, bucket: UploadsBucket) -> UploadOut:
    """A pending file and where to POST it; refused early when the session is already full."""
    if body.size > MAX_FILE_BYTES:
        raise PayloadTooLarge("A file is at most 10 MB.", code="file_too_large")
    session = own_session(caller, body.session_id or session_id)
    if repo.files_count(session) >= MAX_FILES_PER_SESSION:
        raise Conflict(f"A conversation holds at most {MAX_FILES_PER_SESSION} files.", code="file_limit_reached")
    file_id = new_file_id(session.session_id)
    key = f"sessions/{caller.deployment_key}/{session.session_id}/{file_id}"
    repo.create_file(
        SessionFileItem(
            session.session_id,
            file_id,
            deployment_key=caller.deployment_key,
            file_name=safe_file_name(body.file_name),
            declared_type=body.content_type,
            status="pending",
            s3_key=key,
            created_at=utc_now(),
        )
    )
    target = bucket.presigned_post(key, body.content_type, MAX_FILE_BYTES, UPLOAD_EXPIRES_S)
    return UploadOut(file_id=file_id, upload=UploadTarget(**target), expires_in=UPLOAD_EXPIRES_S)


def _own_file(caller: WidgetCaller, file_id: str) -> SessionFileItem:
    """A file of a session the caller may use (the same rule as every widget call: domain/session_access)."""
    session_id = session_of_file(file_id)
    if session_id is None or usable_session(caller, session_id) is None:
        raise NotFound("Unknown file.", code="file_not_found")
    item = repo.get_file(session_id, file_id)
    if item is None or item.deployment_key != caller.deployment_key:
        raise NotFound("Unknown file.", code="file_not_found")
    return item


def file_url(file_id: str, variant: str, now: int | None = None) -> str:
    """Relative to the widget API root; valid FILE_URL_TTL_S seconds."""
    token = sign(signing_secret(), FILE_URL_PURPOSE, {"file_id": file_id, "v": variant}, FILE_URL_TTL_S, _now(now))
    return f"files/{quote(file_id)}?v={variant}&t={token}"


def _out(item: SessionFileItem, now: int | None = None) -> FileOut:
    return FileOut(
        file_id=item.file_id,
        file_name=item.file_name,
        content_type=item.content_type or item.declared_type,
        size=int(item.size or 0),
        url=file_url(item.file_id, "file", now),
        thumbnail_url=file_url(item.file_id, "thumb", now) if item.thumbnail_key else None,
    )


def _refuse(item: SessionFileItem, bucket: UploadsBucket, error: Exception, code: str) -> Exception:
    bucket.delete(item.s3_key)
    repo.reject_file(item, code)
    logger.warning("upload refused", extra={"file_id": item.file_id, "reason": code})
    return error


def _thumbnail(data: bytes) -> bytes:
    from PIL import Image  # only this path pays for Pillow's import

    Image.MAX_IMAGE_PIXELS = 40_000_000  # a decompression bomb is refused, not decoded
    with Image.open(io.BytesIO(data)) as image:
        image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
        out = io.BytesIO()
        image.convert("RGB").save(out, format="JPEG", quality=80)
    return out.getvalue()


def _checked(item: SessionFileItem, bucket: UploadsBucket) -> tuple[str, int]:
    """(real type, size) of the stored object, or the refusal (object deleted, file rejected)."""
    try:
        size = bucket.size(item.s3_key)
    except ObjectMissing as exc:
        raise BadRequest("The file has not been uploaded yet.", code="upload_missing") from exc
    if size > MAX_FILE_BYTES or size < 1:
        raise _refuse(
            item, bucket, PayloadTooLarge("A file is at most 10 MB.", code="file_too_large"), "file_too_large"
        )
    real_type = sniff(bucket.read(item.s3_key, SNIFF_BYTES))
    if real_type is None:
        error = ValidationFailed("Only JPG, PNG, WEBP or PDF files are accepted.", code="unsupported_file_type")
        raise _refuse(item, bucket, error, "unsupported_file_type")
    return real_type, size


def _store_thumbnail(item: SessionFileItem, bucket: UploadsBucket) -> str:
    try:
        thumb = _thumbnail(bucket.read(item.s3_key))
    except Exception as exc:  # a corrupt or hostile image: refused, never stored
        error = ValidationFailed("This image cannot be read.", code="unreadable_image")
        raise _refuse(item, bucket, error, "unreadable_image") from exc
    key = f"{item.s3_key}.thumb.jpg"
    bucket.put(key, thumb, "image/jpeg")
    return key


def complete_upload(caller: WidgetCaller, file_id: str, bucket: UploadsBucket, now: int | None = None) -> FileOut:
    """Check the stored object and keep it once; a bad one is deleted and refused. Retries are safe."""
    item = _own_file(caller, file_id)
    if item.status == "uploaded":
        return _out(item, now)
    if item.status == "rejected":
        raise ValidationFailed("This file was refused.", code=item.error_code or "file_refused")
    real_type, size = _checked(item, bucket)
    thumbnail_key = _store_thumbnail(item, bucket) if real_type in IMAGE_TYPES else None
    try:
        repo.accept_file(item, real_type, size, thumbnail_key)
    except repo.FileLimitReached as exc:
        error = Conflict(f"A conversation holds at most {MAX_FILES_PER_SESSION} files.", code="file_limit_reached")
        if thumbnail_key:
            bucket.delete(thumbnail_key)
        raise _refuse(item, bucket, error, "file_limit_reached") from exc
    current = repo.get_file(item.session_id, item.file_id)
    if current is None or current.status != "uploaded":
        raise ValidationFailed("This file was refused.", code="file_refused")
    return _out(current, now)


def _still_served(item: SessionFileItem) -> None:
    """A URL issued earlier stops with its session: the share link revoked or expired, the deployment or its
    editor deactivated (issue 9 items 2 and 13)."""
    from aimanager.services.authorize import deployment_in_service
    from aimanager.services.share_links import assert_share_link_active

    session = repo.get_session(item.session_id, item.deployment_key)
    if session is None or deployment_in_service(item.deployment_key) is None:
        raise NotFound("Unknown file.", code="file_not_found")
    try:
        assert_share_link_active(session.share_jti)
    except Unauthorized as exc:
        raise Unauthorized("This file link is invalid or has expired.", code="invalid_file_link") from exc


def file_location(
    file_id: str, variant: str | None, token: str | None, bucket: UploadsBucket, now: int | None = None
) -> str:
    """A short-lived S3 URL for a file URL we issued; an expired, altered or foreign one is refused here."""
    try:
        claims: dict[str, Any] = verify(signing_secret(), FILE_URL_PURPOSE, token or "", _now(now))
    except InvalidToken as exc:
        raise Unauthorized("This file link is invalid or has expired.", code="invalid_file_link") from exc
    if claims.get("file_id") != file_id or claims.get("v") != variant:
        raise Unauthorized("This file link is invalid or has expired.", code="invalid_file_link")
    session_id = session_of_file(file_id)
    item = repo.get_file(session_id, file_id) if session_id else None
    if item is None or item.status != "uploaded":
        raise NotFound("Unknown file.", code="file_not_found")
    _still_served(item)
    key = item.thumbnail_key if variant == "thumb" else item.s3_key
    if not key:
        raise NotFound("Unknown file.", code="file_not_found")
    return bucket.presigned_get(key, REDIRECT_TTL_S, None if variant == "thumb" else item.file_name)
