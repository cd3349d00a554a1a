"""End to end over HTTP: a deployment's daily quota on the local stack, while the editor's other deployment works."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.xdist_group("local_stack")


def test_an_exhausted_daily_quota_gives_429_with_headers_while_another_deployment_works(
    local_stack: RunningStack,
) -> None:
    limited = local_stack.demo["limited_deployment_key"]

    def init(key: str) -> tuple[int, dict[str, str], dict[str, object]]:
        resp = local_stack.call("POST", "/api/widget/v1/init", key=None, json={"deployment_key": key})
        return resp.status_code, dict(resp.headers), resp.json()

    # Given the demo deployment with a quota of 3 sessions a day has opened them
    opened = [init(limited) for _ in range(3)]
    assert [status for status, _, _ in opened] == [201, 201, 201], opened
    # And has sent its 5 messages of the day
    session_id = opened[0][2]["data"]["session_id"]  # type: ignore[index]
    for i in range(5):
        sent = local_stack.call(
            "POST",
            "/api/widget/v1/message",
            key=limited,
            headers={"X-Session-ID": session_id},
            json={"content": f"question {i}"},
        )
        assert sent.status_code == 202, sent.text
    # When a fourth session and a sixth message are asked for
    status, headers, payload = init(limited)
    refused_message = local_stack.call(
        "POST", "/api/widget/v1/message", key=limited, headers={"X-Session-ID": session_id}, json={"content": "encore"}
    )
    # Then both get 429 in the envelope, naming the limit, with Retry-After and the IETF RateLimit headers
    assert status == 429, payload
    assert payload["success"] is False
    assert payload["error"]["code"] == "deployment_daily_quota"  # type: ignore[index]
    retry_after = int(headers["Retry-After"])
    assert 0 < retry_after <= 86_400
    assert headers["RateLimit-Policy"] == '"deployment-sessions-day";q=3;w=86400'
    assert headers["RateLimit"] == f'"deployment-sessions-day";r=0;t={retry_after}'
    # And the browser may read them: CORS for the allowed origin, the headers exposed
    assert headers["Access-Control-Allow-Origin"] == "http://localhost:8080"
    assert "RateLimit" in headers["Access-Control-Expose-Headers"]
    assert refused_message.status_code == 429
    assert refused_message.json()["error"]["code"] == "deployment_daily_quota"
    assert refused_message.headers["RateLimit-Policy"] == '"deployment-messages-day";q=5;w=86400'
    # And the same editor's other deployment still works
    other_status, _, other = init(local_stack.demo["deployment_key"])
    assert other_status == 201, other


def test_the_monthly_reset_can_be_triggered_locally_and_is_idempotent(local_stack: RunningStack) -> None:
    # Given the running stack (the schedule is read from template.yaml), When the reset is fired twice on demand
    url = f"{local_stack.url}/_local/schedules/MonthlyUsageResetFunctionMonthly/trigger"
    first = requests.post(url, timeout=60).json()
    again = requests.post(url, timeout=60).json()
    # Then it ran for the demo editor, and the second run changed nothing
    assert first["success"] is True, first
    assert first["data"]["payload"]["editors"] >= 1
    assert again["data"]["payload"]["opened"] == 0
    assert again["data"]["payload"]["month"] == first["data"]["payload"]["month"]


def test_usage_routes_behind_the_api_key_authorizer(local_stack: RunningStack) -> None:
    editor, admin = local_stack.demo["editor_api_key"], local_stack.demo["admin_api_key"]

    def get(path: str, key: str | None) -> requests.Response:
        return local_stack.call("GET", path, origin=None, key=None, headers={"X-API-Key": key} if key else {})

    # The editor reads its own usage; the admin reads any editor's
    own = get("/api/editor/usage", editor)
    assert own.status_code == 200, own.text
    assert (own.json()["data"]["editor_id"], own.json()["data"]["plan"]) == ("usr_ebp", "pro")
    assert get("/api/admin/editors/usr_ebp/usage", admin).status_code == 200
    # An editor on the admin route is refused (403); no key at all is the gateway's 401
    assert get("/api/admin/editors/usr_ebp/usage", editor).status_code == 403
    for path in ("/api/editor/usage", "/api/admin/editors/usr_ebp/usage"):
        resp = get(path, None)
        assert resp.status_code == 401, resp.text
        assert resp.json()["success"] is False
