"""Session files in-process (moto): presigned POST, our checks on what arrived, thumbnails, expiring file URLs."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from PIL import Image

from aimanager.dal.tables import SessionFileItem, SessionItem
from aimanager.models.agent import AllowedDomain
from aimanager.services import uploads
from tests.conftest import load_event
from tests.unit.aws import DEMO_KEY, OTHER_KEY, World, aws_world, load_handler, seed_agent, seed_deployment
from tests.unit.functions.test_widget_flow import Ctx, authorizer_ctx, body, header, init_session

BUCKET = "uploads-bucket"


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with aws_world(monkeypatch) as w:
        seed_agent()
        seed_deployment()
        seed_deployment(OTHER_KEY, [AllowedDomain("www.other.fr")], editor_id="usr_sage")
        yield w


def jpeg(width: int = 800, height: int = 600) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 40)).save(out, format="JPEG")
    return out.getvalue()


def request_upload(session_id: str, key: str = DEMO_KEY, **fields: Any) -> dict[str, Any]:
    event = load_event("widget_upload/valid.json")
    event["headers"]["X-Session-ID"] = session_id
    event["requestContext"]["authorizer"] = authorizer_ctx(key)
    payload = {"file_name": "salle-de-bain.jpg", "content_type": "image/jpeg", "size": 1000, **fields}
    event["body"] = json.dumps(payload)
    return load_handler("widget_upload").handler(event, Ctx())  # type: ignore[no-any-return]


def complete(file_id: str, key: str = DEMO_KEY) -> dict[str, Any]:
    event = load_event("upload_complete/valid.json")
    event["path"] = f"/api/widget/v1/upload/{file_id}/complete"
    event["pathParameters"] = {"id": file_id}
    event["requestContext"]["authorizer"] = authorizer_ctx(key)
    return load_handler("upload_complete").handler(event, Ctx())  # type: ignore[no-any-return]


def download(relative_url: str) -> dict[str, Any]:
    parts = urlsplit(relative_url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    file_id = parts.path.rsplit("/", 1)[1]
    event = load_event("file_download/valid.json")
    event["path"] = f"/api/widget/v1/files/{file_id}"
    event["pathParameters"] = {"id": file_id}
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    return load_handler("file_download").handler(event, Ctx())  # type: ignore[no-any-return]


def browser_puts(target: dict[str, Any], data: bytes) -> str:
    """What the browser's POST stores (moto in-process does not serve the form POST: a put of the same key)."""
    key = target["upload"]["fields"]["key"]
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=data)
    return str(key)


