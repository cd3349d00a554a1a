"""The stack's life as a developer sees it: Ctrl-C stops it cleanly and its data survives a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import start_stack, stop_stack

pytestmark = pytest.mark.xdist_group("local_stack_lifecycle")


def test_ctrl_c_saves_and_a_restart_restores_sessions_and_keys(tmp_path: Path) -> None:
    # Given a stack with one session and one answered message
    first = start_stack(tmp_path)
    try:
        init = first.call(
            "POST", "/api/widget/v1/init", key=None, json={"deployment_key": first.demo["deployment_key"]}
        )
        session_id = init.json()["data"]["session_id"]
        first.call(
            "POST", "/api/widget/v1/message", headers={"X-Session-ID": session_id}, json={"content": "garde-moi"}
        )
    finally:
        # When the developer presses Ctrl-C
        stop_stack(first)
    # Then it exits cleanly after saving
    assert first.process.returncode == 0, first.log.read_text()
    assert "Stopped." in first.log.read_text()
    # And a restart keeps the demo keys and the session with its message
    second = start_stack(tmp_path)
    try:
        assert second.demo["deployment_key"] == first.demo["deployment_key"]
        assert "Data restored from" in second.log.read_text()
        # And the signing secret too (share links signed before the restart stay valid), kept private on disk
        assert "SigningSecret 1" in second.log.read_text()
        assert (tmp_path / "state" / "state" / "secrets.json").stat().st_mode & 0o077 == 0
        history = second.call("GET", f"/api/widget/v1/session/{session_id}/messages")
        assert history.status_code == 200, history.text
        assert history.json()["data"]["messages"][0]["content"] == "garde-moi"
    finally:
        stop_stack(second)
