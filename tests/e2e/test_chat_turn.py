"""End to end over HTTP: the stack `make run` starts, used as the widget uses it."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.e2e.conftest import RunningStack, poll

pytestmark = pytest.mark.xdist_group("local_stack")


def open_session(stack: RunningStack, origin: str = "http://localhost:8080") -> str:
    resp = stack.call(
        "POST", "/api/widget/v1/init", origin=origin, key=None, json={"deployment_key": stack.demo["deployment_key"]}
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["data"]["session_id"])


def test_health_and_demo_data(local_stack: RunningStack) -> None:
    # Given the stack started by the README's command, Then it is healthy and wrote its demo keys
    assert local_stack.call("GET", "/api/health", origin=None, key=None).json() == {
        "success": True,
        "data": {"status": "ok"},
    }
    assert local_stack.demo["deployment_key"].startswith("dpl_")
    assert local_stack.demo["editor_api_key"].startswith("edk_")
    assert local_stack.demo["admin_api_key"].startswith("adk_")
    assert local_stack.demo["api_url"] == local_stack.url


def test_a_message_from_an_allowed_origin_is_answered(local_stack: RunningStack) -> None:
    # Given a session opened from localhost (the demo deployment allows it)
    init = local_stack.call(
        "POST", "/api/widget/v1/init", key=None, json={"deployment_key": local_stack.demo["deployment_key"]}
    )
    assert init.status_code == 201, init.text
    assert init.headers["Access-Control-Allow-Origin"] == "http://localhost:8080"
    assert init.json()["data"]["branding"]["title"] == "Assistant EBP"
    session_id = init.json()["data"]["session_id"]
    # When a message is posted
    resp = local_stack.call(
        "POST",
        "/api/widget/v1/message",
        headers={"X-Session-ID": session_id},
        json={"content": "Je veux refaire ma salle de bain de 6 m2, combien pour le carrelage ?"},
    )
    assert resp.status_code == 202, resp.text
    queued = resp.json()["data"]
    assert queued["status"] == "queued" and queued["position"] >= 1
    assert resp.headers["Access-Control-Allow-Origin"] == "http://localhost:8080"
    # Then it is answered by the worker through the (stand-in) model
    done = poll(local_stack, queued["message_id"], until={"completed", "failed"})
    assert done["status"] == "completed", done
    assert done["content"].startswith("[stand-in]")
    assert "salle de bain" in done["content"]
    assert done["metadata"]["model"] == "stand-in" and done["metadata"]["tokens"] > 0
    # And the history holds the question and the answer
    history = local_stack.call("GET", f"/api/widget/v1/session/{session_id}/messages").json()["data"]["messages"]
    assert [m["role"] for m in history] == ["user", "assistant"]


def test_other_origins_are_refused(local_stack: RunningStack) -> None:
    session_id = open_session(local_stack)
    # Given an evil site with a valid key, When it opens a session or sends a message, Then 403 in the envelope
    init = local_stack.call(
        "POST",
        "/api/widget/v1/init",
        origin="https://evil.example",
        key=None,
        json={"deployment_key": local_stack.demo["deployment_key"]},
    )
    assert init.status_code == 403
    assert init.json()["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in init.headers
    msg = local_stack.call(
        "POST",
        "/api/widget/v1/message",
        origin="https://evil.example",
        headers={"X-Session-ID": session_id},
        json={"content": "hello"},
    )
    assert msg.status_code == 403, msg.text
    assert msg.json() == {
        "success": False,
        "error": {"code": "origin_not_allowed", "message": "This site is not authorised to use this assistant."},
    }
    assert "Access-Control-Allow-Origin" not in msg.headers
    # And a look-alike host is refused too
    assert (
        local_stack.call(
            "GET", f"/api/widget/v1/session/{session_id}/messages", origin="http://localhost.evil.net"
        ).status_code
        == 403
    )


def test_missing_or_unknown_key_is_401(local_stack: RunningStack) -> None:
    for key in (None, "dpl_unknown"):
        resp = local_stack.call("POST", "/api/widget/v1/message", key=key, json={"content": "x"})
        assert resp.status_code == 401, resp.text
        assert resp.json()["success"] is False and resp.json()["error"]["code"] == "unauthorized"


def test_bad_input_gets_4xx_envelopes(local_stack: RunningStack) -> None:
    session_id = open_session(local_stack)
    headers = {"X-Session-ID": session_id, "Content-Type": "application/json"}
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"data": "{oops"}, 400, "malformed_json"),
        ({"json": {"content": "x" * 4001}}, 413, "content_too_large"),
        ({"json": {"content": "ok", "unknown": 1}}, 422, "validation_error"),
    ]
    for kwargs, status, code in cases:
        resp = local_stack.call("POST", "/api/widget/v1/message", headers=headers, **kwargs)
        assert (resp.status_code, resp.json()["error"]["code"]) == (status, code), resp.text
    resp = local_stack.call(
        "POST", "/api/widget/v1/message", headers={"X-Session-ID": "sess_nope"}, json={"content": "x"}
    )
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "session_not_found"
    # Nothing was written by the refused requests
    history = local_stack.call("GET", f"/api/widget/v1/session/{session_id}/messages").json()["data"]["messages"]
    assert history == []


def test_preflight_answers_only_allowed_origins(local_stack: RunningStack) -> None:
    ok = local_stack.call(
        "OPTIONS",
        "/api/widget/v1/message",
        key=None,
        headers={
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-deployment-key",
        },
    )
    assert ok.status_code == 204
    assert ok.headers["Access-Control-Allow-Origin"] == "http://localhost:8080"
    assert "x-deployment-key" in ok.headers["Access-Control-Allow-Headers"].lower()
    evil = local_stack.call("OPTIONS", "/api/widget/v1/message", origin="https://evil.example", key=None)
    assert evil.status_code == 403 and "Access-Control-Allow-Origin" not in evil.headers


def test_model_failure_is_retried_then_failed_clearly(local_stack: RunningStack) -> None:
    # Given the model answers 500 to this message every time
    session_id = open_session(local_stack)
    resp = local_stack.call(
        "POST",
        "/api/widget/v1/message",
        headers={"X-Session-ID": session_id},
        json={"content": "question piégée [[standin:error=500]]"},
    )
    message_id = resp.json()["data"]["message_id"]
    # When the queue has retried it maxReceiveCount times (backoff 2 s, 4 s)
    done = poll(local_stack, message_id, until={"completed", "failed"}, timeout_s=45)
    # Then the turn failed with a clear error, and the user's message is kept
    assert done["status"] == "failed"
    assert done["error"]["code"] == "model_unavailable" and "try again" in done["error"]["message"]
    history = local_stack.call("GET", f"/api/widget/v1/session/{session_id}/messages").json()["data"]["messages"]
    assert history[0]["content"] == "question piégée [[standin:error=500]]"


def test_local_control_routes(local_stack: RunningStack) -> None:
    # The template's schedules are listed (the monthly usage reset), and an unknown one is a 404 in the envelope
    assert requests.get(f"{local_stack.url}/_local/schedules", timeout=10).json() == {
        "success": True,
        "data": ["aimanager-local-MonthlyUsageResetFunctionMonthly"],
    }
    resp = requests.post(f"{local_stack.url}/_local/schedules/nope/trigger", timeout=10)
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"
    # And an unknown API route is a 404 in the envelope (API Gateway's MISSING_AUTHENTICATION_TOKEN, reshaped)
    unknown = requests.get(f"{local_stack.url}/api/nothing-here", timeout=10)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
