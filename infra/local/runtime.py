"""A pool of warm Lambda execution environments (one child process each) that invokes functions locally."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from infra.local.model import LOCAL_ACCOUNT_ID, LOCAL_REGION, FunctionSpec

HOST_SCRIPT = Path(__file__).resolve().with_name("lambda_host.py")
# Lambda gives the init phase 10 s of its own; a slower init fails the invocation that waited for it.
INIT_TIMEOUT_S = 10.0
_READ_CHUNK = 1 << 20
_CLOSE_GRACE_S = 1.0


@dataclass(frozen=True)
class InvokeResult:
    """What one invocation returned, as Lambda's Invoke API reports it."""

    payload: Any  # the handler's JSON-serialisable return (None when error is set)
    error: dict[str, Any] | None  # {errorMessage, errorType, stackTrace} on a function or sandbox error
    duration_ms: float  # the handler's run time (the timeout for a timed-out invocation)
    init_ms: float | None  # set when this invocation waited for a cold start (the REPORT's Init Duration)
    request_id: str

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class InitResult:
    """The outcome of pre-starting one execution environment."""

    function_id: str
    init_ms: float | None
    error: dict[str, Any] | None


def _fault(error_type: str, message: str) -> dict[str, Any]:
    return {"errorMessage": message, "errorType": error_type, "stackTrace": []}


class _SandboxExited(Exception):
    """The child process closed its result pipe: it exited or was killed."""


class _Sandbox:
    """One child process running infra/local/lambda_host.py for one function."""

    def __init__(
        self, spec: FunctionSpec, env: dict[str, str], python: str, log: IO[bytes] | None, account_id: str
    ) -> None:
        read_fd, write_fd = os.pipe()
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or LOCAL_REGION
        arn = f"arn:aws:lambda:{region}:{account_id}:function:{spec.function_name}"
        command = [
            python,
            "-I",  # isolated: no PYTHONPATH, no user site, no script directory on sys.path
            str(HOST_SCRIPT),
            f"--handler={spec.handler}",
            f"--code-dir={spec.code_dir}",
            *(f"--layer-dir={layer}" for layer in spec.layer_dirs),
            f"--function-name={spec.function_name}",
            f"--function-arn={arn}",
            f"--memory-mb={spec.memory_mb}",
            f"--region={region}",
            f"--result-fd={write_fd}",
        ]
        sink: IO[bytes] | int = log if log is not None else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=sink,
                stderr=sink,
                env=env,
                cwd=spec.code_dir,
                pass_fds=(write_fd,),
                # Its own process group: a timeout kills whatever the handler started too,
                # and a Ctrl-C in the terminal reaches the pool, which then closes its children.
                start_new_session=True,
            )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        self._fd = read_fd
        self._poll = select.poll()
        self._poll.register(read_fd, select.POLLIN)
        self._buffer = bytearray()
        self.init_ms: float | None = None

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self, timeout_s: float) -> dict[str, Any] | None:
        """Wait for the handler import; returns the init error, or None when the sandbox is ready."""
        try:
            message = self.read_message(time.monotonic() + timeout_s)
        except _SandboxExited:
            return _fault("Runtime.ExitError", f"Runtime exited without providing a reason ({self._exit_text()})")
        if message is None:
            return _fault("Sandbox.Timedout", f"Init timed out after {timeout_s:.2f} seconds")
        self.init_ms = float(message.get("init_ms", 0.0))
        if message.get("type") == "init_error":
            error: dict[str, Any] = message["error"]
            return error
        return None

    def send(self, request: bytes) -> None:
        stdin = self.process.stdin
        if stdin is None:
            raise _SandboxExited
        try:
            stdin.write(request)
            stdin.flush()
        except (BrokenPipeError, ValueError) as exc:
            raise _SandboxExited from exc

    def read_message(self, deadline: float) -> dict[str, Any] | None:
        """The next message on the result pipe, or None if the deadline (monotonic) passes first."""
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                message: dict[str, Any] = json.loads(line)
                return message
            remaining_ms = (deadline - time.monotonic()) * 1000
            if remaining_ms <= 0 or not self._poll.poll(max(1, int(remaining_ms))):
                if time.monotonic() >= deadline:
                    return None
                continue
            chunk = os.read(self._fd, _READ_CHUNK)
            if not chunk:
                raise _SandboxExited
            self._buffer += chunk

    def exit_reason(self) -> str:
        """How the process ended, in Lambda's words ("exit status 1", "signal: killed")."""
        return self._exit_text()

    def _exit_text(self) -> str:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=_CLOSE_GRACE_S)
        code = self.process.returncode
        if code is None:
            return "still running"
        if code < 0:
            return f"signal: {signal.Signals(-code).name.removeprefix('SIG').lower()}"
        return f"exit status {code}"

    def signal_kill(self) -> None:
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)

    def close_stdin(self) -> None:
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()

    def kill(self) -> None:
        self.signal_kill()
        self.process.wait()
        self._release()

    def stop(self) -> None:
        """Ask the child to end (EOF on its stdin), then kill it if it does not."""
        self.close_stdin()
        try:
            self.process.wait(timeout=_CLOSE_GRACE_S)
        except subprocess.TimeoutExpired:
            self.kill()
            return
        self._release()

    def _release(self) -> None:
        if self._fd >= 0:
            self._poll.unregister(self._fd)
            os.close(self._fd)
            self._fd = -1
        self.close_stdin()


