"""The emulator's DynamoDB serialization: DynamoDB calls one at a time, every other service concurrent."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from infra.local.emulator_server import SerializedDynamoDB


class SlowApp:
    """A WSGI app that takes a moment per request and records how many ran at once."""

    def __init__(self) -> None:
        self.running = 0
        self.peak = 0
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        time.sleep(0.02)
        with self.lock:
            self.running -= 1
        start_response("200 OK", [])
        return [b"{}"]


@pytest.mark.parametrize(
    ("target", "serialized"),
    [
        ("DynamoDB_20120810.TransactWriteItems", True),
        ("DynamoDB_20120810.GetItem", True),
        ("AmazonSQS.SendMessage", False),
    ],
)
def test_only_dynamodb_requests_are_serialized(target: str, serialized: bool) -> None:
    app = SlowApp()
    wrapped = SerializedDynamoDB(app)
    # When 8 requests arrive at once
    with ThreadPoolExecutor(max_workers=8) as pool:
        bodies = list(pool.map(lambda _: list(wrapped({"HTTP_X_AMZ_TARGET": target}, lambda *a: None)), range(8)))
    # Then DynamoDB ran them one at a time, other services side by side; every body came back whole
    assert (app.peak == 1) is serialized
    assert bodies == [[b"{}"]] * 8
