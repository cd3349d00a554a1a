"""The turn queue (SQS): send a turn, read its approximate depth, push back a failed one."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import botocore.session


class TurnQueue(Protocol):
    def send(self, payload: dict[str, Any]) -> str: ...
    def depth(self) -> int: ...
    def depth_later(self) -> Callable[[], int]: ...
    def retry_later(self, receipt_handle: str, delay_s: int) -> None: ...


class SqsTurnQueue:
    """SQS client created once per container; the endpoint comes from AWS_ENDPOINT_URL when set.

    botocore rather than boto3: pynamodb already loads botocore, and boto3 would add ~90 ms of cold start.
    """

    def __init__(self, queue_url: str, client: Any | None = None) -> None:
        self.queue_url = queue_url
        self._sqs: Any = client or botocore.session.get_session().create_client("sqs")
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sqs")

    def send(self, payload: dict[str, Any]) -> str:
        out = self._sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(payload))
        return str(out["MessageId"])

    def depth(self) -> int:
        attrs = self._sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs.get("ApproximateNumberOfMessages", 0)) + int(
            attrs.get("ApproximateNumberOfMessagesNotVisible", 0)
        )

    def depth_later(self) -> Callable[[], int]:
        """Start reading the depth now, in the background; call the result to get it (overlaps a write)."""
        return self._pool.submit(self.depth).result

    def retry_later(self, receipt_handle: str, delay_s: int) -> None:
        self._sqs.change_message_visibility(
            QueueUrl=self.queue_url,
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=max(0, min(delay_s, 43200)),
        )
