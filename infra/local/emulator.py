"""Start moto's server as a child process (or use the endpoint AWS_ENDPOINT_URL names) and hand out clients for it."""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
from botocore.config import Config

from infra.local.model import LOCAL_REGION

logger = logging.getLogger(__name__)

_REPO_ROOT = Path(__file__).resolve().parents[2]
FAKE_ACCESS_KEY = "testing"
FAKE_SECRET_KEY = "testing"
# Local calls either answer at once or not at all: botocore's default 60 s and 5 retries would hide a dead emulator.
_CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 2, "mode": "standard"})


class EmulatorError(RuntimeError):
    """The emulator process did not start or stopped answering."""


def external_endpoint() -> str | None:
    """The endpoint of an emulator someone else runs (LocalStack, another moto), from AWS_ENDPOINT_URL."""
    value = os.environ.get("AWS_ENDPOINT_URL", "").strip()
    return value.rstrip("/") or None


class LocalSession(boto3.Session):
    """A boto3 session with fake credentials whose clients and resources default to one endpoint."""

    def __init__(self, endpoint_url: str, region: str) -> None:
        super().__init__(
            aws_access_key_id=FAKE_ACCESS_KEY,
            aws_secret_access_key=FAKE_SECRET_KEY,
            region_name=region,
        )
        self.endpoint_url = endpoint_url

    # boto3's stubs declare one overload per service; a pass-through keeps every one of them usable.
    def client(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("endpoint_url", self.endpoint_url)
        kwargs.setdefault("config", _CLIENT_CONFIG)
        return super().client(*args, **kwargs)

    def resource(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("endpoint_url", self.endpoint_url)
        kwargs.setdefault("config", _CLIENT_CONFIG)
        return super().resource(*args, **kwargs)


def boto3_session(endpoint_url: str, region: str = LOCAL_REGION) -> LocalSession:
    """A session for the local tooling: fake credentials, every client pointed at the emulator."""
    return LocalSession(endpoint_url, region)


def aws_client(service: str, endpoint_url: str, region: str = LOCAL_REGION) -> Any:
    """One client of the emulator (typed Any: the tooling uses services whose stubs are not installed)."""
    return boto3_session(endpoint_url, region).client(service)


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _answers(endpoint_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint_url}/moto-api/", timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer means the server is up
    except OSError:
        return False


def _die_with_parent() -> None:
    """Linux: ask the kernel to send SIGTERM to this child when its parent exits (PR_SET_PDEATHSIG)."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


class Emulator:
    """moto's server in a child process: `with Emulator() as emu: emu.endpoint_url`."""

    def __init__(
        self,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        startup_timeout_s: float = 30.0,
        log_path: Path | None = None,
    ) -> None:
        self._requested_port = port
        self._host = host
        self._startup_timeout_s = startup_timeout_s
        self._keep_log = log_path is not None
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self._port: int | None = None

    @property
    def endpoint_url(self) -> str:
        if self._port is None:
            raise EmulatorError("the emulator is not started")
        return f"http://{self._host}:{self._port}"

    @property
    def log_path(self) -> Path | None:
        return self._log_path

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> Emulator:
        if self.running:
            return self
        # A free port found by binding can be taken by someone else before moto binds it: try a few.
        attempts = 1 if self._requested_port else 3
        last_error: EmulatorError | None = None
        for _ in range(attempts):
            try:
                self._start_once(self._requested_port or _free_port(self._host))
                atexit.register(self.stop)
                return self
            except EmulatorError as error:
                last_error = error
        assert last_error is not None
        raise last_error

    def _start_once(self, port: int) -> None:
        if self._log_path is None:
            handle, name = tempfile.mkstemp(prefix="moto-server-", suffix=".log")
            os.close(handle)
            self._log_path = Path(name)
        # The server's request log goes to a file: an unread pipe would fill up and block the server.
        with self._log_path.open("ab") as log:
            self._process = subprocess.Popen(
                # moto's server with DynamoDB requests serialized as DynamoDB does (decision 0026)
                [sys.executable, "-m", "infra.local.emulator_server", "-H", self._host, "-p", str(port)],
                cwd=str(_REPO_ROOT),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                # Its own session: Ctrl-C reaches the stack only, which saves the data before stopping us;
                # and it dies with its parent if the stack is killed outright (no orphaned emulator).
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        self._port = port
        deadline = time.monotonic() + self._startup_timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._fail(f"moto server exited with code {self._process.returncode}")
            if _answers(self.endpoint_url):
                logger.info("moto server answering at %s (pid %s)", self.endpoint_url, self._process.pid)
                return
            time.sleep(0.05)
        self._fail(f"moto server did not answer within {self._startup_timeout_s:.0f} s")

    def _fail(self, reason: str) -> None:
        tail = ""
        if self._log_path is not None and self._log_path.exists():
            tail = self._log_path.read_text(errors="replace")[-2000:]
        self._terminate()
        self._port = None
        raise EmulatorError(f"{reason}; server log tail:\n{tail}")

    def reset(self) -> None:
        """Forget every resource (moto's reset API): a clean slate without a restart."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def stop(self) -> None:
        self._terminate()
        atexit.unregister(self.stop)
        if not self._keep_log and self._log_path is not None:
            with contextlib.suppress(OSError):
                self._log_path.unlink()
            self._log_path = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


@contextlib.contextmanager
def local_endpoint(port: int = 0) -> Iterator[str]:
    """The emulator endpoint to use: AWS_ENDPOINT_URL when set (nothing started), else a moto server of our own."""
    external = external_endpoint()
    if external is not None:
        logger.info("using the emulator at AWS_ENDPOINT_URL=%s", external)
        yield external
        return
    with Emulator(port) as emulator:
        yield emulator.endpoint_url