def objects() -> list[str]:
    return [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_a_photo_goes_up_is_checked_and_gets_a_thumbnail(world: World) -> None:
    session_id = body(init_session())["data"]["session_id"]
    # When the widget asks to upload a photo
    resp = request_upload(session_id)
    assert resp["statusCode"] == 201, resp
    target = body(resp)["data"]
    # Then it gets a presigned POST limited to 10 MB and the declared type
    fields = target["upload"]["fields"]
    assert fields["Content-Type"] == "image/jpeg" and fields["key"].endswith(target["file_id"])
    policy = json.loads(__import__("base64").b64decode(fields["policy"]))
    assert ["content-length-range", 1, 10 * 1024 * 1024] in policy["conditions"]
    # When the browser has uploaded and the widget completes
    browser_puts(target, jpeg())
    done = complete(target["file_id"])
    # Then the file is kept with its real type and size, and a thumbnail exists
    assert done["statusCode"] == 200, done
    data = body(done)["data"]
    assert data["content_type"] == "image/jpeg" and data["size"] == len(jpeg())
    assert data["thumbnail_url"].startswith(f"files/{target['file_id']}?v=thumb&t=")
    redirect = download(data["thumbnail_url"])
    assert redirect["statusCode"] == 302
    thumb_key = target["upload"]["fields"]["key"] + ".thumb.jpg"
    assert thumb_key in (header(redirect, "Location") or "")
    thumb = boto3.client("s3").get_object(Bucket=BUCKET, Key=thumb_key)["Body"].read()
    assert Image.open(io.BytesIO(thumb)).size == (320, 240)
    # And a second completion (a retry) changes nothing: the session counts the file once
    assert body(complete(target["file_id"]))["data"]["file_id"] == target["file_id"]
    assert SessionItem.get(session_id).files_count == 1


def test_a_file_is_judged_by_its_bytes_and_a_bad_one_is_deleted(world: World) -> None:
    session_id = body(init_session())["data"]["session_id"]
    target = body(request_upload(session_id))["data"]
    key = browser_puts(target, b"<html><script>alert(1)</script></html>")  # declared image/jpeg, named .jpg
    resp = complete(target["file_id"])
    assert resp["statusCode"] == 422 and body(resp)["error"]["code"] == "unsupported_file_type"
    assert key not in objects()
    assert SessionFileItem.get(session_id, target["file_id"]).status == "rejected"
    assert complete(target["file_id"])["statusCode"] == 422  # and it stays refused
    assert SessionItem.get(session_id).files_count is None


def test_an_object_over_10_mb_is_refused_even_though_the_post_said_less(world: World) -> None:
    # moto does not enforce the POST policy: our completion measures what arrived
    session_id = body(init_session())["data"]["session_id"]
    target = body(request_upload(session_id))["data"]
    key = browser_puts(target, jpeg()[:3] + b"\0" * (10 * 1024 * 1024))
    resp = complete(target["file_id"])
    assert resp["statusCode"] == 413 and body(resp)["error"]["code"] == "file_too_large"
    assert key not in objects()


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"size": 10 * 1024 * 1024 + 1}, 413, "file_too_large"),
        ({"content_type": "image/gif"}, 422, "validation_error"),
        ({"content_type": "text/html"}, 422, "validation_error"),
        ({"size": 0}, 422, "validation_error"),
        ({"extra": 1}, 422, "validation_error"),
    ],
)
def test_declared_files_outside_the_rules_are_refused_before_any_upload(
    world: World, fields: dict[str, Any], status: int, code: str
) -> None:
    session_id = body(init_session())["data"]["session_id"]
    resp = request_upload(session_id, **fields)
    assert resp["statusCode"] == status and body(resp)["error"]["code"] == code


def test_a_session_holds_at_most_ten_files(world: World) -> None:
    session_id = body(init_session())["data"]["session_id"]
    pending = [body(request_upload(session_id))["data"] for _ in range(11)]  # requests are not files yet
    for target in pending:
        browser_puts(target, b"%PDF-1.7\n" + b"x" * 100)
    results = [complete(t["file_id"])["statusCode"] for t in pending]
    assert results == [200] * 10 + [409]
    assert SessionItem.get(session_id).files_count == 10
    assert body(request_upload(session_id))["error"]["code"] == "file_limit_reached"


def test_files_are_scoped_to_their_deployment_and_session(world: World) -> None:
    session_id = body(init_session())["data"]["session_id"]
    target = body(request_upload(session_id))["data"]
    browser_puts(target, jpeg())
    # Another deployment cannot complete it, nor upload into this session
    assert complete(target["file_id"], key=OTHER_KEY)["statusCode"] == 404
    assert request_upload(session_id, key=OTHER_KEY)["statusCode"] == 404
    assert complete("fil_forged")["statusCode"] == 404
    # Completing before the upload is a clear 400
    other = body(request_upload(session_id))["data"]
    assert body(complete(other["file_id"]))["error"]["code"] == "upload_missing"


def test_file_urls_expire_and_our_code_checks_it(world: World) -> None:
    # moto never checks a presigned GET's expiry: the URL the widget holds is ours, and we check it
    session_id = body(init_session())["data"]["session_id"]
    target = body(request_upload(session_id))["data"]
    browser_puts(target, jpeg())
    assert complete(target["file_id"])["statusCode"] == 200
    fresh = uploads.file_url(target["file_id"], "file")
    assert download(fresh)["statusCode"] == 302
    old = uploads.file_url(target["file_id"], "file", now=int(time.time()) - uploads.FILE_URL_TTL_S - 1)
    resp = download(old)
    assert resp["statusCode"] == 401 and body(resp)["error"]["code"] == "invalid_file_link"
    # A URL for the thumbnail cannot be turned into one for the file, nor for another file
    thumb = uploads.file_url(target["file_id"], "thumb")
    assert download(thumb.replace("v=thumb", "v=file"))["statusCode"] == 401
    other = body(request_upload(session_id))["data"]["file_id"]
    assert download(fresh.replace(target["file_id"], other))["statusCode"] == 401
