"""The event catalogue: versioned detail-types, deterministic ids, the §15.2E envelope."""

from __future__ import annotations

import pytest

from aimanager.domain import events


def test_detail_type_is_name_and_version() -> None:
    assert events.event_type("session.started").detail_type == "session.started.v1"
    assert events.from_detail_type("quota.exceeded.v1").name == "quota.exceeded"


@pytest.mark.parametrize("bad", ["session.started.v2", "nope.v1", "session.started", ""])
def test_unknown_detail_types_are_refused(bad: str) -> None:
    with pytest.raises(events.UnknownEvent):
        events.from_detail_type(bad)


def test_event_id_is_deterministic_per_subject() -> None:
    # Given the same event about the same turn, twice (a retried producer)
    first = events.event_id("message.received", "sess_1", "msg_1")
    again = events.event_id("message.received", "sess_1", "msg_1")
    # Then both copies carry one id, and another subject or another event gets another one
    assert first == again and first.startswith("evt_") and len(first) == 36
    assert events.event_id("message.received", "sess_1", "msg_2") != first
    assert events.event_id("quote.requested", "sess_1", "msg_1") != first


def test_unknown_event_has_no_id() -> None:
    with pytest.raises(events.UnknownEvent):
        events.event_id("session.hijacked", "x")


def test_envelope_carries_the_public_payload() -> None:
    detail = events.envelope(
        "file.uploaded",
        subject=("file_1",),
        created_at="2026-12-01T10:00:00.000Z",
        editor_id="usr_ebp",
        deployment={"key": "dpl_x", "name": "Expert BTP - EBP"},
        data={"file": {"id": "file_1"}},
    )
    assert detail["id"] == events.event_id("file.uploaded", "file_1")
    assert (detail["event"], detail["version"], detail["editor_id"]) == ("file.uploaded", 1, "usr_ebp")
    assert detail["artisan"] is None and detail["session"] is None
    assert detail["data"] == {"file": {"id": "file_1"}}
