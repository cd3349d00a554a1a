"""Identifiers: message ids sort by time within a session and name their session, so status is one read."""

from __future__ import annotations

import pytest

from aimanager.ids import new_message_id, new_session_id, session_of, sortable_id


def test_a_message_id_names_its_session_and_sorts_by_time() -> None:
    session = new_session_id()
    first, second = new_message_id(session), new_message_id(session)
    assert session_of(first) == session == session_of(second)
    assert sortable_id("msg", now_ms=1000) < sortable_id("msg", now_ms=1001)


@pytest.mark.parametrize("bad", ["", "msg_", "msg_short", "sess_abc", "x" * 200, "msg_" + "0" * 26])
def test_foreign_or_malformed_ids_name_no_session(bad: str) -> None:
    assert session_of(bad) is None
