"""One warm Lambda execution environment: imports a handler once, then serves invocations read from stdin."""

# This module runs as a child process of infra.local.runtime.FunctionPool and imports nothing from the
# repository: by the time the handler is imported, sys.path holds only the task root, the layers and the
# interpreter's own paths, as in a Lambda sandbox (/var/task, /opt/python, runtime).
#
# Protocol (one JSON object per line, json.dumps never emits a raw newline):
#   parent -> child, on stdin:        {"request_id": str, "event": any, "deadline_ms": int}
#   child -> parent, on --result-fd:  {"type": "ready", "init_ms": float}
#                                     {"type": "init_error", "error": {...}, "init_ms": float}
#                                     {"type": "result", "request_id": str, "payload": any, "duration_ms": float}
#                                     {"type": "error", "request_id": str, "error": {...}, "duration_ms": float}
# stdout and stderr stay the function's log streams: handlers and Powertools print JSON logs there.

from __future__ import annotations

import argparse
import importlib
import json
import os
import secrets
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

MAX_RESPONSE_BYTES = 6 * 1024 * 1024  # Lambda's synchronous response limit (6 MB)


class LambdaContext:
    """The context object handlers receive, with the attributes of the Python runtime's own."""

    function_version = "$LATEST"
    identity = None
    client_context = None
    tenant_id = None

    def __init__(
        self,
        *,
        function_name: str,
        invoked_function_arn: str,
        memory_limit_in_mb: int,
        aws_request_id: str,
        log_group_name: str,
        log_stream_name: str,
        deadline_ms: int,
    ) -> None:
        self.function_name = function_name
        self.invoked_function_arn = invoked_function_arn
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = aws_request_id
        self.log_group_name = log_group_name
        self.log_stream_name = log_stream_name
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def __repr__(self) -> str:
        return f"LambdaContext(function_name={self.function_name!r}, aws_request_id={self.aws_request_id!r})"


class _FaultError(Exception):
    """An init failure the Lambda runtime reports under its own errorType (Runtime.*)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--handler", required=True, help="module.attribute, relative to --code-dir")
    parser.add_argument("--code-dir", required=True, type=Path)
    parser.add_argument("--layer-dir", action="append", default=[], type=Path)
    parser.add_argument("--function-name", required=True)
    parser.add_argument("--function-arn", required=True)
    parser.add_argument("--memory-mb", type=int, default=128)
    parser.add_argument("--region", default="us-east-1", help="used only when AWS_REGION is not set")
    parser.add_argument("--result-fd", type=int, required=True)
    return parser.parse_args(argv)


def _isolate_sys_path(code_dir: Path, layer_dirs: list[Path]) -> None:
    """Leave the task root and the layers first on sys.path, and the repository out of it."""
    here = Path(__file__).resolve().parent
    hidden = {str(here), str(here.parent.parent), os.getcwd(), ""}
    kept = [p for p in sys.path if p not in hidden and str(Path(p).resolve()) not in hidden]
    sys.path[:] = [str(code_dir), *(str(d) for d in layer_dirs), *kept]
    # Started with `-m infra.local.lambda_host`, the `infra` namespace package is already imported:
    # drop it so that a handler cannot reach infra/ through the module cache either.
    for name in [n for n in sys.modules if n == "infra" or n.startswith("infra.")]:
        del sys.modules[name]


def _set_lambda_environment(args: argparse.Namespace, log_group: str, log_stream: str) -> None:
    env = os.environ
    env["AWS_LAMBDA_FUNCTION_NAME"] = args.function_name
    env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = str(args.memory_mb)
    env["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST"
    env["AWS_LAMBDA_LOG_GROUP_NAME"] = log_group
    env["AWS_LAMBDA_LOG_STREAM_NAME"] = log_stream
    env["AWS_LAMBDA_INITIALIZATION_TYPE"] = "on-demand"
    env["AWS_EXECUTION_ENV"] = "AWS_Lambda_python3.12"
    env["_HANDLER"] = args.handler
    env["LAMBDA_TASK_ROOT"] = str(args.code_dir)
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or args.region
    env.setdefault("AWS_REGION", region)
    env.setdefault("AWS_DEFAULT_REGION", region)
    env.setdefault("TZ", ":UTC")
    env.setdefault("LANG", "en_US.UTF-8")


def _load_handler(handler: str) -> Any:
    """Import the handler the way the Python runtime does, with its error types."""
    module_name, _, attribute = handler.rpartition(".")
    if not module_name:
        raise _FaultError("Runtime.MalformedHandlerName", f"Bad handler '{handler}': not enough values to unpack")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise _FaultError("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}") from exc
    except SyntaxError as exc:
        raise _FaultError("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}") from exc
    try:
        return getattr(module, attribute)
    except AttributeError as exc:
        raise _FaultError(
            "Runtime.HandlerNotFound", f"Handler '{attribute}' missing on module '{module_name}'"
        ) from exc


def _error_from(exc: BaseException) -> dict[str, Any]:
    """Lambda's error shape; the traceback without this module's own frames."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename != __file__]
    error_type = exc.error_type if isinstance(exc, _FaultError) else type(exc).__name__
    return {
        "errorMessage": str(exc),
        "errorType": error_type,
        "stackTrace": traceback.format_list(frames),
    }


