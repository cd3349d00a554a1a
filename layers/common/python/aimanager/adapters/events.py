"""The platform's EventBridge bus: domain events (quota.warning, quota.exceeded, ...) for webhooks and others."""

from __future__ import annotations

import json
from typing import Any, Protocol

import botocore.session

SOURCE = "aimanager"


class EventPublisher(Protocol):
    def publish(self, detail_type: str, detail: dict[str, Any]) -> None: ...


class EventBusPublisher:
    """PutEvents on the bus EVENT_BUS_NAME names; the client is created on first use (alerts are rare)."""

    def __init__(self, bus_name: str, client: Any | None = None) -> None:
        self.bus_name = bus_name
        self._client: Any = client

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        if not self.bus_name:
            raise RuntimeError("EVENT_BUS_NAME is not set")
        if self._client is None:
            self._client = botocore.session.get_session().create_client("events")
        client: Any = self._client
        out = client.put_events(
            Entries=[
                {
                    "Source": SOURCE,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail, separators=(",", ":")),
                    "EventBusName": self.bus_name,
                }
            ]
        )
        if out.get("FailedEntryCount"):
            raise RuntimeError(f"event not accepted: {out.get('Entries')}")
