"""FunctionPool runs fixture handlers in real child processes, as warm Lambda execution environments."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.local.model import FunctionSpec
from infra.local.runtime import FunctionPool, InvokeResult

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ROOT = Path(__file__).resolve().parents[3]
BASE_ENV = {
    "AWS_REGION": "eu-west-3",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "BASE_ONLY": "from-base",
}

pytestmark = pytest.mark.integration


def spec(logical_id: str, code: str, *, timeout_s: int = 3, env: dict[str, str] | None = None) -> FunctionSpec:
    return FunctionSpec(
        logical_id=logical_id,
        handler="app.handler",
        code_dir=FIXTURES / "functions" / code,
        layer_dirs=(FIXTURES / "layers" / "common" / "python",),
        environment=env or {},
        timeout_s=timeout_s,
        memory_mb=256,
        function_name=f"fixture-{logical_id}",
    )


FUNCTIONS = {
    "Echo": spec("Echo", "echo", env={"FIXTURE_NAME": "echo", "ONLY_IN_ECHO": "yes"}),
    "Isolated": spec("Isolated", "echo", env={"FIXTURE_NAME": "isolated"}),
    "Slow": spec("Slow", "slow", timeout_s=1),
    "Crash": spec("Crash", "crash"),
    "Logs": spec("Logs", "logs"),
    "BrokenImport": spec("BrokenImport", "broken_import"),
}


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    return tmp_path / "logs"


@pytest.fixture
def pool(log_dir: Path) -> Iterator[FunctionPool]:
    with FunctionPool(FUNCTIONS, BASE_ENV, log_dir=log_dir, max_per_function=2) as function_pool:
        yield function_pool


def seen(result: InvokeResult) -> dict[str, Any]:
    assert result.error is None, result.error
    body: dict[str, Any] = json.loads(result.payload["body"])
    return body


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A killed child may linger as a zombie until reaped: read its state to tell.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] != "Z"


def test_cold_then_warm_invocation_reuses_the_process(pool: FunctionPool) -> None:
    # Given a pool with no process started
    assert pool.process_ids("Echo") == []

    # When the function is invoked twice in a row
    first = pool.invoke("Echo", {"n": 1})
    second = pool.invoke("Echo", {"n": 2})

    # Then the first invocation paid the init, the second ran warm in the same process
    assert first.init_ms is not None and first.init_ms > 0
    assert second.init_ms is None
    assert seen(first)["pid"] == seen(second)["pid"] == pool.process_ids("Echo")[0]
    assert seen(second)["event"] == {"n": 2}
    assert first.request_id != second.request_id
    assert first.duration_ms >= 0


def test_handler_gets_a_lambda_context_and_the_lambda_environment(pool: FunctionPool) -> None:
    # When the echo handler runs
    result = pool.invoke("Echo", {})
    body = seen(result)

    # Then its context is Lambda's, with this invocation's request id and a deadline from the timeout
    context = body["context"]
    assert context["function_name"] == "fixture-Echo"
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"] == "arn:aws:lambda:eu-west-3:123456789012:function:fixture-Echo"
    assert context["memory_limit_in_mb"] == 256
    assert context["aws_request_id"] == result.request_id
    assert context["log_group_name"] == "/aws/lambda/fixture-Echo"
    assert "[$LATEST]" in context["log_stream_name"]
    assert 2000 < context["remaining_ms"] <= 3000
    # And the standard Lambda variables are set before its import
    env = body["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "fixture-Echo"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["_HANDLER"] == "app.handler"
    assert env["LAMBDA_TASK_ROOT"] == str(FIXTURES / "functions" / "echo")
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-3"


def test_handler_sees_its_code_and_layers_but_not_the_repository(pool: FunctionPool) -> None:
    # When the echo handler reports its import path
    body = seen(pool.invoke("Echo", {}))

    # Then the task root comes first, then the layer, and the repository is out of reach
    code_dir, layer_dir = str(FIXTURES / "functions" / "echo"), str(FIXTURES / "layers" / "common" / "python")
    assert body["sys_path"][:2] == [code_dir, layer_dir]
    assert body["layer"] == "from-layer"
    assert str(ROOT) not in body["sys_path"]
    assert not body["can_import_infra"]
    assert not body["can_import_tests"]
    assert body["cwd"] == code_dir


def test_each_function_sees_only_its_own_environment(pool: FunctionPool) -> None:
    # When two functions built from the same code run side by side
    echo = seen(pool.invoke("Echo", {}))["env"]
    isolated = seen(pool.invoke("Isolated", {}))["env"]

    # Then each has the base environment and its own variables, never the other's or the parent's
    assert echo["FIXTURE_NAME"] == "echo" and isolated["FIXTURE_NAME"] == "isolated"
    assert echo["ONLY_IN_ECHO"] == "yes" and "ONLY_IN_ECHO" not in isolated
    assert echo["BASE_ONLY"] == isolated["BASE_ONLY"] == "from-base"
    assert "PYTEST_CURRENT_TEST" not in echo  # the parent's environment does not leak in


def test_handler_exception_is_returned_as_a_lambda_error(pool: FunctionPool) -> None:
    # When the handler raises
    result = pool.invoke("Crash", {"raise": "1"})

    # Then the invocation returns Lambda's error object and the process stays warm
    assert result.payload is None
    assert result.error is not None
    assert result.error["errorType"] == "ValueError"
    assert result.error["errorMessage"] == "asked to fail"
    assert any("crash/app.py" in frame for frame in result.error["stackTrace"])
    assert not any("lambda_host" in frame for frame in result.error["stackTrace"])
    pids = pool.process_ids("Crash")
    assert seen(pool.invoke("Crash", {}))["pid"] == pids[0]


def test_unserialisable_result_is_a_marshal_error(pool: FunctionPool) -> None:
    # When the handler returns something JSON cannot encode
    result = pool.invoke("Crash", {"unserialisable": "1"})

    # Then Lambda's Runtime.MarshalError comes back
    assert result.error is not None
    assert result.error["errorType"] == "Runtime.MarshalError"


def test_crashed_process_returns_an_error_and_is_replaced(pool: FunctionPool) -> None:
    # Given a warm process
    before = seen(pool.invoke("Crash", {}))["pid"]

    # When the handler kills its own process
    crashed = pool.invoke("Crash", {"exit": "3"})

    # Then the invocation fails with Runtime.ExitError, and the next one runs in a fresh process
    assert crashed.error is not None
    assert crashed.error["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in crashed.error["errorMessage"]
    assert crashed.request_id in crashed.error["errorMessage"]
    recovered = pool.invoke("Crash", {})
    assert recovered.init_ms is not None
    assert seen(recovered)["pid"] != before
    assert not alive(before)


def test_timeout_kills_the_process(pool: FunctionPool) -> None:
    # Given a warm process of a function whose timeout is 1 s
    pid = seen(pool.invoke("Slow", {"sleep": 0}))["pid"]

    # When an invocation runs longer than the timeout
    started = time.monotonic()
    result = pool.invoke("Slow", {"sleep": 5})
    elapsed = time.monotonic() - started

    # Then it ends at the timeout with Sandbox.Timedout, the process is killed and a new one serves next
    assert result.error == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "Task timed out after 1.00 seconds",
        "stackTrace": [],
    }
    assert 1.0 <= elapsed < 2.0
    assert not alive(pid)
    assert seen(pool.invoke("Slow", {"sleep": 0}))["pid"] != pid


def test_concurrent_invocations_run_in_parallel_on_separate_processes(pool: FunctionPool) -> None:
    # Given a pool allowing two processes per function
    results: list[InvokeResult] = []

    def call() -> None:
        results.append(pool.invoke("Slow", {"sleep": 0.6}))

    # When two invocations of the same function arrive together
    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then they ran at the same time (each started before the other ended), each in its own process
    first, second = (seen(r) for r in results)
    assert first["pid"] != second["pid"]
    assert first["started"] < second["ended"] and second["started"] < first["ended"]
    assert len(pool.process_ids("Slow")) == 2


def test_invocations_beyond_the_cap_wait_for_a_free_process(log_dir: Path) -> None:
    # Given a pool capped at one process per function
    with FunctionPool(FUNCTIONS, BASE_ENV, log_dir=log_dir, max_per_function=1) as pool:
        results: list[InvokeResult] = []
        threads = [
            threading.Thread(target=lambda: results.append(pool.invoke("Slow", {"sleep": 0.3}))) for _ in range(2)
        ]

        # When two invocations arrive together
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        # Then the second waited for the first: same process, one after the other
        first, second = sorted((seen(r) for r in results), key=lambda body: body["started"])
        assert first["pid"] == second["pid"]
        assert second["started"] >= first["ended"]


def test_handler_output_goes_to_the_function_log_file_only(
    pool: FunctionPool, log_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # When a handler prints JSON logs to stdout and a line to stderr
    result = pool.invoke("Logs", {})

    # Then its result is intact and its lines are in logs/Logs.log, unchanged and unprefixed
    assert seen(result) == {"logged": True}
    lines = (log_dir / "Logs.log").read_text().splitlines()
    assert json.loads(lines[0]) == {"level": "INFO", "message": "cold start"}
    assert json.loads(lines[1]) == {"level": "INFO", "message": "handling", "request_id": result.request_id}
    assert lines[2] == "plain stderr line"
    # And nothing reaches the parent's own output
    captured = capfd.readouterr()
    assert "handling" not in captured.out + captured.err


def test_import_error_is_reported_as_an_init_error(pool: FunctionPool) -> None:
    # When a function's module cannot be imported
    result = pool.invoke("BrokenImport", {})

    # Then the invocation returns Lambda's Runtime.ImportModuleError and no process is kept
    assert result.error is not None
    assert result.error["errorType"] == "Runtime.ImportModuleError"
    assert "Unable to import module 'app'" in result.error["errorMessage"]
    assert pool.process_ids("BrokenImport") == []


def test_warm_up_starts_one_process_per_function(pool: FunctionPool) -> None:
    # When the pool is warmed up for two functions
    report = pool.warm_up(["Echo", "Logs"])

    # Then each has one ready process, and the next invocation runs warm
    assert report["Echo"].error is None and report["Echo"].init_ms is not None
    assert len(pool.process_ids("Echo")) == len(pool.process_ids("Logs")) == 1
    assert pool.invoke("Echo", {}).init_ms is None


def test_close_stops_every_process(log_dir: Path) -> None:
    # Given a pool with warm processes
    pool = FunctionPool(FUNCTIONS, BASE_ENV, log_dir=log_dir)
    pool.warm_up(["Echo", "Slow"])
    pids = pool.process_ids("Echo") + pool.process_ids("Slow")

    # When it is closed
    pool.close()

    # Then no process is left and it refuses new invocations
    assert not any(alive(pid) for pid in pids)
    with pytest.raises(RuntimeError):
        pool.invoke("Echo", {})


def test_unknown_function_is_a_key_error(pool: FunctionPool) -> None:
    # When a function the pool does not know is invoked, Then the caller learns it at once
    with pytest.raises(KeyError):
        pool.invoke("Nope", {})
