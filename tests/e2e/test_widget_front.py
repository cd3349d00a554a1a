"""End to end over HTTP: the widget's front end (assets, chat page, demo page) and a file upload through S3."""

from __future__ import annotations

import io

import pytest
import requests
from PIL import Image

from tests.e2e.conftest import RunningStack
from tests.e2e.test_chat_turn import open_session

pytestmark = pytest.mark.xdist_group("local_stack")


def test_the_loader_and_the_chat_app_files_are_served(local_stack: RunningStack) -> None:
    for name, kind in (("loader.js", "text/javascript"), ("chat.js", "text/javascript"), ("chat.css", "text/css")):
        resp = requests.get(f"{local_stack.url}/widget/v1/assets/{name}", timeout=10)
        assert resp.status_code == 200 and resp.headers["Content-Type"].startswith(kind), name
    assert requests.get(f"{local_stack.url}/widget/v1/assets/app.py", timeout=10).status_code == 404


def test_the_chat_page_is_framed_only_by_allowed_sites(local_stack: RunningStack) -> None:
    key = local_stack.demo["deployment_key"]
    page = f"{local_stack.url}/widget/v1/frame"
    # An allowed site gets the app, framable by the allowlist's sites only
    ok = requests.get(page, params={"k": key, "o": "http://localhost:8080"}, timeout=10)
    assert ok.status_code == 200
    assert "frame-ancestors https://localhost:* http://localhost:*" in ok.headers["Content-Security-Policy"]
    # Another site gets the refusal page, without a token
    refused = requests.get(page, params={"k": key, "o": "http://127.0.0.2:8080"}, timeout=10)
    assert refused.status_code == 403 and '"err":"origin_not_allowed"' in refused.text and '"tok"' not in refused.text
    # A bad share link gets a 401 page
    assert requests.get(f"{local_stack.url}/s/v1.bad.token", timeout=10).status_code == 401


def test_the_demo_page_embeds_the_seeded_deployment(local_stack: RunningStack) -> None:
    port = local_stack.url.rsplit(":", 1)[1]
    assert local_stack.demo["demo_page"] == f"http://localhost:{port}/demo"
    resp = requests.get(f"{local_stack.url}/demo", timeout=10)
    assert resp.status_code == 200
    assert local_stack.demo["deployment_key"] in resp.text
    assert f"{local_stack.url}/widget/v1/assets/loader.js" in resp.text


def test_a_photo_goes_to_s3_and_comes_back_through_an_expiring_url(local_stack: RunningStack) -> None:
    # Given a session, and a photo
    session_id = open_session(local_stack)
    photo = io.BytesIO()
    Image.new("RGB", (640, 480), (10, 120, 200)).save(photo, format="PNG")
    data = photo.getvalue()
    headers = {"X-Session-ID": session_id}
    # When the widget asks for an upload, POSTs the form to S3 itself, then completes
    asked = local_stack.call(
        "POST",
        "/api/widget/v1/upload",
        headers=headers,
        json={"file_name": "plan.png", "content_type": "image/png", "size": len(data)},
    )
    assert asked.status_code == 201, asked.text
    target = asked.json()["data"]
    posted = requests.post(
        target["upload"]["url"], data=target["upload"]["fields"], files={"file": ("plan.png", data)}, timeout=10
    )
    assert posted.status_code in (200, 204), posted.text
    done = local_stack.call("POST", f"/api/widget/v1/upload/{target['file_id']}/complete", headers=headers)
    assert done.status_code == 200, done.text
    file = done.json()["data"]
    assert file["content_type"] == "image/png" and file["size"] == len(data)
    # Then the file URL redirects to a short-lived S3 URL that serves the bytes
    url = f"{local_stack.url}/api/widget/v1/{file['url']}"
    redirect = requests.get(url, allow_redirects=False, timeout=10)
    assert redirect.status_code == 302
    assert requests.get(redirect.headers["Location"], timeout=10).content == data
    thumb = requests.get(f"{local_stack.url}/api/widget/v1/{file['thumbnail_url']}", timeout=10)
    assert Image.open(io.BytesIO(thumb.content)).size == (320, 240)
    # And an altered URL is refused
    assert requests.get(url.replace("v=file", "v=thumb"), allow_redirects=False, timeout=10).status_code == 401
