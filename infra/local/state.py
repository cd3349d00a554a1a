"""Persistence for the embedded emulator: moto keeps data in memory, so the stack saves and restores it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from cfnlint.decode import decode

from infra.local.model import StackModel


def resource_ids(template_path: Path, resource_type: str) -> list[str]:
    template, _ = decode(str(template_path))
    return [lid for lid, res in (template or {}).get("Resources", {}).items() if res.get("Type") == resource_type]


class StateStore:
    """Tables (every item) and buckets (every object) of the stack, as files under `root`."""

    def __init__(self, root: Path, template_path: Path, stack: StackModel, session: Any) -> None:
        self.root = root
        self.stack = stack
        self.ddb = session.client("dynamodb")
        self.s3 = session.client("s3")
        self.sqs = session.client("sqs")
        self.tables = {lid: stack.refs[lid] for lid in resource_ids(template_path, "AWS::DynamoDB::Table")}
        self.buckets = {lid: stack.refs[lid] for lid in resource_ids(template_path, "AWS::S3::Bucket")}
        self.secretsmanager = session.client("secretsmanager")
        self.secrets = {lid: stack.refs[lid] for lid in resource_ids(template_path, "AWS::SecretsManager::Secret")}

    def save(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        tmp = self.root.with_name(self.root.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        (tmp / "dynamodb").mkdir(parents=True)
        for lid, name in self.tables.items():
            items = [item for page in self.ddb.get_paginator("scan").paginate(TableName=name) for item in page["Items"]]
            (tmp / "dynamodb" / f"{lid}.json").write_text(json.dumps(items))
            counts[lid] = len(items)
        for lid, bucket in self.buckets.items():
            folder = tmp / "s3" / lid
            folder.mkdir(parents=True)
            for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                for obj in page.get("Contents", []):
                    target = folder / obj["Key"]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(self.s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
                    counts[lid] = counts.get(lid, 0) + 1
        # Secrets keep their value across runs: share links and bearer tokens signed before a restart stay valid.
        values = {
            lid: self.secretsmanager.get_secret_value(SecretId=arn)["SecretString"] for lid, arn in self.secrets.items()
        }
        (tmp / "secrets.json").write_text(json.dumps(values))
        (tmp / "secrets.json").chmod(0o600)
        # Swap in one rename, so a crash mid-save never leaves half a snapshot.
        shutil.rmtree(self.root, ignore_errors=True)
        tmp.rename(self.root)
        return counts

    def restore(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for lid, name in self.tables.items():
            path = self.root / "dynamodb" / f"{lid}.json"
            if not path.exists():
                continue
            items = json.loads(path.read_text())
            for start in range(0, len(items), 25):
                batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
                self.ddb.batch_write_item(RequestItems={name: batch})
            counts[lid] = len(items)
        saved = self.root / "secrets.json"
        for lid, value in (json.loads(saved.read_text()) if saved.exists() else {}).items():
            if lid in self.secrets:
                self.secretsmanager.put_secret_value(SecretId=self.secrets[lid], SecretString=value)
                counts[lid] = 1
        for lid, bucket in self.buckets.items():
            folder = self.root / "s3" / lid
            for path in folder.rglob("*") if folder.exists() else []:
                if path.is_file():
                    self.s3.put_object(Bucket=bucket, Key=str(path.relative_to(folder)), Body=path.read_bytes())
                    counts[lid] = counts.get(lid, 0) + 1
        return counts

    def requeue_unfinished_turns(self, messages_table_id: str, queue_id: str) -> int:
        """Queued messages lived in the emulator's memory: turns still queued/processing are queued again."""
        name = self.tables.get(messages_table_id)
        queue_url = self.stack.refs.get(queue_id)
        if not name or not queue_url:
            return 0
        sent = 0
        pages = self.ddb.get_paginator("scan").paginate(
            TableName=name,
            FilterExpression="begins_with(message_id, :m) AND #s IN (:q, :p)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":m": {"S": "msg_"}, ":q": {"S": "queued"}, ":p": {"S": "processing"}},
        )
        for page in pages:
            for item in page["Items"]:
                body = {"message_id": item["message_id"]["S"], "session_id": item["session_id"]["S"]}
                self.sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(body))
                sent += 1
        return sent
