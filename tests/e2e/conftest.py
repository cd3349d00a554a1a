"""The whole local stack as a user starts it (`python -m infra.local run`), on free ports, in a temporary state dir."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningStack:
    url: str
    demo: dict[str, Any]
    process: subprocess.Popen[str]
    log: Path

    def call(
        self,
        method: str,
        path: str,
        *,
        origin: str | None = "http://localhost:8080",
        key: str | None = "demo",
        **kwargs: Any,
    ) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if origin:
            headers["Origin"] = origin
        if key:
            headers["X-Deployment-Key"] = self.demo["deployment_key"] if key == "demo" else key
        return requests.request(method, f"{self.url}{path}", headers=headers, timeout=30, **kwargs)


def start_stack(tmp: Path, *extra: str) -> RunningStack:
    port, ollama_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OLLAMA_", "QDRANT_"))}
    env["OLLAMA_HOST"] = f"http://127.0.0.1:{ollama_port}"  # nothing answers there: the stand-in takes it
    log = tmp / "stack.log"
    out = log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local", "run", "--port", str(port), "--state-dir", str(tmp / "state"), *extra],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the stack exited early:\n{log.read_text()}")
        try:
            # Healthy, and the banner printed (it follows health by a moment: tests read its notes)
            if requests.get(f"{url}/api/health", timeout=2).status_code == 200 and "Stop:" in log.read_text():
                demo = json.loads((tmp / "state" / "demo.json").read_text())
                return RunningStack(url=url, demo=demo, process=process, log=log)
        except requests.RequestException:
            pass
        time.sleep(0.25)
    process.kill()
    raise RuntimeError(f"the stack did not become healthy:\n{log.read_text()}")


def stop_stack(stack: RunningStack) -> None:
    stack.process.send_signal(2)  # Ctrl-C, as a developer would
    try:
        stack.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        stack.process.kill()


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    stack = start_stack(tmp_path_factory.mktemp("stack"))
    yield stack
    stop_stack(stack)


def poll(stack: RunningStack, message_id: str, *, until: set[str], timeout_s: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    data: dict[str, Any] = {}
    while time.monotonic() < deadline:
        data = stack.call("GET", f"/api/widget/v1/message/{message_id}/status").json()["data"]
        if data["status"] in until:
            return data
        time.sleep(0.1)
    raise AssertionError(f"message {message_id} still {data.get('status')} after {timeout_s}s")
