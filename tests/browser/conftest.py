"""Browser tests: Playwright (Python) driving Debian's Chromium against the local stack, as an end user would.

The host page is http://localhost:<port>/demo and the chat app http://127.0.0.1:<port>/widget/v1/frame: two
origins, as an editor's site and our API are. A page the deployment does not allow is served from 127.0.0.2.
"""

from __future__ import annotations

import os
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from aimanager.domain.tokens import sign
from aimanager.ids import new_message_id, new_session_id, utc_now
from tests.e2e.conftest import RunningStack, free_port, start_stack, stop_stack

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# `make screenshots` writes them into docs/screenshots (shown in the README); a plain test run into a temp dir.
SCREENSHOTS = Path(os.environ.get("AIMANAGER_SCREENSHOTS_DIR") or "/tmp/aimanager-screenshots")


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM_PATH", ""), "/usr/bin/chromium", shutil.which("chromium") or ""):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    path = chromium_path()
    if path is None:
        message = "Chromium is not installed (`apt-get install chromium`; .ci/run installs it)"
        if os.environ.get("AIMANAGER_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    # A fresh profile each run (launch() uses a new temporary user-data-dir).
    b = playwright_instance.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
    yield b
    b.close()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = start_stack(tmp_path_factory.mktemp("browser-stack"))
    yield running
    stop_stack(running)


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    yield ctx
    ctx.close()


def demo_url(stack: RunningStack) -> str:
    return f"http://localhost:{stack.url.rsplit(':', 1)[1]}/demo"


def open_widget(page: Page, stack: RunningStack) -> Any:
    """The demo page with the widget opened and ready; returns the chat app's frame locator."""
    page.goto(demo_url(stack))
    page.wait_for_function("() => !!window.AiManagerWidget")
    page.click(".aimw-b")
    frame = page.frame_locator(".aimw iframe")
    frame.locator("main[aria-busy=false]").wait_for(timeout=30_000)
    return frame


# ------------------------------------------------------------------ a site the deployment does not allow


@dataclass
class OtherSite:
    url: str
    pages: dict[str, str]


class _Handler(BaseHTTPRequestHandler):
    site: OtherSite

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = self.site.pages.get(self.path.split("?")[0])
        data = (body or "not found").encode()
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def other_site() -> Iterator[OtherSite]:
    """A tiny HTTP server on 127.0.0.2 (another loopback origin, not on the demo allowlist)."""
    port = free_port()
    site = OtherSite(url=f"http://127.0.0.2:{port}", pages={})
    handler = type("Handler", (_Handler,), {"site": site})
    server = ThreadingHTTPServer(("127.0.0.2", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield site
    server.shutdown()
    server.server_close()


# ------------------------------------------------------------------ test helpers on the stack's emulator


def _aws(stack: RunningStack, service: str) -> Any:
    session: Any = boto3.session.Session()
    return session.client(
        service,
        endpoint_url=stack.demo["aws_endpoint_url"],
        region_name="eu-west-3",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def table_name(stack: RunningStack, logical_id: str) -> str:
    names: list[str] = _aws(stack, "dynamodb").list_tables()["TableNames"]
    return next(n for n in names if n.endswith(f"-{logical_id}") or n == logical_id)


def signing_secret(stack: RunningStack) -> bytes:
    sm = _aws(stack, "secretsmanager")
    arn = next(s["ARN"] for s in sm.list_secrets()["SecretList"] if "SigningSecret" in s["Name"])
    return str(sm.get_secret_value(SecretId=arn)["SecretString"]).encode()


def write_session(stack: RunningStack, share_jti: str) -> str:
    """A session of the demo deployment, as the share-link API writes one (it names the link that opened it)."""
    session_id, now = new_session_id(), utc_now()
    _aws(stack, "dynamodb").put_item(
        TableName=table_name(stack, "SessionsTable"),
        Item={
            "session_id": {"S": session_id},
            "deployment_key": {"S": stack.demo["deployment_key"]},
            "agent_id": {"S": "agt_expert_btp"},
            "editor_id": {"S": "usr_ebp"},
            "share_jti": {"S": share_jti},
            "created_at": {"S": now},
            "last_activity_at": {"S": now},
        },
    )
    return session_id


def write_answered_turn(stack: RunningStack, session_id: str, question: str, reply: str) -> None:
    """A completed turn whose reply is exactly `reply` (what a model could answer, HTML and quotes included)."""
    now = utc_now()
    _aws(stack, "dynamodb").put_item(
        TableName=table_name(stack, "MessagesTable"),
        Item={
            "session_id": {"S": session_id},
            "message_id": {"S": new_message_id(session_id)},
            "deployment_key": {"S": stack.demo["deployment_key"]},
            "content": {"S": question},
            "status": {"S": "completed"},
            "reply_content": {"S": reply},
            "reply_model": {"S": "test"},
            "attempts": {"N": "1"},
            "created_at": {"S": now},
            "updated_at": {"S": now},
            "completed_at": {"S": now},
        },
    )


def mint_share_link(stack: RunningStack, *, ttl_s: int = 3600, purpose: str = "share_link") -> tuple[str, str]:
    """(token, session_id): a share link as the editor API will mint it, for a session written here."""
    jti, issued = secrets.token_hex(8), int(time.time())
    session_id = write_session(stack, jti)
    claims = {"jti": jti, "deployment_key": stack.demo["deployment_key"], "session_id": session_id}
    _aws(stack, "dynamodb").put_item(  # the link's record, checked on every use (revocation)
        TableName=table_name(stack, "ShareLinksTable"),
        Item={
            "jti": {"S": jti},
            "session_id": {"S": session_id},
            "deployment_key": {"S": stack.demo["deployment_key"]},
            "editor_id": {"S": "usr_ebp"},
            "artisan_id": {"S": "usr_durant"},
            "link_id": {"S": "lnk_ebp_durant"},
            "expires_at": {"S": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(issued + ttl_s))},
            "expires_ttl": {"N": str(issued + ttl_s)},
            "created_at": {"S": utc_now()},
        },
    )
    return sign(signing_secret(stack), purpose, claims, ttl_s, issued), session_id