def _log_error(error: dict[str, Any]) -> None:
    # The runtime logs every uncaught error before answering, which is what makes the log file useful.
    trace = "".join(error["stackTrace"])
    header = f"[ERROR] {error['errorType']}: {error['errorMessage']}"
    sys.stderr.write(f"{header}\nTraceback (most recent call last):\n{trace}")
    sys.stderr.flush()


class _Channel:
    """Writes one JSON line per message on the result pipe."""

    def __init__(self, fd: int) -> None:
        # Buffered, flushed per message: a BufferedWriter loops until a large payload is fully written.
        self._out = os.fdopen(fd, "wb")

    def send(self, message: dict[str, Any]) -> None:
        self._out.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
        self._out.flush()

    def send_result(self, request_id: str, duration_ms: float, payload_json: bytes) -> None:
        # The payload is already serialised (its size was checked): splice it in, no second encoding.
        head = json.dumps({"type": "result", "request_id": request_id, "duration_ms": duration_ms})
        self._out.write(head[:-1].encode() + b',"payload":' + payload_json + b"}\n")
        self._out.flush()


def _marshal(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def _invoke(handler: Any, request: dict[str, Any], context_args: dict[str, Any], channel: _Channel) -> None:
    request_id = str(request["request_id"])
    context = LambdaContext(aws_request_id=request_id, deadline_ms=int(request["deadline_ms"]), **context_args)
    started = time.perf_counter()
    try:
        payload = handler(request.get("event"), context)
        try:
            body = _marshal(payload)
        except (TypeError, ValueError) as exc:
            raise _FaultError("Runtime.MarshalError", f"Unable to marshal response: {exc}") from None
        if len(body) > MAX_RESPONSE_BYTES:
            raise _FaultError(
                "Function.ResponseSizeTooLarge",
                f"Response payload size ({len(body)} bytes) exceeded maximum allowed payload size "
                f"({MAX_RESPONSE_BYTES} bytes).",
            )
    except Exception as exc:  # every handler error goes back to the caller, as in Lambda
        error = _error_from(exc)
        _log_error(error)
        duration = (time.perf_counter() - started) * 1000
        channel.send({"type": "error", "request_id": request_id, "error": error, "duration_ms": duration})
        return
    channel.send_result(request_id, (time.perf_counter() - started) * 1000, body)


def _take_stdin() -> IO[bytes]:
    """Keep the request pipe for ourselves and give the handler an empty stdin."""
    requests = os.fdopen(os.dup(0), "rb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdin = open(os.devnull)
    return requests


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    channel = _Channel(args.result_fd)
    requests = _take_stdin()
    # Line buffering makes each log line one write(): lines from concurrent processes never interleave.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(line_buffering=True)

    code_dir = args.code_dir.resolve()
    layer_dirs = [d.resolve() for d in args.layer_dir]
    args.code_dir = code_dir
    log_group = f"/aws/lambda/{args.function_name}"
    log_stream = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{secrets.token_hex(16)}"
    _isolate_sys_path(code_dir, layer_dirs)
    _set_lambda_environment(args, log_group, log_stream)
    os.chdir(code_dir)  # Lambda's working directory is the task root

    started = time.perf_counter()
    try:
        handler = _load_handler(args.handler)
    except Exception as exc:  # any init failure is reported, then the sandbox is discarded
        error = _error_from(exc)
        _log_error(error)
        channel.send({"type": "init_error", "error": error, "init_ms": (time.perf_counter() - started) * 1000})
        return 1
    channel.send({"type": "ready", "init_ms": (time.perf_counter() - started) * 1000})

    context_args = {
        "function_name": args.function_name,
        "invoked_function_arn": args.function_arn,
        "memory_limit_in_mb": args.memory_mb,
        "log_group_name": log_group,
        "log_stream_name": log_stream,
    }
    # EOF on stdin means the pool is gone or closing: the environment ends with it.
    for line in requests:
        if line.strip():
            _invoke(handler, json.loads(line), context_args, channel)
    return 0


if __name__ == "__main__":
    sys.exit(main())
