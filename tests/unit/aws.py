"""moto in-process: the tables and queues of template.yaml, created from the template itself, plus demo rows."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
from cfnlint.decode import decode
from moto import mock_aws

from aimanager.adapters.secrets import forget_signing_secret
from aimanager.dal import repositories as repo
from aimanager.dal.tables import AgentItem, DeploymentItem, UserItem, bind_tables
from aimanager.ids import utc_now
from aimanager.models.agent import AllowedDomain
from aimanager.services import authorize, limits
from aimanager.services.branding import clear_branding_cache
from aimanager.services.turns import clear_config_cache
from aimanager.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
SIGNING_SECRET = "unit-test-signing-secret-0123456789abcdef"
ENV_FOR_TABLE = {
    "AgentsTable": "AGENTS_TABLE",
    "UsersTable": "USERS_TABLE",
    "DeploymentsTable": "DEPLOYMENTS_TABLE",
    "AllowedOriginsTable": "ALLOWED_ORIGINS_TABLE",
    "SessionsTable": "SESSIONS_TABLE",
    "MessagesTable": "MESSAGES_TABLE",
    "SessionFilesTable": "SESSION_FILES_TABLE",
    "UsageTable": "USAGE_TABLE",
    "UserEditorLinksTable": "USER_EDITOR_LINKS_TABLE",
    "UniquenessTable": "UNIQUENESS_TABLE",
    "ShareLinksTable": "SHARE_LINKS_TABLE",
    "LinkCodesTable": "LINK_CODES_TABLE",
}


def _template_resources() -> dict[str, Any]:
    template, matches = decode(str(ROOT / "template.yaml"))
    assert not matches and template is not None
    return dict(template["Resources"])


@dataclass
class World:
    queue_url: str
    dlq_url: str
    sqs: Any

    def queued_bodies(self) -> list[str]:
        out = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        return [m["Body"] for m in out.get("Messages", [])]


@contextmanager
def aws_world(monkeypatch: Any) -> Iterator[World]:
    """Every DynamoDB table and the message queue the template declares, in moto, with env vars pointing at them."""
    with mock_aws():
        ddb = boto3.client("dynamodb")
        for logical_id, res in _template_resources().items():
            if res["Type"] != "AWS::DynamoDB::Table":
                continue
            props = res["Properties"]
            kwargs: dict[str, Any] = {
                "TableName": logical_id,
                "KeySchema": props["KeySchema"],
                "AttributeDefinitions": props["AttributeDefinitions"],
                "BillingMode": "PAY_PER_REQUEST",
            }
            if "GlobalSecondaryIndexes" in props:
                kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
            ddb.create_table(**kwargs)
            monkeypatch.setenv(ENV_FOR_TABLE[logical_id], logical_id)
        events = boto3.client("events")
        events.create_event_bus(Name="aimanager-test-events")
        monkeypatch.setenv("EVENT_BUS_NAME", "aimanager-test-events")
        sqs = boto3.client("sqs")
        dlq_url = sqs.create_queue(QueueName="MessageDLQ")["QueueUrl"]
        queue_url = sqs.create_queue(QueueName="MessageQueue")["QueueUrl"]
        monkeypatch.setenv("MESSAGE_QUEUE_URL", queue_url)
        s3: Any = boto3.client("s3")
        s3.create_bucket(Bucket="uploads-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
        monkeypatch.setenv("UPLOADS_BUCKET", "uploads-bucket")
        secret = boto3.client("secretsmanager").create_secret(Name="SigningSecret", SecretString=SIGNING_SECRET)
        monkeypatch.setenv("SIGNING_SECRET_ARN", secret["ARN"])
        forget_signing_secret()
        get_settings.cache_clear()
        bind_tables(get_settings())
        clear_config_cache()  # a new world: nothing cached from the previous one
        authorize.clear_cache()
        limits.clear_cache()
        clear_branding_cache()
        yield World(queue_url=queue_url, dlq_url=dlq_url, sqs=sqs)
    get_settings.cache_clear()
    forget_signing_secret()


DEMO_KEY = "dpl_test_demo_key_0001"
OTHER_KEY = "dpl_test_other_key_002"
AGENT_ID = "agt_expert_btp"


def seed_agent(agent_id: str = AGENT_ID, **overrides: Any) -> None:
    fields: dict[str, Any] = {
        "name": "Expert BTP",
        "system_prompt": "Tu es Expert BTP, un estimateur du bâtiment.",
        "model": "mistral:7b",
        "temperature": 0.4,
        "max_tokens": 800,
        "context_window_size": 4,
        "deployment_mode": "shared",
        "whitelabel_config": {"required_branding": True, "min_rate_limit": 30},
        "created_at": utc_now(),
    }
    fields.update(overrides)
    AgentItem(agent_id, **fields).save()


def seed_deployment(
    key: str = DEMO_KEY,
    domains: list[AllowedDomain] | None = None,
    *,
    editor_id: str = "usr_ebp",
    is_active: bool = True,
    **overrides: Any,
) -> None:
    fields: dict[str, Any] = {
        "agent_id": AGENT_ID,
        "editor_id": editor_id,
        "name": f"Expert BTP - {key}",
        "branding": {"chat_title": "Assistant EBP", "primary_color": "#0055A4"},
        "is_active": is_active,
        "created_at": utc_now(),
    }
    fields.update(overrides)
    _ensure_editor(editor_id)
    repo.save_deployment(
        DeploymentItem(key, **fields),
        domains if domains is not None else [AllowedDomain("app.ebp.fr"), AllowedDomain("*.ebp.fr", is_wildcard=True)],
    )


def _ensure_editor(editor_id: str) -> None:
    """A deployment always has its editor (an active user with role editeur), unless a test made it already."""
    from pynamodb.exceptions import PutError

    try:
        UserItem(
            editor_id, email=f"{editor_id}@example.fr", roles="editeur", is_active=True, created_at=utc_now()
        ).save(condition=UserItem.user_id.does_not_exist())
    except PutError:
        pass  # already there, as the test wrote it


def load_handler(name: str) -> ModuleType:
    """Import functions/<name>/app.py fresh, as a new Lambda container would (inside the moto context)."""
    module_name = f"functions.{name}.app"
    sys.modules.pop(module_name, None)
    return importlib.import_module(module_name)
