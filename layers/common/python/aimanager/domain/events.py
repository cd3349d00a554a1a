"""The domain event catalogue: every event's name and version, and the envelope each one carries on the bus.

One contract for the producers (conversation, quotas, validation, marketplace, webhooks) and the consumers
(the webhook dispatcher, tests): an event on the EventBridge bus has `source` = SOURCE, `detail-type` =
`<name>.v<version>` (e.g. `session.started.v1`), and a `detail` that is the public payload of §15.2E:

    {"id": "evt_<32 hex>", "event": "session.started", "version": 1, "created_at": "...Z",
     "editor_id": "...", "deployment": {"key", "name"} | null, "artisan": {"id", "external_id", "name"} | null,
     "session": {"id", "started_at", "messages_count"} | null, "data": {...}}

`id` is derived from what the event is about (`event_id(name, *parts)`: a turn's message id, a file id, a
quote version...), never random, so a retried producer emits the same id and every consumer (the webhook
dispatcher first) treats a second copy as the same event: exactly once in effect. Pure: no I/O here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

SOURCE = "aimanager"
EVENT_ID_PREFIX = "evt_"


@dataclass(frozen=True)
class EventType:
    name: str
    version: int
    description: str

    @property
    def detail_type(self) -> str:
        return f"{self.name}.v{self.version}"


def _catalogue(*types: EventType) -> dict[str, EventType]:
    return {t.name: t for t in types}


# Producers add their events here (and to the README's event catalogue); webhooks subscribe by name.
CATALOGUE: dict[str, EventType] = _catalogue(
    EventType("session.started", 1, "A chat session was opened (widget init or share link)."),
    EventType("message.received", 1, "A user's message and the assistant's reply (one completed turn)."),
    EventType("file.uploaded", 1, "A file was accepted into a session."),
    EventType("quote.requested", 1, "The user asked for a quote."),
    EventType("project.created", 1, "A validated pre-quote, with the session's files, context and artisan."),
    EventType("session.completed", 1, "A session was closed (explicitly or after inactivity), with its summary."),
    EventType("quota.warning", 1, "An editor's monthly quota reached 80 % or 90 %."),
    EventType("quota.exceeded", 1, "An editor's monthly quota reached 100 %."),
    EventType("artisan.invited", 1, "An editor created an artisan and asked for its AI-Manager invitation."),
)


class UnknownEvent(ValueError):
    pass


def event_type(name: str) -> EventType:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise UnknownEvent(name) from None


def event_names() -> list[str]:
    return sorted(CATALOGUE)


def from_detail_type(detail_type: str) -> EventType:
    """`session.started.v1` -> the catalogue entry; an unknown name or version is refused."""
    name, _, version = detail_type.rpartition(".v")
    t = event_type(name)
    if str(t.version) != version:
        raise UnknownEvent(detail_type)
    return t


def event_id(name: str, *parts: str) -> str:
    """Deterministic id of one event: the same name and subject give the same id on every retry."""
    event_type(name)
    digest = hashlib.sha256("\x1f".join((name, *parts)).encode()).hexdigest()[:32]
    return EVENT_ID_PREFIX + digest


def envelope(
    name: str,
    *,
    subject: tuple[str, ...],
    created_at: str,
    editor_id: str,
    data: dict[str, Any],
    deployment: dict[str, Any] | None = None,
    artisan: dict[str, Any] | None = None,
    session: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The detail of one event (see the module docstring); `subject` names what it is about, for its id."""
    t = event_type(name)
    return {
        "id": event_id(name, *subject),
        "event": t.name,
        "version": t.version,
        "created_at": created_at,
        "editor_id": editor_id,
        "deployment": deployment,
        "artisan": artisan,
        "session": session,
        "data": data,
    }