@dataclass
class _Slots:
    """The execution environments of one function; `cond` guards every field."""

    cond: threading.Condition = field(default_factory=threading.Condition)
    idle: list[_Sandbox] = field(default_factory=list)
    live: set[_Sandbox] = field(default_factory=set)
    starting: int = 0  # processes being spawned outside the lock, counted against the cap


class FunctionPool:
    """Warm execution environments per function: one invocation at a time each, up to a cap per function."""

    def __init__(
        self,
        functions: Mapping[str, FunctionSpec],
        base_env: Mapping[str, str],
        *,
        log_dir: Path | None = None,
        max_per_function: int = 4,
        python: str = sys.executable,
        account_id: str = LOCAL_ACCOUNT_ID,
    ) -> None:
        if max_per_function < 1:
            raise ValueError("max_per_function must be at least 1")
        self._functions = dict(functions)
        self._base_env = {str(k): str(v) for k, v in base_env.items()}
        self._log_dir = log_dir
        self._max = max_per_function
        self._python = python
        self._account_id = account_id  # in the ARNs handlers see (moto's account by default)
        self._slots = {function_id: _Slots() for function_id in self._functions}
        self._logs: dict[str, IO[bytes]] = {}
        self._lock = threading.Lock()  # guards _logs and _closed
        self._closed = False
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)

    @property
    def functions(self) -> Mapping[str, FunctionSpec]:
        return self._functions

    def invoke(self, function_id: str, event: Any) -> InvokeResult:
        """Run one invocation on a warm environment (starting one if none is idle) and wait for its result."""
        spec = self._spec(function_id)
        request_id = str(uuid.uuid4())
        event_json = json.dumps(event, separators=(",", ":"))  # fails here, in the caller, if not JSON
        sandbox, cold = self._acquire(function_id)
        init_ms: float | None = None
        if cold:
            init_error = sandbox.wait_ready(INIT_TIMEOUT_S)
            init_ms = sandbox.init_ms
            if init_error is not None:
                # Lambda discards a sandbox whose init failed; the next invocation tries a fresh one.
                self._discard(function_id, sandbox, kill=True)
                return InvokeResult(None, init_error, 0.0, init_ms, request_id)
        return self._run(function_id, spec, sandbox, event_json, request_id, init_ms)

    def warm_up(self, ids: Iterable[str] | None = None) -> dict[str, InitResult]:
        """Start one environment for each function that has none (in parallel) and wait for their inits."""
        wanted = list(self._functions if ids is None else ids)
        for function_id in wanted:
            self._spec(function_id)
        results: dict[str, InitResult] = {}
        threads = [
            threading.Thread(target=self._warm_one, args=(function_id, results), daemon=True) for function_id in wanted
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    def close(self) -> None:
        """Stop every environment; invocations in flight end with a Runtime.ExitError."""
        with self._lock:
            self._closed = True
        idle: list[_Sandbox] = []
        busy: list[_Sandbox] = []
        for slots in self._slots.values():
            with slots.cond:
                idle.extend(slots.idle)
                busy.extend(slots.live.difference(slots.idle))
                slots.live.clear()
                slots.idle.clear()
                slots.cond.notify_all()
        # A busy environment's pipes belong to the thread waiting on it: kill the process only, that
        # thread sees the pipe close and cleans up.
        for sandbox in busy:
            sandbox.signal_kill()
        for sandbox in idle:
            sandbox.close_stdin()
        for sandbox in idle:
            sandbox.stop()
        with self._lock:
            for log in self._logs.values():
                log.close()
            self._logs.clear()

    def __enter__(self) -> FunctionPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def process_ids(self, function_id: str) -> list[int]:
        """The pids of the function's live environments (diagnostics and tests)."""
        slots = self._slots[function_id]
        with slots.cond:
            return sorted(s.process.pid for s in slots.live)

    # ------------------------------------------------------------------ internals

    def _spec(self, function_id: str) -> FunctionSpec:
        try:
            return self._functions[function_id]
        except KeyError:
            raise KeyError(f"Function not found: {function_id}") from None

    def _run(
        self,
        function_id: str,
        spec: FunctionSpec,
        sandbox: _Sandbox,
        event_json: str,
        request_id: str,
        init_ms: float | None,
    ) -> InvokeResult:
        started = time.monotonic()
        # The deadline starts now, after any cold start, as Lambda's does.
        deadline_ms = int(time.time() * 1000) + spec.timeout_s * 1000
        head = json.dumps({"request_id": request_id, "deadline_ms": deadline_ms})
        line = f'{head[:-1]}, "event": {event_json}}}\n'
        try:
            sandbox.send(line.encode())
            message = sandbox.read_message(started + spec.timeout_s)
        except _SandboxExited:
            reason = sandbox.exit_reason()
            self._discard(function_id, sandbox, kill=True)
            error = _fault("Runtime.ExitError", f"RequestId: {request_id} Error: Runtime exited with error: {reason}")
            return InvokeResult(None, error, (time.monotonic() - started) * 1000, init_ms, request_id)
        if message is None:
            self._discard(function_id, sandbox, kill=True)
            error = _fault("Sandbox.Timedout", f"Task timed out after {spec.timeout_s:.2f} seconds")
            return InvokeResult(None, error, spec.timeout_s * 1000.0, init_ms, request_id)
        self._release(function_id, sandbox)
        duration = float(message.get("duration_ms", (time.monotonic() - started) * 1000))
        if message.get("type") == "error":
            return InvokeResult(None, message["error"], duration, init_ms, request_id)
        return InvokeResult(message.get("payload"), None, duration, init_ms, request_id)

    def _acquire(self, function_id: str) -> tuple[_Sandbox, bool]:
        """An idle environment (cold=False), or a new one once the cap allows (cold=True)."""
        slots = self._slots[function_id]
        with slots.cond:
            while True:
                self._check_open()
                while slots.idle:
                    sandbox = slots.idle.pop()
                    if sandbox.alive:
                        return sandbox, False
                    # Died while idle (killed from outside, os._exit in a thread...): forget it.
                    slots.live.discard(sandbox)
                    sandbox.kill()
                if len(slots.live) + slots.starting < self._max:
                    slots.starting += 1
                    break
                # At the cap: wait for an environment to come back, as a queue rather than a throttle.
                slots.cond.wait()
        try:
            sandbox = self._spawn(function_id)
        finally:
            with slots.cond:
                slots.starting -= 1
        with slots.cond:
            if not self._closed:
                slots.live.add(sandbox)
                return sandbox, True
        sandbox.kill()  # the pool closed while this process started
        raise RuntimeError("FunctionPool is closed")

    def _spawn(self, function_id: str) -> _Sandbox:
        spec = self._functions[function_id]
        env = {**self._base_env, **{k: str(v) for k, v in spec.environment.items()}}
        return _Sandbox(spec, env, self._python, self._log_file(function_id), self._account_id)

    def _log_file(self, function_id: str) -> IO[bytes] | None:
        if self._log_dir is None:
            return None
        with self._lock:
            log = self._logs.get(function_id)
            if log is None:
                # Append mode (O_APPEND): every child writes whole lines at the end, so processes never clash.
                log = open(self._log_dir / f"{function_id}.log", "ab")
                self._logs[function_id] = log
            return log

    def _release(self, function_id: str, sandbox: _Sandbox) -> None:
        slots = self._slots[function_id]
        with slots.cond:
            if sandbox in slots.live:
                slots.idle.append(sandbox)
                slots.cond.notify()
                return
        sandbox.stop()  # the pool closed while this invocation ran

    def _discard(self, function_id: str, sandbox: _Sandbox, *, kill: bool) -> None:
        slots = self._slots[function_id]
        with slots.cond:
            slots.live.discard(sandbox)
            slots.cond.notify()
        if kill:
            sandbox.kill()
        else:
            sandbox.stop()

    def _warm_one(self, function_id: str, results: dict[str, InitResult]) -> None:
        slots = self._slots[function_id]
        with slots.cond:
            if slots.live or slots.starting:
                results[function_id] = InitResult(function_id, None, None)
                return
        sandbox, _ = self._acquire(function_id)
        error = sandbox.wait_ready(INIT_TIMEOUT_S)
        results[function_id] = InitResult(function_id, sandbox.init_ms, error)
        if error is None:
            self._release(function_id, sandbox)
        else:
            self._discard(function_id, sandbox, kill=True)

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("FunctionPool is closed")
